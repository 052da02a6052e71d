#include "lib/results/shard_merge.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "lib/db/database_url.h"
#include "lib/results/gbench_json.h"
#include "lib/stats/interval_series.h"

namespace pmbench::results {

using nlohmann::json;

namespace {

// Google Benchmark's own fields of an entry; every other number is a counter.
const std::set<std::string> kEntryFields = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads",
                                            "iterations", "real_time", "cpu_time", "time_unit", "aggregate_name",
                                            "family_index", "per_family_instance_index", "error_occurred", "error_message"};
// Counts of disjoint parts: the whole's is their sum (and so are status_* counts and the
// *_per_s and *_per_min rates, the offered ones included: the shards share one window).
const std::set<std::string> kSummed = {"ok", "failed", "dropped", "unfinished", "clients", "threads_used", "samples",
                                       "lost", "received", "sent", "confirmed", "rpc_429s", "rpc_retries", "rpc_failovers",
                                       "resends", "resigns", "notified", "resets", "connections", "updates_received",
                                       "reconnects", "errors", "submitted", "ws_connections", "click_complete",
                                       "click_incomplete", "new_market_incomplete", "generator_cpu_s"};
// The slowest shard's is the whole's: the engine's health and the time to connect.
// And the run's configured size, which every shard reports whole.
const std::set<std::string> kLargest = {"generator_cpu", "generator_bound", "connect_s", "generator_rss_max_mb", "users"};

struct Shard {
  const ShardFile* file;
  json doc;
  ShardRun run;
  double start_s = 0, end_s = 0;  // Unix seconds: the measured part of its run
};

[[noreturn]] void Bad(const ShardFile& f, const std::string& what) { throw std::invalid_argument(f.name + ": " + what); }

ShardRun ReadRun(const ShardFile& f, const json& s) {
  ShardRun r;
  try {
    r.index = s.at("index").get<int>();
    r.count = s.at("count").get<int>();
    r.plan = s.at("plan").get<std::string>();
    if (s.contains("start_at_ns") && !s["start_at_ns"].is_null()) r.start_at_ns = s["start_at_ns"].get<int64_t>();
    r.schedule_ns = s.at("schedule_ns").get<int64_t>();
    r.started_ns = s.at("started_ns").get<int64_t>();
    r.warmup_s = s.at("warmup_s").get<double>();
    r.seconds = s.at("seconds").get<double>();
    if (s.contains("clock_offset_ms") && !s["clock_offset_ms"].is_null()) {
      r.clock_offset_ms = s["clock_offset_ms"].get<double>();
      r.clock_offset_error_ms = s.at("clock_offset_error_ms").get<double>();
      r.clock_reference = s.value("clock_reference", "");
    }
  } catch (const json::exception& e) {
    Bad(f, std::string("malformed context.pmbench_shard: ") + e.what());
  }
  if (r.count < 1 || r.index < 0 || r.index >= r.count) Bad(f, "shard " + std::to_string(r.index) + "/" + std::to_string(r.count) + " is not 0 <= I < N");
  return r;
}

std::string Key(const std::string& run_name, const std::string& metric) { return run_name + "\n" + metric; }

}  // namespace

bool IsShardResult(const json& doc) {
  return doc.is_object() && doc.contains("context") && doc["context"].is_object() && doc["context"].contains("pmbench_shard");
}

void AddShard(json& result, const ShardRun& run, const std::map<std::string, ShardMetric>& observed,
              const std::vector<ShardHistogram>& histograms) {
  json s = {{"index", run.index}, {"count", run.count}, {"plan", run.plan}, {"schedule_ns", run.schedule_ns}, {"started_ns", run.started_ns},
            {"warmup_s", run.warmup_s}, {"seconds", run.seconds}};
  s["start_at_ns"] = run.start_at_ns ? json(*run.start_at_ns) : json(nullptr);
  s["clock_offset_ms"] = run.clock_offset_ms ? json(*run.clock_offset_ms) : json(nullptr);
  if (run.clock_offset_ms) {
    s["clock_offset_error_ms"] = run.clock_offset_error_ms.value_or(0);
    s["clock_reference"] = run.clock_reference;
  }
  result["context"]["pmbench_shard"] = s;
  json obs = json::object();
  for (const auto& [name, m] : observed) {
    json o = json::object();
    if (m.latency) o["histogram"] = json::parse(m.latency->ToJson());
    if (m.count) o["count"] = *m.count;
    if (m.count_per_second) o["count_per_second"] = true;
    if (m.ratio) o["ratio"] = {m.ratio->first, m.ratio->second};
    obs[name] = o;
  }
  result["pmbench_observed"] = obs;
  json hs = json::array();
  for (const ShardHistogram& h : histograms) {
    hs.push_back({{"run_name", h.run_name}, {"metric", h.metric}, {"histogram", json::parse(h.histogram->ToJson())}});
  }
  result["pmbench_histograms"] = hs;
}

ShardMerge MergeShards(const std::vector<ShardFile>& files) {
  if (files.empty()) throw std::invalid_argument("no shard results to merge");
  std::vector<Shard> shards;
  for (const ShardFile& f : files) {
    Shard s{&f, {}, {}};
    try {
      s.doc = json::parse(WithoutNaN(f.text));
    } catch (const json::exception& e) {
      Bad(f, std::string("not JSON: ") + e.what());
    }
    if (!IsShardResult(s.doc)) Bad(f, "not a shard's result (no context.pmbench_shard: run it with --shard I/N)");
    if (!s.doc.contains("benchmarks") || !s.doc["benchmarks"].is_array()) Bad(f, "no benchmarks array");
    s.run = ReadRun(f, s.doc["context"]["pmbench_shard"]);
    s.start_s = static_cast<double>(s.run.schedule_ns) * 1e-9 + s.run.warmup_s;
    s.end_s = s.start_s + s.run.seconds;
    shards.push_back(std::move(s));
  }
  std::sort(shards.begin(), shards.end(), [](const Shard& a, const Shard& b) { return a.run.index < b.run.index; });
  const int n = shards.front().run.count;
  for (size_t i = 0; i < shards.size(); ++i) {
    const Shard& s = shards[i];
    if (s.run.count != n) Bad(*s.file, "is shard " + std::to_string(s.run.index) + "/" + std::to_string(s.run.count) + ", the others are of " + std::to_string(n));
    if (s.run.plan != shards.front().run.plan) {
      Bad(*s.file, "ran a different test than " + shards.front().file->name + " (options: '" + s.run.plan + "' vs '" +
                       shards.front().run.plan + "')");
    }
    if (i > 0 && s.run.index == shards[i - 1].run.index) Bad(*s.file, "shard " + std::to_string(s.run.index) + " is given twice");
  }
  if (static_cast<int>(shards.size()) != n) {
    std::string missing;
    std::set<int> have;
    for (const Shard& s : shards) have.insert(s.run.index);
    for (int i = 0; i < n; ++i) {
      if (!have.contains(i)) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    }
    throw std::invalid_argument("shard(s) " + missing + " of " + std::to_string(n) + " missing: a merge of part of a run is not the run");
  }

  ShardMerge out;
  double start = shards.front().start_s, end = shards.front().end_s;
  double first_start = static_cast<double>(shards.front().run.started_ns), last_start = first_start;
  std::optional<double> lo, hi;
  double skew_error = 0;
  for (const Shard& s : shards) {
    start = std::min(start, s.start_s);
    end = std::max(end, s.end_s);
    first_start = std::min(first_start, static_cast<double>(s.run.started_ns));
    last_start = std::max(last_start, static_cast<double>(s.run.started_ns));
    if (s.run.clock_offset_ms) {
      lo = std::min(lo.value_or(*s.run.clock_offset_ms), *s.run.clock_offset_ms);
      hi = std::max(hi.value_or(*s.run.clock_offset_ms), *s.run.clock_offset_ms);
      skew_error = std::max(skew_error, *s.run.clock_offset_error_ms);
    }
  }
  out.window_s = end - start;
  out.start_spread_ms = (last_start - first_start) / 1e6;
  bool all_measured = true;
  for (const Shard& s : shards) all_measured = all_measured && s.run.clock_offset_ms.has_value();
  if (all_measured && lo) {
    out.clock_skew_ms = *hi - *lo;
    out.clock_skew_error_ms = 2 * skew_error;
  }

  // The union's histograms.
  std::map<std::string, stats::LatencyHistogram> hists;
  std::vector<std::pair<std::string, std::string>> hist_order;
  for (const Shard& s : shards) {
    for (const json& h : s.doc.value("pmbench_histograms", json::array())) {
      try {
        const std::string key = Key(h.at("run_name").get<std::string>(), h.at("metric").get<std::string>());
        if (!hists.contains(key)) hist_order.emplace_back(h.at("run_name").get<std::string>(), h.at("metric").get<std::string>());
        hists[key].Merge(stats::LatencyHistogram::FromJson(h.at("histogram").dump()));
      } catch (const std::exception& e) {
        Bad(*s.file, std::string("malformed pmbench_histograms: ") + e.what());
      }
    }
  }

  // Screens (a scenario's click to screen): each shard knows when its own subscribers had
  // each action, and when it sent its own. An action is on the whole run's screens when
  // every shard watching where it shows has it, at the latest of their times.
  std::map<std::string, std::map<std::string, double>> set_counter, add_counter;  // run_name -> counter
  std::map<std::string, stats::LatencyHistogram> screen_observed;
  std::map<std::string, double> screen_lost;
  {
    std::map<std::string, std::vector<std::pair<const Shard*, const json*>>> screens;
    std::vector<std::string> screen_order;
    size_t headlines = 0;
    for (const Shard& s : shards) {
      if (!s.doc.contains("pmbench_screens")) continue;
      for (const json& e : s.doc["pmbench_screens"]) {  // kept by address: not a copy
        const std::string key = Key(e.value("run_name", ""), e.value("metric", ""));
        if (!screens.contains(key)) screen_order.push_back(key);
        screens[key].push_back({&s, &e});
      }
    }
    for (const std::string& key : screen_order) {
      const auto& parts = screens[key];
      if (parts.size() != shards.size()) Bad(*parts.front().first->file, "has screens '" + key + "' that another shard lacks");
      try {
        const json& first = *parts.front().second;
        const std::string run_name = first.at("run_name").get<std::string>(), metric = first.at("metric").get<std::string>();
        int64_t deadline = 0;
        double local_incomplete = 0;
        for (const auto& [_, e] : parts) {
          deadline = std::max(deadline, e->at("deadline_ns").get<int64_t>());
          local_incomplete += e->at("local_incomplete").get<double>();
        }
        stats::LatencyHistogram h;
        double complete = 0, incomplete = 0;
        for (const auto& [_, owner] : parts) {
          for (const auto& [id, sent] : owner->at("sent").items()) {
            bool watched = false, never = false;
            int64_t at = 0;
            for (const auto& [__, e] : parts) {
              const json& shown = e->at("shown");
              const auto it = shown.find(id);
              if (it == shown.end()) continue;
              watched = true;
              const int64_t v = it->get<int64_t>();
              if (v < 0) never = true;
              else at = std::max(at, v);
            }
            if (!watched) continue;
            ++(never ? incomplete : complete);
            h.Record((never ? deadline : at) - sent.get<int64_t>());
          }
        }
        // First, when it timed anything: a scenario's headline (the merge's summary shows the
        // first histogram).
        if (!hists.contains(key)) {
          if (h.count() > 0) hist_order.emplace(hist_order.begin() + static_cast<long>(headlines++), run_name, metric);
          else hist_order.emplace_back(run_name, metric);
        }
        hists[key] = h;
        if (first.contains("complete_counter")) set_counter[run_name][first["complete_counter"].get<std::string>()] = complete;
        if (first.contains("incomplete_counter")) set_counter[run_name][first["incomplete_counter"].get<std::string>()] = incomplete;
        // The shards counted their own actions some of their own subscribers missed; the
        // whole counts those any subscriber missed.
        if (first.contains("lost_counter")) add_counter[run_name][first["lost_counter"].get<std::string>()] += incomplete - local_incomplete;
        if (first.contains("lost_observed")) screen_lost[first["lost_observed"].get<std::string>()] += incomplete - local_incomplete;
        if (first.contains("observed")) screen_observed[first["observed"].get<std::string>()] = h;
      } catch (const std::exception& e) {
        Bad(*parts.front().first->file, std::string("malformed pmbench_screens: ") + e.what());
      }
    }
  }

  // Entries: the first shard's, each counter merged by its rule from every shard's.
  json merged = shards.front().doc;
  merged.erase("pmbench_observed");
  merged.erase("pmbench_screens");
  std::set<std::string> not_merged;
  for (json& entry : merged["benchmarks"]) {
    const std::string name = entry.value("name", "");
    std::vector<const json*> parts;
    for (const Shard& s : shards) {
      const json* found = nullptr;
      for (const json& b : s.doc["benchmarks"]) {
        if (b.value("name", "") == name) found = &b;
      }
      if (!found) Bad(*s.file, "has no entry '" + name + "'");
      parts.push_back(found);
    }
    std::map<std::string, double> derived;
    for (const auto& [run_name, metric] : hist_order) {
      if (run_name != name) continue;
      for (const auto& [k, v] : stats::LatencyCounters(hists[Key(run_name, metric)], metric == "latency" ? "" : metric + "_")) {
        derived[k] = v;
      }
    }
    const auto sum = [&](const std::string& k) {
      double total = 0;
      for (const json* p : parts) total += p->value(k, 0.0);
      return total;
    };
    std::vector<std::string> drop;
    for (auto& [k, v] : entry.items()) {
      if (kEntryFields.contains(k) || !v.is_number()) continue;
      if (set_counter[name].contains(k)) {
        v = set_counter[name][k];
      } else if (add_counter[name].contains(k)) {
        v = sum(k) + add_counter[name][k];
      } else if (derived.contains(k)) {
        v = derived[k];
      } else if (k == "achieved_requests_per_s") {
        v = out.window_s > 0 ? sum("ok") / out.window_s : 0;
      } else if (k == "delivered_frames_per_s") {
        v = out.window_s > 0 ? sum("updates_received") / out.window_s : 0;
      } else if (k == "tx_per_min") {
        v = out.window_s > 0 ? sum("confirmed") * 60 / out.window_s : 0;
      } else if (k == "success_ratio") {
        // Of requests: ok / all; of transactions: confirmed / (sent + dropped); of updates:
        // updates_received / (updates_received + lost).
        double num = 0, all = 0;
        if (entry.contains("ok")) {
          num = sum("ok");
          all = num + sum("failed") + sum("dropped") + sum("unfinished");
        } else if (entry.contains("confirmed")) {
          num = sum("confirmed");
          all = sum("sent") + sum("dropped");
        } else if (entry.contains("updates_received")) {
          num = sum("updates_received");
          all = num + sum("lost");
        }
        if (all > 0) v = num / all;
        else drop.push_back(k);
      } else if (k == "thresholds_failed" || k == "goals_missed") {
        // Counted from the union's verdicts below.
      } else if (k == "confirmed_ratio") {  // a scenario's chain role: confirmed / submitted
        if (sum("submitted") > 0) v = sum("confirmed") / sum("submitted");
        else drop.push_back(k);
      } else if (kSummed.contains(k) || k.starts_with("status_") || k.ends_with("_per_s") || k.ends_with("_per_min") ||
                 k.ends_with("_confirmed") || k.ends_with("_stored")) {
        // Counts of disjoint parts, and rates of disjoint parts over one window, add up.
        v = sum(k);
      } else if (kLargest.contains(k)) {
        double most = 0;
        for (const json* p : parts) most = std::max(most, p->value(k, 0.0));
        v = most;
      } else {
        drop.push_back(k);
      }
    }
    for (const std::string& k : drop) {
      entry.erase(k);
      not_merged.insert(k);
    }
    const double t = out.window_s * 1e9 / NsPerUnit(entry.value("time_unit", "ms"));
    entry["real_time"] = t;
    entry["cpu_time"] = t;
  }

  // Time series: every interval's histograms merged (the shards share their start).
  json series = json::array();
  std::map<std::string, stats::IntervalSeries> logs;
  std::vector<json> log_meta, passed_through;
  for (const Shard& s : shards) {
    for (const json& e : s.doc.value("pmbench_series", json::array())) {
      if (!e.contains("log")) {
        // Not an interval log (a scenario's shape and processes): the first shard's, without
        // the processes it sampled — one shard's part of a whole.
        if (&s != &shards.front()) continue;
        json kept = e;
        if (kept.contains("groups")) kept["groups"] = json::array();
        passed_through.push_back(std::move(kept));
        continue;
      }
      try {
        const std::string key = Key(e.at("run_name").get<std::string>(), e.at("metric").get<std::string>());
        const stats::IntervalSeries part = stats::IntervalSeries::FromJson(e.at("log").dump());
        if (auto it = logs.find(key); it != logs.end()) {
          it->second.Merge(part);
        } else {
          logs.emplace(key, part);
          log_meta.push_back(e);
        }
      } catch (const std::exception& ex) {
        Bad(*s.file, std::string("malformed pmbench_series: ") + ex.what());
      }
    }
  }
  for (json& e : passed_through) series.push_back(std::move(e));
  for (json e : log_meta) {
    e["log"] = json::parse(logs.at(Key(e["run_name"].get<std::string>(), e["metric"].get<std::string>())).ToJson());
    series.push_back(std::move(e));
  }
  if (!series.empty()) merged["pmbench_series"] = series;

  json hs = json::array();
  for (const auto& [run_name, metric] : hist_order) {
    hs.push_back({{"run_name", run_name}, {"metric", metric}, {"histogram", json::parse(hists[Key(run_name, metric)].ToJson())}});
  }
  merged["pmbench_histograms"] = hs;

  // The thresholds, on the whole.
  std::map<std::string, stats::LatencyHistogram> obs_hists;
  std::map<std::string, std::pair<double, double>> ratios;
  std::map<std::string, double> counts;
  std::map<std::string, bool> per_second;
  for (const Shard& s : shards) {
    const json obs = s.doc.value("pmbench_observed", json::object());  // items() of a temporary would dangle
    for (const auto& [name, o] : obs.items()) {
      try {
        if (o.contains("histogram")) obs_hists[name].Merge(stats::LatencyHistogram::FromJson(o["histogram"].dump()));
        if (o.contains("count")) counts[name] += o["count"].get<double>();
        if (o.value("count_per_second", false)) per_second[name] = true;
        if (o.contains("ratio")) {
          ratios[name].first += o["ratio"].at(0).get<double>();
          ratios[name].second += o["ratio"].at(1).get<double>();
        }
      } catch (const std::exception& e) {
        Bad(*s.file, "malformed pmbench_observed '" + name + "': " + e.what());
      }
    }
  }
  std::map<std::string, stats::Observed> observed;
  for (auto& [name, h] : screen_observed) obs_hists[name] = h;
  for (const auto& [name, lost] : screen_lost) counts[name] += lost;
  for (auto& [name, h] : obs_hists) observed[name].latency = &h;
  for (const auto& [name, c] : counts) {
    observed[name].count = c;
    if (per_second[name] && out.window_s > 0) observed[name].rate = c / out.window_s;
  }
  for (const auto& [name, r] : ratios) observed[name].rate = stats::Ratio(r.first, r.second);
  std::vector<stats::Bar> bars;
  std::string bar_run;
  for (const json& b : shards.front().doc.value("pmbench_bars", json::array())) {
    try {
      const std::string metric = b.at("metric").get<std::string>(), expr = b.at("expression").get<std::string>();
      bars.push_back(b.at("kind") == "goal" ? stats::Bar::Goal(metric, expr) : stats::Bar::Sla(metric, expr));
      bar_run = b.value("run_name", "");
    } catch (const std::exception& e) {
      Bad(*shards.front().file, std::string("malformed pmbench_bars: ") + e.what());
    }
  }
  out.bars = stats::EvaluateBars(bars, observed);
  merged["pmbench_bars"] = json::array();
  int failed = 0, missed = 0;
  for (const auto& r : out.bars) {
    merged["pmbench_bars"].push_back(BarJson(bar_run, r));
    if (!r.pass) ++(r.kind == stats::Bar::Kind::kThreshold ? failed : missed);
  }
  out.pass = failed == 0;
  for (json& entry : merged["benchmarks"]) {
    if (entry.contains("thresholds_failed")) entry["thresholds_failed"] = failed;
    if (entry.contains("goals_missed")) entry["goals_missed"] = missed;
  }

  json per_shard = json::array();
  for (const Shard& s : shards) {
    json p = {{"index", s.run.index},
              {"started_ms_after_first", (static_cast<double>(s.run.started_ns) - first_start) / 1e6},
              {"seconds", s.run.seconds}};
    if (s.run.start_at_ns) p["started_ms_after_start_at"] = static_cast<double>(s.run.started_ns - *s.run.start_at_ns) / 1e6;
    p["clock_offset_ms"] = s.run.clock_offset_ms ? json(*s.run.clock_offset_ms) : json(nullptr);
    if (s.run.clock_offset_ms) p["clock_offset_error_ms"] = *s.run.clock_offset_error_ms;
    p["bars"] = s.doc.value("pmbench_bars", json::array());
    out.shard_bars.push_back(std::vector<json>(p["bars"].begin(), p["bars"].end()));
    per_shard.push_back(std::move(p));
  }
  json& ctx = merged["context"];
  const json first_shard = ctx["pmbench_shard"];
  ctx.erase("pmbench_shard");
  out.not_merged.assign(not_merged.begin(), not_merged.end());
  ctx["pmbench_merge"] = {{"shards", n},
                          {"plan", first_shard["plan"]},
                          {"start_at_ns", first_shard["start_at_ns"]},
                          {"window_s", out.window_s},
                          {"start_spread_ms", out.start_spread_ms},
                          {"clock_skew_ms", out.clock_skew_ms ? json(*out.clock_skew_ms) : json(nullptr)},
                          {"clock_skew_error_ms", out.clock_skew_error_ms ? json(*out.clock_skew_error_ms) : json(nullptr)},
                          {"clock_reference", shards.front().run.clock_reference},
                          {"not_merged", out.not_merged},
                          {"per_shard", per_shard}};
  ctx["executable"] = ctx.value("executable", std::string("pmbench")) + " (" + std::to_string(n) + " shards merged)";
  out.json = db::RedactSecrets(merged.dump(2)) + "\n";
  return out;
}

}  // namespace pmbench::results
