// File: aggregator.h
//
// Accepts ballots from many threads while snapshots are tallied: a snapshot counts exactly
// the ballots accepted before it was cut. Signatures are verified outside the lock, so
// submitters verify in parallel and a cut waits only for an append.
//
//   VoteAggregator agg({.proposal = 42});
//   agg.Submit(ballot);                    // any thread
//   VoteAggregator::Snapshot s = agg.Cut();   // s.result over s.accepted ballots
#ifndef PMBENCH_VOTES_AGGREGATOR_H_
#define PMBENCH_VOTES_AGGREGATOR_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "lib/votes/tally.h"

namespace pmbench::votes {

class VoteAggregator {
 public:
  explicit VoteAggregator(const TallyOptions& options) : options_(options) {}

  // Screens the ballot (rules 2-5) and records it. Returns its position in the accepted
  // log, or nullopt when it was rejected (and counted under its reason).
  std::optional<uint64_t> Submit(const Ballot& ballot);
  // A line that did not parse.
  void SubmitMalformed();

  struct Snapshot {
    uint64_t accepted = 0;  // the ballots at positions [0, accepted) are in `result`
    TallyResult result;
  };
  Snapshot Cut() const;

 private:
  const TallyOptions options_;
  mutable std::mutex mu_;
  std::vector<Ballot> accepted_;
  RejectCounts rejected_{};
};

}  // namespace pmbench::votes

#endif  // PMBENCH_VOTES_AGGREGATOR_H_
