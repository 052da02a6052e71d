#include "lib/results/summary.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lib/results/merge.h"
#include "lib/results/scoreboard.h"

namespace pmbench::results {
namespace {

using nlohmann::json;

std::string BenchJson(const json& benchmarks) {
  return json{{"context", {{"executable", "./x_bench"}}}, {"benchmarks", benchmarks}}.dump();
}

json BenchRun(const std::string& name, double time, json extra = json::object()) {
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"real_time", time},
            {"cpu_time", time}, {"time_unit", "ns"}, {"iterations", 10}};
  b.update(extra);
  return b;
}

TEST(SummaryTest, VerdictFirstThenGoalsAndCountersOnlyWhenVerbose) {
  json benchmarks = json::array({
      BenchRun("BM_MarketsQuery/iterations:1/manual_time", 5e9, {{"p95_ms", 12.5}, {"clients", 1000}}),
      BenchRun("BM_MarketsQuery/iterations:1/manual_time", 6e9, {{"p95_ms", 14.5}, {"clients", 1000}}),
      BenchRun("BM_MarketsQuery/iterations:1/manual_time", 7e9, {{"p95_ms", 13.5}, {"clients", 1000}}),
      BenchRun("BM_HistogramRecord", 2, {{"items_per_second", 5e8}}),
  });
  const std::string bars = R"([
    {"run_name":"BM_MarketsQuery/iterations:1/manual_time","kind":"threshold","metric":"latency","expression":"p(95)<100ms","pass":true,"measured":1,"message":"latency p(95)=12.5ms, want <100ms"},
    {"run_name":"BM_MarketsQuery/iterations:1/manual_time","kind":"goal","metric":"latency","expression":"p(95)<=13ms","pass":false,"measured":2,"message":"latency p(95)=13.5ms, want <=13ms"}])";
  const std::string merged = MergeResults({{"q_bench", BenchJson(benchmarks), bars}}, {"abc", "default", "Release", "", {}, {}});
  const Summary s = Summarize(merged);
  EXPECT_TRUE(s.ok()) << s.text;
  const size_t verdict = s.text.find("pmbench: PASS"), sla = s.text.find("PASS    AC2"), goals = s.text.find("Goals: 0 met, 1 missed");
  ASSERT_NE(verdict, std::string::npos) << s.text;
  ASSERT_NE(sla, std::string::npos) << s.text;
  ASSERT_NE(goals, std::string::npos) << s.text;
  EXPECT_LT(verdict, sla);
  EXPECT_LT(sla, goals);
  EXPECT_NE(s.text.find("BM_MarketsQuery: 1000 clients; p95 13.5 ms"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("NOT RUN AC3"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("missed  BM_MarketsQuery: latency p(95)=13.5ms, want <=13ms\n"), std::string::npos)
      << s.text;
  EXPECT_EQ(s.text.find("items_per_second"), std::string::npos) << s.text;
  EXPECT_NE(Summarize(merged, {.verbose = true}).text.find("items_per_second=500M"), std::string::npos);
}

TEST(SummaryTest, OneErroredRepetitionFailsTheRun) {
  // Three repetitions, the second errored: the other two look fine, the run does not.
  json benchmarks = json::array({
      BenchRun("BM_TallyFromDatabase/real_time", 5e8),
      BenchRun("BM_TallyFromDatabase/real_time", 0, {{"error_occurred", true}, {"error_message", "result check failed: x"}}),
      BenchRun("BM_TallyFromDatabase/real_time", 6e8),
      BenchRun("BM_TallyFromDatabase/real_time_median", 5.5e8,
               {{"run_name", "BM_TallyFromDatabase/real_time"}, {"run_type", "aggregate"}, {"aggregate_name", "median"}}),
  });
  const Summary s = Summarize(MergeResults({{"v", BenchJson(benchmarks), ""}}, {}));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.errored_benchmarks, 1);
  EXPECT_EQ(s.errored_repetitions, 1);
  EXPECT_NE(s.text.find("FAIL    AC6"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("BM_TallyFromDatabase errored in 1 of 3 repetitions: result check failed: x"), std::string::npos)
      << s.text;
}

TEST(SummaryTest, AFailedThresholdIsNamedOnceNotTwice) {
  json benchmarks = json::array({
      BenchRun("BM_PeakMix/iterations:1/manual_time", 1e10),
      BenchRun("BM_PeakMix/iterations:1/manual_time", 0,
               {{"error_occurred", true}, {"error_message", "threshold failed: latency p(95)=118ms, want <100ms"}}),
  });
  const std::string bars = R"([
    {"run_name":"BM_PeakMix/iterations:1/manual_time","kind":"threshold","metric":"latency","expression":"p(95)<100ms","pass":true,"measured":1,"message":"latency p(95)=12ms, want <100ms"},
    {"run_name":"BM_PeakMix/iterations:1/manual_time","kind":"threshold","metric":"latency","expression":"p(95)<100ms","pass":false,"measured":2,"message":"latency p(95)=118ms, want <100ms"}])";
  const Summary s = Summarize(MergeResults({{"q", BenchJson(benchmarks), bars}}, {}));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.errored_repetitions, 1);
  EXPECT_NE(s.text.find("FAIL    AC2"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("BM_PeakMix latency p(95)=118ms, want <100ms (failed in 1 of 2)"), std::string::npos) << s.text;
  EXPECT_EQ(s.text.find("errored in"), std::string::npos) << s.text;
}

TEST(SummaryTest, AThresholdErrorWithoutItsBarIsStillNamed) {
  // A file from elsewhere (or one whose bars were lost) says "threshold failed" in the
  // error alone: hiding it would leave a FAIL with no reason.
  json benchmarks = json::array({
      BenchRun("BM_Q", 100),
      BenchRun("BM_Q", 0, {{"error_occurred", true}, {"error_message", "threshold failed: boom"}}),
  });
  const Summary s = Summarize(MergeResults({{"q", BenchJson(benchmarks), "[]"}}, {}));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.text.find("BM_Q in 1 of 2 repetitions: threshold failed: boom"), std::string::npos) << s.text;
}

TEST(SummaryTest, RepeatedBarsGiveOneVerdict) {
  // Three repetitions: the threshold failed once (so it failed), the goal was met by the
  // median run but not by the slowest.
  const std::string bars = R"([
    {"run_name":"BM_S","kind":"threshold","expression":"rate>=500","pass":true,"measured":900,"message":"m900"},
    {"run_name":"BM_S","kind":"threshold","expression":"rate>=500","pass":false,"measured":400,"message":"m400"},
    {"run_name":"BM_S","kind":"threshold","expression":"rate>=500","pass":true,"measured":800,"message":"m800"},
    {"run_name":"BM_S","kind":"goal","expression":"rate>=700","pass":true,"measured":900,"message":"g900"},
    {"run_name":"BM_S","kind":"goal","expression":"rate>=700","pass":false,"measured":400,"message":"g400"},
    {"run_name":"BM_S","kind":"goal","expression":"rate>=700","pass":true,"measured":800,"message":"g800"},
    {"run_name":"BM_S","kind":"goal","expression":"rate>=10","pass":false,"was_measured":false,"measured":0,"message":"r not measured"}])";
  const Summary s = Summarize(MergeResults({{"s", BenchJson(json::array({BenchRun("BM_S", 1)})), bars}}, {}));
  EXPECT_EQ(s.thresholds_failed, 1);
  EXPECT_NE(s.text.find("FAIL    BM_S: m400 (failed in 1 of 3)"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("Goals: 1 met, 0 missed, 1 not measured"), std::string::npos) << s.text;
  EXPECT_NE(s.text.find("n/a     BM_S: r not measured"), std::string::npos) << s.text;
  EXPECT_EQ(s.text.find("g800"), std::string::npos) << s.text;  // met goals only with --verbose
}

TEST(SummaryTest, NotAResultsFileIsRefused) { EXPECT_THROW(Summarize("[]"), std::invalid_argument); }

}  // namespace
}  // namespace pmbench::results
