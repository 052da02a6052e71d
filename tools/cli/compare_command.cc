// pmbench compare BASELINE CONTENDER
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "lib/results/compare.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench compare BASELINE.json CONTENDER.json [options]
       tools/compare results/baseline.json results/latest.json

Compares two Google Benchmark JSON files (repetitions, aggregates only, errors all fine),
benchmark by benchmark, on real_time, cpu_time and every user counter, each in the
direction its name gives (benchmarks/README.md). A metric regressed when both hold:
  - the one-sided Mann-Whitney U test (exact, ties included) says the contender is worse
    at p <= --alpha; Welch's one-sided t when a file holds aggregates only. One-sided
    because the direction is known: 3 repetitions a side can then decide at 0.05;
  - the median moved the wrong way by more than the tolerance, max(--threshold,
    --noise-factor x the noise), the noise being the robust spread (1.4826 x MAD) of both
    sides' repetitions around their medians, relative to the baseline.
A change past the tolerance that the samples cannot decide is inconclusive, and the row
says how many repetitions a side would. Shown: what regressed, broke, is not judged or
moved; --all shows every row.

  --format text|markdown|json   (default text; colour only on a terminal, NO_COLOR respected)
  --alpha A                     one-sided significance level per metric (default 0.05)
  --threshold T                 smallest change that matters (default 0.05 = 5%)
  --noise-factor K              the change must exceed K x the noise too (default 2)
  --policy FILE                 per-benchmark rules: {"rules":[{"benchmark":"re","metric":"re",
                                "direction":"lower|higher|none","tolerance":0.1,"ignore":true}]}
                                (tools/compare uses results/policy.json when present)
  --all                         text: every row, unchanged ones too
  --brief                       text: inconclusive rows counted, not listed
  --output FILE                 write there instead of stdout

Exit status: 0 no regression; 1 a metric regressed; 2 unusable input; 3 broken: a
benchmark errored (in any repetition) or vanished in CONTENDER, or a matched benchmark
lost a metric (3 wins over 1).
)";

}  // namespace

int CompareCommand(const std::vector<std::string>& args) {
  const Flags flags(args, {"format", "alpha", "threshold", "noise-factor", "policy", "output"}, {"help", "all", "brief"});
  if (flags.Has("help") || (!args.empty() && args[0] == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.positional().size() != 2) throw UsageError("compare takes BASELINE and CONTENDER (see pmbench compare --help)");
  results::CompareOptions options;
  options.alpha = flags.GetDouble("alpha", 0.05);
  options.threshold = flags.GetDouble("threshold", 0.05);
  options.noise_factor = flags.GetDouble("noise-factor", 2);
  if (!(options.alpha > 0 && options.alpha < 1)) throw UsageError("--alpha must be in (0, 1)");
  if (!(options.threshold >= 0)) throw UsageError("--threshold must be >= 0");
  if (!(options.noise_factor >= 0)) throw UsageError("--noise-factor must be >= 0");
  if (flags.Has("policy")) options.policy_json = ReadFileOrFail(flags.Get("policy", ""));
  const std::string format = flags.Get("format", "text");
  if (format != "text" && format != "markdown" && format != "json") throw UsageError("--format is text, markdown or json");
  results::Comparison c;
  try {
    c = results::Compare(ReadFileOrFail(flags.positional()[0]), ReadFileOrFail(flags.positional()[1]), options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const bool to_terminal = !flags.Has("output") && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
  const std::string text = format == "json"       ? results::FormatJson(c)
                           : format == "markdown" ? results::FormatMarkdown(c)
                                                  : results::FormatText(c, {.color = to_terminal, .all_rows = flags.Has("all"), .brief = flags.Has("brief")});
  if (flags.Has("output")) {
    WriteFileAtomically(flags.Get("output", ""), text);
  } else {
    std::cout << text;
  }
  return c.ExitCode();
}

}  // namespace pmbench::cli
