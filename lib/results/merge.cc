#include "lib/results/merge.h"

#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/results/gbench_json.h"

namespace pmbench::results {

using nlohmann::json;

namespace {

void Append(json& into, const json& in, const char* key, const std::string& beside, const std::string& bench, const char* what) {
  json entries = in.value(key, json::array());
  if (!beside.empty()) {
    try {
      entries = json::parse(beside);
    } catch (const json::exception& e) {
      throw std::invalid_argument(std::string("malformed ") + what + " of " + bench + ": " + e.what());
    }
  }
  for (auto& entry : entries) {
    entry["pmbench_bench"] = bench;
    into.push_back(entry);
  }
}

}  // namespace

std::string MergeResults(const std::vector<BenchOutput>& outputs, const MergeContext& context) {
  json merged = {{"context", json::object()}, {"benchmarks", json::array()}, {"pmbench_bars", json::array()},
                 {"pmbench_series", json::array()}, {"pmbench_server", json::array()}};
  json executables = json::array();
  for (const BenchOutput& out : outputs) {
    json in;
    try {
      in = json::parse(WithoutNaN(out.json));
      if (!in.contains("benchmarks") || !in["benchmarks"].is_array() || !in.contains("context")) {
        throw std::invalid_argument("no context or benchmarks");
      }
    } catch (const std::exception& e) {
      throw std::invalid_argument("malformed results of " + out.name + ": " + e.what());
    }
    if (merged["context"].empty()) merged["context"] = in["context"];
    executables.push_back(in["context"].value("executable", out.name));
    for (auto& b : in["benchmarks"]) {
      b["pmbench_bench"] = out.name;
      merged["benchmarks"].push_back(b);
    }
    // Each kind of entry comes inside the JSON (a command's result) or in a file beside it
    // (a bench binary's): the file, when there is one.
    Append(merged["pmbench_bars"], in, "pmbench_bars", out.bars_json, out.name, "thresholds");
    Append(merged["pmbench_series"], in, "pmbench_series", out.series_json, out.name, "time series");
    Append(merged["pmbench_server"], in, "pmbench_server", out.server_json, out.name, "server-side evidence");
  }
  json& ctx = merged["context"];
  ctx["json_schema_version"] = 1;
  ctx["executable"] = "pmbench (merged)";
  ctx["pmbench_executables"] = executables;
  ctx["git_commit"] = context.git_commit;
  ctx["pmbench_profile"] = context.profile;
  ctx["pmbench_build_type"] = context.build_type;
  if (!context.load_avg_before.empty()) ctx["pmbench_load_avg_before"] = context.load_avg_before;
  if (!context.load_avg_after.empty()) ctx["pmbench_load_avg_after"] = context.load_avg_after;
  ctx["staging"] = {{"kind", "none"}};
  if (!context.staging_info_json.empty()) {
    try {
      const json info = json::parse(context.staging_info_json);
      // Host and port only: the info file never holds a URL, but keep it that way here too.
      json staging = {{"kind", info.value("kind", "embedded")}};
      for (const char* key : {"host", "port", "pooler_port"}) {
        if (info.contains(key)) staging[key] = info[key];
      }
      ctx["staging"] = staging;
      ctx["postgres"] = {{"server_version", info.value("server_version", "")},
                         {"non_default_settings", info.value("settings", json::object())}};
    } catch (const json::exception& e) {
      throw std::invalid_argument(std::string("malformed staging info: ") + e.what());
    }
  }
  // The last line of defence: no libpq password survives into results.
  return db::RedactSecrets(merged.dump(2)) + "\n";
}

std::vector<double> ParseLoadAverage(const std::string& text) {
  std::istringstream in(text);
  std::vector<double> v(3);
  if (!(in >> v[0] >> v[1] >> v[2])) throw std::invalid_argument("not a load average: '" + text + "'");
  return v;
}

}  // namespace pmbench::results
