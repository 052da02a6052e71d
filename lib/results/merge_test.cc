#include "lib/results/merge.h"
#include "lib/results/server_report.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lib/results/gbench_json.h"

namespace pmbench::results {
namespace {

using nlohmann::json;

std::string BenchJson(const json& benchmarks) {
  return json{{"context", {{"executable", "./x_bench"}, {"num_cpus", 2}, {"library_build_type", "release"}}},
              {"benchmarks", benchmarks}}
      .dump();
}

json BenchRun(const std::string& name, double time, json extra = json::object()) {
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"real_time", time},
            {"cpu_time", time}, {"time_unit", "ns"}, {"iterations", 10}};
  b.update(extra);
  return b;
}

TEST(MergeTest, MergesBinariesIntoOneGoogleBenchmarkFileWithContext) {
  const std::string bars = R"([{"run_name":"BM_B","kind":"goal","metric":"rows","expression":"rate>=500","pass":true,"message":"rows rate=900, want >=500"}])";
  MergeContext ctx{"abc123", "smoke", "Release",
                   R"({"kind":"embedded","host":"127.0.0.1","port":5432,"server_version":"15.18","settings":{"max_connections":"200"}})",
                   {0.5, 0.4, 0.3}, {1.5, 0.9, 0.4}};
  const std::string merged = MergeResults(
      {{"a_bench", BenchJson(json::array({BenchRun("BM_A", 1)})), ""}, {"b_bench", BenchJson(json::array({BenchRun("BM_B", 2)})), bars}},
      ctx);
  const json j = json::parse(merged);
  EXPECT_EQ(j["context"]["json_schema_version"], 1);
  EXPECT_EQ(j["context"]["git_commit"], "abc123");
  EXPECT_EQ(j["context"]["pmbench_profile"], "smoke");
  EXPECT_EQ(j["context"]["pmbench_build_type"], "Release");
  EXPECT_EQ(j["context"]["pmbench_load_avg_before"], json({0.5, 0.4, 0.3}));
  EXPECT_EQ(j["context"]["pmbench_load_avg_after"], json({1.5, 0.9, 0.4}));
  EXPECT_EQ(j["context"]["staging"], json({{"kind", "embedded"}, {"host", "127.0.0.1"}, {"port", 5432}}));
  EXPECT_EQ(j["context"]["postgres"]["non_default_settings"]["max_connections"], "200");
  ASSERT_EQ(j["benchmarks"].size(), 2u);
  EXPECT_EQ(j["benchmarks"][1]["name"], "BM_B");
  EXPECT_EQ(j["benchmarks"][1]["pmbench_bench"], "b_bench");
  ASSERT_EQ(j["pmbench_bars"].size(), 1u);
  EXPECT_EQ(j["pmbench_bars"][0]["pmbench_bench"], "b_bench");
}

// Time series come from the side file of a bench binary or from inside a command's result,
// and are kept whole with the binary that wrote them.
TEST(MergeTest, TimeSeriesFromBesideAndInsideAreKept) {
  const json log = {{"format", "pmbench-interval-log-v1"}, {"interval_s", 1}, {"intervals", json::array()}};
  const json entry = {{"run_name", "scenario/peak/browse"}, {"metric", "latency"}, {"offset_s", 0.5}, {"log", log}};
  const std::string command = WriteRunJson({{"executable", "pmbench scenario run"}}, {{"scenario/peak", 2.0, {}}}, {},
                                           json::array({entry}));
  const json j = json::parse(MergeResults(
      {{"a_bench", BenchJson(json::array({BenchRun("BM_A", 1)})), "", json::array({entry, entry}).dump()},
       {"scenario", command, "", ""}},
      {}));
  ASSERT_EQ(j["pmbench_series"].size(), 3u);
  EXPECT_EQ(j["pmbench_series"][0]["pmbench_bench"], "a_bench");
  EXPECT_EQ(j["pmbench_series"][2]["pmbench_bench"], "scenario");
  EXPECT_EQ(j["pmbench_series"][2]["log"], log);
  EXPECT_THROW(MergeResults({{"a_bench", BenchJson(json::array()), "", "[not json"}}, {}), std::invalid_argument);
}

// The servers' side of each benchmark, from the X.server.json beside a bench binary's
// output, reaches the merged file and the report, beside the client's p95.
TEST(MergeTest, ServerEvidenceIsKeptAndReported) {
  const json evidence = {{"run_name", "BM_A"},
                         {"top_statements", {{{"query", "SELECT * FROM markets WHERE id = $1"}, {"calls", 9}, {"total_ms", 12.5},
                                              {"mean_ms", 1.4}, {"share", 0.8}}}},
                         {"pgbouncer", {{"cl_waiting_max", 37}, {"maxwait_max_s", 0.42}, {"transactions", 900}}},
                         {"locks", {{"waiting_max", 3}, {"share_of_samples_waiting", 0.25}}},
                         {"wait_events_backend_s", {{"Lock:transactionid", 4.5}, {"IO:DataFileRead", 0.25}}}};
  const json j = json::parse(MergeResults(
      {{"a_bench", BenchJson(json::array({BenchRun("BM_A", 1, {{"p95_ms", 7.5}})})), "", "", json::array({evidence}).dump()}}, {}));
  ASSERT_EQ(j["pmbench_server"].size(), 1u);
  EXPECT_EQ(j["pmbench_server"][0]["pmbench_bench"], "a_bench");
  const std::string html = ServerSection(j.dump());
  EXPECT_NE(html.find("<h3>BM_A</h3>"), std::string::npos) << html;
  EXPECT_NE(html.find("p95_ms 7.50 ms"), std::string::npos) << html;  // the client side, beside it
  EXPECT_NE(html.find("up to 37 clients waiting, longest wait 420 ms"), std::string::npos) << html;
  EXPECT_NE(html.find("Lock:transactionid 4.5 s, IO:DataFileRead 0.2 s"), std::string::npos) << html;
  EXPECT_NE(html.find("SELECT * FROM markets WHERE id = $1"), std::string::npos);
  EXPECT_EQ(ServerSection(BenchJson(json::array())), "");
  EXPECT_THROW(MergeResults({{"a_bench", BenchJson(json::array()), "", "", "{oops"}}, {}), std::invalid_argument);
}

TEST(MergeTest, CommandResultsCarryTheirBarsInside) {
  const std::string run = WriteRunJson({{"executable", "pmbench load db"}}, {{"load_db/markets", 2.0, {{"p95_ms", 3}}}},
                                       {{stats::Bar::Kind::kThreshold, "latency", "p(95)<1ms", false, true, 3e6, "latency p(95)=3ms, want <1ms"}});
  const json j = json::parse(MergeResults({{"load", run, ""}}, {}));
  ASSERT_EQ(j["pmbench_bars"].size(), 1u);
  EXPECT_EQ(j["pmbench_bars"][0]["run_name"], "load_db/markets");
  EXPECT_EQ(j["benchmarks"][0]["real_time"], 2000);
  EXPECT_EQ(j["benchmarks"][0]["time_unit"], "ms");
}

TEST(MergeTest, NoPasswordSurvivesMerging) {
  const std::string merged = MergeResults(
      {{"a_bench",
        BenchJson(json::array({BenchRun("BM_A", 1, {{"error_occurred", true},
                                   {"error_message", "cannot connect to postgresql://u:hunter2@db:5432/x"}})})),
        ""}},
      {"c", "default", "Release", R"({"kind":"remote","host":"db","port":5432,"url":"postgresql://u:hunter2@db/x"})", {}, {}});
  EXPECT_EQ(merged.find("hunter2"), std::string::npos) << merged;
  EXPECT_FALSE(json::parse(merged)["context"]["staging"].contains("url"));
  const std::string run = WriteRunJson({{"pmbench_database", "postgresql://u:hunter2@db/x"}}, {}, {});
  EXPECT_EQ(run.find("hunter2"), std::string::npos) << run;
}

TEST(MergeTest, NaNFromGoogleBenchmarkBecomesNull) {
  const std::string with_nan =
      R"({"context":{},"benchmarks":[{"name":"BM_A_cv","run_name":"BM_A","aggregate_name":"cv","real_time":NaN,"goals_missed":-nan,"title":"NaN stays"}]})";
  const json j = json::parse(MergeResults({{"a", with_nan, ""}}, {}));
  EXPECT_TRUE(j["benchmarks"][0]["real_time"].is_null());
  EXPECT_TRUE(j["benchmarks"][0]["goals_missed"].is_null());
  EXPECT_EQ(j["benchmarks"][0]["title"], "NaN stays");
}

TEST(MergeTest, MalformedInputNamesTheBench) {
  try {
    MergeResults({{"broken_bench", "{not json", ""}}, {});
    FAIL() << "accepted malformed JSON";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("broken_bench"), std::string::npos);
  }
  EXPECT_THROW(MergeResults({{"x", R"({"context":{}})", ""}}, {}), std::invalid_argument);
}

TEST(MergeTest, LoadAverageIsReadFromProc) {
  EXPECT_EQ(ParseLoadAverage("0.52 0.58 0.59 1/467 12345\n"), (std::vector<double>{0.52, 0.58, 0.59}));
  EXPECT_THROW(ParseLoadAverage("garbage"), std::invalid_argument);
}

}  // namespace
}  // namespace pmbench::results
