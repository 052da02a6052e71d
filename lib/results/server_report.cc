#include "lib/results/server_report.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/results/gbench_json.h"
#include "lib/results/internal/html.h"

namespace pmbench::results {

using nlohmann::json;
using internal::Esc;

namespace {

std::string Num(double v, const char* fmt = "%.1f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

double D(const json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0; }

// The client's p95 counters of the run, as "name 12.3 ms" (the first repetition's).
std::string ClientSide(const json& benchmarks, const std::string& run_name) {
  std::string out;
  for (const json& b : benchmarks) {
    if (b.value("run_type", "") != "iteration") continue;
    const std::string name = b.value("run_name", "");
    if (name != run_name && name.rfind(run_name + "/", 0) != 0) continue;
    for (const auto& [k, v] : b.items()) {
      if (v.is_number() && k.ends_with("p95_ms") && out.size() < 400) {
        out += (out.empty() ? "" : ", ") + (name == run_name ? "" : name.substr(run_name.size() + 1) + " ") + k + " " + Num(v.get<double>(), "%.2f") + " ms";
      }
    }
    if (name == run_name) break;
  }
  return out.empty() ? "no p95 counters" : out;
}

}  // namespace

std::string ServerSection(const std::string& results_json) {
  json r;
  try {
    r = json::parse(WithoutNaN(results_json));
  } catch (const json::exception&) {
    return "";
  }
  if (!r.contains("pmbench_server") || !r["pmbench_server"].is_array() || r["pmbench_server"].empty()) return "";
  const json benchmarks = r.value("benchmarks", json::array());
  std::string h = "<section><h2>Server side: what PostgreSQL, pgbouncer and the machine said</h2>"
                  "<p class='muted'>Per e2e benchmark and scenario (setup included): pg_stat_statements reset at its start; "
                  "locks, wait events and pool waits sampled every 250 ms; CPU and disk from /proc.</p>";
  for (const json& e : r["pmbench_server"]) {
    const std::string run = e.value("run_name", "?");
    h += "<h3>" + Esc(run) + "</h3><p><b>Client side:</b> " + Esc(ClientSide(benchmarks, run)) + "</p><p><b>Server side:</b> ";
    std::vector<std::string> facts;
    if (e.contains("pgbouncer")) {
      const json& p = e["pgbouncer"];
      facts.push_back("pool: up to " + Num(D(p, "cl_waiting_max"), "%.0f") + " clients waiting, longest wait " +
                      Num(D(p, "maxwait_max_s") * 1e3, "%.0f") + " ms, " + Num(D(p, "wait_per_transaction_ms"), "%.2f") +
                      " ms waited per transaction over " + Num(D(p, "transactions"), "%.0f") + " transactions");
    }
    if (e.contains("locks")) {
      const json& l = e["locks"];
      facts.push_back("locks: up to " + Num(D(l, "waiting_max"), "%.0f") + " awaited, in " + Num(D(l, "share_of_samples_waiting") * 100, "%.0f") +
                      "% of samples");
    }
    if (e.contains("wait_events_backend_s") && !e["wait_events_backend_s"].empty()) {
      std::vector<std::pair<double, std::string>> w;
      for (const auto& [k, v] : e["wait_events_backend_s"].items()) w.push_back({v.get<double>(), k});
      std::sort(w.rbegin(), w.rend());
      std::string s = "backends waited on: ";
      for (size_t i = 0; i < std::min<size_t>(3, w.size()); ++i) s += (i ? ", " : "") + w[i].second + " " + Num(w[i].first) + " s";
      facts.push_back(s);
    }
    if (e.contains("checkpoints")) {
      const json& c = e["checkpoints"];
      facts.push_back("checkpoints: " + Num(D(c, "checkpoints_timed") + D(c, "checkpoints_req"), "%.0f") + " (" +
                      Num(D(c, "checkpoints_req"), "%.0f") + " requested)");
    }
    if (e.contains("database")) {
      const json& d = e["database"];
      facts.push_back(Num(D(d, "xact_commit"), "%.0f") + " commits, " + Num(D(d, "xact_rollback"), "%.0f") + " rollbacks, " +
                      Num(D(d, "deadlocks"), "%.0f") + " deadlocks, " + Num(D(d, "blks_read"), "%.0f") + " blocks read from disk");
    }
    if (e.contains("node")) {
      const json& n = e["node"];
      facts.push_back("machine: CPU busy " + Num(D(n, "cpu_busy_share") * 100, "%.0f") + "%, iowait " + Num(D(n, "cpu_iowait_s")) + " s, disk " +
                      Num(D(n, "disk_written_bytes") / 1048576) + " MiB written, " + Num(D(n, "disk_read_bytes") / 1048576) + " MiB read");
    }
    for (size_t i = 0; i < facts.size(); ++i) h += (i ? "; " : "") + Esc(facts[i]);
    h += ".</p>";
    if (e.contains("unavailable") && !e["unavailable"].empty()) {
      std::string u;
      for (const json& x : e["unavailable"]) u += (u.empty() ? "" : "; ") + x.get<std::string>();
      h += "<p class='muted'>Not measured: " + Esc(u) + "</p>";
    }
    if (e.contains("top_statements") && !e["top_statements"].empty()) {
      h += "<table><tr><th>top statements by total time</th><th>calls</th><th>total ms</th><th>mean ms</th><th>share</th></tr>";
      for (const json& t : e["top_statements"]) {
        h += "<tr><td><code>" + Esc(t.value("query", "")) + "</code></td><td>" + Num(D(t, "calls"), "%.0f") + "</td><td>" +
             Num(D(t, "total_ms")) + "</td><td>" + Num(D(t, "mean_ms"), "%.3f") + "</td><td>" + Num(D(t, "share") * 100, "%.0f") +
             "%</td></tr>";
      }
      h += "</table>";
    }
  }
  return h + "</section>";
}

}  // namespace pmbench::results
