#include "lib/load/engine.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "lib/metrics/registry.h"

namespace pmbench::load {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

int64_t Ns(Clock::duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }
Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The run's live Prometheus series, when LoadSpec::metrics asks for them.
struct Live {
  struct Kind {
    metrics::Counter *ok, *failed, *dropped, *arrivals;
    metrics::Histogram* latency;
  };
  metrics::Registry* registry = nullptr;
  std::string role, system;
  std::vector<Kind> kinds;
  metrics::Gauge *level = nullptr, *in_flight = nullptr;
  mutable std::mutex mu;
  mutable std::set<std::string> classes;

  explicit Live(const LoadSpec& spec) : registry(spec.metrics), role(spec.role), system(spec.system) {
    if (!registry) return;
    auto& r = *registry;
    for (const RequestKind& k : spec.mix) {
      const auto l = [&](const char* outcome) {
        return metrics::Labels{{"system", system}, {"role", role}, {"kind", k.name}, {"outcome", outcome}};
      };
      const char* done = "Requests by how they ended: ok, failed (answered with an error), dropped (never sent: too many in flight).";
      kinds.push_back({&r.AddCounter("pmbench_load_requests_total", done, l("ok")),
                       &r.AddCounter("pmbench_load_requests_total", done, l("failed")),
                       &r.AddCounter("pmbench_load_requests_total", done, l("dropped")),
                       &r.AddCounter("pmbench_load_arrivals_total",
                                     "Requests due by the schedule (offered load), sent or not.",
                                     {{"system", system}, {"role", role}, {"kind", k.name}}),
                       &r.AddHistogram("pmbench_load_request_duration_seconds",
                                       "Answered requests' latency from their intended start (coordinated omission corrected).",
                                       {{"system", system}, {"role", role}, {"kind", k.name}})});
    }
    level = &r.AddGauge(spec.model == Model::kOpen ? "pmbench_load_scheduled_rate" : "pmbench_load_scheduled_users",
                        spec.model == Model::kOpen ? "Requests per second the schedule offers now (configured, not achieved)."
                                                   : "Virtual users the schedule runs now (configured).",
                        {{"system", system}, {"role", role}});
    in_flight = &r.AddGauge("pmbench_load_in_flight", "Requests sent or waiting for a client.", {{"system", system}, {"role", role}});
  }
  // A label per error text, up to 20 of them: a server's messages can carry ids, and a
  // label per id would bury Prometheus in series.
  void Error(const std::string& kind, std::string reason) const {
    reason = reason.substr(0, 80);
    {
      std::lock_guard lock(mu);
      if (!classes.contains(reason)) {
        if (classes.size() >= 20) reason = "other";
        else classes.insert(reason);
      }
    }
    registry->AddCounter("pmbench_load_errors_total", "Failed requests by error class.",
                         {{"system", system}, {"role", role}, {"kind", kind}, {"class", reason}}).Inc();
  }
};

void Merge(KindResult& into, const KindResult& from) {
  into.latency.Merge(from.latency);
  into.service.Merge(from.service);
  into.unanswered.Merge(from.unanswered);
  into.series.Merge(from.series);
  into.ok += from.ok;
  into.failed += from.failed;
  into.dropped += from.dropped;
  into.unfinished += from.unfinished;
  for (const auto& [reason, n] : from.errors) into.errors[reason] += n;
}

// One thread's share of the clients and of the schedule (arrivals and users
// index + count x m: see ShardClients in engine.h), driven by its own event loop: nothing
// here is shared with other lanes but the atomics.
class Lane {
 public:
  // max_in_flight: this lane's share of the bound.
  Lane(const LoadSpec& spec, const ArrivalSchedule& schedule, const Live& live, uint64_t index, uint64_t count,
       int64_t max_in_flight)
      : spec_(spec), schedule_(schedule), live_(live), index_(index), count_(count), timer_(io_), ramp_(io_),
        drain_(io_), rng_(spec.seed * 0x9E3779B97F4A7C15ULL + index + 1), max_in_flight_(max_in_flight) {
    kinds_.resize(spec.mix.size());
    for (size_t i = 0; i < spec.mix.size(); ++i) {
      kinds_[i].name = spec.mix[i].name;
      kinds_[i].series = stats::IntervalSeries(spec.interval_s);
      total_weight_ += spec.mix[i].weight;
    }
  }

  asio::io_context& io() { return io_; }
  std::vector<std::unique_ptr<Client>>& clients() { return clients_; }

  void RunThread() {
    thread_ = std::thread([this] { io_.run(); });
  }
  void Stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Opens every client, spec.connect_concurrency at a time; the future holds the first error.
  std::future<std::string> Open() {
    asio::post(io_, [this] { OpenMore(); });
    return opened_.get_future();
  }

  void Begin(Clock::time_point t0) {
    asio::post(io_, [this, t0] {
      t0_ = t0;
      warm_end_ = t0 + Seconds(spec_.warmup_s);
      cpu0_ = ThreadCpuSeconds();
      for (size_t c = 0; c < clients_.size(); ++c) idle_.push_back(static_cast<int>(c));
      std::reverse(idle_.begin(), idle_.end());
      sending_.assign(clients_.size(), {});
      end_ = t0 + Seconds(schedule_.seconds());
      deadline_ = end_ + Seconds(spec_.drain_s);
      drain_.expires_at(deadline_);
      drain_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) Finish();
      });
      if (spec_.model == Model::kOpen) {
        ScheduleNext();
      } else {
        for (size_t v = 0; v < clients_.size(); ++v) parked_.push_back(static_cast<int>(v));
        // Users start at t0, not when this is posted (before it): a request started
        // earlier would count as the warm-up's and go unrecorded.
        ramp_.expires_at(t0_);
        ramp_.async_wait([this](const boost::system::error_code& ec) {
          if (!ec) Ramp();
        });
      }
    });
  }

  bool finished() const { return finished_.load(); }
  int64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  int64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  int64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  int64_t in_flight() const { return in_flight_now_.load(std::memory_order_relaxed); }

  // Read after the thread has stopped.
  const std::vector<KindResult>& kinds() const { return kinds_; }
  const stats::LatencyHistogram& lag() const { return lag_; }
  double cpu_share() const { return cpu_share_; }
  Clock::time_point last_done() const { return last_done_; }
  // How late this lane began its schedule: its first due arrival's (open) or its first
  // ramp's (closed) wake-up after the time it was due; nullopt when it never began.
  std::optional<Clock::duration> start_lag() const { return start_lag_; }
  int64_t unfinished() const { return unfinished_; }

 private:
  struct Waiting {
    int kind;
    Clock::time_point intended;
    uint64_t seq;
  };
  struct Sending {
    int kind = 0;
    Clock::time_point intended;
    bool active = false;
  };

  void OpenMore() {
    while (opening_ < spec_.connect_concurrency && next_open_ < clients_.size()) {
      const size_t c = next_open_++;
      ++opening_;
      clients_[c]->Open([this](std::string error) {
        asio::post(io_, [this, error = std::move(error)] {
          --opening_;
          ++opened_count_;
          if (!error.empty() && open_error_.empty()) open_error_ = error;
          if (!open_error_.empty()) next_open_ = clients_.size();  // stop opening more
          if (opening_ == 0 && (opened_count_ == clients_.size() || !open_error_.empty())) {
            opened_.set_value(open_error_);
          } else {
            OpenMore();
          }
        });
      });
    }
    if (clients_.empty()) opened_.set_value("");
  }

  uint64_t Next() {  // xorshift64*
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545F4914F6CDD1DULL;
  }
  int Pick() {
    if (kinds_.size() == 1) return 0;
    double u = static_cast<double>(Next() >> 11) * 0x1.0p-53 * total_weight_;
    for (size_t i = 0; i + 1 < spec_.mix.size(); ++i) {
      if ((u -= spec_.mix[i].weight) < 0) return static_cast<int>(i);
    }
    return static_cast<int>(spec_.mix.size() - 1);
  }

  // --- open model ---
  void ScheduleNext() {
    const auto t = schedule_.TimeOf(next_arrival_);
    if (!t) {
      schedule_done_ = true;
      MaybeFinish();
      return;
    }
    timer_.expires_at(t0_ + Seconds(*t));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) OnDue();
    });
  }

  void OnDue() {
    const auto now = Clock::now();
    for (auto t = schedule_.TimeOf(next_arrival_); t && t0_ + Seconds(*t) <= now;
         t = schedule_.TimeOf(next_arrival_)) {
      const auto intended = t0_ + Seconds(*t);
      if (!start_lag_) start_lag_ = now - intended;
      if (intended >= warm_end_) lag_.Record(Ns(now - intended));
      Arrive(intended, next_arrival_);
      next_arrival_ += count_;
    }
    ScheduleNext();
  }

  void Arrive(Clock::time_point intended, uint64_t seq) {
    const int kind = Pick();
    if (live_.registry) live_.kinds[kind].arrivals->Inc();
    if (in_flight_ >= max_in_flight_) {
      if (live_.registry) live_.kinds[kind].dropped->Inc();
      // Never sent, so never answered: it counts as answered at the run's deadline, the
      // longest the run would have waited for it, so a run cannot pass a latency bar by
      // shedding its slowest requests.
      if (intended >= warm_end_) {
        ++kinds_[kind].dropped;
        RecordUnanswered(kind, intended);
      }
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    SetInFlight(in_flight_ + 1);
    if (idle_.empty()) {
      waiting_.push_back({kind, intended, seq});
      return;
    }
    const int c = idle_.back();
    idle_.pop_back();
    Send(c, kind, intended, seq);
  }

  void Send(int c, int kind, Clock::time_point intended, uint64_t seq) {
    const auto sent = Clock::now();
    sending_[static_cast<size_t>(c)] = {kind, intended, true};
    // Completions are posted, never run inline: a client answering at once (a cache hit)
    // must not recurse through the waiting queue.
    clients_[c]->Start(kind, seq, [this, c, kind, intended, sent](Outcome o) {
      asio::post(io_, [this, c, kind, intended, sent, o = std::move(o)] { Complete(c, kind, intended, sent, o); });
    });
  }

  void Record(int kind, Clock::time_point intended, Clock::time_point sent, const Outcome& o) {
    const auto now = Clock::now();
    last_done_ = now;
    if (live_.registry) {
      const Live::Kind& l = live_.kinds[kind];
      (o.ok ? l.ok : l.failed)->Inc();
      l.latency->Observe(std::chrono::duration<double>(now - intended).count());
      if (!o.ok) live_.Error(spec_.mix[kind].name, o.error.empty() ? "error" : o.error);
    }
    if (intended < warm_end_) return;  // warm-up: run, not recorded
    KindResult& k = kinds_[kind];
    // Failed requests are timed too, as k6 does: their latency is what the user waited.
    k.latency.Record(Ns(now - intended));
    k.service.Record(Ns(now - sent));
    k.series.Record(SinceStart(now), Ns(now - intended), o.ok);
    if (o.ok) {
      ++k.ok;
      completed_.fetch_add(1, std::memory_order_relaxed);
    } else {
      ++k.failed;
      ++k.errors[o.error.empty() ? "error" : o.error];
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void Complete(int c, int kind, Clock::time_point intended, Clock::time_point sent, const Outcome& o) {
    if (finished_) return;
    sending_[static_cast<size_t>(c)].active = false;
    Record(kind, intended, sent, o);
    SetInFlight(in_flight_ - 1);
    if (spec_.model == Model::kClosed) {
      Think(c);
      return;
    }
    if (!waiting_.empty()) {
      const Waiting w = waiting_.front();
      waiting_.pop_front();
      Send(c, w.kind, w.intended, w.seq);
    } else {
      idle_.push_back(c);
    }
    MaybeFinish();
  }

  // --- closed model: client v is virtual user index_ + count_ * v ---
  bool Active(int v, Clock::time_point now) const {
    if (now >= end_) return false;
    const double users = schedule_.LevelAt(std::chrono::duration<double>(now - t0_).count());
    return static_cast<double>(index_ + count_ * static_cast<uint64_t>(v)) < std::floor(users + 1e-9);
  }

  void Loop(int v) {
    const auto now = Clock::now();
    if (!Active(v, now)) {
      parked_.push_back(v);
      MaybeFinish();
      return;
    }
    SetInFlight(in_flight_ + 1);
    const uint64_t seq = index_ + count_ * closed_seq_++;
    const int kind = Pick();
    if (live_.registry) live_.kinds[kind].arrivals->Inc();
    Send(v, kind, now, seq);
  }

  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  void Think(int v) {
    if (spec_.think_s <= 0) {
      asio::post(io_, [this, v] { Loop(v); });
      return;
    }
    const double j = spec_.think_jitter;
    Pause(v, spec_.think_s * (1 - j + 2 * j * Uniform()));
  }

  void Pause(int v, double seconds) {
    if (think_timers_.empty()) {
      for (size_t i = 0; i < clients_.size(); ++i) think_timers_.push_back(std::make_unique<asio::steady_timer>(io_));
    }
    auto& t = *think_timers_[v];
    t.expires_after(Seconds(seconds));
    t.async_wait([this, v](const boost::system::error_code& ec) {
      if (!ec) Loop(v);
    });
  }

  // Wakes parked users whose turn has come as the stages ramp up; every 20 ms.
  void Ramp() {
    const auto now = Clock::now();
    if (!start_lag_) start_lag_ = now - t0_;
    std::vector<int> wake;
    std::erase_if(parked_, [&](int v) {
      if (!Active(v, now)) return false;
      wake.push_back(v);
      return true;
    });
    for (const int v : wake) {
      // With jitter, a user arriving waits a random part of a pause first: users that start
      // together would otherwise act in lockstep, a burst every think time.
      if (spec_.think_jitter > 0 && spec_.think_s > 0) {
        Pause(v, spec_.think_s * Uniform());
      } else {
        Loop(v);
      }
    }
    if (now >= end_) {
      schedule_done_ = true;
      MaybeFinish();
      return;
    }
    ramp_.expires_after(std::chrono::milliseconds(20));
    ramp_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Ramp();
    });
  }

  // --- both ---
  void SetInFlight(int64_t n) {
    in_flight_ = n;
    in_flight_now_.store(n, std::memory_order_relaxed);
  }

  void MaybeFinish() {
    if (schedule_done_ && in_flight_ == 0) Finish();
  }

  // Requests still waiting or in flight when the drain time ran out: latency = the
  // deadline - their intended start, and they count against success.
  void RecordUnfinished(int kind, Clock::time_point intended) {
    if (intended < warm_end_) return;
    ++kinds_[kind].unfinished;
    RecordUnanswered(kind, intended);
  }

  void RecordUnanswered(int kind, Clock::time_point intended) {
    KindResult& k = kinds_[kind];
    k.latency.Record(Ns(deadline_ - intended));
    k.unanswered.Record(Ns(deadline_ - intended));
    k.series.Record(SinceStart(intended), Ns(deadline_ - intended), false);
  }

  double SinceStart(Clock::time_point t) const { return std::chrono::duration<double>(t - t0_).count(); }

  void Finish() {
    if (finished_) return;
    const double wall = std::chrono::duration<double>(Clock::now() - t0_).count();
    cpu_share_ = wall > 0 ? (ThreadCpuSeconds() - cpu0_) / wall : 0;
    unfinished_ = in_flight_;
    for (const Sending& s : sending_) {
      if (s.active) RecordUnfinished(s.kind, s.intended);
    }
    for (const Waiting& w : waiting_) RecordUnfinished(w.kind, w.intended);
    finished_ = true;
    io_.stop();
  }

  const LoadSpec& spec_;
  const ArrivalSchedule& schedule_;
  const Live& live_;
  const uint64_t index_, count_;
  asio::io_context io_{1};
  // The loop idles between opening the clients and the start: keep it running.
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::steady_timer timer_, ramp_, drain_;
  std::thread thread_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::promise<std::string> opened_;
  size_t next_open_ = 0, opened_count_ = 0;
  int opening_ = 0;
  std::string open_error_;

  uint64_t rng_;
  double total_weight_ = 0;
  const int64_t max_in_flight_;
  Clock::time_point t0_, end_, deadline_, last_done_, warm_end_;
  std::optional<Clock::duration> start_lag_;
  double cpu0_ = 0, cpu_share_ = 0;
  uint64_t next_arrival_ = index_;
  uint64_t closed_seq_ = 0;
  bool schedule_done_ = false;
  int64_t in_flight_ = 0, unfinished_ = 0;
  std::vector<int> idle_, parked_;
  std::deque<Waiting> waiting_;
  std::vector<Sending> sending_;  // by client: the request it is serving
  std::vector<std::unique_ptr<asio::steady_timer>> think_timers_;
  std::vector<KindResult> kinds_;
  stats::LatencyHistogram lag_;

  std::atomic<bool> finished_{false};
  std::atomic<int64_t> completed_{0}, failed_{0}, dropped_{0}, in_flight_now_{0};
};

void Validate(const LoadSpec& s) {
  if (s.clients < 1) throw std::invalid_argument("clients must be >= 1");
  if (s.mix.empty()) throw std::invalid_argument("the request mix is empty");
  double total = 0;
  for (const auto& k : s.mix) {
    if (!(k.weight >= 0)) throw std::invalid_argument("mix weight of '" + k.name + "' must be >= 0");
    total += k.weight;
  }
  if (!(total > 0)) throw std::invalid_argument("the mix's weights sum to 0");
  if (s.model == Model::kClosed) {
    double most = s.start;
    for (const auto& st : s.stages) most = std::max(most, st.target);
    if (most > s.clients) {
      throw std::invalid_argument("the closed model needs a client per virtual user: " + std::to_string(static_cast<int64_t>(most)) +
                                  " users, " + std::to_string(s.clients) + " clients");
    }
  }
  if (!(s.interval_s > 0)) throw std::invalid_argument("the series interval must be > 0 s");
  if (!(s.think_jitter >= 0 && s.think_jitter <= 1)) throw std::invalid_argument("think jitter must be in [0, 1]");
  if (s.think_s < 0 || s.drain_s < 0 || s.warmup_s < 0) throw std::invalid_argument("think, warm-up and drain times must be >= 0");
  if (s.shard_count < 1 || s.shard_index < 0 || s.shard_index >= s.shard_count) {
    throw std::invalid_argument("shard " + std::to_string(s.shard_index) + "/" + std::to_string(s.shard_count) +
                                ": want 0 <= I < N");
  }
  if (s.shard_count > s.clients) {
    throw std::invalid_argument(std::to_string(s.shard_count) + " shards need at least as many clients, not " +
                                std::to_string(s.clients));
  }
}

int64_t CeilPart(int64_t total, int index, int count) { return (total - index + count - 1) / count; }

}  // namespace

int ShardClients(const LoadSpec& spec) {
  return static_cast<int>(CeilPart(spec.clients, spec.shard_index, spec.shard_count));
}

std::optional<double> KindResult::success_ratio() const {
  const int64_t n = requests();
  if (n == 0) return std::nullopt;
  return static_cast<double>(ok) / static_cast<double>(n);
}

int64_t RaiseOpenFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  return static_cast<int64_t>(r.rlim_cur);
}

LoadResult RunLoad(const LoadSpec& spec_in, const ClientFactory& make_client) {
  LoadSpec spec = spec_in;
  Validate(spec);
  const ArrivalSchedule schedule(spec.start, spec.stages);
  const int clients = ShardClients(spec);
  if (spec.threads <= 0) spec.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  spec.threads = std::min(spec.threads, clients);
  if (spec.max_in_flight <= 0) spec.max_in_flight = 2 * spec.clients;
  const int64_t shard_in_flight = std::max<int64_t>(1, CeilPart(spec.max_in_flight, spec.shard_index, spec.shard_count));
  const int64_t files = RaiseOpenFileLimit();
  if (files >= 0 && files < clients + 64) {
    throw std::runtime_error("open-file limit " + std::to_string(files) + " is too low for " +
                             std::to_string(clients) + " clients (ulimit -n)");
  }

  const Live live(spec);
  std::vector<std::unique_ptr<Lane>> shards;
  const auto shard_count = static_cast<uint64_t>(spec.shard_count);
  for (int k = 0; k < spec.threads; ++k) {
    shards.push_back(std::make_unique<Lane>(spec, schedule, live, static_cast<uint64_t>(spec.shard_index) + shard_count * static_cast<uint64_t>(k),
                                            shard_count * static_cast<uint64_t>(spec.threads),
                                            std::max<int64_t>(1, CeilPart(shard_in_flight, k, spec.threads))));
  }
  // Local client i serves thread i % threads; the factory gets the run-wide client index.
  for (int i = 0; i < clients; ++i) {
    Lane& s = *shards[static_cast<size_t>(i % spec.threads)];
    s.clients().push_back(make_client(s.io(), spec.shard_index + spec.shard_count * i));
  }
  // Clients close on their own thread's loop: stop the loops first, then destroy.
  struct StopAll {
    std::vector<std::unique_ptr<Lane>>& shards;
    ~StopAll() {
      for (auto& s : shards) s->Stop();
    }
  } stop_all{shards};

  const auto c0 = Clock::now();
  std::vector<std::future<std::string>> opened;
  for (auto& s : shards) opened.push_back(s->Open());
  for (auto& s : shards) s->RunThread();
  for (auto& f : opened) {
    if (f.wait_until(c0 + std::chrono::seconds(60)) != std::future_status::ready) {
      throw std::runtime_error("timed out opening " + std::to_string(spec.clients) + " clients");
    }
    const std::string error = f.get();
    if (!error.empty()) throw std::runtime_error("could not open a client: " + error);
  }
  LoadResult result;
  result.connect_s = std::chrono::duration<double>(Clock::now() - c0).count();
  result.threads = spec.threads;
  result.clients = clients;
  result.max_in_flight = shard_in_flight;

  // A common start a little ahead, so no thread begins late; or the wall-clock instant the
  // shards agreed on, read off the steady clock from here on.
  const auto steady_now = Clock::now();
  const auto wall_now = std::chrono::system_clock::now();
  auto t0 = steady_now + std::chrono::milliseconds(20);
  if (spec.start_at) {
    const auto ahead = *spec.start_at - wall_now;
    if (ahead < std::chrono::milliseconds(1)) {
      throw std::runtime_error("--start-at passed " +
                               std::to_string(std::chrono::duration<double>(-ahead).count()).substr(0, 6) +
                               " s before this shard's clients were open: give every shard a later instant");
    }
    t0 = steady_now + std::chrono::duration_cast<Clock::duration>(ahead);
  }
  result.wall_t0 = wall_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(t0 - steady_now);
  result.deadline = t0 + Seconds(schedule.seconds() + spec.drain_s);
  result.t0 = t0;
  if (spec.on_start) spec.on_start(t0);
  for (auto& s : shards) s->Begin(t0);
  Progress last;
  auto tick = t0;
  while (!std::all_of(shards.begin(), shards.end(), [](const auto& s) { return s->finished(); })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = Clock::now();
    if (live.registry) {
      live.level->Set(schedule.LevelAt(std::chrono::duration<double>(now - t0).count()));
      int64_t n = 0;
      for (const auto& s : shards) n += s->in_flight();
      live.in_flight->Set(static_cast<double>(n));
    }
    if (!spec.progress || now - tick < std::chrono::seconds(1)) continue;
    Progress p;
    p.elapsed_s = std::chrono::duration<double>(now - t0).count();
    p.level = schedule.LevelAt(p.elapsed_s);
    for (const auto& s : shards) {
      p.completed += s->completed();
      p.failed += s->failed();
      p.dropped += s->dropped();
      p.in_flight += s->in_flight();
    }
    p.rate = static_cast<double>(p.completed - last.completed) / std::chrono::duration<double>(now - tick).count();
    spec.progress(p);
    last = p;
    tick = now;
  }
  for (auto& s : shards) s->Stop();
  if (live.registry) {
    live.level->Set(0);
    live.in_flight->Set(0);
  }

  result.kinds.resize(spec.mix.size());
  Clock::time_point end = t0;
  std::optional<Clock::duration> start_lag;
  for (size_t i = 0; i < spec.mix.size(); ++i) {
    result.kinds[i].name = spec.mix[i].name;
    result.kinds[i].series = stats::IntervalSeries(spec.interval_s);
  }
  result.total.name = "total";
  result.total.series = stats::IntervalSeries(spec.interval_s);
  for (const auto& s : shards) {
    for (size_t i = 0; i < spec.mix.size(); ++i) Merge(result.kinds[i], s->kinds()[i]);
    result.lag.Merge(s->lag());
    result.generator_cpu = std::max(result.generator_cpu, s->cpu_share());
    result.unfinished += s->unfinished();
    end = std::max(end, s->last_done());
    if (const auto lag = s->start_lag()) start_lag = std::min(start_lag.value_or(*lag), *lag);
  }
  result.wall_started = result.wall_t0 + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                             start_lag.value_or(Clock::duration::zero()));
  for (const auto& k : result.kinds) Merge(result.total, k);
  // The run lasts at least its schedule: an idle tail is part of the offered load's time.
  const auto measured_from = t0 + Seconds(spec.warmup_s);
  result.seconds = std::max(std::chrono::duration<double>(end - measured_from).count(), schedule.seconds() - spec.warmup_s);
  const double lag_p99_ms = result.lag.Percentile(99) / 1e6;
  if (result.lag.count() > 0 && lag_p99_ms > spec.lag_limit_ms) {
    result.generator_bound = true;
    result.generator_reason = "schedule lag p99 " + std::to_string(lag_p99_ms).substr(0, 6) + " ms > " +
                              std::to_string(spec.lag_limit_ms).substr(0, 5) + " ms";
  } else if (result.generator_cpu > spec.cpu_limit) {
    result.generator_bound = true;
    result.generator_reason = "an engine thread was busy " + std::to_string(result.generator_cpu * 100).substr(0, 4) +
                              "% of the run";
  }
  return result;
}

}  // namespace pmbench::load
