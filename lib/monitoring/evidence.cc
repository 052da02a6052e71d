#include "lib/monitoring/evidence.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"
#include "lib/monitoring/pgbouncer.h"

namespace pmbench::monitoring {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ToD(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stod(s);
  } catch (const std::exception&) {
    return 0;
  }
}

struct Cpu {
  double user = 0, system = 0, iowait = 0, idle = 0, other = 0;
};

// /proc/stat's first line, in seconds.
Cpu ReadCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double v[8] = {};
  in >> cpu;
  for (double& x : v) in >> x;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {(v[0] + v[1]) / hz, (v[2] + v[5] + v[6]) / hz, v[4] / hz, v[3] / hz, v[7] / hz};
}

// Bytes read and written by whole block devices (not partitions, loops or RAM disks).
std::pair<double, double> ReadDisk() {
  std::ifstream in("/proc/diskstats");
  double read = 0, written = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string major, minor, name;
    double v[11] = {};
    f >> major >> minor >> name;
    for (double& x : v) f >> x;
    if (name.rfind("loop", 0) == 0 || name.rfind("ram", 0) == 0) continue;
    if (!std::ifstream("/sys/block/" + name + "/stat")) continue;  // a partition
    read += v[2] * 512;
    written += v[6] * 512;
  }
  return {read, written};
}

std::map<std::string, double> Row(db::PgSession& s, const std::string& sql) {
  std::map<std::string, double> out;
  const auto rows = s.QueryNamed(sql);
  if (!rows.empty()) {
    for (const auto& [k, v] : rows[0]) out[k] = ToD(v);
  }
  return out;
}

// Each of our own statements carries this comment, so the top statements leave them out.
#define PMBENCH_OWN "/* pmbench evidence */ "

const char* kDatabase =
    PMBENCH_OWN "SELECT xact_commit, xact_rollback, deadlocks, blks_read, blks_hit, temp_bytes, conflicts "
    "FROM pg_stat_database WHERE datname = current_database()";
const char* kCheckpoints =
    PMBENCH_OWN "SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint, buffers_backend, checkpoint_write_time, "
    "checkpoint_sync_time FROM pg_stat_bgwriter";
const char* kSample =
    PMBENCH_OWN "SELECT (SELECT count(*) FROM pg_locks WHERE NOT granted) AS lock_waiting, "
    "(SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' "
    "   AND pid <> pg_backend_pid()) AS active, "
    "(SELECT coalesce(string_agg(k || '=' || n, ','), '') FROM (SELECT wait_event_type || ':' || wait_event AS k, "
    "   count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND wait_event IS NOT NULL "
    "   AND backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1) w) AS waits";

std::map<std::string, double> Delta(const std::map<std::string, double>& a, const std::map<std::string, double>& b) {
  std::map<std::string, double> d;
  for (const auto& [k, v] : b) d[k] = v - (a.count(k) ? a.at(k) : 0);
  return d;
}

}  // namespace

struct ServerEvidence::Impl {
  EvidenceOptions o;
  std::vector<std::string> unavailable;
  Clock::time_point start;
  Cpu cpu0;
  std::pair<double, double> disk0;
  std::map<std::string, double> db0, ckpt0, bouncer0;
  bool statements = false, have_db = false, have_bouncer = false, ended = false;
  std::unique_ptr<PgbouncerCollector> bouncer;

  // Sampled by the thread.
  std::thread sampler;
  std::mutex mu;
  std::condition_variable stop_cv;
  bool stop = false;
  int samples = 0, lock_samples_with_waits = 0;
  double lock_waiting_max = 0, lock_waiting_sum = 0, active_sum = 0, active_max = 0;
  std::map<std::string, double> waits;  // event -> backends seen waiting on it, summed over samples
  int pool_samples = 0;
  double cl_waiting_max = 0, cl_waiting_sum = 0, maxwait_max = 0, sv_active_max = 0;

  std::map<std::string, double> BouncerTotals() {
    std::map<std::string, double> t;
    for (const auto& r : bouncer->Read().second) {
      if (r.at("database") == "pgbouncer") continue;
      for (const char* k : {"total_xact_count", "total_query_count", "total_wait_time", "total_query_time"}) {
        t[k] += ToD(r.count(k) ? r.at(k) : "");
      }
    }
    return t;
  }

  void Begin() {
    try {
      db::PgSession s(o.direct_url);
      try {
        s.Exec(PMBENCH_OWN "SELECT pg_stat_statements_reset()");
        statements = true;
      } catch (const std::exception&) {
        unavailable.push_back("pg_stat_statements (not loaded: tools/staging down, then up, preloads it)");
      }
      db0 = Row(s, kDatabase);
      ckpt0 = Row(s, kCheckpoints);
      have_db = true;
    } catch (const std::exception& e) {
      unavailable.push_back("PostgreSQL: " + db::RedactSecrets(e.what()));
    }
    if (!o.pooled_url.empty()) {
      try {
        bouncer = std::make_unique<PgbouncerCollector>(AdminUrl(o.pooled_url));
        bouncer0 = BouncerTotals();
        have_bouncer = true;
      } catch (const std::exception& e) {
        unavailable.push_back("pgbouncer: " + std::string(e.what()));
      }
    }
    cpu0 = ReadCpu();
    disk0 = ReadDisk();
    start = Clock::now();
    if (have_db) sampler = std::thread([this] { Sample(); });
  }

  void Sample() {
    std::unique_ptr<db::PgSession> s;
    std::unique_lock lock(mu);
    while (!stop) {
      lock.unlock();
      try {
        if (!s) s = std::make_unique<db::PgSession>(o.direct_url);
        const auto rows = s->QueryNamed(kSample);
        std::optional<std::pair<Rows, Rows>> pools;
        if (have_bouncer) {
          try {
            pools = bouncer->Read();
          } catch (const std::exception&) {
          }
        }
        lock.lock();
        if (!rows.empty()) {
          const double waiting = ToD(rows[0].at("lock_waiting")), active = ToD(rows[0].at("active"));
          ++samples;
          lock_waiting_max = std::max(lock_waiting_max, waiting);
          lock_waiting_sum += waiting;
          lock_samples_with_waits += waiting > 0;
          active_sum += active;
          active_max = std::max(active_max, active);
          std::istringstream w(rows[0].at("waits"));
          for (std::string item; std::getline(w, item, ',');) {
            const auto eq = item.rfind('=');
            if (eq != std::string::npos) waits[item.substr(0, eq)] += ToD(item.substr(eq + 1));
          }
        }
        if (pools) {
          double waiting = 0, maxwait = 0, sv_active = 0;
          for (const auto& r : pools->first) {
            if (r.at("database") == "pgbouncer") continue;
            waiting += ToD(r.at("cl_waiting"));
            sv_active += ToD(r.at("sv_active"));
            maxwait = std::max(maxwait, ToD(r.at("maxwait")) + ToD(r.count("maxwait_us") ? r.at("maxwait_us") : "") / 1e6);
          }
          ++pool_samples;
          cl_waiting_max = std::max(cl_waiting_max, waiting);
          cl_waiting_sum += waiting;
          maxwait_max = std::max(maxwait_max, maxwait);
          sv_active_max = std::max(sv_active_max, sv_active);
        }
      } catch (const std::exception&) {
        s.reset();  // the server went away: try again next time
        lock.lock();
      }
      stop_cv.wait_for(lock, std::chrono::duration<double>(o.sample_every_s), [this] { return stop; });
    }
  }

  json End() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    stop_cv.notify_all();
    if (sampler.joinable()) sampler.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    json out = {{"seconds", seconds}};
    if (have_db) {
      try {
        db::PgSession s(o.direct_url);
        if (statements) {
          const double all = ToD(s.QueryValue(
              PMBENCH_OWN "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements "
              "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
              "AND query NOT LIKE '%pmbench evidence%'"));
          json top = json::array();
          for (const auto& r : s.QueryNamed(
                   PMBENCH_OWN "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 240) AS query, calls, total_exec_time, "
                   "mean_exec_time, rows, shared_blks_hit, shared_blks_read FROM pg_stat_statements "
                   "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                   "AND query NOT LIKE '%pmbench evidence%' ORDER BY total_exec_time DESC LIMIT " +
                   std::to_string(o.top_statements))) {
            const double total = ToD(r.at("total_exec_time"));
            top.push_back({{"query", r.at("query")},
                           {"calls", ToD(r.at("calls"))},
                           {"total_ms", total},
                           {"mean_ms", ToD(r.at("mean_exec_time"))},
                           {"rows", ToD(r.at("rows"))},
                           {"share", all > 0 ? total / all : 0},
                           {"shared_blks_hit", ToD(r.at("shared_blks_hit"))},
                           {"shared_blks_read", ToD(r.at("shared_blks_read"))}});
          }
          out["top_statements"] = top;
          out["statements_total_ms"] = all;
        }
        out["database"] = Delta(db0, Row(s, kDatabase));
        out["checkpoints"] = Delta(ckpt0, Row(s, kCheckpoints));
      } catch (const std::exception& e) {
        unavailable.push_back("PostgreSQL at the end: " + db::RedactSecrets(e.what()));
      }
      const double n = std::max(1, samples);
      out["locks"] = {{"samples", samples},
                      {"sample_every_s", o.sample_every_s},
                      {"waiting_max", lock_waiting_max},
                      {"waiting_mean", lock_waiting_sum / n},
                      {"share_of_samples_waiting", samples ? lock_samples_with_waits / n : 0.0}};
      out["active_backends"] = {{"mean", active_sum / n}, {"max", active_max}};
      json w = json::object();
      // Backend-seconds spent waiting on each event: what the backends were stuck on.
      for (const auto& [k, v] : waits) w[k] = v * o.sample_every_s;
      out["wait_events_backend_s"] = w;
    }
    if (have_bouncer) {
      try {
        const auto d = Delta(bouncer0, BouncerTotals());
        const double queries = d.at("total_query_count"), xacts = d.at("total_xact_count");
        out["pgbouncer"] = {{"transactions", xacts},
                            {"queries", queries},
                            {"client_wait_s", d.at("total_wait_time") / 1e6},
                            {"wait_per_transaction_ms", xacts > 0 ? d.at("total_wait_time") / 1e3 / xacts : 0.0},
                            {"cl_waiting_max", cl_waiting_max},
                            {"cl_waiting_mean", pool_samples ? cl_waiting_sum / pool_samples : 0.0},
                            {"maxwait_max_s", maxwait_max},
                            {"sv_active_max", sv_active_max}};
      } catch (const std::exception& e) {
        unavailable.push_back("pgbouncer at the end: " + std::string(e.what()));
      }
    }
    const Cpu c = ReadCpu();
    const auto [r, w] = ReadDisk();
    const double user = c.user - cpu0.user, system = c.system - cpu0.system, iowait = c.iowait - cpu0.iowait,
                 idle = c.idle - cpu0.idle, other = c.other - cpu0.other, all = user + system + iowait + idle + other;
    out["node"] = {{"source", "/proc/stat, /proc/diskstats"},
                   {"cpu_user_s", user},
                   {"cpu_system_s", system},
                   {"cpu_iowait_s", iowait},
                   {"cpu_busy_share", all > 0 ? (user + system + other) / all : 0.0},
                   {"disk_read_bytes", r - disk0.first},
                   {"disk_written_bytes", w - disk0.second}};
    out["unavailable"] = unavailable;
    ended = true;
    return out;
  }
};

ServerEvidence::ServerEvidence(EvidenceOptions o) : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(o);
  impl_->Begin();
}

ServerEvidence::~ServerEvidence() {
  if (!impl_->ended) impl_->End();
}

nlohmann::json ServerEvidence::End() { return impl_->End(); }

}  // namespace pmbench::monitoring
