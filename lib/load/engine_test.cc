#include "lib/load/engine.h"

#include <atomic>
#include <mutex>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "lib/metrics/registry.h"

namespace pmbench::load {
namespace {

namespace asio = boost::asio;

// A client whose "server" answers after `service` (or never, when negative), recording the
// sequence numbers it was given.
class TimedClient : public Client {
 public:
  TimedClient(asio::io_context& io, std::chrono::milliseconds service, std::mutex& mu, std::multiset<uint64_t>& seqs)
      : io_(io), service_(service), mu_(mu), seqs_(seqs) {}
  void Open(std::function<void(std::string)> done) override { done(""); }
  void Start(int kind, uint64_t seq, Completion done) override {
    {
      std::lock_guard lock(mu_);
      seqs_.insert(seq);
    }
    if (service_.count() < 0) {
      held_.push_back(std::move(done));  // never answered
      return;
    }
    if (service_.count() == 0) return done({.ok = kind != 1, .error = "kind one fails"});
    auto t = std::make_shared<asio::steady_timer>(io_, service_);
    t->async_wait([t, kind, done = std::move(done)](const boost::system::error_code&) {
      done({.ok = kind != 1, .error = "kind one fails"});
    });
  }

 private:
  asio::io_context& io_;
  std::chrono::milliseconds service_;
  std::mutex& mu_;
  std::multiset<uint64_t>& seqs_;
  std::vector<Completion> held_;
};

struct Harness {
  std::mutex mu;
  std::multiset<uint64_t> seqs;
  LoadResult operator()(const LoadSpec& spec, int service_ms) {
    return RunLoad(spec, [&](asio::io_context& io, int) {
      return std::make_unique<TimedClient>(io, std::chrono::milliseconds(service_ms), mu, seqs);
    });
  }
};

TEST(EngineTest, OpenModelStartsEveryScheduledRequestOnce) {
  Harness run;
  const LoadResult r = run({.start = 400, .stages = {{1, 400}}, .clients = 8, .max_in_flight = 1000, .threads = 2}, 2);
  EXPECT_EQ(r.total.ok, 400);
  EXPECT_EQ(r.total.dropped, 0);
  EXPECT_EQ(r.total.latency.count(), 400u);
  EXPECT_GE(r.total.service.min(), 2'000'000);  // the server's time is in the service latency
  EXPECT_GE(r.seconds, 0.99);
  ASSERT_EQ(run.seqs.size(), 400u);
  EXPECT_EQ(*run.seqs.begin(), 0u);
  EXPECT_EQ(*run.seqs.rbegin(), 399u);
  EXPECT_EQ(std::set<uint64_t>(run.seqs.begin(), run.seqs.end()).size(), 400u);
  EXPECT_EQ(r.threads, 2);
}

TEST(EngineTest, TheWarmUpRunsButIsNotRecorded) {
  Harness run;
  const LoadResult r = run({.start = 200, .stages = {{0.5, 200}, {1, 200}}, .clients = 4, .max_in_flight = 1000, .threads = 1, .warmup_s = 0.5}, 1);
  EXPECT_EQ(run.seqs.size(), 300u);  // all sent
  EXPECT_EQ(r.total.ok, 200);       // the last second's recorded
  EXPECT_NEAR(r.seconds, 1.0, 0.1);
  EXPECT_NEAR(r.throughput(), 200, 25);
}

TEST(EngineTest, MixWeightsAndFailuresAreCountedPerKind) {
  Harness run;
  // A bound far above the clients: a timer firing late on a busy machine makes several
  // requests due at once, and this test is about the mix, not about drops.
  const LoadResult r = run({.start = 2000, .stages = {{1, 2000}}, .clients = 4, .max_in_flight = 4000,
                            .mix = {{"a", 3}, {"fails", 1}, {"never", 0}}, .threads = 2}, 0);
  ASSERT_EQ(r.kinds.size(), 3u);
  EXPECT_EQ(r.kinds[0].ok + r.kinds[1].failed, 2000);
  EXPECT_NEAR(static_cast<double>(r.kinds[1].failed) / 2000, 0.25, 0.05);
  EXPECT_EQ(r.kinds[1].errors.at("kind one fails"), r.kinds[1].failed);
  EXPECT_EQ(r.kinds[2].ok + r.kinds[2].failed, 0);
  EXPECT_FALSE(r.kinds[2].success_ratio().has_value());  // nothing ran: not a success
  EXPECT_NEAR(r.total.success_ratio().value(), 0.75, 0.05);
}

// What Prometheus scrapes during a run adds up to what the run reports at its end.
TEST(EngineTest, LiveMetricsAgreeWithTheResult) {
  Harness run;
  metrics::Registry reg;
  LoadSpec spec{.start = 500, .stages = {{1, 500}}, .clients = 4, .max_in_flight = 4000,
                .mix = {{"a", 3}, {"fails", 1}}, .threads = 2};
  spec.metrics = &reg;
  spec.role = "browsing";
  const LoadResult r = run(spec, 1);
  const std::string text = reg.Text();
  const auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("pmbench_load_requests_total{system=\"db\",role=\"browsing\",kind=\"a\",outcome=\"ok\"} " + std::to_string(r.kinds[0].ok))) << text;
  EXPECT_TRUE(has("pmbench_load_requests_total{system=\"db\",role=\"browsing\",kind=\"fails\",outcome=\"failed\"} " + std::to_string(r.kinds[1].failed)));
  EXPECT_TRUE(has("pmbench_load_errors_total{system=\"db\",role=\"browsing\",kind=\"fails\",class=\"kind one fails\"} " + std::to_string(r.kinds[1].failed)));
  EXPECT_TRUE(has("pmbench_load_arrivals_total{system=\"db\",role=\"browsing\",kind=\"a\"} " + std::to_string(r.kinds[0].requests())));
  EXPECT_TRUE(has("pmbench_load_request_duration_seconds_count{system=\"db\",role=\"browsing\",kind=\"a\"} " + std::to_string(r.kinds[0].ok)));
  EXPECT_TRUE(has("pmbench_load_request_duration_seconds_bucket{system=\"db\",role=\"browsing\",kind=\"a\",le=\"0.001\"} 0"));  // 1 ms service
  EXPECT_TRUE(has("pmbench_load_scheduled_rate{system=\"db\",role=\"browsing\"} 0"));  // the run is over
  EXPECT_GT(r.kinds[1].failed, 0);
}

TEST(EngineTest, RequestsBeyondTheInFlightBoundAreDropped) {
  Harness run;
  // Nobody answers: 10 requests fill the bound (4 clients busy, 6 waiting), the rest drop,
  // and the 10 are reported unfinished when the drain time runs out.
  const LoadResult r = run({.start = 100, .stages = {{1, 100}}, .clients = 4, .max_in_flight = 10,
                            .threads = 1, .drain_s = 0.1}, -1);
  EXPECT_EQ(r.total.dropped, 90);
  EXPECT_EQ(r.unfinished, 10);
  EXPECT_EQ(r.total.unfinished, 10);
  EXPECT_EQ(r.total.ok, 0);
  EXPECT_EQ(run.seqs.size(), 4u);  // only the clients' first requests were ever sent
  // Every one of the 100 is in the latency, at the deadline: at least the drain time after
  // its intended start, and they all count against success.
  EXPECT_EQ(r.total.latency.count(), 100u);
  EXPECT_GE(r.total.latency.min(), 100'000'000);
  EXPECT_EQ(r.total.requests(), 100);
  EXPECT_EQ(r.total.success_ratio().value(), 0);
}

// A server that never answers 2% of requests: the run must not pass p(99) by losing them.
// (Timed over the answered requests only, as the engine did before, p99 was ~1 ms.)
TEST(EngineTest, AStallingServerCannotPassP99ByLosingItsSlowest) {
  struct Stalling : Client {
    explicit Stalling(asio::io_context& io) : io_(io) {}
    void Open(std::function<void(std::string)> done) override { done(""); }
    void Start(int, uint64_t seq, Completion done) override {
      if (seq % 50 == 49) {
        held_.push_back(std::move(done));  // stalls: never answered
        return;
      }
      auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(1));
      t->async_wait([t, done = std::move(done)](const boost::system::error_code&) { done({}); });
    }
    asio::io_context& io_;
    std::vector<Completion> held_;
  };
  const LoadResult r = RunLoad({.start = 500, .stages = {{1, 500}}, .clients = 40, .max_in_flight = 1000, .threads = 2,
                                .drain_s = 0.5},
                               [](asio::io_context& io, int) { return std::make_unique<Stalling>(io); });
  EXPECT_EQ(r.total.unfinished, 10);
  EXPECT_EQ(r.total.ok, 490);
  EXPECT_EQ(r.total.latency.count(), 500u);
  EXPECT_NEAR(r.total.success_ratio().value(), 0.98, 1e-9);
  // The 10 lost requests are the slowest 2%: p99 sits among them, past the drain time.
  EXPECT_GE(r.total.latency.Percentile(99), 500e6);
  EXPECT_LT(r.total.service.Percentile(99), 100e6);  // what the answered ones alone would say
}

// A stall mid-run shows in the interval where it happened, the intervals merged are exactly
// the run's histogram (dropped and unfinished requests included), and losses are errors.
TEST(EngineTest, TheSeriesShowsAStallWhenItHappened) {
  struct StallsAWhile : Client {
    StallsAWhile(asio::io_context& io, std::chrono::steady_clock::time_point t0) : io_(io), t0_(t0) {}
    void Open(std::function<void(std::string)> done) override { done(""); }
    void Start(int, uint64_t seq, Completion done) override {
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
      if (seq == 7) return held_.push_back(std::move(done));  // never answered
      const auto service = std::chrono::milliseconds(t > 0.5 && t < 0.7 ? 200 : 1);
      auto timer = std::make_shared<asio::steady_timer>(io_, service);
      timer->async_wait([timer, done = std::move(done)](const boost::system::error_code&) { done({}); });
    }
    asio::io_context& io_;
    std::chrono::steady_clock::time_point t0_;
    std::vector<Completion> held_;
  };
  const auto t0 = std::chrono::steady_clock::now();
  const LoadResult r = RunLoad({.start = 200, .stages = {{1.5, 200}}, .clients = 100, .threads = 2, .drain_s = 0.3,
                                .interval_s = 0.25},
                               [&](asio::io_context& io, int) { return std::make_unique<StallsAWhile>(io, t0); });
  const stats::IntervalSeries& s = r.total.series;
  EXPECT_EQ(s.interval_s(), 0.25);
  EXPECT_EQ(s.Histogram(0, s.size()), r.total.latency);
  uint64_t errors = 0;
  for (size_t i = 0; i < s.size(); ++i) errors += s.errors(i);
  EXPECT_EQ(errors, 1u);  // the request never answered
  // Interval 0.5-0.75 s answers the stalled requests (t0 here is a little before the run's).
  EXPECT_LT(s.Histogram(1).Percentile(95), 50e6);
  EXPECT_GE(s.Histogram(2, 4).Percentile(95), 150e6);
  EXPECT_LT(s.Histogram(5).Percentile(50), 50e6);
}

TEST(EngineTest, FailedRequestsAreTimedToo) {
  Harness run;
  // Kind one fails after 30 ms: its latency is recorded like any answer's (as k6 does).
  const LoadResult r = run({.start = 100, .stages = {{0.5, 100}}, .clients = 10, .max_in_flight = 1000,
                            .mix = {{"ok", 1}, {"fails", 1}}, .threads = 1}, 30);
  EXPECT_GT(r.kinds[1].failed, 10);
  EXPECT_EQ(r.kinds[1].latency.count(), static_cast<uint64_t>(r.kinds[1].failed));
  EXPECT_GE(r.kinds[1].latency.min(), 30'000'000);
  EXPECT_EQ(r.total.latency.count(), static_cast<uint64_t>(r.total.requests()));
}

TEST(EngineTest, WaitingRequestsCarryTheirIntendedStart) {
  Harness run;
  // One client, 50 ms per request, 100 requests/s: the client sustains 20/s, so requests
  // queue and their latency from the intended start grows while the service time stays 50 ms.
  const LoadResult r = run({.start = 100, .stages = {{0.5, 100}}, .clients = 1, .max_in_flight = 1000, .threads = 1}, 50);
  EXPECT_EQ(r.total.ok, 50);
  EXPECT_LT(r.total.service.Percentile(90), 80e6);
  EXPECT_GT(r.total.latency.Percentile(90), 1500e6);  // the 45th waited ~2 s
  EXPECT_GE(r.seconds, 2.4);
}

TEST(EngineTest, ClosedModelRampsVirtualUsers) {
  Harness run;
  // 0 -> 4 users over 0.4 s, then 4 for 0.6 s, 10 ms per request and no think time.
  const LoadResult r = run({.model = Model::kClosed, .start = 0, .stages = {{0.4, 4}, {0.6, 4}}, .clients = 4,
                            .threads = 2}, 10);
  // Full load would be 4 x 100/s x 1 s = 400; the ramp costs about 4 x 100 x 0.2 = 80.
  EXPECT_GT(r.total.ok, 220);
  EXPECT_LT(r.total.ok, 400);
  EXPECT_EQ(r.total.dropped, 0);
  EXPECT_EQ(std::set<uint64_t>(run.seqs.begin(), run.seqs.end()).size(), run.seqs.size());
}

// Each user's first request is sent at the run's start and counts like any other.
TEST(EngineTest, ClosedModelRecordsEveryUsersFirstRequest) {
  Harness h;
  const LoadResult r = h({.model = Model::kClosed, .start = 10, .stages = {{0.3, 10}}, .clients = 10, .think_s = 30,
                          .drain_s = 1},
                         1);
  EXPECT_EQ(h.seqs.size(), 10u);
  EXPECT_EQ(r.total.ok + r.total.failed, 10);
}

// Users started together with a constant think time burst together for the whole run;
// with jitter their requests spread over the think time.
TEST(EngineTest, ThinkJitterKeepsUsersOutOfLockstep) {
  const auto busiest_share = [](double jitter) {
    Harness h;
    const LoadResult r = h({.model = Model::kClosed, .start = 100, .stages = {{2, 100}}, .clients = 100, .think_s = 0.5,
                            .think_jitter = jitter, .threads = 1, .drain_s = 1, .interval_s = 0.1},
                           1);
    uint64_t most = 0, all = 0;
    for (size_t i = 0; i < r.total.series.size(); ++i) most = std::max(most, r.total.series.count(i)), all += r.total.series.count(i);
    return static_cast<double>(most) / static_cast<double>(all);
  };
  EXPECT_GT(busiest_share(0), 0.2);   // 4 bursts of 100: a quarter each
  EXPECT_LT(busiest_share(0.5), 0.15);  // spread over ~20 intervals
}

TEST(EngineTest, ClosedModelThinkTimePacesUsers) {
  Harness run;
  const LoadResult r = run({.model = Model::kClosed, .start = 2, .stages = {{1, 2}}, .clients = 2, .think_s = 0.1,
                            .threads = 1}, 0);
  // Each user: a request, 100 ms thinking: about 10 per user in 1 s (kind 0 only: never fails).
  EXPECT_GE(r.total.ok, 16);
  EXPECT_LE(r.total.ok, 22);
}

// Shards with different thread counts, run one after another, send exactly the
// arrivals of one process's run: each once, none missing.
TEST(EngineTest, ShardsPartitionTheOpenSchedule) {
  Harness run;
  const int threads[] = {1, 2, 3};
  int64_t ok = 0, clients = 0;
  for (int i = 0; i < 3; ++i) {
    const LoadResult r = run({.start = 300, .stages = {{0.5, 300}}, .clients = 8, .max_in_flight = 1000,
                              .threads = threads[i], .shard_index = i, .shard_count = 3}, 0);
    ok += r.total.ok;
    clients += r.clients;
    EXPECT_NEAR(static_cast<double>(r.total.ok), 50, 1) << "shard " << i;
  }
  EXPECT_EQ(ok, 150);
  EXPECT_EQ(clients, 8);  // 3 + 3 + 2
  ASSERT_EQ(run.seqs.size(), 150u);
  EXPECT_EQ(std::set<uint64_t>(run.seqs.begin(), run.seqs.end()).size(), 150u);
  EXPECT_EQ(*run.seqs.rbegin(), 149u);
}

// Each shard runs its own users of the closed model: the users at the peak, together.
TEST(EngineTest, ShardsPartitionTheClosedUsers) {
  std::mutex mu;
  std::set<int> users;
  int64_t opened = 0;
  for (int i = 0; i < 2; ++i) {
    std::multiset<uint64_t> seqs;
    const LoadResult r = RunLoad({.model = Model::kClosed, .start = 5, .stages = {{0.3, 5}}, .clients = 6, .think_s = 30,
                                  .threads = 2, .shard_index = i, .shard_count = 2},
                                 [&](asio::io_context& io, int index) {
                                   std::lock_guard lock(mu);
                                   users.insert(index);
                                   return std::make_unique<TimedClient>(io, std::chrono::milliseconds(1), mu, seqs);
                                 });
    opened += r.clients;
    // Users 0..4 are active: shard 0 has 0, 2, 4; shard 1 has 1, 3. Each sends once.
    EXPECT_EQ(r.total.ok, i == 0 ? 3 : 2);
  }
  EXPECT_EQ(opened, 6);
  EXPECT_EQ(users, (std::set<int>{0, 1, 2, 3, 4, 5}));  // run-wide client indexes, each once
}

TEST(EngineTest, AStartAtInstantIsKeptAndOneAlreadyPassedIsRefused) {
  Harness run;
  const auto at = std::chrono::system_clock::now() + std::chrono::milliseconds(300);
  const auto before = std::chrono::steady_clock::now();
  const LoadResult r = run({.start = 100, .stages = {{0.2, 100}}, .clients = 2, .threads = 1, .start_at = at}, 0);
  EXPECT_GE(r.t0 - before, std::chrono::milliseconds(250));
  EXPECT_LT(std::chrono::abs(r.wall_t0 - at), std::chrono::milliseconds(2));
  EXPECT_GE(r.wall_started, r.wall_t0);  // measured: the first request's actual send
  EXPECT_LT(r.wall_started - r.wall_t0, std::chrono::milliseconds(100));
  EXPECT_EQ(r.total.ok, 20);
  EXPECT_THROW(run({.start = 100, .stages = {{0.2, 100}}, .clients = 2, .threads = 1,
                    .start_at = std::chrono::system_clock::now() - std::chrono::seconds(1)}, 0),
               std::runtime_error);
}

TEST(EngineTest, BadSpecsAreRejected) {
  Harness shards;
  EXPECT_THROW(shards({.start = 5, .stages = {{1, 5}}, .clients = 4, .shard_index = 2, .shard_count = 2}, 0), std::invalid_argument);
  EXPECT_THROW(shards({.start = 5, .stages = {{1, 5}}, .clients = 2, .shard_index = 0, .shard_count = 3}, 0), std::invalid_argument);
  Harness run;
  EXPECT_THROW(run({.start = 1, .stages = {{1, 1}}, .clients = 0}, 0), std::invalid_argument);
  EXPECT_THROW(run({.start = 1, .stages = {{1, 1}}, .mix = {}}, 0), std::invalid_argument);
  EXPECT_THROW(run({.start = 1, .stages = {{1, 1}}, .mix = {{"a", 0}}}, 0), std::invalid_argument);
  EXPECT_THROW(run({.model = Model::kClosed, .start = 5, .stages = {{1, 5}}, .clients = 4}, 0), std::invalid_argument);
  EXPECT_THROW(run({.start = 1, .stages = {}}, 0), std::invalid_argument);
}

TEST(EngineTest, AClientThatCannotOpenFailsTheRunCleanly) {
  struct Refused : Client {
    void Open(std::function<void(std::string)> done) override { done("connection refused"); }
    void Start(int, uint64_t, Completion done) override { done({}); }
  };
  try {
    RunLoad({.start = 1, .stages = {{1, 1}}, .clients = 3}, [](asio::io_context&, int) { return std::make_unique<Refused>(); });
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("connection refused"), std::string::npos);
  }
}

}  // namespace
}  // namespace pmbench::load
