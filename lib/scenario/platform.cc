// PlatformHost and PlatformState: the platform a scenario loads, prepared once — by the run
// itself, or by `pmbench scenario platform` for shards in other processes.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/seed.h"
#include "lib/events/chain_load.h"
#include "lib/events/notification.h"
#include "lib/scenario/processes.h"
#include "lib/scenario/run.h"

namespace pmbench::scenario {
namespace {

// The schemas of runs on this machine that were interrupted (Ctrl-C kills the children with
// their parent, but the schema stays): scenario_<name>_<pid> whose process is gone.
void DropSchemasOfInterruptedRuns(const std::string& url, const std::function<void(const std::string&)>& say) {
  if (!db::ParseDatabaseUrl(url).IsLoopback()) return;  // another machine's run may be live
  db::PgSession s(url);
  for (const auto& row : s.QueryRows("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'scenario\\_%'")) {
    const std::string& name = row[0];
    const auto pid = std::atoll(name.substr(name.rfind('_') + 1).c_str());
    if (pid <= 0 || pid == getpid() || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    if (!db::IsSuiteSchema(url, name)) continue;
    if (say) say("dropping schema " + name + ", left by an interrupted run");
    db::DropSuiteSchema(url, name);
  }
}

std::string HostName() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

}  // namespace

std::string PlatformState::ToJson() const {
  nlohmann::json pools = nlohmann::json::array();
  for (const auto& [id, p] : pools_before) pools.push_back({id, p.first, p.second});
  return nlohmann::json{{"scenario", scenario}, {"schema", schema}, {"fanout", {{"host", fanout_host}, {"port", fanout_port}}},
                        {"hot_markets", hot_markets}, {"pools_before", pools}, {"max_bet_id", max_bet_id}, {"max_market_id", max_market_id},
                        {"host", host}, {"pid", pid}}
             .dump(2) + "\n";
}

PlatformState PlatformState::Parse(const std::string& json_text) {
  PlatformState s;
  try {
    const nlohmann::json j = nlohmann::json::parse(json_text);
    s.scenario = j.at("scenario").get<std::string>();
    s.schema = j.at("schema").get<std::string>();
    s.fanout_host = j.at("fanout").at("host").get<std::string>();
    s.fanout_port = j.at("fanout").at("port").get<uint16_t>();
    s.hot_markets = j.at("hot_markets").get<int>();
    for (const auto& p : j.at("pools_before")) s.pools_before[p.at(0).get<int64_t>()] = {p.at(1).get<int64_t>(), p.at(2).get<int64_t>()};
    s.max_bet_id = j.at("max_bet_id").get<int64_t>();
    s.max_market_id = j.at("max_market_id").get<int64_t>();
    s.host = j.value("host", "");
    s.pid = j.value("pid", int64_t{0});
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not a platform state (pmbench scenario platform --state writes one): ") + e.what());
  }
  db::CheckSchemaName(s.schema);
  if (s.fanout_port == 0 || s.hot_markets < 1 || static_cast<int>(s.pools_before.size()) != s.hot_markets) {
    throw std::invalid_argument("a platform state without its fan-out's port or its hot markets' pools");
  }
  return s;
}

bool PlatformState::Stale() const {
  return !host.empty() && host == HostName() && pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

PlatformHost::PlatformHost(const ScenarioSpec& spec, const RunOptions& o) : direct_url_(o.direct_url), keep_schema_(o.keep_schema) {
  const auto say = [&](const std::string& line) {
    if (o.say) o.say(line);
  };
  if (o.ledger_url.rfind("http://", 0) != 0) {
    throw std::runtime_error("a scenario needs the local ledger's http:// RPC (tools/staging up starts one); got '" +
                             db::RedactSecrets(o.ledger_url) + "'");
  }
  PlatformState& st = state_;
  st.scenario = spec.name;
  st.schema = o.schema.empty() ? "scenario_" + spec.name + "_" + std::to_string(getpid()) : o.schema;
  db::CheckSchemaName(st.schema);
  st.hot_markets = spec.hot_markets;
  st.host = HostName();
  st.pid = getpid();
  try {
    // A seeded schema whose hot markets are open (so a resolution stored is one this run
    // made), and what they held before the run.
    DropSchemasOfInterruptedRuns(o.direct_url, o.say);
    say("seeding schema " + st.schema);
    seeded_ = true;
    db::Seed(o.direct_url, st.schema, {.scale = 1, .seed = o.seed});
    db::PgSession s(o.direct_url);
    const std::string markets = "\"" + st.schema + "\".markets", k = std::to_string(spec.hot_markets);
    for (const auto& row : s.QueryRows("SELECT id, yes_pool, no_pool FROM " + markets + " WHERE id <= " + k + " ORDER BY id")) {
      st.pools_before[std::stoll(row[0])] = {std::stoll(row[1]), std::stoll(row[2])};
    }
    if (static_cast<int>(st.pools_before.size()) != spec.hot_markets) throw std::runtime_error("the seed has no markets 1.." + k);
    st.max_bet_id = std::stoll(s.QueryValue("SELECT coalesce(max(id), 0) FROM \"" + st.schema + "\".bets"));
    st.max_market_id = std::stoll(s.QueryValue("SELECT coalesce(max(id), 0) FROM " + markets));
    s.Exec("UPDATE " + markets + " SET status = 'open', outcome = NULL WHERE id <= " + k);

    say("starting the fan-out server and the listener");
    fanout_ = StartFanout(o.direct_url, st.schema, o.fanout_address);
    st.fanout_host = o.fanout_address;
    st.fanout_port = static_cast<uint16_t>(fanout_->word());
    listener_ = StartListener({.ledger_ws = "ws://" + o.ledger_url.substr(7), .url = o.direct_url, .schema = st.schema,
                               .program = events::DefaultProgram()});
  } catch (...) {
    Drop();
    throw;
  }
}

PlatformHost::~PlatformHost() { Drop(); }

void PlatformHost::Drop() {
  Stop();
  try {
    if (seeded_ && !keep_schema_ && db::IsSuiteSchema(direct_url_, state_.schema)) db::DropSuiteSchema(direct_url_, state_.schema);
  } catch (const std::exception&) {  // the server is gone: nothing left to clean
  }
  seeded_ = false;
}

void PlatformHost::Stop() {
  // The listener first: what it still holds goes in before the fan-out stops watching.
  if (listener_) listener_->Stop();
  if (fanout_) fanout_->Stop();
  listener_.reset();
  fanout_.reset();
}

pid_t PlatformHost::listener_pid() const { return listener_ ? listener_->pid() : -1; }
pid_t PlatformHost::fanout_pid() const { return fanout_ ? fanout_->pid() : -1; }
uint32_t PlatformHost::listener_metrics_port() const { return listener_ ? listener_->word() : 0; }
bool PlatformHost::running() const { return listener_ && fanout_ && listener_->running() && fanout_->running(); }
uint32_t PlatformHost::fanout_port() const { return fanout_ ? fanout_->word() : 0; }

}  // namespace pmbench::scenario
