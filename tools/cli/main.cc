// pmbench: the one command-line tool. tools/pmbench builds and runs it.
#include <iostream>
#include <string>
#include <vector>

#include "lib/db/database_url.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace {

constexpr const char* kUsage = R"(Usage: pmbench COMMAND [ARGS...]

A performance lab for the prediction-market platform.

Commands:
  db migrate|seed|reset   the suite's schema and data on staging (or --database URL)
  results merge|summary   combine bench JSON into results/latest.json; print its summary
  votes tally|gen|load    verified, deterministic tally of signed ballots
  events gen              Solana logsNotification lines of the platform's program
  ingest [verify]         the event listener: decode and batch into PostgreSQL, exactly once
  realtime serve          the WebSocket fan-out of live odds
  api serve               the platform's HTTP JSON API (markets, bets, dashboard), cached
  load db|http|ws|chain   load tests: database, HTTP, WebSocket subscribers, Solana transactions
  scenario run|list       the story's Scenarios 1-4: the whole platform at once, click to screen
  exporter pgbouncer      pgbouncer's pools and stats as Prometheus metrics
  monitoring panels|alerts  the dashboard's queries against Prometheus; Alertmanager's alerts
  compare BASE NEW        did a change make benchmarks slower? (statistics, exit 1 on regression)
  report LATEST -o HTML   a self-contained HTML report of a run (and its baseline)

Run 'pmbench COMMAND --help' for a command's options. The main jobs are tools/bench
and tools/test; see README.md.
)";

// Errors are one line: libpq's messages come with newlines and tabs.
std::string OneLine(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c != ' ' || (!out.empty() && out.back() != ' ')) out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  try {
    if (command == "db") return pmbench::cli::DbCommand(args);
    if (command == "results") return pmbench::cli::ResultsCommand(args);
    if (command == "votes") return pmbench::cli::VotesCommand(args);
    if (command == "events") return pmbench::cli::EventsCommand(args);
    if (command == "ingest") return pmbench::cli::IngestCommand(args);
    if (command == "compare") return pmbench::cli::CompareCommand(args);
    if (command == "report") return pmbench::cli::ReportCommand(args);
    if (command == "load") return pmbench::cli::LoadCommand(args);
    if (command == "api") return pmbench::cli::ApiCommand(args);
    if (command == "realtime") return pmbench::cli::RealtimeCommand(args);
    if (command == "scenario") return pmbench::cli::ScenarioCommand(args);
    if (command == "exporter") return pmbench::cli::ExporterCommand(args);
    if (command == "monitoring") return pmbench::cli::MonitoringCommand(args);
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return 0;
    }
    throw pmbench::cli::UsageError("unknown command '" + command + "' (see pmbench --help)");
  } catch (const pmbench::cli::UsageError& e) {
    std::cerr << "pmbench: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "pmbench: " << OneLine(pmbench::db::RedactSecrets(e.what())) << "\n";
    return 1;
  }
}
