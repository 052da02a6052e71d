// Seeding staging by COPY: rows/s at the profile's scale, with the row counts checked
// afterwards. The story's write SLA (500+ inserts/s) is the threshold.
#include <unistd.h>

#include <benchmark/benchmark.h>

#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "benchmarks/common/staging.h"
#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/seed.h"

namespace pmbench::bench {
namespace {

using stats::Bar;

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
  double rows = 0, seconds = 0;
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
  // Seeding is not one of the story's SLAs (its 500 inserts/s is the bet path's:
  // queries_bench), so only our goal: bulk load by COPY. The gate catches a slower seed.
  CheckBars(state, {Bar::Goal("rows", "rate>=100000")},
                            {{"rows", {.count = rows, .rate = pmbench::stats::Ratio(rows, seconds)}}});
}
BENCHMARK(BM_SeedCopy)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pmbench::bench
