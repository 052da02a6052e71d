// File: flags.h
//
// The CLI's option parser: --name VALUE, --name=VALUE, boolean --name, positionals.
// Unknown options are usage errors, which main() turns into exit status 2.
#ifndef PMBENCH_TOOLS_CLI_FLAGS_H_
#define PMBENCH_TOOLS_CLI_FLAGS_H_

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pmbench::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Flags {
 public:
  // `with_value` and `booleans` list the options the command takes, without "--".
  Flags(const std::vector<std::string>& args, const std::set<std::string>& with_value,
        const std::set<std::string>& booleans);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // Every value of an option given more than once (Get returns the last).
  std::vector<std::string> GetAll(const std::string& name) const;

  // Parses a number or throws UsageError naming the option.
  double GetDouble(const std::string& name, double fallback) const;
  uint64_t GetUint(const std::string& name, uint64_t fallback) const;

 private:
  template <typename T>
  T GetNumber(const std::string& name, T fallback, const char* what) const;

  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_;
  std::vector<std::string> positional_;
};

// A TCP port (0..65535) given to option --`name`; UsageError naming both otherwise.
uint16_t ParsePort(const std::string& name, const std::string& text);

// Reads a whole file; UsageError("cannot read PATH") when it cannot (exit status 2).
std::string ReadFileOrFail(const std::string& path);
// Writes a whole file through a temporary and a rename, so a reader never sees half of it;
// std::runtime_error naming the path (a full disk, a read-only folder) on failure.
void WriteFileAtomically(const std::string& path, const std::string& text);

// For a command that takes options only: prints `usage` and returns true for --help (or a
// lone -h); throws UsageError naming `command`'s --help for any other argument.
bool PrintedHelpOrRejectedArguments(const Flags& flags, std::string_view usage, std::string_view command);

}  // namespace pmbench::cli

#endif  // PMBENCH_TOOLS_CLI_FLAGS_H_
