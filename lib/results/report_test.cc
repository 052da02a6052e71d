#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lib/results/history.h"
#include "lib/results/html_report.h"
#include "lib/results/markdown_report.h"
#include "lib/results/merge.h"

namespace pmbench::results {
namespace {

using nlohmann::json;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json BenchRun(const std::string& name, double time, json extra = json::object()) {
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"real_time", time},
            {"cpu_time", time}, {"time_unit", "ns"}, {"iterations", 1}};
  b.update(extra);
  return b;
}

std::string Results(const std::string& commit, double p95, bool fail = false) {
  const json benchmarks = json::array({BenchRun("BM_MarketsQuery/iterations:1/manual_time", 1e9, {{"p95_ms", p95}, {"clients", 1000}}),
                                       BenchRun("BM_Weird<script>", 5)});
  const json bars = json::array({{{"run_name", "BM_MarketsQuery/iterations:1/manual_time"}, {"kind", "threshold"},
                                  {"metric", "latency"}, {"expression", "p(95)<100ms"}, {"pass", !fail}, {"measured", p95},
                                  {"message", "latency p(95)=" + std::to_string(p95) + "ms, want <100ms"}}});
  const json doc = {{"context", {{"date", "2026-12-01"}}}, {"benchmarks", benchmarks}};
  return MergeResults({{"queries_bench", doc.dump(), bars.dump()}}, {commit, "default", "Release", "", {}, {}});
}

TEST(HtmlReportTest, OpensWithTheVerdictAndNeedsNoNetwork) {
  const std::string html = HtmlReport(Results("c2", 120, true), {.baseline = Results("c1", 10)});
  const size_t verdict = html.find("Verdict: FAIL"), charts = html.find("Baseline vs latest"),
               tables = html.find("Every benchmark");
  ASSERT_NE(verdict, std::string::npos);
  ASSERT_NE(charts, std::string::npos);
  ASSERT_NE(tables, std::string::npos);
  EXPECT_LT(verdict, charts);
  EXPECT_LT(charts, tables);
  EXPECT_NE(html.find("AC2"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // escaped, and none of our own
  for (const char* fetch : {"src=", "href=", "<link", "@import", "url("}) {
    EXPECT_EQ(html.find(fetch), std::string::npos) << fetch;  // nothing is fetched
  }
  EXPECT_NE(HtmlReport(Results("c1", 10)).find("Verdict: PASS"), std::string::npos);
}

TEST(HtmlReportTest, DrawsTrendsFromTheHistory) {
  const std::string history = HistoryLine(Results("c1", 10)) + "\n" + HistoryLine(Results("c2", 12)) + "\n";
  const auto points = ReadHistory(history);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[1].commit, "c2");
  EXPECT_EQ(points[1].metrics.at("BM_MarketsQuery").at("p95_ms"), 12);
  const std::string html = HtmlReport(Results("c2", 12), {.history = history});
  EXPECT_NE(html.find("Trends (2 commits)"), std::string::npos);
  EXPECT_NE(html.find("BM_MarketsQuery p95_ms"), std::string::npos);
  EXPECT_THROW(ReadHistory("{\"commit\":1}\n"), std::invalid_argument);
}

TEST(BaselineMarkdownTest, IsDeterministicAndShowsRanges) {
  json benchmarks = json::array({BenchRun("BM_SeedCopy/iterations:1/manual_time", 1.2e9, {{"rows_per_s", 90000}, {"rows", 131100}}),
                                 BenchRun("BM_SeedCopy/iterations:1/manual_time", 1.4e9, {{"rows_per_s", 80000}, {"rows", 131100}}),
                                 BenchRun("BM_SeedCopy/iterations:1/manual_time", 1.1e9, {{"rows_per_s", 100000}, {"rows", 131100}})});
  const std::string r = MergeResults({{"db_bench", json{{"context", {{"date", "d"}}}, {"benchmarks", benchmarks}}.dump(), ""}},
                                     {"c1", "default", "Release", "", {0.1, 0.2, 0.3}, {1, 1, 1}});
  const std::string md = BaselineMarkdown(r, "results/baseline.json");
  EXPECT_EQ(md, BaselineMarkdown(r, "results/baseline.json"));
  EXPECT_NE(md.find("| `BM_SeedCopy` | 1.2s (1.1s–1.4s) | rows_per_s 90000 (80000–100000) |"), std::string::npos) << md;
  EXPECT_EQ(md.find("131100"), std::string::npos);  // the run's size is not a headline
  EXPECT_NE(md.find("load average 0.10 / 0.20 / 0.30 before the run"), std::string::npos) << md;
}

// The committed results/BASELINE.md is what the committed baseline produces: the README's
// figures come from a run, and editing either alone fails here.
TEST(BaselineMarkdownTest, CommittedFileMatchesTheCommittedBaseline) {
  const std::string root = PMBENCH_SOURCE_DIR;
  const std::string want = BaselineMarkdown(Read(root + "/results/baseline.json"), "results/baseline.json");
  const std::string have = Read(root + "/results/BASELINE.md");
  EXPECT_TRUE(have == want) << "results/BASELINE.md is stale: run tools/report --markdown results/baseline.json -o "
                               "results/BASELINE.md";
}

}  // namespace
}  // namespace pmbench::results
