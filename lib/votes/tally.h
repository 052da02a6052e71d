// File: tally.h
//
// The vote tally: every ballot checked (rules 1-5, signatures verified on all cores), one
// vote per voter (rule 6), exact 128-bit weights, quorum and threshold, and an RFC 6962
// root over the counted ballots that anyone can recompute. The result is a pure function
// of the multiset of input lines: their order never matters.
//
//   TallyOptions opt{.proposal = 42};
//   TallyResult r = TallyJsonLines(file_contents, opt);
//   std::cout << r.ToJson();
#ifndef PMBENCH_VOTES_TALLY_H_
#define PMBENCH_VOTES_TALLY_H_

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lib/chain/merkle.h"
#include "lib/stats/uint128.h"
#include "lib/votes/ballot.h"

namespace pmbench::votes {

using stats::ParseUint128;
using stats::ToDecimal;
using stats::Uint128;

enum class Reason : uint8_t {
  kMalformed, kWrongProposal, kOutsideWindow, kBadSignature, kNoStake,
  kSuperseded, kEquivocation, kDuplicate
};
inline constexpr size_t kReasonCount = 8;
std::string_view ReasonName(Reason r);
using RejectCounts = std::array<uint64_t, kReasonCount>;

class StakeTable {
 public:
  // CSV "voter,amount" (base58 key, u64), an optional header line "voter,amount", blank
  // lines ignored. Throws std::invalid_argument naming the first bad line.
  static StakeTable ParseCsv(std::string_view text);
  void Set(const chain::PublicKey& voter, uint64_t amount) { stakes_[voter] = amount; }
  std::optional<uint64_t> Find(const chain::PublicKey& voter) const;
  size_t size() const { return stakes_.size(); }

 private:
  struct KeyHash {
    size_t operator()(const chain::PublicKey& k) const;
  };
  std::unordered_map<chain::PublicKey, uint64_t, KeyHash> stakes_;
};

struct TallyOptions {
  uint64_t proposal = 0;
  uint64_t window_start = 0;  // inclusive slot window
  uint64_t window_end = std::numeric_limits<uint64_t>::max();
  const StakeTable* stakes = nullptr;  // null: equal weights, 1 per counted voter
  Uint128 quorum = 0;
  uint32_t threshold_bps = 5000;
  int threads = 0;          // 0: all cores
  bool with_root = true;    // false only to measure counting alone
};

struct TallyResult {
  uint64_t proposal = 0;
  std::array<uint64_t, 3> counted{};  // by Choice
  std::array<Uint128, 3> weight{};
  Uint128 total_weight = 0;
  bool quorum_reached = false;
  std::string outcome;  // "passed", "failed" or "no_quorum"
  RejectCounts rejected{};
  chain::Hash256 ballots_root{};

  // Every input line is counted once, as a vote or under one reason.
  uint64_t lines() const;
  std::string ToJson() const;
  friend bool operator==(const TallyResult&, const TallyResult&) = default;
};

// Rules 2-5 for a parsed ballot: nullopt when it passes.
std::optional<Reason> Screen(const Ballot& b, const TallyOptions& options);

// Rule 6, weights, quorum, outcome and root over ballots that passed rules 1-5.
TallyResult TallyAccepted(std::span<const Ballot> accepted, const RejectCounts& rejected,
                          const TallyOptions& options);

// The whole tally of JSONL text. Blank lines are not ballots.
TallyResult TallyJsonLines(std::string_view text, const TallyOptions& options);

}  // namespace pmbench::votes

#endif  // PMBENCH_VOTES_TALLY_H_
