// ScenarioResult::ToJson: the run as Google Benchmark JSON, so results merge|summary,
// tools/compare and the report read it like any benchmark's.
#include <nlohmann/json.hpp>

#include "lib/results/gbench_json.h"
#include "lib/results/shard_merge.h"
#include "lib/scenario/run.h"

#include "lib/db/database_url.h"
#include "lib/stats/report.h"

namespace pmbench::scenario {
namespace {

using nlohmann::json;

void Add(std::vector<std::pair<std::string, double>>& c, const std::vector<std::pair<std::string, double>>& more) {
  c.insert(c.end(), more.begin(), more.end());
}

std::vector<std::pair<std::string, double>> KindCounters(const load::KindResult& k, double seconds) {
  std::vector<std::pair<std::string, double>> c = stats::LatencyCounters(k.latency);
  Add(c, {{"ok", static_cast<double>(k.ok)},
          {"failed", static_cast<double>(k.failed)},
          {"dropped", static_cast<double>(k.dropped)},
          {"unfinished", static_cast<double>(k.unfinished)},
          {"achieved_requests_per_s", seconds > 0 ? static_cast<double>(k.ok) / seconds : 0}});
  if (const auto r = k.success_ratio()) c.push_back({"success_ratio", *r});
  return c;
}

json SeriesEntry(const std::string& run_name, double offset_s, const stats::IntervalSeries& s) {
  return {{"run_name", run_name}, {"metric", "latency"}, {"offset_s", offset_s}, {"log", json::parse(s.ToJson())}};
}

}  // namespace

std::string ScenarioResult::ToJson(const std::string& git_commit) const {
  const std::string base = "scenario/" + spec.name;
  std::vector<results::RunEntry> entries;
  results::RunEntry whole{base, seconds, {}};
  auto& c = whole.counters;
  c.push_back({"users", static_cast<double>(spec.users())});
  Add(c, stats::LatencyCounters(click.latency, "click_"));
  Add(c, {{"click_complete", static_cast<double>(click.complete)}, {"click_incomplete", static_cast<double>(click.incomplete)}});
  Add(c, stats::LatencyCounters(confirm_to_commit, "confirm_to_commit_"));
  Add(c, stats::LatencyCounters(update, "update_"));
  if (spec.watch_new_markets) {
    Add(c, stats::LatencyCounters(new_markets.latency, "new_market_"));
    c.push_back({"new_market_incomplete", static_cast<double>(new_markets.incomplete)});
  }
  Add(c, {{"ws_connections", static_cast<double>(ws_connections)},
          {"updates_received", static_cast<double>(ws_received)},
          {"lost", static_cast<double>(ws_lost + click.incomplete + new_markets.incomplete)}});
  for (const SyncCount& s : sync) {
    Add(c, {{s.kind + "_confirmed", static_cast<double>(s.confirmed)}, {s.kind + "_stored", static_cast<double>(s.stored)}});
  }
  if (disturbance_end_s) c.push_back({"recovery_s", recovery_s.value_or(-1)});
  c.push_back({"p95_drift_ms_per_h", p95_drift_ms_per_h});
  for (const auto& [name, slope] : rss_drift_mb_per_h) c.push_back({name + "_rss_drift_mb_per_h", slope});
  for (const auto& [name, slope] : processes_drift_per_h) c.push_back({name + "_processes_drift_per_h", slope});
  for (const ProcessGroupUse& g : processes) {
    Add(c, {{g.name + "_cpu_s", g.cpu_s}, {g.name + "_rss_max_mb", g.rss_mb_max()}});
  }
  int failed = 0, missed = 0;
  for (const auto& b : bars) {
    if (!b.pass) ++(b.kind == stats::Bar::Kind::kThreshold ? failed : missed);
  }
  Add(c, {{"thresholds_failed", failed}, {"goals_missed", missed}, {"generator_bound", generator_bound ? 1.0 : 0.0}});
  entries.push_back(std::move(whole));

  for (const RoleResult& r : roles) {
    const double secs = r.load.seconds;
    results::RunEntry e{base + "/" + r.name, secs, KindCounters(r.load.total, secs)};
    e.counters.push_back({"clients", static_cast<double>(r.load.clients)});
    if (r.action != "browse") {
      Add(e.counters, {{"submitted", static_cast<double>(r.submitted)}, {"confirmed", static_cast<double>(r.confirmed)}});
      if (const auto s = r.success_ratio()) e.counters.push_back({"confirmed_ratio", *s});
    }
    entries.push_back(std::move(e));
    if (r.action != "browse") continue;
    for (const auto& k : r.load.kinds) entries.push_back({base + "/" + r.name + "/" + k.name, secs, KindCounters(k, secs)});
  }
  const json context = {{"executable", "pmbench scenario run"},
                        {"git_commit", git_commit},
                        {"pmbench_generator_bound", generator_bound},
                        {"pmbench_generator_reason", generator_reason},
                        // Unix seconds: what `tools/monitoring snapshot` asks Prometheus for.
                        {"pmbench_window", {{"from", unix_start}, {"to", unix_end}}}};
  json out = json::parse(results::WriteRunJson(context, entries, bars, json::parse(SeriesJson())));
  if (shard) AddShardParts(out);
  out["pmbench_server"] = json::array();
  if (!server.is_null()) {
    json s = server;
    s["run_name"] = base;
    out["pmbench_server"].push_back(s);
  }
  return db::RedactSecrets(out.dump(2)) + "\n";
}

// What results merge needs to judge the shards' union as one run: every histogram behind a
// counter, and every metric a bar reads in a form that adds up (ratios as their parts).
void ScenarioResult::AddShardParts(json& out) const {
  const std::string base = "scenario/" + spec.name;
  // Click to screen is not here: a shard's is its own bets on its own subscribers' screens;
  // the merge times every bet on every shard's from pmbench_screens.
  std::vector<results::ShardHistogram> hists = {{base, "confirm_to_commit", &confirm_to_commit}, {base, "update", &update}};
  std::map<std::string, results::ShardMetric> observed;
  for (const RoleResult& r : roles) {
    hists.push_back({base + "/" + r.name, "latency", &r.load.total.latency});
    const load::KindResult& t = r.load.total;
    observed[r.name + "_success"].ratio = r.action == "browse"
                                              ? std::pair<double, double>(static_cast<double>(t.ok), static_cast<double>(t.requests()))
                                              : std::pair<double, double>(static_cast<double>(r.confirmed), static_cast<double>(r.submitted));
    if (r.action != "browse") continue;
    for (const auto& k : r.load.kinds) {
      hists.push_back({base + "/" + r.name + "/" + k.name, "latency", &k.latency});
      observed[k.name].latency = &k.latency;
    }
  }
  observed["update"].latency = &update;
  observed["delivery_lost"].count = static_cast<double>(ws_lost + click.incomplete + new_markets.incomplete);
  for (const SyncCount& c : sync) {
    observed[c.kind + "_sync"].ratio = {static_cast<double>(c.stored), static_cast<double>(c.confirmed)};
  }
  const results::ShardRun run{.index = shard->index, .count = shard->count, .plan = shard->plan, .start_at_ns = shard->start_at_ns,
                              .schedule_ns = shard->schedule_ns, .started_ns = shard->started_ns, .warmup_s = 0,
                              .seconds = shard->seconds, .clock_offset_ms = shard->clock_offset_ms,
                              .clock_offset_error_ms = shard->clock_offset_error_ms,
                              .clock_reference = shard->clock_offset_ms ? "the database's clock_timestamp()" : ""};
  results::AddShard(out, run, observed, hists);
  const auto screens = [&](const Shard::Screens& sc, const char* metric, const char* complete, const char* incomplete) {
    json e = {{"run_name", base}, {"metric", metric}, {"incomplete_counter", incomplete}, {"lost_counter", "lost"},
              {"lost_observed", "delivery_lost"}, {"deadline_ns", sc.deadline_ns}, {"local_incomplete", sc.local_incomplete},
              {"sent", sc.sent}, {"shown", sc.shown}};
    if (complete) e["complete_counter"] = complete;
    if (std::string(metric) == "click") e["observed"] = "click_to_screen";
    return e;
  };
  out["pmbench_screens"] = json::array({screens(shard->bets, "click", "click_complete", "click_incomplete")});
  if (spec.watch_new_markets) out["pmbench_screens"].push_back(screens(shard->markets, "new_market", nullptr, "new_market_incomplete"));
}

std::string ScenarioResult::SeriesJson() const {
  const std::string base = "scenario/" + spec.name;
  json series = json::array();
  for (const RoleResult& r : roles) {
    series.push_back(SeriesEntry(base + "/" + r.name, r.offset_s, r.load.total.series));
    if (r.action != "browse") continue;
    for (const auto& k : r.load.kinds) series.push_back(SeriesEntry(base + "/" + r.name + "/" + k.name, r.offset_s, k.series));
  }

  json procs = json::array();
  for (const ProcessGroupUse& g : processes) {
    procs.push_back({{"name", g.name}, {"cpu_s", g.cpu_s}, {"t_s", g.t_s}, {"cpu_share", g.cpu_share}, {"rss_mb", g.rss_mb},
                     {"processes", g.processes}, {"rss_drift_mb_per_h", rss_drift_mb_per_h.count(g.name) ? rss_drift_mb_per_h.at(g.name) : 0.0},
                     {"processes_drift_per_h", processes_drift_per_h.count(g.name) ? processes_drift_per_h.at(g.name) : 0.0}});
  }
  json stages = json::array();
  for (const auto& st : spec.shape.stages) stages.push_back({{"seconds", st.seconds}, {"target", st.target}});
  json scenario = {{"name", spec.name}, {"title", spec.title}, {"seconds", spec.seconds}, {"users", spec.users()},
                   {"interval_s", spec.interval_s}, {"stages", stages}, {"schema", schema}};
  if (spec.shape.spike_start_s) scenario["spike"] = {*spec.shape.spike_start_s, *spec.shape.spike_end_s};
  if (spec.stall) scenario["stall"] = {spec.stall->at_s, spec.stall->at_s + spec.stall->seconds};
  json roles_json = json::array();
  for (const Role& r : spec.roles) {
    roles_json.push_back({{"name", r.name}, {"action", r.action}, {"users", r.users}, {"rate_per_s", r.rate_per_s},
                          {"think_s", r.think_s}, {"think_jitter", r.think_jitter}, {"start_s", r.start_s}, {"seconds", r.seconds}});
  }
  scenario["roles"] = roles_json;
  // What the report shades and plots beside the latency: the run's shape and disturbances,
  // and every process's CPU and memory.
  series.push_back({{"run_name", base}, {"metric", "processes"}, {"scenario", scenario}, {"groups", procs}});
  return series.dump();
}

}  // namespace pmbench::scenario
