#include "lib/votes/aggregator.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "lib/votes/gen.h"

namespace pmbench::votes {
namespace {

TEST(VoteAggregatorTest, SnapshotCountsExactlyTheBallotsAcceptedBeforeTheCut) {
  const auto g = GenerateBallots({.proposal = 4, .voters = 60, .count = 2000, .seed = 8, .bad_ratio = 0.1});
  const TallyOptions options{.proposal = 4, .window_start = kGenFirstSlot};
  VoteAggregator agg(options);

  std::vector<Ballot> log(g.lines.size());  // position -> ballot, filled by the submitters
  std::mutex log_mu;
  std::atomic<uint64_t> returned{0};  // Submit calls that have returned "accepted"
  std::atomic<bool> done{false};
  constexpr int kSubmitters = 4;
  std::vector<std::jthread> submitters;
  for (int t = 0; t < kSubmitters; ++t) {
    submitters.emplace_back([&, t] {
      BallotParser parser;
      for (size_t i = static_cast<size_t>(t); i < g.lines.size(); i += kSubmitters) {
        const auto b = parser.Parse(g.lines[i]);
        if (!b) {
          agg.SubmitMalformed();
          continue;
        }
        if (const auto pos = agg.Submit(*b)) {
          {
            std::lock_guard lock(log_mu);
            log[*pos] = *b;
          }
          ++returned;
        }
      }
    });
  }
  std::vector<VoteAggregator::Snapshot> snapshots;
  while (returned.load() < 200) std::this_thread::yield();
  for (int i = 0; i < 25; ++i) {
    const uint64_t before = returned.load();
    snapshots.push_back(agg.Cut());
    // Everything accepted before the cut is in it, nothing invented after.
    EXPECT_GE(snapshots.back().accepted, before);
  }
  submitters.clear();  // join
  const auto final_cut = agg.Cut();
  EXPECT_EQ(final_cut.result, TallyJsonLines([&] {
              std::string s;
              for (const auto& l : g.lines) s += l + "\n";
              return s;
            }(), options));
  EXPECT_EQ(final_cut.result.lines(), g.lines.size());
  // Each snapshot is the tally of exactly the first `accepted` ballots of the log.
  for (const auto& s : snapshots) {
    const std::vector<Ballot> prefix(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(s.accepted));
    const TallyResult want = TallyAccepted(prefix, {}, options);
    EXPECT_EQ(s.result.counted, want.counted);
    EXPECT_EQ(s.result.weight, want.weight);
    EXPECT_EQ(s.result.ballots_root, want.ballots_root);
  }
  EXPECT_GT(final_cut.accepted, snapshots.front().accepted);
}

}  // namespace
}  // namespace pmbench::votes
