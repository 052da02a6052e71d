// The pmbench subcommands. Each takes the arguments after its name, prints its own
// --help, and returns the process exit status (0 ok, 1 failed, 2 usage).
#ifndef PMBENCH_TOOLS_CLI_COMMANDS_H_
#define PMBENCH_TOOLS_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace pmbench::cli {

int DbCommand(const std::vector<std::string>& args);
int ResultsCommand(const std::vector<std::string>& args);

}  // namespace pmbench::cli

#endif  // PMBENCH_TOOLS_CLI_COMMANDS_H_
