// pmbench votes tally|gen|load
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "lib/db/database_url.h"
#include "lib/db/staging.h"
#include "lib/votes/db_ballots.h"
#include "lib/votes/gen.h"
#include "lib/votes/tally.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench votes tally|gen|load [options]

  tally   check and count the ballots of one proposal; prints the result as JSON
            --input FILE|-        JSONL ballots (- for stdin), or
            --database URL        the ballots in <schema>.votes (streamed)
            --schema NAME         with --database (default: pmbench)
            --proposal ID         the proposal tallied (required)
            --window START:END    inclusive slot window (default: all)
            --quorum W            minimum total weight, abstain included (default 0)
            --threshold BPS       passed when yes*10000 > BPS*(yes+no) (default 5000)
            --weights equal|stake equal: 1 per voter (default); stake: from --stakes
            --stakes FILE         CSV voter,amount
            --threads N           verifying threads (default: all cores)
  gen     write deterministic signed ballots (JSONL) with re-votes, copies,
          equivocations and bad lines
            --proposal ID --voters V --count N --seed S   (defaults 1, 1000, 10000, 1)
            --bad RATIO           share of bad lines, each kind in turn (default 0)
            --output FILE         default: stdout
            --stakes FILE         also write the matching stake table
  load    append a JSONL file's ballots to <schema>.votes on staging (or --database URL)
            --input FILE|-  --database URL  --schema NAME  --allow-remote-writes

Exit status: 0 whatever the outcome; 2 for usage errors and unreadable files; 1 when the
database fails. A bad ballot is never an error: it is counted under its reason.
)";

std::string ReadInput(const std::string& path) {
  if (path == "-") {
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  }
  return ReadFileOrFail(path);
}

votes::TallyOptions TallyOptionsFrom(const Flags& flags) {
  votes::TallyOptions o;
  if (!flags.Has("proposal")) throw UsageError("tally needs --proposal ID");
  o.proposal = flags.GetUint("proposal", 0);
  if (flags.Has("window")) {
    const std::string w = flags.Get("window", "");
    const size_t colon = w.find(':');
    if (colon == std::string::npos) throw UsageError("--window takes START:END, not '" + w + "'");
    const Flags parts({"--a", w.substr(0, colon), "--b", w.substr(colon + 1)}, {"a", "b"}, {});
    o.window_start = parts.GetUint("a", 0);
    o.window_end = parts.GetUint("b", 0);
    if (o.window_start > o.window_end) throw UsageError("--window START must not exceed END");
  }
  if (flags.Has("quorum")) {
    try {
      o.quorum = votes::ParseUint128(flags.Get("quorum", ""));
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--quorum: ") + e.what());
    }
  }
  const uint64_t bps = flags.GetUint("threshold", 5000);
  if (bps > 10000) throw UsageError("--threshold is in basis points: 0 to 10000");
  o.threshold_bps = static_cast<uint32_t>(bps);
  const uint64_t threads = flags.GetUint("threads", 0);
  if (threads > 1024) throw UsageError("--threads: at most 1024");
  o.threads = static_cast<int>(threads);
  return o;
}

int Tally(const Flags& flags) {
  votes::TallyOptions options = TallyOptionsFrom(flags);
  const std::string weights = flags.Get("weights", "equal");
  votes::StakeTable stakes;
  if (weights == "stake") {
    if (!flags.Has("stakes")) throw UsageError("--weights stake needs --stakes FILE");
    try {
      stakes = votes::StakeTable::ParseCsv(ReadInput(flags.Get("stakes", "")));
    } catch (const std::invalid_argument& e) {
      throw UsageError(flags.Get("stakes", "") + ": " + e.what());
    }
    options.stakes = &stakes;
  } else if (weights != "equal") {
    throw UsageError("--weights is equal or stake, not '" + weights + "'");
  } else if (flags.Has("stakes")) {
    throw UsageError("--stakes goes with --weights stake");
  }
  if (flags.Has("input") == flags.Has("database")) {
    throw UsageError("tally needs exactly one of --input FILE and --database URL");
  }
  votes::TallyResult result;
  if (flags.Has("input")) {
    result = votes::TallyJsonLines(ReadInput(flags.Get("input", "")), options);
  } else {
    const std::string url = flags.Get("database", "");
    db::ParseDatabaseUrl(url);  // a bad URL is named before any work
    result = votes::TallyFromDatabase(url, flags.Get("schema", "pmbench"), options);
  }
  std::cout << result.ToJson() << "\n";
  return 0;
}

int Gen(const Flags& flags) {
  const votes::GenSpec spec{.proposal = flags.GetUint("proposal", 1),
                            .voters = flags.GetUint("voters", 1000),
                            .count = flags.GetUint("count", 10000),
                            .seed = flags.GetUint("seed", 1),
                            .bad_ratio = flags.GetDouble("bad", 0)};
  if (spec.voters == 0) throw UsageError("--voters must be at least 1");
  if (!(spec.bad_ratio >= 0 && spec.bad_ratio <= 1)) throw UsageError("--bad is a ratio from 0 to 1");
  if (spec.count > 100'000'000) throw UsageError("--count: at most 100,000,000");
  std::cerr << "generating " << spec.count << " ballots of " << spec.voters << " voters (Ed25519-signed)\n";
  const votes::GeneratedBallots g = votes::GenerateBallots(spec);
  std::string text;
  for (const auto& line : g.lines) text += line + "\n";
  if (flags.Has("output")) {
    WriteFileAtomically(flags.Get("output", ""), text);
  } else {
    std::cout << text;
  }
  if (flags.Has("stakes")) WriteFileAtomically(flags.Get("stakes", ""), g.stakes_csv);
  std::cerr << "out-of-window ballots carry slot 0; tally with --window " << votes::kGenFirstSlot
            << ":" << UINT64_MAX << " to reject them\n";
  return 0;
}

int Load(const Flags& flags) {
  if (!flags.Has("input")) throw UsageError("load needs --input FILE|-");
  const std::string text = ReadInput(flags.Get("input", ""));
  const std::string url =
      flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().direct_url;
  const db::DatabaseTarget target = db::ParseDatabaseUrl(url);
  db::CheckWritable(target, flags.Has("allow-remote-writes"));
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) lines.emplace_back(text.data() + pos, end - pos);
    pos = end + 1;
  }
  const std::string schema = flags.Get("schema", "pmbench");
  const votes::LoadResult r = votes::LoadBallots(url, schema, lines);
  std::cout << "loaded " << r.loaded << " ballots into " << schema << ".votes on " << target.Display()
            << " (" << r.malformed << " malformed lines skipped)\n";
  return 0;
}

}  // namespace

int VotesCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  const Flags flags({args.begin() + 1, args.end()},
                    {"input", "database", "schema", "proposal", "window", "quorum", "threshold",
                     "weights", "stakes", "threads", "voters", "count", "seed", "bad", "output"},
                    {"allow-remote-writes", "help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench votes")) return 0;
  if (args[0] == "tally") return Tally(flags);
  if (args[0] == "gen") return Gen(flags);
  if (args[0] == "load") return Load(flags);
  throw UsageError("unknown votes command '" + args[0] + "' (see pmbench votes --help)");
}

}  // namespace pmbench::cli
