#include "lib/results/scoreboard.h"

#include <cmath>
#include <cstdio>

namespace pmbench::results {
namespace {

struct Figure {
  const char* benchmark;  // a run name's prefix
  const char* metric;
  const char* label;      // printf format of the value, e.g. "p95 %.3g ms"
  double scale = 1;       // applied before printing (real_time is in ns)
};

struct Criterion {
  const char* id;
  const char* title;
  std::vector<const char*> families;  // benchmark name prefixes (after ShortName)
  std::vector<Figure> figures;
};

const std::vector<Criterion>& Criteria() {
  static const std::vector<Criterion> kCriteria = {
      {"AC2",
       "Database: 1,000+ concurrent queries, p95 < 100 ms",
       {"BM_MarketsQuery", "BM_MarketsThroughput", "BM_BetsInsert", "BM_BetsThroughput", "BM_Dashboard", "BM_PeakMix",
        "BM_IndexEffect", "BM_Leaderboard", "BM_VsPgbench"},
       {{"BM_MarketsQuery", "clients", "BM_MarketsQuery: %.0f clients"},
        {"BM_MarketsQuery", "p95_ms", "p95 %.3g ms"},
        {"BM_PeakMix", "p95_ms", "BM_PeakMix p95 %.3g ms"},
        {"BM_BetsThroughput", "achieved_requests_per_s", "BM_BetsThroughput %.0f bets/s"}}},
      {"AC3",
       "Transactions: 100 bets/min, success > 99%, confirmation < 5 s",
       {"BM_ChainStory", "BM_ChainFaults", "BM_ChainActions", "BM_ChainMaxRate"},
       {{"BM_ChainStory", "success_ratio", "BM_ChainStory success %.4g"},
        {"BM_ChainStory", "confirm_mean_ms", "confirmation mean %.0f ms"},
        {"BM_ChainFaults", "success_ratio", "BM_ChainFaults success %.4g"}}},
      {"AC4",
       "Real time: 500+ WebSocket connections, update p95 < 200 ms, nothing lost",
       {"BM_WsFanout", "BM_WsReconnectStorm"},
       {{"BM_WsFanout/conns:0/churn:0", "connections", "BM_WsFanout: %.0f connections"},
        {"BM_WsFanout/conns:0/churn:0", "p95_ms", "update p95 %.3g ms"},
        {"BM_WsFanout/conns:0/churn:0", "lost", "lost %.0f"}}},
      {"AC5",
       "Event listener: 1,000 events/min, 100% sync, latency < 1 s",
       {"BM_IngestSink", "BM_IngestAtStoryRate", "BM_BacklogDrain", "BM_IngestThroughFaults"},
       {{"BM_IngestAtStoryRate", "mean_ms", "BM_IngestAtStoryRate mean %.3g ms"},
        {"BM_IngestAtStoryRate", "sync_accuracy", "sync %.4g"},
        {"BM_BacklogDrain/1000", "real_time", "1,000-event backlog in %.3g s", 1e-9}}},
      {"AC6",
       "Vote aggregation: 10,000 votes in < 10 s",
       {"BM_TallyFromDatabase", "BM_TallyWhileArriving", "BM_SqlGroupBy"},
       {{"BM_TallyFromDatabase", "real_time", "BM_TallyFromDatabase %.3g s", 1e-9},
        {"BM_TallyWhileArriving/100", "submit_p99_ms", "ballots at 100/s: submit p99 %.3g ms"}}},
  };
  return kCriteria;
}

bool StartsWith(const std::string& s, const char* prefix) {
  const std::string p = prefix;
  // "BM_WsFanout" must not take "BM_WsFanoutX": a prefix ends the name or a path part.
  return s.rfind(p, 0) == 0 && (s.size() == p.size() || s[p.size()] == '/' || s[p.size()] == '<');
}

}  // namespace

const char* StatusName(ScoreRow::Status s) {
  switch (s) {
    case ScoreRow::Status::kPass: return "PASS";
    case ScoreRow::Status::kFail: return "FAIL";
    case ScoreRow::Status::kNotRun: return "NOT RUN";
  }
  return "?";
}

std::string AcceptanceCriterionOf(const std::string& run_name) {
  const std::string name = ShortName(run_name);
  for (const Criterion& c : Criteria()) {
    for (const char* f : c.families) {
      if (StartsWith(name, f)) return c.id;
    }
  }
  return "";
}

std::vector<KeyFigure> KeyFigures() {
  std::vector<KeyFigure> out;
  for (const Criterion& c : Criteria()) {
    for (const Figure& f : c.figures) out.push_back({f.benchmark, f.metric});
  }
  return out;
}

bool HasPrefix(const std::string& run_name, const std::string& prefix) { return StartsWith(ShortName(run_name), prefix.c_str()); }

std::vector<ScoreRow> Scoreboard(const ResultsFile& results) {
  std::vector<ScoreRow> rows;
  for (const Criterion& c : Criteria()) {
    ScoreRow row{c.id, c.title, ScoreRow::Status::kNotRun, {}, {}};
    bool ran = false;
    for (const BenchmarkRuns& b : results.benchmarks()) {
      if (AcceptanceCriterionOf(b.run_name) != c.id) continue;
      ran = true;
      // A failed threshold is listed below with its bar; other errors (a wrong result, an
      // exception) only here.
      if (b.errored > 0 && !results.ErrorIsAFailedBar(b)) {
        row.failures.push_back(ShortName(b.run_name) + " errored in " + std::to_string(b.errored) + " of " +
                               std::to_string(b.runs()) + " repetitions: " + b.error);
      }
    }
    for (const BarVerdict& bar : results.bars()) {
      if (!bar.threshold || bar.pass || AcceptanceCriterionOf(bar.run_name) != c.id) continue;
      row.failures.push_back(ShortName(bar.run_name) + " " + bar.message +
                             (bar.runs > 1 ? " (failed in " + std::to_string(bar.failures) + " of " + std::to_string(bar.runs) + ")" : ""));
    }
    for (const Figure& f : c.figures) {
      for (const BenchmarkRuns& b : results.benchmarks()) {
        if (!StartsWith(ShortName(b.run_name), f.benchmark)) continue;
        if (const auto v = b.Median(f.metric)) {
          char text[160];
          std::snprintf(text, sizeof text, f.label, *v * f.scale);
          row.figures.push_back(text);
        }
        break;
      }
    }
    row.status = !ran ? ScoreRow::Status::kNotRun
                 : row.failures.empty() ? ScoreRow::Status::kPass
                                        : ScoreRow::Status::kFail;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pmbench::results
