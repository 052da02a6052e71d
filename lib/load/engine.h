// File: engine.h
//
// The load engine every area's load test runs on. Open model (k6's constant- and
// ramping-arrival-rate, wrk2's schedule): requests are due at fixed times whatever the
// server does, wait for a free client when all are busy, and are dropped past a bound on
// requests in flight; latency is measured from the intended start (coordinated omission
// corrected) and from the actual send. Closed model: N virtual users, each sending, waiting
// for the answer and thinking. Both with weighted request mixes and a histogram per kind.
//
// Many clients per thread: each thread runs an event loop over its share of the clients
// (an Asio io_context per thread, no locks between them), so 5,000 connections need as
// many threads as cores. The engine checks itself: when the schedule lags or its threads
// are saturated, the result says `generator_bound` and why.
//
//   LoadSpec spec{.model = Model::kOpen, .start = 1000, .stages = {{30, 1000}},
//                 .clients = 1000, .mix = {{"list", 5}, {"bet", 3}}};
//   LoadResult r = RunLoad(spec, [&](boost::asio::io_context& io, int i) {
//     return std::make_unique<MyClient>(io, ...);
//   });
//   r.kinds[0].latency.Percentile(95);
#ifndef PMBENCH_LOAD_ENGINE_H_
#define PMBENCH_LOAD_ENGINE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/load/arrival_schedule.h"
#include "lib/stats/histogram.h"
#include "lib/stats/interval_series.h"

namespace pmbench::metrics {
class Registry;
}

namespace boost::asio {
class io_context;  // kept out of this header: Asio is slow to compile
}

namespace pmbench::load {

enum class Model { kOpen, kClosed };

struct RequestKind {
  std::string name;
  double weight = 1;
};

struct Outcome {
  bool ok = true;
  std::string error;  // a short reason; failures are counted per reason
};

using Completion = std::function<void(Outcome)>;

// One connection (and, in the closed model, one virtual user). Its methods are called on
// the thread of the io_context it was made for; it may complete from any thread.
class Client {
 public:
  virtual ~Client() = default;
  // Connects; calls done("") or done(reason) once.
  virtual void Open(std::function<void(std::string)> done) = 0;
  // Runs one request of mix entry `kind`; `seq` numbers requests uniquely within the run.
  // Calls done exactly once.
  virtual void Start(int kind, uint64_t seq, Completion done) = 0;
};

using ClientFactory = std::function<std::unique_ptr<Client>(boost::asio::io_context& io, int index)>;

struct Progress {
  double elapsed_s = 0, level = 0;  // level: the scheduled rate (open) or active users (closed)
  int64_t completed = 0, failed = 0, dropped = 0, in_flight = 0;
  double rate = 0;  // completions per second over the last interval
};

struct LoadSpec {
  Model model = Model::kOpen;
  double start = 0;            // rate per second (open) or users (closed) at t = 0
  std::vector<Stage> stages;   // see arrival_schedule.h
  int clients = 100;           // connections opened before the run; closed: the most users
  int max_in_flight = 0;       // open: started + waiting for a client; 0 = 2 x clients
  double think_s = 0;          // closed: pause between a user's requests
  // Closed: each pause is drawn uniformly from think_s x [1 - j, 1 + j], and a user's first
  // request waits a pause drawn from [0, think_s]. With 0, users that start together act
  // in lockstep: every think_s a burst of all of them.
  double think_jitter = 0;
  std::vector<RequestKind> mix = {{"request", 1}};
  int threads = 0;             // 0: one per core
  uint64_t seed = 1;
  // This process's part of a run spread over `shard_count` processes (machines, pods):
  // every field above describes the whole run, and shard I takes arrivals, virtual users,
  // clients and random streams i with i % shard_count == I, so the shards' union is
  // exactly the single-process run's schedule (see Lanes below).
  int shard_index = 0, shard_count = 1;
  // When the schedule starts, by the wall clock, so shards on different machines start
  // together; nullopt: as soon as every client is open. std::runtime_error when it has
  // already passed once the clients are open (a late shard would run a different test).
  std::optional<std::chrono::system_clock::time_point> start_at;
  double warmup_s = 0;         // the schedule's first seconds run but are not recorded
                               // (pooler and backends starting, plans and caches warming)
  double drain_s = 10;         // after the schedule, how long requests in flight may finish
  double interval_s = 1;       // each kind's latency is also kept per interval of this length
  int connect_concurrency = 64;  // connections opened at once, per thread
  // generator_bound when the schedule's p99 lag or a thread's CPU share exceed these.
  double lag_limit_ms = 20;
  double cpu_limit = 0.95;
  std::function<void(const Progress&)> progress;  // about once a second, from the caller's thread
  // Once every client is open, just before the schedule starts (its t0), from the caller's
  // thread: a run of several engines can time its own events from when the load began.
  std::function<void(std::chrono::steady_clock::time_point)> on_start;
  // Live Prometheus metrics while it runs (pmbench_load_*, labelled role and kind): warm-up
  // included, since a scrape shows traffic as the servers see it. Must outlive the run.
  metrics::Registry* metrics = nullptr;
  std::string role = "load";
  std::string system = "db";  // what the requests go to: db (reads through the pooler) or chain
};

struct KindResult {
  std::string name;
  // Every request's latency from its intended start (coordinated omission corrected):
  // answered ones, failed or not, until their answer; dropped and unfinished ones until
  // the run's deadline (the schedule's end + drain_s), since that is the least they
  // waited. A run cannot pass a percentile by losing its slowest requests.
  stats::LatencyHistogram latency;
  stats::LatencyHistogram service;  // actual send -> answer, for the requests answered
  stats::LatencyHistogram unanswered;  // the dropped and unfinished ones' part of `latency`
  // `latency` per interval from the run's start: answered requests at their answer, failed
  // ones as errors; dropped and unfinished ones as errors at their intended start (with the
  // latency they have in `latency`, so all intervals merged are exactly `latency`).
  stats::IntervalSeries series;
  int64_t ok = 0, failed = 0, dropped = 0, unfinished = 0;
  std::map<std::string, int64_t> errors;  // reason -> count
  int64_t requests() const { return ok + failed + dropped + unfinished; }
  // ok / requests(); nothing when nothing ran (not measured is not a success).
  std::optional<double> success_ratio() const;
};

struct LoadResult {
  std::vector<KindResult> kinds;  // in mix order
  KindResult total;               // every kind merged
  double seconds = 0;             // from the end of the warm-up to the last completion
  stats::LatencyHistogram lag;    // actual start of the schedule's work - its due time
  double generator_cpu = 0;       // the busiest engine thread's CPU time / wall time
  bool generator_bound = false;
  std::string generator_reason;   // why, when generator_bound
  int threads = 0;
  int clients = 0;
  double connect_s = 0;           // opening every client
  int64_t unfinished = 0;         // waiting or in flight when the drain time ran out (warm-up's too)
  // When the run stopped waiting: the schedule's end + drain_s. Unanswered requests are
  // timed until then.
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point t0;  // when the schedule started (series' time 0)
  std::chrono::system_clock::time_point wall_t0;  // the same instant by the wall clock
  // When the schedule actually began, by the wall clock: wall_t0 plus how late the engine
  // woke for its first due arrival (open) or its first users (closed). Shards' differences
  // in this are how far apart they began.
  std::chrono::system_clock::time_point wall_started;
  // This process's clients and its share of max_in_flight (the whole run's / shard_count).
  int64_t max_in_flight = 0;
  double throughput() const { return seconds > 0 ? static_cast<double>(total.ok) / seconds : 0; }
};

// The run's arrivals, virtual users and clients are dealt over shards first (i belongs to
// shard i % shard_count), then over the shard's own threads: thread k of shard I owns
// i = I + shard_count x (k + threads x m). So shards may run different thread counts and
// still partition the run exactly. ShardClients: how many of spec.clients shard I opens.
int ShardClients(const LoadSpec& spec);

// Opens spec.clients clients (a shard: ShardClients of them), runs the schedule, drains, closes. Throws
// std::invalid_argument for a bad spec and std::runtime_error when a client cannot be
// opened (nothing is left running).
LoadResult RunLoad(const LoadSpec& spec, const ClientFactory& make_client);

// Raises this process's open-file limit to its hard limit (each client is a socket);
// returns the limit now in force.
int64_t RaiseOpenFileLimit();

}  // namespace pmbench::load

#endif  // PMBENCH_LOAD_ENGINE_H_
