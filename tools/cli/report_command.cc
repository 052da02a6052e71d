// pmbench report: the HTML report, or results/BASELINE.md with --markdown.
#include <iostream>

#include "lib/results/html_report.h"
#include "lib/results/markdown_report.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench report LATEST.json [--baseline BASELINE.json] [--history H.jsonl] -o REPORT.html
       pmbench report --markdown BASELINE.json -o BASELINE.md

Writes one self-contained HTML page (inline SVG, no scripts, fonts or network): the
verdict first (the story's SLAs, what failed, goals), then charts (baseline vs latest,
trends over the history, latency percentiles, the listener's sinks, vote tallies), then
every bar and every benchmark.

--markdown writes the committed results/BASELINE.md instead: the figures the README
quotes, generated from the baseline (a test fails when the committed file is stale).
)";

}  // namespace

int ReportCommand(const std::vector<std::string>& args) {
  std::vector<std::string> a = args;
  for (auto& x : a) {
    if (x == "-o") x = "--output";
  }
  const Flags flags(a, {"baseline", "history", "output"}, {"help", "markdown"});
  if (flags.Has("help") || (!args.empty() && args[0] == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.positional().size() != 1 || !flags.Has("output")) throw UsageError("report takes one results file and -o FILE (see --help)");
  if (flags.Has("markdown") && (flags.Has("baseline") || flags.Has("history"))) {
    throw UsageError("--markdown takes the baseline alone");
  }
  const std::string input = flags.positional()[0];
  const std::string text = ReadFileOrFail(input);
  std::string out;
  try {
    if (flags.Has("markdown")) {
      // Named as the reader knows it: results/baseline.json, wherever it is run from.
      out = results::BaselineMarkdown(text, input.ends_with("results/baseline.json") ? "results/baseline.json" : input);
    } else {
      out = results::HtmlReport(text, {.baseline = flags.Has("baseline") ? ReadFileOrFail(flags.Get("baseline", "")) : "",
                                       .history = flags.Has("history") ? ReadFileOrFail(flags.Get("history", "")) : ""});
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  WriteFileAtomically(flags.Get("output", ""), out);
  return 0;
}

}  // namespace pmbench::cli
