#include "lib/votes/aggregator.h"

namespace pmbench::votes {

std::optional<uint64_t> VoteAggregator::Submit(const Ballot& ballot) {
  const auto reason = Screen(ballot, options_);  // the costly part, outside the lock
  std::lock_guard lock(mu_);
  if (reason) {
    ++rejected_[static_cast<size_t>(*reason)];
    return std::nullopt;
  }
  accepted_.push_back(ballot);
  return accepted_.size() - 1;
}

void VoteAggregator::SubmitMalformed() {
  std::lock_guard lock(mu_);
  ++rejected_[static_cast<size_t>(Reason::kMalformed)];
}

VoteAggregator::Snapshot VoteAggregator::Cut() const {
  std::vector<Ballot> ballots;
  RejectCounts rejected;
  {
    std::lock_guard lock(mu_);
    ballots = accepted_;
    rejected = rejected_;
  }
  Snapshot s;
  s.accepted = ballots.size();
  s.result = TallyAccepted(ballots, rejected, options_);
  return s;
}

}  // namespace pmbench::votes
