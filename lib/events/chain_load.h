// File: chain_load.h
//
// The platform's on-chain load, for the load engine: bets, market creations and votes as
// signed transactions (through a PlatformProgram: locally the memo carrier), sent and
// confirmed by chain::TxSender, reported per kind — sent, confirmed, failed by reason,
// time to each commitment level, re-sends and re-signs. Used by `pmbench load chain` and
// the chain benchmarks.
//
//   auto w = ChainWorkload::Prepare({.rpc = {.endpoints = {url}}});   // funds its wallets
//   LoadSpec spec{.start = 100.0 / 60, .stages = {{60, 100.0 / 60}}, .clients = 200,
//                 .mix = w->Mix({{"bets", 8}, {"markets", 1}, {"votes", 1}})};
//   LoadResult r = RunLoad(spec, w->Clients());
//   for (const ChainKindReport& k : w->Reports()) ...
#ifndef PMBENCH_EVENTS_CHAIN_LOAD_H_
#define PMBENCH_EVENTS_CHAIN_LOAD_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/chain/rpc.h"
#include "lib/chain/sender.h"
#include "lib/events/anchor.h"
#include "lib/load/engine.h"

namespace pmbench::events {

// One transaction's outcome, for a caller that follows each (click-to-screen timing).
struct ChainTxRecord {
  std::string kind;       // the mix entry's name
  std::string signature;  // the last one signed (empty when it never was)
  bool ok = false;
  int64_t sent_ns = 0;       // CLOCK_REALTIME when the request was handed to the sender
  int64_t confirmed_ns = 0;  // CLOCK_REALTIME when the sender saw its commitment reached; 0: never
  uint64_t market_id = 0;    // bets, markets, resolutions, claims
  uint8_t side = 0;          // bets: 0 no, 1 yes
  uint64_t amount = 0;       // bets
};

struct ChainLoadOptions {
  chain::RpcOptions rpc;
  chain::SenderOptions sender;
  std::string keypair_path;   // pay from this wallet (Solana CLI file); empty: fresh wallets
  int wallets = 4;            // fresh wallets, airdropped; transactions spread over them
  double airdrop_sol = 10;    // per fresh wallet
  Pubkey treasury{};          // the memo carrier's escrow stand-in; zero: DefaultProgram()
  uint64_t markets = 50;      // bets, resolutions and claims draw from first_market + 0..markets-1
  uint64_t first_market = 1;
  uint64_t proposals = 10;
  uint64_t seed = 1;
  // Each client signs with wallet (client index % wallets): a closed-model user keeps its
  // identity for the whole run. Otherwise requests spread over the wallets in turn.
  bool wallet_per_client = false;
  // Every transaction's outcome, from the sender's threads.
  std::function<void(const ChainTxRecord&)> on_outcome;
  std::function<void(const std::string&)> say;  // progress while preparing
};

struct ChainKindReport {
  std::string name;
  int64_t submitted = 0, confirmed = 0, failed = 0, resends = 0, resigns = 0;
  std::map<std::string, int64_t> reasons;  // failure reason -> count
  // From the first accepted send until each level was seen.
  stats::LatencyHistogram processed, confirmed_at, finalized;
  // When each failed transaction was handed to the sender.
  std::vector<std::chrono::steady_clock::time_point> failed_starts;
  // confirmed / submitted; nothing when nothing was submitted.
  std::optional<double> success_ratio() const {
    if (submitted == 0) return std::nullopt;
    return static_cast<double>(confirmed) / static_cast<double>(submitted);
  }
  // The times to `commitment` (processed, confirmed, finalized).
  const stats::LatencyHistogram& AtCommitment(const std::string& commitment) const;
};

// What a latency bar on the kind must read: its times to `commitment`, plus every
// transaction that never reached it at the run's deadline — failed ones from when they
// were sent, dropped and unfinished ones (the engine's `unanswered`) from their intended
// start. A run cannot pass p(99) by losing its slowest transactions.
stats::LatencyHistogram ToCommitmentWithLosses(const ChainKindReport& k, const std::string& commitment,
                                               const load::KindResult& engine, std::chrono::steady_clock::time_point deadline);

class ChainWorkload {
 public:
  // Connects, funds the wallets and the treasury, and waits for that to confirm. Throws
  // std::runtime_error naming what is missing (an unreachable RPC, a wallet without funds).
  static std::unique_ptr<ChainWorkload> Prepare(ChainLoadOptions options);
  ~ChainWorkload();

  // Kinds "bets", "markets" (creations), "votes", "approvals" (yes votes on proposals),
  // "resolutions" (market i + first_market resolved yes) and "claims" with their weights,
  // in the order given; throws std::invalid_argument for another name.
  std::vector<load::RequestKind> Mix(const std::vector<std::pair<std::string, double>>& weights);
  // One client per in-flight transaction (they hold no connection); the mix from Mix().
  load::ClientFactory Clients();

  // Waits for every submitted transaction's outcome, at most timeout_s.
  void Drain(double timeout_s);
  std::vector<ChainKindReport> Reports() const;
  chain::RpcStats RpcStats() const;
  chain::SenderStats SenderStats() const;
  const Pubkey& treasury() const;
  chain::RpcClient& rpc();
  // Signatures of the confirmed bets (for checking a listener's database against).
  std::vector<std::string> ConfirmedBetSignatures() const;

 private:
  ChainWorkload();
  friend class ChainClient;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "bets:8,markets:1,votes:1" -> weights; throws std::invalid_argument naming the problem.
std::vector<std::pair<std::string, double>> ParseChainMix(const std::string& text);

}  // namespace pmbench::events

#endif  // PMBENCH_EVENTS_CHAIN_LOAD_H_
