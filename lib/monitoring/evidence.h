// File: evidence.h
//
// The server's side of a run, for the bottleneck analysis a client's latency cannot do
// alone (story AC8): pg_stat_statements' top statements by total time (reset when the
// run begins), pgbouncer's pools (clients waiting, the longest wait) and its client wait
// time, lock waits and wait events sampled while the run goes, checkpoints, the database's
// commits/rollbacks/deadlocks/block reads, and the machine's CPU and disk IO (/proc/stat
// and /proc/diskstats: what node_exporter reads).
//
//   ServerEvidence ev({.direct_url = direct, .pooled_url = pooled});
//   ... run ...
//   nlohmann::json j = ev.End();
#ifndef PMBENCH_MONITORING_EVIDENCE_H_
#define PMBENCH_MONITORING_EVIDENCE_H_

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace pmbench::monitoring {

struct EvidenceOptions {
  std::string direct_url;   // PostgreSQL itself (superuser: resets pg_stat_statements)
  std::string pooled_url;   // pgbouncer ("" or a non-pgbouncer URL: no pool figures)
  double sample_every_s = 0.25;
  int top_statements = 5;
};

class ServerEvidence {
 public:
  // Resets pg_stat_statements, reads the counters, starts sampling. Never throws: what
  // cannot be read is named in the result's "unavailable".
  explicit ServerEvidence(EvidenceOptions o);
  ~ServerEvidence();
  ServerEvidence(const ServerEvidence&) = delete;
  ServerEvidence& operator=(const ServerEvidence&) = delete;

  // Stops sampling and returns {"seconds", "top_statements": [...], "database": {...},
  // "checkpoints": {...}, "locks": {...}, "wait_events": {...}, "pgbouncer": {...},
  // "node": {...}, "unavailable": [...]}. Once.
  nlohmann::json End();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::monitoring

#endif  // PMBENCH_MONITORING_EVIDENCE_H_
