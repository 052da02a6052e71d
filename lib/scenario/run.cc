#include "lib/scenario/run.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/result_view.h"
#include "lib/db/seed.h"
#include "lib/events/chain_load.h"
#include "lib/events/notification.h"
#include "lib/monitoring/evidence.h"
#include "lib/queries/db_load.h"
#include "lib/realtime/ws_load.h"
#include "lib/results/gbench_json.h"
#include "lib/scenario/processes.h"
#include "lib/stats/interval_series.h"
#include "lib/stats/wall_clock.h"

namespace pmbench::scenario {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// What the chain roles' transactions did, from the sender's threads.
struct TxLog {
  std::mutex mu;
  std::unordered_map<std::string, int64_t> bet_sent_ns, bet_confirmed_ns;
  std::vector<std::pair<int64_t, int64_t>> created;  // (market id, sent ns), confirmed ones
  std::set<uint64_t> resolved;                       // market ids of confirmed resolutions
  std::map<std::string, std::vector<std::string>> confirmed;  // kind -> signatures
  void Add(const events::ChainTxRecord& tx) {
    if (!tx.ok) return;
    std::lock_guard lock(mu);
    confirmed[tx.kind].push_back(tx.signature);
    if (tx.kind == "bets") {
      bet_sent_ns[tx.signature] = tx.sent_ns;
      bet_confirmed_ns[tx.signature] = tx.confirmed_ns;
    } else if (tx.kind == "markets") {
      created.emplace_back(static_cast<int64_t>(tx.market_id), tx.sent_ns);
    } else if (tx.kind == "resolutions") {
      resolved.insert(tx.market_id);
    }
  }
};

// The schema's tables holding each kind's confirmed signatures.
const std::map<std::string, std::string>& StoredBy() {
  static const std::map<std::string, std::string> m = {
      {"bets", "SELECT count(DISTINCT tx_signature) FROM bets WHERE tx_signature = ANY($1::text[])"},
      {"votes", "SELECT count(DISTINCT signature) FROM votes WHERE signature = ANY($1::text[])"},
      {"approvals", "SELECT count(DISTINCT signature) FROM votes WHERE signature = ANY($1::text[])"},
      {"markets", "SELECT count(DISTINCT event_signature) FROM markets WHERE event_signature = ANY($1::text[])"},
      {"claims", "SELECT count(DISTINCT signature) FROM claims WHERE signature = ANY($1::text[])"},
  };
  return m;
}

std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string list = "{";  // base58 signatures: nothing to quote
  for (const auto& s : items) list += (list.size() > 1 ? "," : "") + s;
  return list + "}";
}

// The role's load over the run: the scenario's shape (levels in users, all roles) scaled to
// its share, or its own users or rate for its own window.
load::Shape RoleShape(const ScenarioSpec& s, const Role& r) {
  const double own = r.rate_per_s > 0 ? r.rate_per_s : r.users;
  const double seconds = r.seconds > 0 ? r.seconds : s.seconds - r.start_s;
  if (s.shape.stages.empty()) return load::ConstantShape(own, seconds);
  const double users = std::max(1, s.users());
  return load::Scaled(s.shape, own / users);
}

// A role's clients over the whole run: a browsing or closed role's users at its peak; an
// open chain role's enough for 10 s of arrivals in flight (each a wallet).
int RoleClients(const ScenarioSpec& s, const Role& r) {
  const int peak = static_cast<int>(std::ceil(RoleShape(s, r).peak()));
  if (!r.browses() && r.rate_per_s > 0) return std::clamp(peak * 10, 4, 2000);
  return std::max(1, peak);
}

class Status {
 public:
  void Set(size_t role, const load::Progress& p) {
    std::lock_guard lock(mu_);
    if (progress_.size() <= role) progress_.resize(role + 1);
    progress_[role] = p;
  }
  std::string Line(const std::vector<Role>& roles, double t, int64_t received, int64_t lost) {
    std::lock_guard lock(mu_);
    char buf[160];
    std::snprintf(buf, sizeof buf, "%6.0fs ", t);
    std::string line = buf;
    for (size_t i = 0; i < roles.size() && i < progress_.size(); ++i) {
      std::snprintf(buf, sizeof buf, " %s %.0f/s (%lld failed)", roles[i].name.c_str(), progress_[i].rate,
                    static_cast<long long>(progress_[i].failed));
      line += buf;
    }
    std::snprintf(buf, sizeof buf, "  ws %lld received %lld lost", static_cast<long long>(received), static_cast<long long>(lost));
    return line + buf;
  }

 private:
  std::mutex mu_;
  std::vector<load::Progress> progress_;
};

// Holds an exclusive lock on the markets table for `seconds`, `at_s` into the run.
std::thread InjectStall(const std::string& url, const std::string& schema, const Stall& stall, Clock::time_point t0,
                        const std::function<void(const std::string&)>& say) {
  return std::thread([=] {
    try {
      db::PgSession s(url);
      std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(stall.at_s)));
      s.Exec("BEGIN");
      s.Exec("LOCK TABLE \"" + schema + "\".markets IN ACCESS EXCLUSIVE MODE");
      if (say) say("stall: markets locked at " + std::to_string(Since(t0)).substr(0, 5) + " s");
      std::this_thread::sleep_for(std::chrono::duration<double>(stall.seconds));  // the fault itself: a lock held
      s.Exec("COMMIT");
      if (say) say("stall: released at " + std::to_string(Since(t0)).substr(0, 5) + " s");
    } catch (const std::exception& e) {
      if (say) say(std::string("stall failed: ") + db::RedactSecrets(e.what()));
    }
  });
}

}  // namespace

std::optional<double> RoleResult::success_ratio() const {
  if (action == "browse") return load.total.success_ratio();
  if (submitted == 0) return std::nullopt;
  return static_cast<double>(confirmed) / static_cast<double>(submitted);
}

bool ScenarioResult::passed() const {
  return std::none_of(bars.begin(), bars.end(), [](const auto& b) { return b.kind == stats::Bar::Kind::kThreshold && !b.pass; });
}

namespace {

// One run, step by step. Members are declared in the order they must outlive each other:
// the schema is dropped last, after the processes stopped; the subscribers close before
// the recorder they report to, the chain workloads before the log they write.
class ScenarioRun {
 public:
  ScenarioRun(const ScenarioSpec& spec, const RunOptions& o)
      : spec_(spec), o_(o), k_(spec.hot_markets), shards_(std::max(1, o.shard_count)) {
    result_.spec = spec;
    if (o.platform) platform_ = *o.platform;
  }
  ~ScenarioRun() {
    if (!o_.targets_file.empty()) std::remove(o_.targets_file.c_str());
    // Everything that uses the schema stops before it goes (after a failure, still running).
    sampler_.reset();
    ws_.reset();
    prepared_.clear();
    own_.reset();
  }

  ScenarioResult Run() {
    if (!o_.platform) {
      // Forked before this process starts any thread.
      own_ = std::make_unique<PlatformHost>(spec_, o_);
      platform_ = own_->state();
    }
    result_.schema = schema();
    if (!o_.targets_file.empty()) WriteTargets();
    OpenSubscriptions();
    PrepareRoles();
    std::optional<db::ClockOffset> clock;
    if (o_.shard_count > 0) {
      db::PgSession s(o_.direct_url);
      clock = db::MeasureClockOffset(s);
    }
    std::optional<monitoring::ServerEvidence> evidence;
    // The platform's owner reports the servers' side; shards would each report all of it.
    if (own_ && db::ParseDatabaseUrl(o_.direct_url).IsLoopback()) {
      evidence.emplace(monitoring::EvidenceOptions{.direct_url = o_.direct_url, .pooled_url = o_.pooled_url});
    }
    const Clock::time_point t0 = RunRoles();
    if (evidence) result_.server = evidence->End();
    CollectOutcomes();
    WaitForDeliveries();
    const int64_t deadline_ns = stats::WallClockNs();
    result_.seconds = Since(t0);
    result_.unix_end = static_cast<double>(deadline_ns) / 1e9;
    result_.unix_start = result_.unix_end - result_.seconds;
    sampler_->Stop();
    result_.processes = sampler_->Result();
    MeasureScreens(deadline_ns);
    // Prometheus stops scraping them first: a child gone before its target would alert.
    if (!o_.targets_file.empty()) std::remove(o_.targets_file.c_str());
    if (own_) own_->Stop();
    MeasureOverTime();
    if (o_.shard_count > 0) RecordShard(clock);
    const auto [bars, observed] = result_.Judged();
    result_.bars = stats::EvaluateBars(bars, observed);
    return std::move(result_);
  }

 private:
  struct Prepared {
    load::LoadSpec spec;
    load::ClientFactory clients;
    std::shared_ptr<queries::DbWorkload> db;
    std::unique_ptr<events::ChainWorkload> chain;
  };

  const std::string& schema() const { return platform_.schema; }  // not result_'s: that is moved out
  void Say(const std::string& line) const {
    if (o_.say) o_.say(line);
  }

  // Prometheus' file_sd: it notices the file at once and scrapes these until it is removed.
  void WriteTargets() const {
    nlohmann::json t = nlohmann::json::array();
    const auto add = [&](const std::string& job, uint32_t port) {
      if (port) t.push_back({{"targets", {"127.0.0.1:" + std::to_string(port)}}, {"labels", {{"job", job}, {"scenario", spec_.name}}}});
    };
    if (own_) {
      add("pmbench_listener", own_->listener_metrics_port());
      add("pmbench_fanout", own_->fanout_port());
    }
    add("pmbench_generator", o_.generator_metrics_port);
    const std::string tmp = o_.targets_file + ".tmp";
    std::ofstream(tmp) << t.dump() << "\n";
    if (std::rename(tmp.c_str(), o_.targets_file.c_str()) != 0) {
      throw std::runtime_error("cannot write Prometheus targets " + o_.targets_file);
    }
  }
  std::string LedgerWs() const { return "ws://" + o_.ledger_url.substr(7); }

  // This shard's part of a run-wide count: i in [0, n) with i % shards == shard_index.
  int Part(int n) const {
    const int i = o_.shard_index;
    return n > i ? (n - i + shards_ - 1) / shards_ : 0;
  }

  // Browsing user i watches market 1 + i % hot_markets (and "markets"); a shard opens the
  // run's subscribers I, I + N, ...
  void OpenSubscriptions() {
    int all = 0;
    for (const Role& r : spec_.roles) all += r.browses() ? r.users : 0;
    int& watchers = result_.watchers;
    watchers = Part(all);
    std::map<std::string, int> subscribers;
    std::vector<std::string> channels;
    for (int m = 1; m <= k_; ++m) channels.push_back("market:" + std::to_string(m));
    for (int i = o_.shard_index; i < all; i += shards_) ++subscribers[channels[static_cast<size_t>(i % k_)]];
    if (spec_.watch_new_markets) subscribers["markets"] = watchers;
    screen_ = std::make_unique<ScreenRecorder>(subscribers);
    if (watchers == 0) return;
    if (o_.metrics) ws_metrics_.emplace(*o_.metrics, "browsers");
    Say("opening " + std::to_string(watchers) + " WebSocket subscriptions");
    load::RaiseOpenFileLimit();
    ws_ = std::make_unique<realtime::WsLoad>(realtime::WsLoadOptions{
        .host = platform_.fanout_host, .port = platform_.fanout_port, .connections = watchers, .threads = 1, .channels = channels,
        .first_index = o_.shard_index, .index_stride = shards_,
        .every_connection = spec_.watch_new_markets ? std::vector<std::string>{"markets"} : std::vector<std::string>{},
        .on_update = [this](std::string_view ch, std::string_view data, int64_t ns) { screen_->Receipt(ch, data, ns); },
        .update_latency = ws_metrics_ ? ws_metrics_->latency() : nullptr});
    ws_->Open();
  }

  // Every role's users, wallets funded, before any starts.
  void PrepareRoles() {
    prepared_.resize(spec_.roles.size());
    for (size_t i = 0; i < spec_.roles.size(); ++i) {
      const Role& r = spec_.roles[i];
      Prepared& p = prepared_[i];
      const load::Shape shape = RoleShape(spec_, r);
      p.spec.model = r.rate_per_s > 0 ? load::Model::kOpen : load::Model::kClosed;
      p.spec.start = shape.start;
      p.spec.stages = shape.stages;
      p.spec.think_s = r.think_s;
      p.spec.think_jitter = r.think_jitter;
      p.spec.interval_s = spec_.interval_s;
      p.spec.seed = o_.seed + i;
      p.spec.threads = 1;
      p.spec.shard_index = o_.shard_index;
      p.spec.shard_count = shards_;
      // A later role's instant is the run's plus its start (RunRoles does not wait for it).
      if (o_.start_at) p.spec.start_at = *o_.start_at + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(r.start_s));
      p.spec.metrics = o_.metrics;
      p.spec.role = r.name;
      p.spec.system = r.browses() ? "db" : "chain";
      if (r.browses()) {
        p.db = queries::DbWorkload::Prepare(o_.direct_url, schema(), {.run_tag = "scn." + r.name, .hot_markets = k_, .seed = o_.seed + i});
        p.spec.clients = RoleClients(spec_, r);
        p.spec.mix = queries::DbWorkload::Mix(queries::DbScenario::kBrowse);
        p.clients = p.db->Clients(o_.pooled_url, queries::DbScenario::kBrowse);
        continue;
      }
      p.spec.clients = RoleClients(spec_, r);
      // A shard funds and signs with its own wallets (its clients', seeded apart from every
      // other shard's), so no two shards sign with one wallet.
      const int clients = load::ShardClients(p.spec);
      const uint64_t seed = o_.shard_count > 0 ? o_.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(o_.shard_index) + 1 : o_.seed;
      Say("funding " + std::to_string(clients) + " wallets for " + r.name);
      p.chain = events::ChainWorkload::Prepare(
          // The local ledger: no public endpoint's request limits (devnet's would hold
          // every role to 4 transactions a second).
          {.rpc = {.endpoints = {o_.ledger_url}, .requests_per_10s = 0, .sends_per_10s = 0},
           .sender = {.commitment = "confirmed", .poll_s = 0.4, .resend_s = 2, .subscribe_url = LedgerWs()},
           .wallets = clients, .markets = static_cast<uint64_t>(k_), .seed = seed * 1000 + i, .wallet_per_client = true,
           .on_outcome = [this](const events::ChainTxRecord& tx) { txlog_.Add(tx); }});
      p.spec.max_in_flight = p.spec.clients;
      p.spec.mix = p.chain->Mix({{r.action, 1}});
      p.spec.drain_s = 30;
      p.spec.lag_limit_ms = 1000;  // a transaction is built and signed on the engine's thread
      // The engine numbers clients run-wide (I, I + N, ...); wallets are this shard's 0, 1, ...
      p.clients = [inner = p.chain->Clients(), first = o_.shard_index, n = shards_](boost::asio::io_context& io, int index) {
        return inner(io, (index - first) / n);
      };
    }
  }

  // Every role on its own engine; the run's time 0 is when every role that starts with the
  // run has opened its clients and begun (opening 500 pooled connections takes a while; a
  // later role's start and a stall count from the load, not from before it).
  Clock::time_point RunRoles() {
    Say("running " + spec_.title + ": " + std::to_string(spec_.users()) + " users for " +
        std::to_string(static_cast<int>(spec_.seconds)) + " s");
    sampler_ = std::make_unique<ProcSampler>(PlatformProcesses(), spec_.interval_s);
    std::mutex start_mu;
    std::condition_variable started;
    int to_start = 0;
    for (const Role& r : spec_.roles) to_start += r.start_s == 0;
    std::optional<Clock::time_point> run_t0;
    if (to_start == 0) run_t0 = Clock::now();
    const auto arrived = [&] {
      std::lock_guard lock(start_mu);
      if (--to_start == 0) {
        run_t0 = Clock::now();
        started.notify_all();
      }
    };
    const auto wait_for_t0 = [&] {
      std::unique_lock lock(start_mu);
      started.wait(lock, [&] { return run_t0.has_value(); });
      return *run_t0;
    };
    Status status;
    std::vector<std::thread> threads;
    std::vector<std::string> errors(spec_.roles.size());
    result_.roles.resize(spec_.roles.size());
    for (size_t i = 0; i < spec_.roles.size(); ++i) {
      prepared_[i].spec.progress = [&status, i](const load::Progress& p) { status.Set(i, p); };
      const bool with_the_run = spec_.roles[i].start_s == 0;
      if (with_the_run) prepared_[i].spec.on_start = [&](Clock::time_point) { arrived(); };
      threads.emplace_back([&, i, with_the_run] {
        const Role& r = spec_.roles[i];
        RoleResult& rr = result_.roles[i];
        rr.name = r.name;
        rr.action = r.action;
        if (!with_the_run && !o_.start_at) {
          std::this_thread::sleep_until(wait_for_t0() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(r.start_s)));
        }
        try {
          rr.load = load::RunLoad(prepared_[i].spec, prepared_[i].clients);
        } catch (const std::exception& e) {
          errors[i] = r.name + ": " + db::RedactSecrets(e.what());
          if (with_the_run && rr.load.t0 == Clock::time_point{}) arrived();  // failed before it began
        }
      });
    }
    const Clock::time_point t0 = wait_for_t0();
    std::thread stall;
    if (spec_.stall) stall = InjectStall(o_.direct_url, schema(), *spec_.stall, t0, o_.say);
    if (o_.on_start) o_.on_start(t0);
    std::atomic<bool> done{false};
    std::thread ticker([&] {
      while (!done) {
        for (int i = 0; i < 20 && !done; ++i) std::this_thread::sleep_for(std::chrono::duration<double>(spec_.interval_s / 20));
        if (done || (!ws_metrics_ && !o_.status_line)) continue;
        const realtime::WsLoadStats w = ws_ ? ws_->Stats() : realtime::WsLoadStats{};
        if (ws_metrics_) ws_metrics_->Update(w);
        if (!o_.status_line) continue;
        std::fprintf(stderr, "\r%s ", status.Line(spec_.roles, Since(t0), w.received, w.lost).c_str());
        std::fflush(stderr);
      }
    });
    for (auto& t : threads) t.join();
    if (stall.joinable()) stall.join();
    done = true;
    ticker.join();
    if (o_.status_line) std::fprintf(stderr, "\n");
    for (const auto& e : errors) {
      if (!e.empty()) throw std::runtime_error(e);
    }
    for (RoleResult& rr : result_.roles) rr.offset_s = std::chrono::duration<double>(rr.load.t0 - t0).count();
    return t0;
  }

  // This run's processes, not every postgres or node of the machine: staging's postmaster
  // (our backend's parent) and its children, whatever listens on the pooler's and the
  // ledger's ports, our own children and ourselves. A remote staging is not sampled.
  // A run loading another process's platform samples itself only.
  std::vector<std::pair<std::string, PidFinder>> PlatformProcesses() const {
    std::vector<std::pair<std::string, PidFinder>> groups;
    if (!own_) return {{"generator", Self()}};
    const db::DatabaseTarget direct = db::ParseDatabaseUrl(o_.direct_url), pooled = db::ParseDatabaseUrl(o_.pooled_url);
    if (direct.IsLoopback()) {
      db::PgSession s(o_.direct_url);
      const pid_t postmaster = ParentOf(static_cast<pid_t>(std::stol(s.QueryValue("SELECT pg_backend_pid()"))));
      if (postmaster > 0) groups.push_back({"postgresql", WithChildren(postmaster)});
    }
    if (pooled.IsLoopback() && !pooled.port.empty()) groups.push_back({"pgbouncer", ListeningOn(std::stoi(pooled.port))});
    const std::string hostport = o_.ledger_url.substr(7);
    groups.push_back({"ledger", ListeningOn(std::stoi(hostport.substr(hostport.rfind(':') + 1)))});
    groups.push_back({"listener", Pid(own_->listener_pid())});
    groups.push_back({"fanout", Pid(own_->fanout_pid())});
    groups.push_back({"generator", Self()});
    return groups;
  }

  // Every transaction's outcome, then what the listener stored of the confirmed ones.
  void CollectOutcomes() {
    for (size_t i = 0; i < prepared_.size(); ++i) {
      if (!prepared_[i].chain) continue;
      prepared_[i].chain->Drain(30);
      RoleResult& rr = result_.roles[i];
      for (const auto& rep : prepared_[i].chain->Reports()) {
        rr.submitted += rep.submitted;
        rr.confirmed += rep.confirmed;
        for (const auto& [why, n] : rep.reasons) rr.reasons[why] += n;
      }
      rr.submitted += rr.load.total.dropped;  // arrivals never sent count against success
    }
    Say("waiting for the listener to store what was confirmed");
    db::PgSession s(o_.direct_url);
    s.Exec("SET search_path TO \"" + schema() + "\"");
    std::map<std::string, std::vector<std::string>> confirmed;
    std::vector<std::string> resolved_ids;
    {
      std::lock_guard lock(txlog_.mu);
      confirmed = txlog_.confirmed;
      for (const uint64_t id : txlog_.resolved) resolved_ids.push_back(std::to_string(id));
    }
    const auto stored = [&](const std::string& kind) -> int64_t {
      const auto& sigs = confirmed[kind];
      if (sigs.empty()) return 0;
      if (kind == "resolutions") {  // a resolution leaves no signature: count its markets
        return std::stoll(s.QueryValue("SELECT count(*) FROM markets WHERE id = ANY($1::bigint[]) AND status = 'resolved'",
                                       {ArrayLiteral(resolved_ids)}));
      }
      return std::stoll(s.QueryValue(StoredBy().at(kind), {ArrayLiteral(sigs)}));
    };
    const auto wanted = [&](const std::string& kind) -> int64_t {
      if (kind != "resolutions") return static_cast<int64_t>(confirmed[kind].size());
      return static_cast<int64_t>(resolved_ids.size());  // a market resolved twice is resolved once
    };
    for (int i = 0; i < 300; ++i) {  // bounded wait (60 s) for the listener's last batches
      bool all = true;
      for (const auto& [kind, _] : confirmed) all = all && stored(kind) >= wanted(kind);
      if (all) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    for (const auto& [kind, _] : confirmed) result_.sync.push_back({kind, wanted(kind), stored(kind)});
  }

  // Late is not lost: wait until deliveries stop, then count what never came.
  void WaitForDeliveries() {
    if (!ws_) return;
    for (int64_t before = -1, waited = 0; waited < 30'000 && ws_->Stats().received != before; waited += 500) {
      before = ws_->Stats().received;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  // Click to screen, and confirmed -> written, for every bet this run confirmed; new markets
  // to screen; the subscribers' update latency and losses.
  void MeasureScreens(int64_t deadline_ns) {
    db::PgSession s(o_.direct_url);
    std::vector<CommittedBet> committed;
    std::unordered_map<std::string, bool> written;
    const db::PgResult rows = s.Query("SELECT tx_signature, market_id, side = 'yes', amount, (extract(epoch FROM ingested_at) * "
                                      "1e9)::bigint FROM \"" + schema() + "\".bets WHERE id > $1 ORDER BY id",
                                      {std::to_string(platform_.max_bet_id)});
    const db::ResultView v = rows.get();
    std::lock_guard lock(txlog_.mu);
    for (int i = 0; i < v.rows(); ++i) {
      committed.push_back({v.Get(i, 0), std::stoll(v.Get(i, 1)), std::string_view(v.Get(i, 2)) == "t", std::stoll(v.Get(i, 3))});
      written[committed.back().signature] = true;
      const auto c = txlog_.bet_confirmed_ns.find(committed.back().signature);
      if (c != txlog_.bet_confirmed_ns.end() && c->second > 0 && !v.IsNull(i, 4)) {
        result_.confirm_to_commit.Record(std::stoll(v.Get(i, 4)) - c->second);
      }
    }
    result_.click = screen_->Bets(committed, platform_.pools_before, txlog_.bet_sent_ns, deadline_ns);
    for (const auto& [sig, sent] : txlog_.bet_sent_ns) {  // confirmed, never written: never on screen
      if (!written.count(sig)) {
        ++result_.click.incomplete;
        result_.click.latency.Record(deadline_ns - sent);
      }
    }
    if (spec_.watch_new_markets) result_.new_markets = screen_->NewMarkets(txlog_.created, deadline_ns);
    if (o_.shard_count > 0) {
      // What the merge needs to time every bet on every shard's screens.
      auto& b = screens_.bets;
      b.shown = screen_->BetScreens(committed, platform_.pools_before);
      b.sent = txlog_.bet_sent_ns;
      for (const auto& [sig, _] : b.sent) {
        if (!written.count(sig)) b.shown[sig] = ScreenRecorder::kNever;
      }
      b.deadline_ns = deadline_ns;
      b.local_incomplete = result_.click.incomplete;
      if (spec_.watch_new_markets) {
        auto& m = screens_.markets;
        std::vector<int64_t> ids;
        for (const auto& row : s.QueryRows("SELECT id FROM \"" + schema() + "\".markets WHERE id > " +
                                           std::to_string(platform_.max_market_id) + " ORDER BY id")) {
          ids.push_back(std::stoll(row[0]));
        }
        for (const auto& [id, at] : screen_->MarketScreens(ids)) m.shown[std::to_string(id)] = at;
        for (const auto& [id, sent] : txlog_.created) m.sent[std::to_string(id)] = sent;
        m.deadline_ns = deadline_ns;
        m.local_incomplete = result_.new_markets.incomplete;
      }
    }
    if (!ws_) return;
    const realtime::WsLoadStats w = ws_->Stats();
    result_.update = realtime::UpdateLatencyWithLosses(w, deadline_ns);
    result_.ws_connections = w.connected;
    result_.ws_received = w.received;
    result_.ws_lost = w.lost + w.resets;
    result_.ws_errors = w.errors;
    ws_->Close();
  }

  // When this shard ran by its own clock: its schedule began with the earliest role that
  // starts with the run, and it had begun once the last of them had.
  void RecordShard(const std::optional<db::ClockOffset>& clock) {
    using stats::UnixNs;
    ScenarioResult::Shard sh{.index = o_.shard_index, .count = shards_, .plan = o_.shard_plan};
    if (o_.start_at) sh.start_at_ns = UnixNs(*o_.start_at);
    std::optional<int64_t> schedule, started;
    for (size_t i = 0; i < spec_.roles.size(); ++i) {
      if (spec_.roles[i].start_s > 0) continue;
      const load::LoadResult& l = result_.roles[i].load;
      schedule = std::min(schedule.value_or(UnixNs(l.wall_t0)), UnixNs(l.wall_t0));
      started = std::max(started.value_or(UnixNs(l.wall_started)), UnixNs(l.wall_started));
    }
    sh.schedule_ns = schedule.value_or(static_cast<int64_t>(result_.unix_start * 1e9));
    sh.started_ns = started.value_or(sh.schedule_ns);
    // The measured span: to the last role's last answer.
    for (const RoleResult& rr : result_.roles) {
      sh.seconds = std::max(sh.seconds, (static_cast<double>(UnixNs(rr.load.wall_t0) - sh.schedule_ns)) / 1e9 + rr.load.seconds);
    }
    sh.bets = std::move(screens_.bets);
    sh.markets = std::move(screens_.markets);
    if (clock) {
      sh.clock_offset_ms = clock->offset_ms;
      sh.clock_offset_error_ms = clock->error_ms;
    }
    result_.shard = sh;
  }

  // The recovery after a spike or a stall (until the reads' p95 is back under their SLA for
  // good) and the drifts a soak is judged on.
  void MeasureOverTime() {
    ScenarioResult& r = result_;
    if (spec_.stall) r.disturbance_end_s = spec_.stall->at_s + spec_.stall->seconds;
    if (spec_.shape.spike_end_s) r.disturbance_end_s = *spec_.shape.spike_end_s;
    for (const RoleResult& rr : r.roles) {
      if (rr.load.generator_bound) {
        r.generator_bound = true;
        r.generator_reason = rr.name + ": " + rr.load.generator_reason;
      }
      if (rr.action != "browse") continue;
      const auto& series = rr.load.total.series;
      if (r.disturbance_end_s) {
        const double from_s = *r.disturbance_end_s - rr.offset_s;
        const auto from = static_cast<size_t>(std::max(0.0, std::ceil(from_s / series.interval_s() - 1e-9)));
        if (const auto at = stats::RecoveredAt(series, from, 95, spec_.db_p95_ms * 1e6)) {
          r.recovery_s = std::max(0.0, static_cast<double>(*at) * series.interval_s() - from_s);
        }
      }
      std::vector<double> hours, p95;
      for (size_t i = 0; i < series.size(); ++i) {
        if (series.count(i) == 0) continue;
        hours.push_back(static_cast<double>(i) * series.interval_s() / 3600);
        p95.push_back(series.Histogram(i).Percentile(95) / 1e6);
      }
      r.p95_drift_ms_per_h = stats::Slope(hours, p95);
    }
    for (const ProcessGroupUse& g : r.processes) {
      std::vector<double> hours;
      for (const double ts : g.t_s) hours.push_back(ts / 3600);
      r.rss_drift_mb_per_h[g.name] = stats::Slope(hours, g.rss_mb);
      r.processes_drift_per_h[g.name] = stats::Slope(hours, g.processes);
    }
  }

  const ScenarioSpec& spec_;
  const RunOptions& o_;
  const int k_;
  const int shards_;  // 1 unless a shard
  ScenarioResult result_;
  std::unique_ptr<PlatformHost> own_;  // the platform this run prepared (none: another process's)
  PlatformState platform_;
  ScenarioResult::Shard screens_;  // a shard's click-to-screen parts, until RecordShard
  std::unique_ptr<ScreenRecorder> screen_;
  TxLog txlog_;
  std::optional<realtime::WsMetrics> ws_metrics_;  // before ws_: it observes into it
  std::unique_ptr<realtime::WsLoad> ws_;
  std::vector<Prepared> prepared_;
  std::unique_ptr<ProcSampler> sampler_;
};

}  // namespace

void CheckRunOptions(const ScenarioSpec& spec, const RunOptions& o) {
  if (o.shard_count > 0) {
    if (!o.platform) {
      throw std::invalid_argument("a shard loads a platform another process prepared (pmbench scenario platform): N shards "
                                  "preparing their own would be N platforms");
    }
    if (o.shard_index < 0 || o.shard_index >= o.shard_count) throw std::invalid_argument("shard index outside 0..count-1");
    // Recovery and drift are read off one process's time series: a shard's is a part.
    if (o.shard_count > 1 && (spec.stall || spec.shape.spike_end_s || spec.soak)) {
      throw std::invalid_argument("a stall, a spike's recovery and a soak's drift are judged on one process's time series: run " +
                                  spec.name + " with them unsharded");
    }
    for (const Role& r : spec.roles) {
      if (RoleClients(spec, r) < o.shard_count) {
        throw std::invalid_argument("role " + r.name + " has " + std::to_string(RoleClients(spec, r)) +
                                    " users or wallets: too few for " + std::to_string(o.shard_count) + " shards");
      }
    }
  }
  if (o.platform) {
    if (o.platform->scenario != spec.name || o.platform->hot_markets != spec.hot_markets) {
      throw std::invalid_argument("the platform was prepared for scenario " + o.platform->scenario + " (" +
                                  std::to_string(o.platform->hot_markets) + " hot markets), not " + spec.name + " (" +
                                  std::to_string(spec.hot_markets) + ")");
    }
    if (o.platform->Stale()) {
      throw std::runtime_error("the platform's process " + std::to_string(o.platform->pid) +
                               " is gone: its state is stale (start pmbench scenario platform again)");
    }
  }
}

ScenarioResult RunScenario(const ScenarioSpec& spec, const RunOptions& o) {
  spec.Validate();
  CheckRunOptions(spec, o);
  if (o.ledger_url.rfind("http://", 0) != 0) {
    throw std::runtime_error("a scenario needs the local ledger's http:// RPC (tools/staging up starts one); got '" +
                             db::RedactSecrets(o.ledger_url) + "'");
  }
  return ScenarioRun(spec, o).Run();
}

std::pair<std::vector<stats::Bar>, std::map<std::string, stats::Observed>> ScenarioResult::Judged() const {
  // The story's SLAs fail the run; our goals are reported.
  using stats::Bar;
  std::vector<Bar> judged;
  std::map<std::string, stats::Observed> seen_values;
  char ms[64];
  const auto fmt = [&](double x) {
    std::snprintf(ms, sizeof ms, "%g", x);
    return std::string(ms);
  };
  const std::optional<double> end = disturbance_end_s;
  for (const RoleResult& rr : roles) {
    judged.push_back(Bar::Sla(rr.name + "_success", "rate>" + fmt(spec.success_min)));
    seen_values[rr.name + "_success"] = {.rate = rr.success_ratio()};
    if (rr.action != "browse") continue;
    for (const auto& kind : rr.load.kinds) {
      judged.push_back(Bar::Sla(kind.name, "p(95)<" + fmt(spec.db_p95_ms) + "ms"));
      seen_values[kind.name] = {.latency = &kind.latency};
    }
  }
  if (watchers > 0) {
    judged.push_back(Bar::Sla("update", "p(95)<" + fmt(spec.update_p95_ms) + "ms"));
    seen_values["update"] = {.latency = &update};
    judged.push_back(Bar::Sla("delivery_lost", "count<1"));
    seen_values["delivery_lost"] = {.count = static_cast<double>(ws_lost + click.incomplete + new_markets.incomplete)};
  }
  for (const SyncCount& c : sync) {
    judged.push_back(Bar::Sla(c.kind + "_sync", "rate>=1"));
    seen_values[c.kind + "_sync"] = {.rate = c.confirmed > 0 ? std::optional<double>(static_cast<double>(c.stored) / static_cast<double>(c.confirmed))
                                                             : std::nullopt};
  }
  if (click.latency.count() > 0) {
    judged.push_back(Bar::Goal("click_to_screen", "p(99)<=" + fmt(spec.click_p99_goal_ms) + "ms"));
    seen_values["click_to_screen"] = {.latency = &click.latency};
  }
  if (end) {
    judged.push_back(Bar::Sla("recovered", "count>=1"));  // back under the SLA before the run ended
    seen_values["recovered"] = {.count = recovery_s ? 1.0 : 0.0};
  }
  if (spec.soak) {
    judged.push_back(Bar::Sla("p95_drift", "rate<=" + fmt(spec.drift_p95_ms_per_h)));
    seen_values["p95_drift"] = {.rate = p95_drift_ms_per_h};
    for (const auto& [name, slope] : rss_drift_mb_per_h) {
      judged.push_back(Bar::Sla(name + "_rss_drift", "rate<=" + fmt(spec.drift_rss_mb_per_h)));
      seen_values[name + "_rss_drift"] = {.rate = slope};
    }
    // PostgreSQL's backends are its connections: behind the pooler their number holds still.
    for (const auto& [name, slope] : processes_drift_per_h) {
      judged.push_back(Bar::Sla(name + "_processes_drift", "rate<=" + fmt(spec.drift_processes_per_h)));
      seen_values[name + "_processes_drift"] = {.rate = slope};
    }
  }
  return {judged, seen_values};
}

}  // namespace pmbench::scenario
