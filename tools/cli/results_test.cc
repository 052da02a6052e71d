#include "tools/cli/results.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pmbench::cli {
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

TEST(ResultsTest, MergesBinariesIntoOneGoogleBenchmarkFileWithContext) {
  const std::string bars = R"([{"run_name":"BM_B","kind":"threshold","metric":"rows","expression":"rate>=500","pass":true,"message":"rows rate=900, want >=500"}])";
  const std::string merged = MergeResults(
      {{"a_bench", BenchJson(json::array({BenchRun("BM_A", 1)})), ""},
       {"b_bench", BenchJson(json::array({BenchRun("BM_B", 2)})), bars}},
      {"abc123", "smoke", "Release",
       R"({"kind":"embedded","host":"127.0.0.1","port":5432,"server_version":"15.18","settings":{"max_connections":"200"}})"});
  const json j = json::parse(merged);
  EXPECT_EQ(j["context"]["json_schema_version"], 1);
  EXPECT_EQ(j["context"]["git_commit"], "abc123");
  EXPECT_EQ(j["context"]["pmbench_profile"], "smoke");
  EXPECT_EQ(j["context"]["pmbench_build_type"], "Release");
  EXPECT_EQ(j["context"]["staging"], json({{"kind", "embedded"}, {"host", "127.0.0.1"}, {"port", 5432}}));
  EXPECT_EQ(j["context"]["postgres"]["non_default_settings"]["max_connections"], "200");
  ASSERT_EQ(j["benchmarks"].size(), 2u);
  EXPECT_EQ(j["benchmarks"][1]["name"], "BM_B");
  EXPECT_EQ(j["benchmarks"][1]["pmbench_bench"], "b_bench");
  ASSERT_EQ(j["pmbench_bars"].size(), 1u);
  EXPECT_EQ(j["pmbench_bars"][0]["pmbench_bench"], "b_bench");
}

TEST(ResultsTest, NoPasswordSurvivesMerging) {
  const std::string merged = MergeResults(
      {{"a_bench",
        BenchJson(json::array({BenchRun("BM_A", 1, {{"error_occurred", true},
                                   {"error_message", "cannot connect to postgresql://u:hunter2@db:5432/x"}})})),
        ""}},
      {"c", "default", "Release", R"({"kind":"remote","host":"db","port":5432,"url":"postgresql://u:hunter2@db/x"})"});
  EXPECT_EQ(merged.find("hunter2"), std::string::npos) << merged;
  EXPECT_FALSE(json::parse(merged)["context"]["staging"].contains("url"));
}

TEST(ResultsTest, NaNFromGoogleBenchmarkBecomesNull) {
  const std::string with_nan =
      R"({"context":{},"benchmarks":[{"name":"BM_A_cv","run_name":"BM_A","aggregate_name":"cv","real_time":NaN,"goals_missed":-nan,"title":"NaN stays"}]})";
  const json j = json::parse(MergeResults({{"a", with_nan, ""}}, {}));
  EXPECT_TRUE(j["benchmarks"][0]["real_time"].is_null());
  EXPECT_TRUE(j["benchmarks"][0]["goals_missed"].is_null());
  EXPECT_EQ(j["benchmarks"][0]["title"], "NaN stays");
}

TEST(ResultsTest, MalformedInputNamesTheBench) {
  try {
    MergeResults({{"broken_bench", "{not json", ""}}, {});
    FAIL() << "accepted malformed JSON";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("broken_bench"), std::string::npos);
  }
  EXPECT_THROW(MergeResults({{"x", R"({"context":{}})", ""}}, {}), std::invalid_argument);
  EXPECT_THROW(Summarize("[]"), std::invalid_argument);
}

TEST(ResultsTest, SummaryShowsMediansCountersAndBarsAndFailsOnThreshold) {
  json benchmarks = json::array({
      BenchRun("BM_Q/repeats:3", 5, {{"p95_ms", 12.5}, {"thresholds_failed", 1}}),
      BenchRun("BM_Q/repeats:3", 6),
      BenchRun("BM_Q/repeats:3_median", 5.5, {{"run_name", "BM_Q/repeats:3"}, {"run_type", "aggregate"},
                                         {"aggregate_name", "median"}, {"p95_ms", 12.5}}),
      BenchRun("BM_Q/repeats:3_mean", 5.6, {{"run_name", "BM_Q/repeats:3"}, {"run_type", "aggregate"},
                                       {"aggregate_name", "mean"}}),
  });
  const std::string bars = R"([
    {"run_name":"BM_Q/repeats:3","kind":"threshold","pass":false,"message":"latency p(95)=12.5ms, want <10ms"},
    {"run_name":"BM_Q/repeats:3","kind":"goal","pass":true,"message":"latency p(50)=1ms, want <2ms"}])";
  const Summary s = Summarize(MergeResults({{"q_bench", BenchJson(benchmarks), bars}}, {}));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.thresholds_failed, 1);
  EXPECT_NE(s.text.find("BM_Q/repeats:3_median"), std::string::npos) << s.text;
  EXPECT_EQ(s.text.find("_mean"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("p95_ms=12.5"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("FAIL"), std::string::npos);
  EXPECT_NE(s.text.find("met"), std::string::npos);
  EXPECT_NE(s.text.find("1 benchmarks, 0 errors; thresholds: 0 passed, 1 failed; goals: 1 met, 0 missed"),
            std::string::npos) << s.text;
}

TEST(ResultsTest, RepeatedBarsGiveOneVerdict) {
  // Three repetitions: the threshold failed once (so it failed), the goal was met by the
  // median run but not by the slowest.
  const std::string bars = R"([
    {"run_name":"BM_S","kind":"threshold","expression":"rate>=500","pass":true,"measured":900,"message":"m900"},
    {"run_name":"BM_S","kind":"threshold","expression":"rate>=500","pass":false,"measured":400,"message":"m400"},
    {"run_name":"BM_S","kind":"threshold","expression":"rate>=500","pass":true,"measured":800,"message":"m800"},
    {"run_name":"BM_S","kind":"goal","expression":"rate>=700","pass":true,"measured":900,"message":"g900"},
    {"run_name":"BM_S","kind":"goal","expression":"rate>=700","pass":false,"measured":400,"message":"g400"},
    {"run_name":"BM_S","kind":"goal","expression":"rate>=700","pass":true,"measured":800,"message":"g800"}])";
  const Summary s = Summarize(MergeResults({{"s", BenchJson(json::array({BenchRun("BM_S", 1)})), bars}}, {}));
  EXPECT_EQ(s.thresholds_failed, 1);
  EXPECT_NE(s.text.find("FAIL   BM_S: m400 (failed in 1 of 3 runs)"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("met    BM_S: g800 (median of 3 runs)"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("thresholds: 0 passed, 1 failed; goals: 1 met, 0 missed"), std::string::npos);
}

TEST(ResultsTest, SummaryCountsErroredBenchmarks) {
  const Summary s = Summarize(MergeResults(
      {{"a", BenchJson(json::array({BenchRun("BM_E", 0, {{"error_occurred", true}, {"error_message", "result check failed: x"}})})), ""}},
      {}));
  EXPECT_EQ(s.errors, 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.text.find("ERROR: result check failed: x"), std::string::npos);
}

}  // namespace
}  // namespace pmbench::cli
