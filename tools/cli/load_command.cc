// pmbench load: the load tests, one file each (load_db_command.cc, load_http_command.cc, load_ws_command.cc,
// load_chain_command.cc).
#include <iostream>

#include "tools/cli/commands.h"
#include "tools/cli/flags.h"

namespace pmbench::cli {
namespace {

constexpr const char* kUsage = R"(Usage: pmbench load db|http|ws|chain [options]

  db     the platform's database requests through the pooler, open or closed model
  http   HTTP/1.1 requests (a URL or a request file) on keep-alive connections, TLS too
  ws     WebSocket subscribers of pmbench realtime serve, and what they saw
  chain  Solana transactions against an RPC: sent, confirmed, time to each commitment

Every target reports latency from each request's intended start (coordinated omission
corrected), takes k6-style --threshold bars (exit 1 when one fails) and writes Google
Benchmark JSON. Run 'pmbench load TARGET --help' for a target's options.
)";

}  // namespace

int LoadCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "db") return LoadDbCommand(rest);
  if (args[0] == "http") return LoadHttpCommand(rest);
  if (args[0] == "ws") return LoadWsCommand(rest);
  if (args[0] == "chain") return LoadChainCommand(rest);
  throw UsageError("unknown load target '" + args[0] + "' (see pmbench load --help)");
}

}  // namespace pmbench::cli
