// pmbench db migrate|seed|reset
#include <chrono>
#include <cstdio>
#include <iostream>

#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/seed.h"
#include "lib/db/staging.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench db migrate|seed|reset [options]

  migrate   create the suite's schema if needed and apply pending migrations
  seed      migrate, then replace the platform tables' rows with deterministic data (COPY)
  reset     drop the suite's schema and migrate it again (refuses a schema without the
            suite's marker table)

Options:
  --database URL          libpq URL or key=value string (default: staging's direct URL)
  --schema NAME           the suite's schema (default: pmbench)
  --scale N               seed: size multiplier (default 1: 1,000 markets, 10,000 users,
                          100,000 bets, 100 proposals, 10,000 votes)
  --seed S                seed: random seed (default 1); same scale and seed, same rows
  --allow-remote-writes   permit writing to a server that is not on loopback
)";

std::string Thousands(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), 1, ',');
  return s;
}

}  // namespace

int DbCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  const std::string action = args[0];
  if (action != "migrate" && action != "seed" && action != "reset") {
    throw UsageError("unknown db command '" + action + "' (see pmbench db --help)");
  }
  const Flags flags({args.begin() + 1, args.end()}, {"database", "schema", "scale", "seed"},
                    {"allow-remote-writes", "help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench db")) return 0;
  if (action != "seed" && (flags.Has("scale") || flags.Has("seed"))) {
    throw UsageError("--scale and --seed go with seed only");
  }
  const std::string url =
      flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().direct_url;
  const db::DatabaseTarget target = db::ParseDatabaseUrl(url);
  const std::string schema = flags.Get("schema", "pmbench");
  db::CheckSchemaName(schema);
  db::CheckWritable(target, flags.Has("allow-remote-writes"));

  if (action == "migrate") {
    const auto r = db::Migrate(url, schema);
    std::cout << "schema " << schema << " at version " << r.version << " (" << r.applied.size()
              << " applied) on " << target.Display() << "\n";
  } else if (action == "reset") {
    const auto r = db::ResetSchema(url, schema);
    std::cout << "schema " << schema << " reset to version " << r.version << " on "
              << target.Display() << "\n";
  } else {
    const db::SeedSpec spec{.scale = flags.GetDouble("scale", 1), .seed = flags.GetUint("seed", 1)};
    if (!(spec.scale > 0 && spec.scale <= 1000)) throw UsageError("--scale must be in (0, 1000]");
    std::cerr << "seeding " << schema << " on " << target.Display() << " (scale " << spec.scale
              << ", seed " << spec.seed << ")\n";
    std::string last_table;
    int last_decile = -1;
    const auto r = db::Seed(url, schema, spec, [&](std::string_view table, int64_t done, int64_t total) {
      const int decile = static_cast<int>(done * 10 / std::max<int64_t>(total, 1));
      if (table != last_table || decile != last_decile) {
        std::fprintf(stderr, "  %-10s %3d%%  %s / %s rows\n", std::string(table).c_str(),
                     decile * 10, Thousands(done).c_str(), Thousands(total).c_str());
        last_table = table;
        last_decile = decile;
      }
    });
    std::printf("seeded %s rows in %.2f s (%s rows/s) into %s\n", Thousands(r.total_rows()).c_str(),
                r.seconds, Thousands(static_cast<int64_t>(r.total_rows() / r.seconds)).c_str(),
                schema.c_str());
  }
  return 0;
}

}  // namespace pmbench::cli
