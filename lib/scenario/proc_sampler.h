// File: proc_sampler.h
//
// Where the time went: every process of a run sampled from /proc once an interval — CPU
// seconds (user + system, every thread) and resident memory — summed per group (all of
// PostgreSQL's backends together, pgbouncer, the ledger, the listener, the fan-out server,
// the load generator itself). CPU is counted from the first sample on: a backend that
// existed before counts only what it used during the run, one born later all of it.
//
//   ProcSampler s({{"generator", Self()}, {"postgresql", ByName("postgres")}}, 1.0);
//   ... the run ...
//   s.Stop();
//   for (const ProcessGroupUse& g : s.Result()) g.cpu_s, g.rss_mb.back() ...
#ifndef PMBENCH_SCENARIO_PROC_SAMPLER_H_
#define PMBENCH_SCENARIO_PROC_SAMPLER_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pmbench::scenario {

using PidFinder = std::function<std::vector<pid_t>()>;

PidFinder Self();
PidFinder Pid(pid_t pid);
// Processes whose /proc/PID/comm is `comm` and, when given, whose command line contains `arg`.
PidFinder ByName(const std::string& comm, const std::string& arg = "");
// `pid` and its children, as they come and go (a postmaster and its backends).
PidFinder WithChildren(pid_t pid);
// The process's parent; -1 when unknown.
pid_t ParentOf(pid_t pid);
// The process listening on TCP `port` (IPv4 or IPv6), found once; none when no local one.
PidFinder ListeningOn(int port);

struct ProcessGroupUse {
  std::string name;
  double cpu_s = 0;  // during the run
  std::vector<double> t_s, cpu_share, rss_mb, processes;  // per sample: CPU cores busy since the last one
  double rss_mb_max() const;
};

class ProcSampler {
 public:
  ProcSampler(std::vector<std::pair<std::string, PidFinder>> groups, double interval_s);
  ~ProcSampler();
  void Stop();
  std::vector<ProcessGroupUse> Result() const;

 private:
  void Sample(double t);

  std::vector<std::pair<std::string, PidFinder>> groups_;
  double interval_s_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<ProcessGroupUse> use_;
  std::vector<std::map<pid_t, double>> last_cpu_;  // per group: each pid's CPU seconds at the last sample
  double last_t_ = 0;
  bool first_ = true;
  std::thread thread_;
};

}  // namespace pmbench::scenario

#endif  // PMBENCH_SCENARIO_PROC_SAMPLER_H_
