#include "lib/results/compare.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pmbench::results {
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

TEST(CompareTest, ThreeAgainstThreeSlowerWithoutOverlapIsFlagged) {
  // The issue's case: +20% real_time, 3 repetitions a side, no overlap. Two-sided, the
  // smallest p of 3 and 3 is 0.1; one-sided in the known direction, 0.05.
  const Comparison c = Compare(File(Reps("BM_A", {100, 102, 101})), File(Reps("BM_A", {120, 122, 121})), {});
  const auto& t = Row(c, "BM_A", "real_time");
  EXPECT_EQ(t.method, "u");
  EXPECT_NEAR(t.p_value, 0.05, 1e-12);
  EXPECT_EQ(t.verdict, Verdict::kRegressed);
  EXPECT_EQ(c.ExitCode(), 1);
  // The other way round it improved, and improving fails nothing.
  const Comparison back = Compare(File(Reps("BM_A", {120, 122, 121})), File(Reps("BM_A", {100, 102, 101})), {});
  EXPECT_EQ(Row(back, "BM_A", "real_time").verdict, Verdict::kImproved);
  EXPECT_EQ(back.ExitCode(), 0);
}

TEST(CompareTest, DirectionDecidesWhichWayIsWorse) {
  const auto base = File(Reps("BM_A", {100, 101, 99, 98, 102}, "ops_per_s", 1e9));
  const auto slow = File(Reps("BM_A", {120, 121, 119, 122, 123}, "ops_per_s", 1e9));
  const Comparison c = Compare(base, slow, {});
  EXPECT_NEAR(Row(c, "BM_A", "real_time").p_value, 1.0 / 252, 1e-12);
  EXPECT_EQ(Row(c, "BM_A", "ops_per_s").verdict, Verdict::kRegressed);  // higher is better, it fell
  EXPECT_NEAR(c.time_geomean, 1.21, 1e-9);
}

TEST(CompareTest, NoiseAndSmallChangesStayQuiet) {
  // Overlapping samples: not significant.
  EXPECT_EQ(Row(Compare(File(Reps("BM_N", {100, 130, 90, 120, 95})), File(Reps("BM_N", {103, 125, 92, 118, 99})), {}),
                "BM_N", "real_time").verdict, Verdict::kUnchanged);
  // Significant but within 5%: unchanged.
  EXPECT_EQ(Row(Compare(File(Reps("BM_S", {100, 100.5, 100.2, 100.1, 100.3})),
                        File(Reps("BM_S", {102, 102.5, 102.2, 102.1, 102.3})), {}),
                "BM_S", "real_time").verdict, Verdict::kUnchanged);
  // With --noise-factor 2, noisy repetitions widen the tolerance to twice their robust
  // spread; one stalled run does not (1.4826 x MAD, not the standard deviation).
  const Comparison wide = Compare(File(Reps("BM_W", {70, 130, 100, 85, 115})), File(Reps("BM_W", {121, 125, 130, 128, 140})),
                                  {.noise_factor = 2});
  EXPECT_GT(Row(wide, "BM_W", "real_time").tolerance, 0.3);
  EXPECT_NE(Row(wide, "BM_W", "real_time").verdict, Verdict::kRegressed);
  EXPECT_EQ(Row(Compare(File(Reps("BM_W", {70, 130, 100, 85, 115})), File(Reps("BM_W", {121, 125, 130, 128, 140})), {}),
                "BM_W", "real_time").tolerance, 0.05);
  const Comparison stall = Compare(File(Reps("BM_X", {100, 101, 300, 99, 100})), File(Reps("BM_X", {110, 111, 109, 112, 110})),
                                   {.noise_factor = 2});
  EXPECT_LT(Row(stall, "BM_X", "real_time").tolerance, 0.06);
}

TEST(CompareTest, UndecidableRowsSayHowManyRepetitionsWould) {
  // Two samples a side cannot reach 0.05: a big change is inconclusive, with the count
  // that could decide it.
  const Comparison two = Compare(File(Reps("BM_T", {100, 101})), File(Reps("BM_T", {150, 151})), {});
  const auto& t = Row(two, "BM_T", "real_time");
  EXPECT_EQ(t.verdict, Verdict::kInconclusive);
  EXPECT_EQ(t.repetitions_needed, 3);
  EXPECT_NE(FormatText(two).find("inconclusive (3 repetitions a side would decide)"), std::string::npos) << FormatText(two);
  const std::string brief = FormatText(two, {.brief = true});
  EXPECT_EQ(brief.find("BM_T"), std::string::npos) << brief;
  EXPECT_NE(brief.find("2 inconclusive rows not listed"), std::string::npos) << brief;
  // One sample a side: the tolerance alone never flags; the row asks for repetitions.
  const Comparison one = Compare(File({BRun("BM_1", 100)}), File({BRun("BM_1", 130)}), {});
  EXPECT_EQ(Row(one, "BM_1", "real_time").verdict, Verdict::kInconclusive);
  EXPECT_EQ(Row(one, "BM_1", "real_time").repetitions_needed, 3);
  EXPECT_EQ(one.ExitCode(), 0);
  // One repetition that did not slow down hides the shift from 3 a side: more are asked for.
  const Comparison noisy = Compare(File(Reps("BM_Z", {100, 101, 99})), File(Reps("BM_Z", {130, 98, 131})), {});
  const auto& z = Row(noisy, "BM_Z", "real_time");
  EXPECT_EQ(z.verdict, Verdict::kInconclusive);
  EXPECT_GT(z.repetitions_needed, 3);
}

TEST(CompareTest, AggregatesOnlyUseOneSidedWelch) {
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

TEST(CompareTest, ErroredOrVanishedInNewIsBroken) {
  const std::string base = File({BRun("BM_U", 1.0, "ms"), BRun("BM_Gone", 5), BRun("BM_E", 5), BRun("BM_Fixed", 5, "ns",
                                 {{"error_occurred", true}, {"error_message", "was broken"}})});
  const std::string next = File({BRun("BM_U", 1000.0, "us"), BRun("BM_New", 5), BRun("BM_Fixed", 5),
                                 BRun("BM_E", 0, "ns", {{"error_occurred", true}, {"error_message", "boom"}})});
  const Comparison c = Compare(base, next, {});
  EXPECT_NEAR(Row(c, "BM_U", "real_time").change, 0, 1e-12);
  EXPECT_EQ(c.count(Verdict::kRemoved), 1);
  EXPECT_EQ(c.count(Verdict::kAdded), 1);
  EXPECT_EQ(c.count(Verdict::kErrored), 2);  // BM_E in NEW, BM_Fixed in BASE only
  EXPECT_EQ(Row(c, "BM_E", "").note, "errored in 1 of 1 NEW repetitions: boom");
  EXPECT_TRUE(c.broken());
  EXPECT_EQ(c.ExitCode(), 3);
  const std::string text = FormatText(c);
  EXPECT_EQ(text.rfind("BROKEN", 0), 0u) << text;
  EXPECT_NE(text.find("BM_Gone"), std::string::npos);
  // Only the errored-in-BASE one: nothing NEW broke.
  EXPECT_FALSE(Compare(File({BRun("BM_F", 5, "ns", {{"error_occurred", true}})}), File({BRun("BM_F", 5)}), {}).broken());
}

TEST(CompareTest, OneErroredRepetitionOfThreeBreaksTheBenchmark) {
  std::vector<json> next = Reps("BM_R", {100, 101});
  next.push_back(BRun("BM_R", 0, "ns", {{"error_occurred", true}, {"error_message", "threshold failed"}}));
  const Comparison c = Compare(File(Reps("BM_R", {100, 101, 102})), File(next), {});
  EXPECT_EQ(Row(c, "BM_R", "").verdict, Verdict::kErrored);
  EXPECT_EQ(c.ExitCode(), 3);
}

TEST(CompareTest, LostMetricIsBrokenAndUnknownIsNotJudged) {
  const Comparison c = Compare(File(Reps("BM_M", {100, 101, 102}, "p95_ms", 1e3)), File(Reps("BM_M", {100, 101, 102})), {});
  EXPECT_EQ(Row(c, "BM_M", "p95_ms").verdict, Verdict::kMissing);
  EXPECT_EQ(c.ExitCode(), 3);
  const Comparison u = Compare(File(Reps("BM_W", {100, 101, 99}, "widgets", 1e9)), File(Reps("BM_W", {150, 151, 149}, "widgets", 1e9)), {});
  EXPECT_EQ(Row(u, "BM_W", "widgets").verdict, Verdict::kNotJudged);
  EXPECT_EQ(u.count(Verdict::kNotJudged), 1);
  EXPECT_NE(FormatText(u).find("not judged"), std::string::npos);
  // The size of a run is shown, never judged.
  const Comparison info = Compare(File(Reps("BM_I", {100, 101, 99}, "samples", 1e9)), File(Reps("BM_I", {150, 151, 149}, "samples", 1e9)), {});
  EXPECT_EQ(Row(info, "BM_I", "samples").verdict, Verdict::kInfo);
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
  EXPECT_EQ(Row(Compare(base, slow, {}), "BM_P", "widgets").verdict, Verdict::kNotJudged);
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
  const Comparison c = Compare(File({Reps("BM_X", {2, 2.01, 2.02})[0], Reps("BM_X", {2, 2.01, 2.02})[1],
                                     Reps("BM_X", {2, 2.01, 2.02})[2], BRun("BM_Y", 1000)}),
                               File({BRun("BM_X", 2.5), BRun("BM_X", 2.51), BRun("BM_X", 2.52), BRun("BM_Y", 1000)}), {});
  EXPECT_EQ(FormatText(c),
            "REGRESSED: 2 metric(s)\n"
            "benchmark metric                          old          new   change        p   noise  verdict\n"
            "BM_X      cpu_time                    2.01 ns      2.51 ns   +24.9%     0.05    0.7%  regressed\n"
            "BM_X      real_time                   2.01 ns      2.51 ns   +24.9%     0.05    0.7%  regressed\n"
            "2 regressed, 0 improved, 2 unchanged, 0 inconclusive, 0 not judged, 0 added, 0 removed, 0 errored, 0 missing; "
            "time geomean 1.117x over 2 matched benchmarks\n");
  const std::string md = FormatMarkdown(c);
  EXPECT_NE(md.find("### :x: Benchmarks regressed"), std::string::npos);
  EXPECT_NE(md.find("| `BM_X` | real_time | 2.01 ns | 2.51 ns | +24.9% | 0.05 | 0.7% | regressed |"), std::string::npos) << md;
  EXPECT_EQ(md.find("BM_Y"), std::string::npos);  // unchanged rows stay out of the PR comment
  const json j = json::parse(FormatJson(c));
  EXPECT_EQ(j["format"], "pmbench-compare-v2");
  EXPECT_EQ(j["counts"]["regressed"], 2);
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_TRUE(j["regressed"].get<bool>());
  EXPECT_NE(FormatText(c, {.all_rows = true}).find("BM_Y"), std::string::npos);
}

}  // namespace
}  // namespace pmbench::results
