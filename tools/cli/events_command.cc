// pmbench events gen | pmbench ingest [verify]
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/staging.h"
#include "lib/events/gen.h"
#include "lib/events/ingest.h"
#include "lib/events/notification.h"
#include "lib/events/verify.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

std::string GenUsage() {
  return R"(Usage: pmbench events gen [options]

Writes deterministic logsNotification lines (one JSON-RPC message per line, as Solana's
logsSubscribe delivers them) for the platform program: markets created first, then bets
(most), votes, claims and resolutions; at the given ratios, re-deliveries, out-of-order
windows, malformed lines of each kind, failed transactions and foreign programs' data.

  --count N              lines (default 10000)
  --markets M            markets created (default 100)
  --seed S               random seed (default 1)
  --dup-ratio R          re-delivered lines (default 0)
  --reorder-window W     shuffle within windows of W lines (default 0: in slot order)
  --malformed-ratio R    bad lines (default 0)
  --failed-tx-ratio R    transactions with err != null (default 0)
  --foreign-ratio R      nested CPIs into another program that logs data (default 0)
  --program ID           the platform program id (default )" + events::DefaultProgramId() + R"()
  --output FILE          default: stdout
)";
}

constexpr const char* kIngestUsage = R"(Usage: pmbench ingest --input FILE|- [options]
       pmbench ingest verify --input FILE [options]

ingest   decodes the lines' platform events and writes them to the database in batches,
         exactly once: each event's identity (signature, event_index) is a unique key,
         and a checkpoint is written in each batch's transaction. Progress on stderr when
         it is a terminal; a JSON summary on stdout.
verify   recomputes from the input what the database must hold and compares; prints a
         JSON report with sync_accuracy and exits 1 on any difference.

  --database URL         default: staging's direct URL
  --schema NAME          the suite's schema (default: pmbench)
  --program ID           the platform program id (default: pmbench events gen's)
  --sink insert|multirow|copy   (default copy)
  --batch-size N         flush at N rows (default 1000)
  --linger-ms T          ... or T ms after the batch's first line (default 50)
  --queue N              lines buffered between reader and writer (default 10000)
  --give-up-after S      seconds of lost connection before exiting 1 (default 30)
  --resume               skip the lines the checkpoint says are done
  --source NAME          the checkpoint's name (default: the input path)
  --allow-remote-writes  permit writing to a server that is not on loopback
)";

std::unique_ptr<std::istream> OpenInput(const std::string& path) {
  if (path == "-") return std::make_unique<std::istream>(std::cin.rdbuf());
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) throw UsageError("cannot read " + path);
  return in;
}

events::Pubkey ProgramFrom(const Flags& flags) {
  if (!flags.Has("program")) return events::DefaultProgram();
  const auto p = events::ParseProgramId(flags.Get("program", ""));
  if (!p) throw UsageError("--program must be a base58 32-byte id");
  return *p;
}

double Ratio(const Flags& flags, const std::string& name) {
  const double r = flags.GetDouble(name, 0);
  if (!(r >= 0 && r <= 1)) throw UsageError("--" + name + " is a ratio from 0 to 1");
  return r;
}

}  // namespace

int EventsCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, GenUsage().c_str())) return *status;
  if (args[0] != "gen") throw UsageError("unknown events command '" + args[0] + "' (see pmbench events --help)");
  const Flags flags({args.begin() + 1, args.end()},
                    {"count", "markets", "seed", "dup-ratio", "reorder-window", "malformed-ratio",
                     "failed-tx-ratio", "foreign-ratio", "program", "output"},
                    {"help"});
  if (flags.Has("help")) {
    std::cout << GenUsage();
    return 0;
  }
  events::EventGenSpec spec{.count = flags.GetUint("count", 10000),
                            .markets = flags.GetUint("markets", 100),
                            .seed = flags.GetUint("seed", 1),
                            .dup_ratio = Ratio(flags, "dup-ratio"),
                            .reorder_window = flags.GetUint("reorder-window", 0),
                            .malformed_ratio = Ratio(flags, "malformed-ratio"),
                            .failed_tx_ratio = Ratio(flags, "failed-tx-ratio"),
                            .foreign_ratio = Ratio(flags, "foreign-ratio"),
                            .program = flags.Get("program", "")};
  if (spec.markets == 0) throw UsageError("--markets must be at least 1");
  if (flags.Has("program")) ProgramFrom(flags);
  std::string text;
  for (const auto& line : events::GenerateNotifications(spec)) text += line + "\n";
  if (flags.Has("output")) {
    WriteFileAtomically(flags.Get("output", ""), text);
  } else {
    std::cout << text;
  }
  return 0;
}

int IngestCommand(const std::vector<std::string>& args) {
  const bool verify = !args.empty() && args[0] == "verify";
  const Flags flags({args.begin() + (verify ? 1 : 0), args.end()},
                    {"input", "database", "schema", "program", "sink", "batch-size", "linger-ms", "queue",
                     "give-up-after", "source"},
                    {"resume", "allow-remote-writes", "help"});
  if (flags.Has("help") || (!args.empty() && (args[0] == "-h"))) {
    std::cout << kIngestUsage;
    return 0;
  }
  if (!flags.positional().empty()) {
    throw UsageError("unexpected argument '" + flags.positional()[0] + "' (see pmbench ingest --help)");
  }
  if (!flags.Has("input")) throw UsageError("ingest needs --input FILE|- (see pmbench ingest --help)");
  const std::string input = flags.Get("input", "");
  const std::string url = flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().direct_url;
  const db::DatabaseTarget target = db::ParseDatabaseUrl(url);
  const std::string schema = flags.Get("schema", "pmbench");
  db::CheckSchemaName(schema);
  const events::Pubkey program = ProgramFrom(flags);
  auto in = OpenInput(input);

  if (verify) {
    std::vector<std::string> lines;
    for (std::string line; std::getline(*in, line);) lines.push_back(line);
    const events::VerifyReport r = events::Verify(lines, program, url, schema);
    std::cout << r.ToJson() << "\n";
    return r.ok() ? 0 : 1;
  }

  const auto sink = events::ParseSinkKind(flags.Get("sink", "copy"));
  if (!sink) throw UsageError("--sink is insert, multirow or copy");
  const uint64_t batch = flags.GetUint("batch-size", 1000);
  if (batch == 0 || batch > 1'000'000) throw UsageError("--batch-size must be 1 to 1,000,000");
  const uint64_t linger = flags.GetUint("linger-ms", 50);
  if (linger > 60'000) throw UsageError("--linger-ms: at most 60000");
  db::CheckWritable(target, flags.Has("allow-remote-writes"));
  db::Migrate(url, schema);
  const bool tty = isatty(STDERR_FILENO);
  const events::IngestSummary sum = events::Ingest(
      [&](std::string& line, events::Clock::time_point& arrival) {
        if (!std::getline(*in, line)) return false;
        arrival = events::Clock::now();
        return true;
      },
      {.url = url,
       .schema = schema,
       .source = flags.Get("source", input),
       .sink = *sink,
       .batch_size = batch,
       .linger_ms = static_cast<int>(linger),
       .queue = flags.GetUint("queue", 10000),
       .give_up_after_s = flags.GetDouble("give-up-after", 30),
       .resume = flags.Has("resume"),
       .program = program,
       .on_progress =
           [&](const events::IngestSummary& s) {
             if (tty) {
               std::fprintf(stderr, "\ringest: %llu lines, %llu applied, %.0f events/s   ",
                            static_cast<unsigned long long>(s.read), static_cast<unsigned long long>(s.applied),
                            s.elapsed_s > 0 ? static_cast<double>(s.events) / s.elapsed_s : 0.0);
             }
           }});
  if (tty) std::fprintf(stderr, "\n");
  std::cout << sum.ToJson() << "\n";
  return 0;
}

}  // namespace pmbench::cli
