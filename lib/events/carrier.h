// File: carrier.h
//
// How the platform's actions become instructions. The platform's Anchor program cannot be
// built here (no SBF toolchain), so the local stand-in is MemoCarrier: a System transfer
// of the stake to the platform's treasury (standing for the program's escrow accounts)
// plus a Memo "pmevt:<base64 of the exact Anchor event bytes>". The runtime really moves
// the lamports and logs the memo, and the listener decodes it with --carrier memo. The
// real program's instructions replace it behind the same interface.
//
//   MemoCarrier carrier(treasury);
//   std::vector<chain::Instruction> ixs = carrier.PlaceBet(bettor, BetPlaced{...});
#ifndef PMBENCH_EVENTS_CARRIER_H_
#define PMBENCH_EVENTS_CARRIER_H_

#include <string>
#include <string_view>
#include <vector>

#include "lib/chain/transaction.h"
#include "lib/events/anchor.h"

namespace pmbench::events {

inline constexpr std::string_view kMemoEventPrefix = "pmevt:";

class PlatformProgram {
 public:
  virtual ~PlatformProgram() = default;
  virtual std::vector<chain::Instruction> CreateMarket(const chain::PublicKey& creator, const MarketCreated& e) const = 0;
  virtual std::vector<chain::Instruction> PlaceBet(const chain::PublicKey& bettor, const BetPlaced& e) const = 0;
  virtual std::vector<chain::Instruction> CastVote(const chain::PublicKey& voter, const VoteCast& e) const = 0;
  virtual std::vector<chain::Instruction> ResolveMarket(const chain::PublicKey& resolver, const MarketResolved& e) const = 0;
  virtual std::vector<chain::Instruction> ClaimWinnings(const chain::PublicKey& bettor, const WinningsClaimed& e) const = 0;
  // Every platform transaction mentions it: the listener's logsSubscribe filter.
  virtual const chain::PublicKey& address() const = 0;
};

class MemoCarrier final : public PlatformProgram {
 public:
  // `treasury` must hold the rent-exempt minimum before the first bet (fund it once).
  explicit MemoCarrier(const chain::PublicKey& treasury) : treasury_(treasury) {}
  std::vector<chain::Instruction> CreateMarket(const chain::PublicKey& creator, const MarketCreated& e) const override;
  std::vector<chain::Instruction> PlaceBet(const chain::PublicKey& bettor, const BetPlaced& e) const override;
  std::vector<chain::Instruction> CastVote(const chain::PublicKey& voter, const VoteCast& e) const override;
  std::vector<chain::Instruction> ResolveMarket(const chain::PublicKey& resolver, const MarketResolved& e) const override;
  std::vector<chain::Instruction> ClaimWinnings(const chain::PublicKey& bettor, const WinningsClaimed& e) const override;
  const chain::PublicKey& address() const override { return treasury_; }

 private:
  chain::PublicKey treasury_;
};

// "pmevt:" + base64 of EncodeEvent(e).
std::string MemoText(const Event& e);

}  // namespace pmbench::events

#endif  // PMBENCH_EVENTS_CARRIER_H_
