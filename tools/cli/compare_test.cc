#include "tools/cli/compare.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pmbench::cli {
namespace {

using nlohmann::json;

json BRun(const std::string& name, double time, const std::string& unit = "ns", json extra = json::object()) {
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"real_time", time},
            {"cpu_time", time}, {"time_unit", unit}, {"iterations", 100}};
  b.update(extra);
  return b;
}

std::string File(const std::vector<json>& benchmarks, json context = json::object()) {
  return json{{"context", context}, {"benchmarks", json(benchmarks)}}.dump();
}

std::vector<json> Reps(const std::string& name, std::vector<double> times, const std::string& counter = "", double scale = 0) {
  std::vector<json> out;
  for (double t : times) {
    json extra = json::object();
    if (!counter.empty()) extra[counter] = scale / t;
    out.push_back(BRun(name, t, "ns", extra));
  }
  return out;
}

const MetricComparison& Row(const Comparison& c, const std::string& bench, const std::string& metric) {
  for (const auto& r : c.rows) {
    if (r.benchmark == bench && r.metric == metric) return r;
  }
  throw std::runtime_error("no row " + bench + " " + metric);
}

TEST(CompareTest, DirectionsFollowTheCounterNames) {
  EXPECT_EQ(DirectionOf("real_time"), -1);
  EXPECT_EQ(DirectionOf("p99_ms"), -1);
  EXPECT_EQ(DirectionOf("submit_p95_ms"), -1);
  EXPECT_EQ(DirectionOf("errors"), -1);
  EXPECT_EQ(DirectionOf("verify_floor_ratio"), -1);
  EXPECT_EQ(DirectionOf("events_per_s"), 1);
  EXPECT_EQ(DirectionOf("items_per_second"), 1);
  EXPECT_EQ(DirectionOf("success_ratio"), 1);
  EXPECT_EQ(DirectionOf("copy_vs_insert"), 1);
  EXPECT_EQ(DirectionOf("sync_accuracy"), 1);
  EXPECT_EQ(DirectionOf("samples"), 0);
  EXPECT_EQ(DirectionOf("rows"), 0);
}

TEST(CompareTest, SeparatedRepetitionsBeyondToleranceRegress) {
  const auto base = File(Reps("BM_A", {100, 101, 99, 98, 102}, "ops_per_s", 1e9));
  const auto slow = File(Reps("BM_A", {120, 121, 119, 122, 123}, "ops_per_s", 1e9));
  const Comparison c = Compare(base, slow, {});
  const auto& t = Row(c, "BM_A", "real_time");
  EXPECT_EQ(t.method, "u-exact");
  EXPECT_NEAR(t.p_value, 2.0 / 252, 1e-9);
  EXPECT_NEAR(t.change, 0.21, 1e-9);
  EXPECT_EQ(t.verdict, Verdict::kRegressed);
  EXPECT_EQ(Row(c, "BM_A", "ops_per_s").verdict, Verdict::kRegressed);  // higher is better, it fell
  EXPECT_TRUE(c.regressed());
  EXPECT_NEAR(c.time_geomean, 1.21, 1e-9);
  const Comparison back = Compare(slow, base, {});
  EXPECT_EQ(Row(back, "BM_A", "real_time").verdict, Verdict::kImproved);
  EXPECT_FALSE(back.regressed());
}

TEST(CompareTest, NoiseAndSmallChangesStayQuiet) {
  // Overlapping samples: not significant.
  EXPECT_EQ(Row(Compare(File(Reps("BM_N", {100, 130, 90, 120, 95})), File(Reps("BM_N", {105, 125, 92, 118, 99})), {}),
                "BM_N", "real_time").verdict, Verdict::kUnchanged);
  // Significant but within 5%: unchanged.
  EXPECT_EQ(Row(Compare(File(Reps("BM_S", {100, 100.5, 100.2, 100.1, 100.3})),
                        File(Reps("BM_S", {102, 102.5, 102.2, 102.1, 102.3})), {}),
                "BM_S", "real_time").verdict, Verdict::kUnchanged);
  // A noisy baseline widens the tolerance to twice its (robust) CV: 1.4826 * 15 / 100.
  const Comparison wide = Compare(File(Reps("BM_W", {70, 130, 100, 85, 115})), File(Reps("BM_W", {121, 125, 130, 128, 140})), {});
  EXPECT_GT(Row(wide, "BM_W", "real_time").tolerance, 0.3);
  EXPECT_NE(Row(wide, "BM_W", "real_time").verdict, Verdict::kRegressed);
  // Two samples a side cannot reach p < 0.05: a big change is inconclusive, not a regression.
  EXPECT_EQ(Row(Compare(File(Reps("BM_T", {100, 101})), File(Reps("BM_T", {150, 151})), {}), "BM_T", "real_time").verdict,
            Verdict::kInconclusive);
}

TEST(CompareTest, SingleSamplesUseToleranceOnlyAndSaySo) {
  const Comparison c = Compare(File({BRun("BM_1", 100), BRun("BM_2", 100)}), File({BRun("BM_1", 110), BRun("BM_2", 103)}), {});
  EXPECT_EQ(Row(c, "BM_1", "real_time").method, "tolerance-only");
  EXPECT_EQ(Row(c, "BM_1", "real_time").verdict, Verdict::kRegressed);
  EXPECT_EQ(Row(c, "BM_2", "real_time").verdict, Verdict::kUnchanged);
  EXPECT_NE(FormatText(c, false).find("1 sample a side: tolerance only"), std::string::npos);
}

TEST(CompareTest, AggregatesOnlyUseWelch) {
  auto agg = [](const std::string& name, double mean, double sd) {
    return std::vector<json>{BRun(name + "_mean", mean, "ns", {{"run_name", name}, {"run_type", "aggregate"}, {"aggregate_name", "mean"}, {"repetitions", 10}}),
                        BRun(name + "_stddev", sd, "ns", {{"run_name", name}, {"run_type", "aggregate"}, {"aggregate_name", "stddev"}, {"repetitions", 10}})};
  };
  const Comparison c = Compare(File(agg("BM_G", 100, 2)), File(agg("BM_G", 115, 2)), {});
  const auto& r = Row(c, "BM_G", "real_time");
  EXPECT_EQ(r.method, "welch");
  EXPECT_LT(r.p_value, 1e-6);
  EXPECT_EQ(r.verdict, Verdict::kRegressed);
}

TEST(CompareTest, UnitsAddedRemovedAndErrored) {
  const std::string base = File({BRun("BM_U", 1.0, "ms"), BRun("BM_Gone", 5), BRun("BM_E", 5)});
  const std::string next = File({BRun("BM_U", 1000.0, "us"), BRun("BM_New", 5),
                                 BRun("BM_E", 0, "ns", {{"error_occurred", true}, {"error_message", "boom"}})});
  const Comparison c = Compare(base, next, {});
  EXPECT_NEAR(Row(c, "BM_U", "real_time").change, 0, 1e-12);
  EXPECT_EQ(c.counts[static_cast<int>(Verdict::kRemoved)], 1);
  EXPECT_EQ(c.counts[static_cast<int>(Verdict::kAdded)], 1);
  EXPECT_EQ(c.counts[static_cast<int>(Verdict::kErrored)], 1);
  EXPECT_EQ(c.matched, 1u);
  EXPECT_EQ(Compare(File({}), File({}), {}).rows.size(), 0u);
}

TEST(CompareTest, UnusableInputIsNamed) {
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"{nope", "baseline is not JSON"}, {"[]", "not Google Benchmark JSON"}, {R"({"context":{}})", "no \"benchmarks\""}}) {
    try {
      Compare(text, File({}), {});
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(Compare(File({}), File({}), {.policy_json = "{"}), std::invalid_argument);
}

TEST(CompareTest, PolicyOverridesDirectionToleranceAndIgnores) {
  const std::string base = File(Reps("BM_P", {100, 101, 99, 100, 102}, "widgets", 1e9));
  const std::string slow = File(Reps("BM_P", {120, 121, 119, 122, 120}, "widgets", 1e9));
  EXPECT_EQ(Row(Compare(base, slow, {}), "BM_P", "widgets").verdict, Verdict::kInfo);
  const Comparison c = Compare(base, slow, {.policy_json = R"({"rules":[
      {"benchmark":"BM_P","metric":"^widgets$","direction":"higher"},
      {"benchmark":"BM_P","metric":"real_time","tolerance":0.5},
      {"metric":"cpu_time","ignore":true}]})"});
  EXPECT_EQ(Row(c, "BM_P", "widgets").verdict, Verdict::kRegressed);
  EXPECT_EQ(Row(c, "BM_P", "real_time").verdict, Verdict::kUnchanged);
  EXPECT_THROW(Row(c, "BM_P", "cpu_time"), std::runtime_error);
}

TEST(CompareTest, ContextDifferencesWarnAndDebugIsLoud) {
  const Comparison c = Compare(File({}, {{"host_name", "a"}, {"num_cpus", 2}}),
                               File({}, {{"host_name", "b"}, {"num_cpus", 2}, {"pmbench_build_type", "Debug"}}), {});
  ASSERT_GE(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0], R"(host differs: "a" vs "b")");
  bool loud = false;
  for (const auto& w : c.warnings) loud |= w.starts_with("DEBUG BUILD");
  EXPECT_TRUE(loud);
}

TEST(CompareTest, GoldenTextMarkdownAndJson) {
  const Comparison c = Compare(File({BRun("BM_X", 2), BRun("BM_Y", 1000)}), File({BRun("BM_X", 2.5), BRun("BM_Y", 1000)}), {});
  EXPECT_EQ(FormatText(c, false),
            "benchmark metric                      old          new   change        p  verdict\n"
            "BM_X      cpu_time                   2 ns       2.5 ns   +25.0%           regressed (1 sample a side: tolerance only)\n"
            "BM_X      real_time                  2 ns       2.5 ns   +25.0%           regressed (1 sample a side: tolerance only)\n"
            "BM_Y      cpu_time                   1 us         1 us    +0.0%           unchanged (1 sample a side: tolerance only)\n"
            "BM_Y      real_time                  1 us         1 us    +0.0%           unchanged (1 sample a side: tolerance only)\n"
            "2 regressed, 0 improved, 2 unchanged, 0 inconclusive, 0 added, 0 removed, 0 errored; time geomean 1.118x over 2 matched benchmarks\n");
  const std::string md = FormatMarkdown(c);
  EXPECT_NE(md.find("### :x: Benchmarks regressed"), std::string::npos);
  EXPECT_NE(md.find("| `BM_X` | real_time | 2 ns | 2.5 ns | +25.0% |  | regressed |"), std::string::npos) << md;
  EXPECT_EQ(md.find("BM_Y"), std::string::npos);  // unchanged rows stay out of the PR comment
  const json j = json::parse(FormatJson(c));
  EXPECT_EQ(j["format"], "pmbench-compare-v1");
  EXPECT_EQ(j["counts"]["regressed"], 2);
  EXPECT_TRUE(j["regressed"].get<bool>());
}

}  // namespace
}  // namespace pmbench::cli
