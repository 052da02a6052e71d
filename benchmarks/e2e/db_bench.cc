// Seeding staging by COPY: rows/s at the profile's scale, with the row counts checked
// afterwards, beside a raw COPY of the same rows into bare tables (the limit).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "benchmarks/common/staging.h"
#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/seed.h"

namespace pmbench::bench {
namespace {

using stats::Bar;

// The limit: the same rows, formatted beforehand, COPYed (with FREEZE, 1 MB at a time) into
// bare copies of the tables — no keys, indexes, triggers or statistics — in one
// transaction committed with fsync: what the server's COPY alone gives here.
double RawCopySeconds(const std::string& url, const std::string& schema, const db::SeedRows& data) {
  std::vector<std::string> text;
  for (db::SeedTable t : db::kSeedTables) {
    text.emplace_back();
    data.Append(t, 0, data.RowCount(t), text.back());
  }
  const std::string raw = schema + "_raw";
  db::PgSession session(url);
  session.Exec("DROP SCHEMA IF EXISTS \"" + raw + "\" CASCADE");
  session.Exec("CREATE SCHEMA \"" + raw + "\"");
  for (db::SeedTable t : db::kSeedTables) {
    const std::string name(db::TableName(t));
    session.Exec("CREATE TABLE \"" + raw + "\"." + name + " (LIKE \"" + schema + "\"." + name + " INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED)");
  }
  const auto start = std::chrono::steady_clock::now();
  session.Exec("BEGIN");
  int64_t rows = 0;
  for (size_t i = 0; i < db::kSeedTables.size(); ++i) {
    const std::string name(db::TableName(db::kSeedTables[i]));
    session.Exec("TRUNCATE \"" + raw + "\"." + name);
    rows += CopyText(session, "COPY \"" + raw + "\"." + name + " (" + std::string(db::TableColumns(db::kSeedTables[i])) +
                                  ") FROM STDIN WITH (FREEZE)",
                     text[i]);
  }
  session.Exec("COMMIT");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  session.Exec("DROP SCHEMA \"" + raw + "\" CASCADE");
  int64_t want = 0;
  for (db::SeedTable t : db::kSeedTables) want += data.RowCount(t);
  if (rows != want) throw std::runtime_error("raw COPY loaded " + std::to_string(rows) + " of " + std::to_string(want) + " rows");
  return seconds;
}

void BM_SeedCopy(benchmark::State& state) {
  const db::SeedSpec spec{.scale = CurrentProfile().seed_scale, .seed = 42};
  const std::string schema = "bench_seed_" + std::to_string(getpid());
  std::string url;
  try {
    url = WritableStaging().direct_url;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const db::SeedRows expected(spec);
  double rows = 0, seconds = 0, raw_seconds = 0;
  for (auto _ : state) {
    try {
      const db::SeedResult r = db::Seed(url, schema, spec);
      state.SetIterationTime(r.seconds);
      rows += static_cast<double>(r.total_rows());
      seconds += r.seconds;
      state.PauseTiming();
      const auto counts = db::CountRows(url, schema);
      std::string wrong;
      for (db::SeedTable t : db::kSeedTables) {
        const std::string name(db::TableName(t));
        if (counts.at(name) != expected.RowCount(t)) {
          wrong += " " + name + " " + std::to_string(counts.at(name)) + " of " + std::to_string(expected.RowCount(t));
        }
      }
      Check(state, wrong.empty(), "row counts:" + wrong);
      raw_seconds += RawCopySeconds(url, schema, expected);  // in turn with the seed: same machine
      state.ResumeTiming();
    } catch (const std::exception& e) {
      state.SkipWithError(db::RedactSecrets(e.what()).c_str());
      break;
    }
  }
  try {
    if (db::IsSuiteSchema(url, schema)) db::DropSuiteSchema(url, schema);
  } catch (const std::exception&) {  // the run already reported what broke
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.counters["rows"] = rows / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  ReportRate(state, "rows_per_s", rows, seconds);
  const auto limit = pmbench::stats::Ratio(rows, raw_seconds);
  if (limit) state.counters["limit_rows_per_s"] = *limit;
  const auto vs_limit = pmbench::stats::Ratio(seconds > 0 ? rows / seconds : 0, limit.value_or(0));
  if (vs_limit) state.counters["rows_per_s_vs_limit"] = *vs_limit;
  // Seeding is not one of the story's SLAs (its 500 inserts/s is the bet path's:
  // queries_bench), so only our goal: the whole seed (keys, indexes, statistics included)
  // at 250k rows/s. The gate catches a slower seed.
  CheckBars(state, {Bar::Goal("rows", "rate>=250000")},
                            {{"rows", {.count = rows, .rate = pmbench::stats::Ratio(rows, seconds)}}});
}
BENCHMARK(BM_SeedCopy)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pmbench::bench
