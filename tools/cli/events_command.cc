// pmbench events gen: deterministic notification lines of the platform's program.
#include <iostream>

#include "lib/events/gen.h"
#include "lib/events/notification.h"
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
  if (flags.Has("program") && !events::ParseProgramId(spec.program)) {
    throw UsageError("--program must be a base58 32-byte id");
  }
  std::string text;
  for (const auto& line : events::GenerateNotifications(spec)) text += line + "\n";
  if (flags.Has("output")) {
    WriteFileAtomically(flags.Get("output", ""), text);
  } else {
    std::cout << text;
  }
  return 0;
}

}  // namespace pmbench::cli
