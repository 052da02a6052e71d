// The pmbench subcommands. Each takes the arguments after its name, prints its own
// --help, and returns the process exit status (0 ok, 1 failed, 2 usage).
#ifndef PMBENCH_TOOLS_CLI_COMMANDS_H_
#define PMBENCH_TOOLS_CLI_COMMANDS_H_

#include <optional>
#include <string>
#include <vector>

namespace pmbench::cli {

// For a command with actions: prints the usage and returns 0 for --help, 2 when no action
// was given; nullopt otherwise.
std::optional<int> HelpOrMissingAction(const std::vector<std::string>& args, const char* usage);

int DbCommand(const std::vector<std::string>& args);
int ResultsCommand(const std::vector<std::string>& args);
int VotesCommand(const std::vector<std::string>& args);
int EventsCommand(const std::vector<std::string>& args);
int IngestCommand(const std::vector<std::string>& args);
int CompareCommand(const std::vector<std::string>& args);
int ReportCommand(const std::vector<std::string>& args);
int LoadCommand(const std::vector<std::string>& args);
int LoadDbCommand(const std::vector<std::string>& args);
int LoadHttpCommand(const std::vector<std::string>& args);
int LoadWsCommand(const std::vector<std::string>& args);
int LoadChainCommand(const std::vector<std::string>& args);
int ApiCommand(const std::vector<std::string>& args);
int RealtimeCommand(const std::vector<std::string>& args);
int ScenarioCommand(const std::vector<std::string>& args);
int ExporterCommand(const std::vector<std::string>& args);
int MonitoringCommand(const std::vector<std::string>& args);

}  // namespace pmbench::cli

#endif  // PMBENCH_TOOLS_CLI_COMMANDS_H_
