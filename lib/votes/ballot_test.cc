#include "lib/votes/ballot.h"

#include <gtest/gtest.h>

#include "lib/base/base58.h"

namespace pmbench::votes {
namespace {

Ballot Signed(uint64_t proposal, Choice c, uint64_t nonce, uint64_t slot, uint8_t seed = 1) {
  std::array<uint8_t, 32> s{};
  s.fill(seed);
  const auto key = chain::Ed25519Key::FromSeed(s);
  Ballot b{proposal, key.public_key(), c, nonce, slot, {}};
  b.sig = key.Sign(SignedMessage(proposal, c, nonce));
  return b;
}

TEST(BallotTest, SignedMessageIsTheDocumentedText) {
  EXPECT_EQ(SignedMessage(42, Choice::kYes, 7), "pmvote:v1:42:yes:7");
  EXPECT_EQ(SignedMessage(0, Choice::kAbstain, 18446744073709551615u),
            "pmvote:v1:0:abstain:18446744073709551615");
}

TEST(BallotTest, JsonLineRoundTripsAndVerifies) {
  BallotParser parser;
  const Ballot b = Signed(42, Choice::kNo, 7, 123456);
  const auto parsed = parser.Parse(ToJsonLine(b));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, b);
  EXPECT_TRUE(VerifyBallot(*parsed));
  // Field order and unknown fields do not matter; whitespace is JSON's business.
  const std::string reordered = "{ \"sig\":\"" + base::Base58Encode(b.sig) + "\", \"slot\":123456, "
                                "\"nonce\":7, \"note\":[1,2], \"choice\":\"no\", \"voter\":\"" +
                                base::Base58Encode(b.voter) + "\", \"proposal\":42 }";
  EXPECT_EQ(parser.Parse(reordered), b);
}

TEST(BallotTest, EveryKindOfMalformedLineIsRejected) {
  BallotParser parser;
  const Ballot b = Signed(1, Choice::kYes, 1, 1);
  const std::string key = base::Base58Encode(b.voter);
  const std::string sig = base::Base58Encode(b.sig);
  auto line = [&](const std::string& proposal, const std::string& voter, const std::string& choice,
                  const std::string& nonce, const std::string& s) {
    return "{\"proposal\":" + proposal + ",\"voter\":" + voter + ",\"choice\":" + choice +
           ",\"nonce\":" + nonce + ",\"slot\":1,\"sig\":" + s + "}";
  };
  const std::string q = "\"";
  ASSERT_TRUE(parser.Parse(line("1", q + key + q, "\"yes\"", "1", q + sig + q)));
  const std::vector<std::string> bad = {
      "", "not json", "[1,2,3]", "{\"proposal\":1}",
      line("1", q + key + q, "\"yes\"", "1", q + sig + q) + " trailing",
      line("\"1\"", q + key + q, "\"yes\"", "1", q + sig + q),            // wrong type
      line("-1", q + key + q, "\"yes\"", "1", q + sig + q),               // negative
      line("18446744073709551616", q + key + q, "\"yes\"", "1", q + sig + q),  // > u64
      line("1.5", q + key + q, "\"yes\"", "1", q + sig + q),              // not an integer
      line("1", q + key + "0" + q, "\"yes\"", "1", q + sig + q),           // '0' not base58
      line("1", q + base::Base58Encode(std::vector<uint8_t>(31, 7)) + q, "\"yes\"", "1", q + sig + q),
      line("1", q + key + q, "\"yes\"", "1", q + base::Base58Encode(std::vector<uint8_t>(63, 7)) + q),
      line("1", q + key + q, "\"maybe\"", "1", q + sig + q),              // unknown choice
      line("1", q + key + q, "\"YES\"", "1", q + sig + q),
      line("1", "12", "\"yes\"", "1", q + sig + q),
      "{\"proposal\":1,\"proposal\":1,\"voter\":\"" + key + "\",\"choice\":\"yes\",\"nonce\":1,\"slot\":1,\"sig\":\"" + sig + "\"}",
  };
  for (const auto& l : bad) EXPECT_FALSE(parser.Parse(l).has_value()) << l;
}

TEST(BallotTest, VerificationCoversProposalChoiceAndNonce) {
  Ballot b = Signed(5, Choice::kYes, 3, 10);
  EXPECT_TRUE(VerifyBallot(b));
  Ballot other = b;
  other.proposal = 6;
  EXPECT_FALSE(VerifyBallot(other));
  other = b;
  other.choice = Choice::kNo;
  EXPECT_FALSE(VerifyBallot(other));
  other = b;
  other.nonce = 4;
  EXPECT_FALSE(VerifyBallot(other));
  other = b;
  other.slot = 99;  // the slot is not signed
  EXPECT_TRUE(VerifyBallot(other));
}

}  // namespace
}  // namespace pmbench::votes
