#include "lib/votes/tally.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "lib/base/base58.h"
#include "lib/votes/gen.h"

namespace pmbench::votes {
namespace {

chain::Ed25519Key Key(uint8_t seed) {
  std::array<uint8_t, 32> s{};
  s.fill(seed);
  return chain::Ed25519Key::FromSeed(s);
}

std::string Line(const chain::Ed25519Key& key, uint64_t proposal, Choice c, uint64_t nonce, uint64_t slot) {
  Ballot b{proposal, key.public_key(), c, nonce, slot, key.Sign(SignedMessage(proposal, c, nonce))};
  return ToJsonLine(b);
}

std::string Join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

uint64_t Rejected(const TallyResult& r, Reason reason) { return r.rejected[static_cast<size_t>(reason)]; }

// The rules written as plainly as possible, to hold the fast tally to.
TallyResult ReferenceAccepted(const std::vector<Ballot>& accepted, const RejectCounts& rejected,
                              const TallyOptions& o);

TallyResult ReferenceTally(const std::vector<std::string>& lines, const TallyOptions& o) {
  std::vector<Ballot> accepted;
  RejectCounts rejected{};
  BallotParser parser;
  for (const auto& line : lines) {
    const auto b = parser.Parse(line);
    Reason reason;
    if (!b) {
      reason = Reason::kMalformed;
    } else if (b->proposal != o.proposal) {
      reason = Reason::kWrongProposal;
    } else if (b->slot < o.window_start || b->slot > o.window_end) {
      reason = Reason::kOutsideWindow;
    } else if (!VerifyBallot(*b)) {
      reason = Reason::kBadSignature;
    } else if (o.stakes && !o.stakes->Find(b->voter)) {
      reason = Reason::kNoStake;
    } else {
      accepted.push_back(*b);
      continue;
    }
    ++rejected[static_cast<size_t>(reason)];
  }
  return ReferenceAccepted(accepted, rejected, o);
}

// Rule 6 and the sums over ballots that passed rules 1-5.
TallyResult ReferenceAccepted(const std::vector<Ballot>& accepted, const RejectCounts& rejected,
                              const TallyOptions& o) {
  TallyResult r;
  r.proposal = o.proposal;
  r.rejected = rejected;
  std::map<chain::PublicKey, std::vector<Ballot>> by_voter;
  for (const Ballot& b : accepted) by_voter[b.voter].push_back(b);
  std::vector<std::vector<uint8_t>> leaves;
  for (auto& [voter, ballots] : by_voter) {
    uint64_t top = 0;
    for (const auto& b : ballots) top = std::max(top, b.nonce);
    std::set<Choice> choices;
    size_t at_top = 0;
    const Ballot* counted = nullptr;
    for (const auto& b : ballots) {
      if (b.nonce != top) continue;
      choices.insert(b.choice);
      ++at_top;
      if (!counted || std::lexicographical_compare(b.sig.begin(), b.sig.end(), counted->sig.begin(), counted->sig.end()) ||
          (b.sig == counted->sig && (b.proposal < counted->proposal ||
                                     (b.proposal == counted->proposal && b.slot < counted->slot)))) {
        counted = &b;
      }
    }
    if (choices.size() > 1) {
      r.rejected[static_cast<size_t>(Reason::kEquivocation)] += ballots.size();
      continue;
    }
    r.rejected[static_cast<size_t>(Reason::kSuperseded)] += ballots.size() - at_top;
    r.rejected[static_cast<size_t>(Reason::kDuplicate)] += at_top - 1;
    const auto c = static_cast<size_t>(counted->choice);
    ++r.counted[c];
    r.weight[c] += o.stakes ? *o.stakes->Find(voter) : 1;
    std::vector<uint8_t> leaf(voter.begin(), voter.end());
    leaf.insert(leaf.end(), counted->sig.begin(), counted->sig.end());
    leaves.push_back(leaf);
  }
  r.total_weight = r.weight[0] + r.weight[1] + r.weight[2];
  r.quorum_reached = r.total_weight >= o.quorum;
  const Uint128 yes = r.weight[0], no = r.weight[1];
  r.outcome = !r.quorum_reached ? "no_quorum" : yes * 10000 > Uint128{o.threshold_bps} * (yes + no) ? "passed" : "failed";
  std::vector<std::span<const uint8_t>> spans(leaves.begin(), leaves.end());
  r.ballots_root = chain::MerkleRoot(spans);
  return r;
}

TEST(TallyTest, EveryReasonCountedOnceInRuleOrder) {
  const auto a = Key(1), b = Key(2), c = Key(3), d = Key(4), e = Key(5);
  StakeTable stakes;
  for (const auto* k : {&a, &b, &c, &d}) stakes.Set(k->public_key(), 10);
  std::string bad_sig = Line(a, 7, Choice::kYes, 9, 100);
  bad_sig.replace(bad_sig.find("\"sig\":\"") + 8, 1, bad_sig[bad_sig.find("\"sig\":\"") + 8] == 'A' ? "B" : "A");
  const std::vector<std::string> lines = {
      "garbage",                                 // malformed
      Line(a, 8, Choice::kYes, 1, 100),          // wrong_proposal
      Line(a, 7, Choice::kYes, 1, 5),            // outside_window (window 10:1000)
      Line(a, 7, Choice::kYes, 1, 1001),         // outside_window, upper edge + 1
      bad_sig,                                   // bad_signature
      Line(e, 7, Choice::kYes, 1, 100),          // no_stake
      Line(a, 7, Choice::kNo, 1, 10),            // superseded (window edge is inclusive)
      Line(a, 7, Choice::kYes, 2, 1000),         // counted: a yes
      Line(a, 7, Choice::kYes, 2, 1000),         // duplicate
      Line(b, 7, Choice::kYes, 3, 100),          // equivocation
      Line(b, 7, Choice::kNo, 3, 100),           // equivocation
      Line(b, 7, Choice::kNo, 1, 100),           // equivocation (all of b's)
      Line(c, 7, Choice::kNo, 1, 100),           // counted: c no
      Line(d, 7, Choice::kAbstain, 4, 100),      // counted: d abstain
  };
  TallyOptions o{.proposal = 7, .window_start = 10, .window_end = 1000, .stakes = &stakes};
  const TallyResult r = TallyJsonLines(Join(lines), o);
  EXPECT_EQ(Rejected(r, Reason::kMalformed), 1u);
  EXPECT_EQ(Rejected(r, Reason::kWrongProposal), 1u);
  EXPECT_EQ(Rejected(r, Reason::kOutsideWindow), 2u);
  EXPECT_EQ(Rejected(r, Reason::kBadSignature), 1u);
  EXPECT_EQ(Rejected(r, Reason::kNoStake), 1u);
  EXPECT_EQ(Rejected(r, Reason::kSuperseded), 1u);
  EXPECT_EQ(Rejected(r, Reason::kDuplicate), 1u);
  EXPECT_EQ(Rejected(r, Reason::kEquivocation), 3u);
  EXPECT_EQ(r.counted, (std::array<uint64_t, 3>{1, 1, 1}));
  EXPECT_EQ(r.lines(), lines.size());
  EXPECT_EQ(ToDecimal(r.total_weight), "30");
  EXPECT_EQ(r.outcome, "failed");  // yes 10 vs no 10 at 50%: needs strictly more
  EXPECT_EQ(r, ReferenceTally(lines, o));
}

TEST(TallyTest, MatchesTheReferenceOnGeneratedInputs) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto g = GenerateBallots({.proposal = 9, .voters = 50, .count = 600, .seed = seed, .bad_ratio = 0.2});
    const StakeTable stakes = StakeTable::ParseCsv(g.stakes_csv);
    for (const StakeTable* s : {static_cast<const StakeTable*>(nullptr), &stakes}) {
      TallyOptions o{.proposal = 9, .window_start = kGenFirstSlot, .stakes = s, .quorum = 20, .threshold_bps = 6000};
      const TallyResult fast = TallyJsonLines(Join(g.lines), o);
      EXPECT_EQ(fast, ReferenceTally(g.lines, o)) << fast.ToJson();
      EXPECT_EQ(fast.lines(), g.lines.size());
      for (size_t r = 0; r < kReasonCount; ++r) {
        if (static_cast<Reason>(r) != Reason::kNoStake || s) {
          EXPECT_GT(fast.rejected[r], 0u) << "generator made no " << ReasonName(static_cast<Reason>(r)) << " " << fast.ToJson();
        }
      }
    }
  }
}

TEST(TallyTest, OrderOfLinesAndThreadCountDoNotMatter) {
  auto g = GenerateBallots({.proposal = 3, .voters = 40, .count = 800, .seed = 11, .bad_ratio = 0.1});
  TallyOptions o{.proposal = 3, .window_start = kGenFirstSlot, .threads = 1};
  const TallyResult first = TallyJsonLines(Join(g.lines), o);
  std::mt19937 rng(5);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(g.lines.begin(), g.lines.end(), rng);
    o.threads = 1 + round % 4;
    EXPECT_EQ(TallyJsonLines(Join(g.lines), o), first) << "round " << round;
  }
}

// The grouping on its own, where it can go wrong: voters that share their first byte,
// first 8 or first 24 bytes (one partition, one hash probe sequence), keys at 0x00 and 0xff,
// copies at the top nonce that differ only in signature or slot, nonce 0, equivocation.
TEST(TallyTest, GroupingMatchesTheReferenceOnHardKeys) {
  std::mt19937_64 rng(3);
  std::vector<chain::PublicKey> keys(300);
  for (size_t v = 0; v < keys.size(); ++v) {
    for (auto& byte : keys[v]) byte = static_cast<uint8_t>(rng());
    if (v % 3 == 0) keys[v][0] = 0x00;
    if (v % 3 == 1) keys[v][0] = 0xff;
    if (v % 5 == 0) std::copy(keys[0].begin(), keys[0].begin() + 24, keys[v].begin());  // differ in the last word
    if (v % 7 == 0) std::copy(keys[1].begin(), keys[1].begin() + 8, keys[v].begin());   // in all but the first
  }
  StakeTable stakes;
  for (size_t v = 0; v < keys.size(); ++v) stakes.Set(keys[v], v * 1000 + 1);
  for (int round = 0; round < 4; ++round) {
    std::vector<Ballot> ballots(3000 + static_cast<size_t>(round));
    for (auto& b : ballots) {
      b.proposal = 5;
      b.voter = keys[rng() % keys.size()];
      b.nonce = rng() % 3;  // many ties at the top, nonce 0 included
      b.choice = static_cast<Choice>(rng() % 8 == 0 ? rng() % 3 : b.voter[1] % 3);
      b.slot = rng() % 4;
      b.sig = {};
      for (size_t k = 0; k < 2; ++k) b.sig[k] = static_cast<uint8_t>(rng() % 2);  // copies differ in sig or slot alone
    }
    for (const StakeTable* s : {static_cast<const StakeTable*>(nullptr), static_cast<const StakeTable*>(&stakes)}) {
      const TallyOptions o{.proposal = 5, .stakes = s, .quorum = 10};
      const TallyResult want = ReferenceAccepted(ballots, {}, o);
      EXPECT_EQ(TallyAccepted(ballots, {}, o), want) << "round " << round;
      EXPECT_GT(want.rejected[static_cast<size_t>(Reason::kEquivocation)], 0u);
      EXPECT_GT(want.rejected[static_cast<size_t>(Reason::kDuplicate)], 0u);
      EXPECT_GT(want.counted[0] + want.counted[1] + want.counted[2], 50u);
      std::shuffle(ballots.begin(), ballots.end(), rng);
      TallyOptions no_root = o;
      no_root.with_root = false;
      TallyResult counted = TallyAccepted(ballots, {}, no_root);
      counted.ballots_root = want.ballots_root;
      EXPECT_EQ(counted, want) << "without the root, round " << round;
    }
  }
}

TEST(TallyTest, StakeSumsNeedAndGet128Bits) {
  StakeTable stakes;
  std::vector<std::string> lines;
  for (uint8_t k = 1; k <= 3; ++k) {
    const auto key = Key(k);
    stakes.Set(key.public_key(), UINT64_MAX);
    lines.push_back(Line(key, 1, Choice::kYes, 1, 1));
  }
  const TallyResult r = TallyJsonLines(Join(lines), {.proposal = 1, .stakes = &stakes});
  EXPECT_EQ(ToDecimal(r.weight[0]), "55340232221128654845");  // 3 * (2^64 - 1)
  EXPECT_EQ(ToDecimal(r.total_weight), "55340232221128654845");
  EXPECT_EQ(r.outcome, "passed");
  const TallyResult q = TallyJsonLines(
      Join(lines), {.proposal = 1, .stakes = &stakes, .quorum = ParseUint128("55340232221128654846")});
  EXPECT_FALSE(q.quorum_reached);
  EXPECT_EQ(q.outcome, "no_quorum");
}

TEST(TallyTest, EmptyInputIsAnEmptyTally) {
  const TallyResult r = TallyJsonLines("\n\n", {.proposal = 1});
  EXPECT_EQ(r.lines(), 0u);
  EXPECT_EQ(chain::ToHex(r.ballots_root), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_TRUE(r.quorum_reached);
  EXPECT_EQ(r.outcome, "failed");
  EXPECT_EQ(r.ToJson(),
            R"({"proposal":1,"counted":{"yes":0,"no":0,"abstain":0},"weight":{"yes":"0","no":"0","abstain":"0"},)"
            R"("total_weight":"0","quorum_reached":true,"outcome":"failed","rejected":{"malformed":0,)"
            R"("wrong_proposal":0,"outside_window":0,"bad_signature":0,"no_stake":0,"superseded":0,)"
            R"("equivocation":0,"duplicate":0},"ballots_root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})");
}

TEST(TallyTest, ThresholdIsStrictlyAbove) {
  std::vector<std::string> lines;
  for (uint8_t k = 1; k <= 10; ++k) lines.push_back(Line(Key(k), 1, k <= 6 ? Choice::kYes : Choice::kNo, 1, 1));
  lines.push_back(Line(Key(11), 1, Choice::kAbstain, 1, 1));  // abstain: quorum, not threshold
  EXPECT_EQ(TallyJsonLines(Join(lines), {.proposal = 1, .threshold_bps = 6000}).outcome, "failed");
  EXPECT_EQ(TallyJsonLines(Join(lines), {.proposal = 1, .threshold_bps = 5999}).outcome, "passed");
  EXPECT_EQ(TallyJsonLines(Join(lines), {.proposal = 1, .quorum = 11}).outcome, "passed");
  EXPECT_EQ(TallyJsonLines(Join(lines), {.proposal = 1, .quorum = 12}).outcome, "no_quorum");
}

TEST(TallyTest, RootIsOverCountedBallotsInKeyOrder) {
  const auto a = Key(1), b = Key(2);
  const std::vector<std::string> lines = {Line(a, 1, Choice::kYes, 1, 1), Line(b, 1, Choice::kNo, 1, 1)};
  const TallyResult r = TallyJsonLines(Join(lines), {.proposal = 1});
  BallotParser p;
  std::vector<Ballot> ballots = {*p.Parse(lines[0]), *p.Parse(lines[1])};
  std::sort(ballots.begin(), ballots.end(), [](const Ballot& x, const Ballot& y) { return x.voter < y.voter; });
  std::vector<std::vector<uint8_t>> leaves;
  for (const auto& x : ballots) {
    std::vector<uint8_t> leaf(x.voter.begin(), x.voter.end());
    leaf.insert(leaf.end(), x.sig.begin(), x.sig.end());
    leaves.push_back(leaf);
  }
  EXPECT_EQ(r.ballots_root, chain::MerkleRoot({leaves[0], leaves[1]}));
}

TEST(StakeTableTest, BadLinesAreNamed) {
  const std::string key = base::Base58Encode(Key(1).public_key());
  const std::string key2 = base::Base58Encode(Key(2).public_key());
  EXPECT_EQ(StakeTable::ParseCsv("voter,amount\n" + key + ",5\n\n" + key2 + ", 18446744073709551615\n").size(), 2u);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {key + ",5\nnonsense\n", "stakes line 2: expected voter,amount"},
      {key + ",-5\n", "stakes line 1: amount"},
      {key + ",18446744073709551616\n", "stakes line 1: amount"},
      {key + ",\n", "stakes line 1: amount"},
      {"abc0,5\n", "stakes line 1: voter"},
      {key + ",1\n" + key + ",2\n", "stakes line 2: voter listed twice"},
  };
  for (const auto& [text, want] : bad) {
    try {
      StakeTable::ParseCsv(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(want, 0), 0u) << e.what();
    }
  }
}

TEST(TallyTest, Uint128ParsingRejectsOverflow) {
  EXPECT_EQ(ToDecimal(ParseUint128("340282366920938463463374607431768211455")),
            "340282366920938463463374607431768211455");
  EXPECT_THROW(ParseUint128("340282366920938463463374607431768211456"), std::invalid_argument);
  EXPECT_THROW(ParseUint128("12a"), std::invalid_argument);
  EXPECT_THROW(ParseUint128(""), std::invalid_argument);
}

}  // namespace
}  // namespace pmbench::votes
