#include "lib/events/carrier.h"

#include "lib/base/base64.h"
#include "lib/chain/programs.h"

namespace pmbench::events {

std::string MemoText(const Event& e) { return std::string(kMemoEventPrefix) + base::Base64Encode(EncodeEvent(e)); }

// Market creation and votes move no stake; a zero-lamport transfer still makes the
// transaction mention the treasury, which is what the listener subscribes to.
std::vector<chain::Instruction> MemoCarrier::CreateMarket(const chain::PublicKey& creator, const MarketCreated& e) const {
  return {chain::SystemTransfer(creator, treasury_, 0), chain::Memo(MemoText(e))};
}

std::vector<chain::Instruction> MemoCarrier::PlaceBet(const chain::PublicKey& bettor, const BetPlaced& e) const {
  return {chain::SystemTransfer(bettor, treasury_, e.amount), chain::Memo(MemoText(e))};
}

std::vector<chain::Instruction> MemoCarrier::CastVote(const chain::PublicKey& voter, const VoteCast& e) const {
  return {chain::SystemTransfer(voter, treasury_, 0), chain::Memo(MemoText(e))};
}

std::vector<chain::Instruction> MemoCarrier::ResolveMarket(const chain::PublicKey& resolver, const MarketResolved& e) const {
  return {chain::SystemTransfer(resolver, treasury_, 0), chain::Memo(MemoText(e))};
}

// The payout would come out of escrow; the stand-in moves nothing for it.
std::vector<chain::Instruction> MemoCarrier::ClaimWinnings(const chain::PublicKey& bettor, const WinningsClaimed& e) const {
  return {chain::SystemTransfer(bettor, treasury_, 0), chain::Memo(MemoText(e))};
}

}  // namespace pmbench::events
