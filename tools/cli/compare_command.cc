// pmbench compare BASELINE CONTENDER
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "tools/cli/commands.h"
#include "tools/cli/compare.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench compare BASELINE.json CONTENDER.json [options]
       tools/compare results/baseline.json results/latest.json

Compares two Google Benchmark JSON files (repetitions, aggregates only, errors all fine),
benchmark by benchmark, on real_time, cpu_time and every user counter. A metric regressed
when the change is significant (Mann-Whitney U on repetitions, Welch's t on aggregates) and
worse than the tolerance, max(--threshold, 2 x the baseline's coefficient of variation,
estimated robustly as 1.4826 x MAD / median so one stalled run cannot hide a regression).
With one sample a side only the tolerance decides, and the row says so.

  --format text|markdown|json   (default text; colour only on a terminal, NO_COLOR respected)
  --alpha A                     significance level (default 0.05)
  --threshold T                 smallest change that matters (default 0.05 = 5%)
  --policy FILE                 per-benchmark rules: {"rules":[{"benchmark":"re","metric":"re",
                                "direction":"lower|higher|none","tolerance":0.1,"ignore":true}]}
                                (tools/compare uses results/policy.json when present)
  --output FILE                 write there instead of stdout

Exit status: 0 no regression, 1 a regression, 2 unusable input.
)";

}  // namespace

int CompareCommand(const std::vector<std::string>& args) {
  const Flags flags(args, {"format", "alpha", "threshold", "policy", "output"}, {"help"});
  if (flags.Has("help") || (!args.empty() && args[0] == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.positional().size() != 2) throw UsageError("compare takes BASELINE and CONTENDER (see pmbench compare --help)");
  CompareOptions options;
  options.alpha = flags.GetDouble("alpha", 0.05);
  options.threshold = flags.GetDouble("threshold", 0.05);
  if (!(options.alpha > 0 && options.alpha < 1)) throw UsageError("--alpha must be in (0, 1)");
  if (!(options.threshold >= 0)) throw UsageError("--threshold must be >= 0");
  if (flags.Has("policy")) options.policy_json = ReadFileOrFail(flags.Get("policy", ""));
  const std::string format = flags.Get("format", "text");
  if (format != "text" && format != "markdown" && format != "json") throw UsageError("--format is text, markdown or json");
  Comparison c;
  try {
    c = Compare(ReadFileOrFail(flags.positional()[0]), ReadFileOrFail(flags.positional()[1]), options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const bool to_terminal = !flags.Has("output") && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
  const std::string text = format == "json" ? FormatJson(c) : format == "markdown" ? FormatMarkdown(c) : FormatText(c, to_terminal);
  if (flags.Has("output")) {
    WriteFileAtomically(flags.Get("output", ""), text);
  } else {
    std::cout << text;
  }
  return c.regressed() ? 1 : 0;
}

}  // namespace pmbench::cli
