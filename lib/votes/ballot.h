// File: ballot.h
//
// A signed ballot and its one-line JSON form (the format other tools produce):
//   {"proposal":42,"voter":"<base58 key>","choice":"yes","nonce":7,"slot":123456,"sig":"<base58>"}
// The voter signs the ASCII bytes of "pmvote:v1:<proposal>:<choice>:<nonce>" with Ed25519.
//
//   BallotParser parser;                       // one per thread: it owns simdjson buffers
//   std::optional<Ballot> b = parser.Parse(line);   // nullopt: malformed
//   bool ok = VerifyBallot(*b);
#ifndef PMBENCH_VOTES_BALLOT_H_
#define PMBENCH_VOTES_BALLOT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lib/chain/ed25519.h"

namespace pmbench::votes {

enum class Choice : uint8_t { kYes, kNo, kAbstain };
std::string_view ChoiceName(Choice c);
std::optional<Choice> ParseChoice(std::string_view s);

struct Ballot {
  uint64_t proposal = 0;
  chain::PublicKey voter{};
  Choice choice = Choice::kYes;
  uint64_t nonce = 0;
  uint64_t slot = 0;
  chain::Signature sig{};

  friend bool operator==(const Ballot&, const Ballot&) = default;
};

// "pmvote:v1:<proposal>:<choice>:<nonce>"
std::string SignedMessage(uint64_t proposal, Choice choice, uint64_t nonce);
bool VerifyBallot(const Ballot& b);

// The canonical JSON line, without the newline.
std::string ToJsonLine(const Ballot& b);

// Parses one line; nullopt when it breaks rule 1 (not JSON, a field missing or of the wrong
// type, a number out of range, bad base58, wrong key or signature length, unknown choice).
class BallotParser {
 public:
  BallotParser();
  ~BallotParser();
  BallotParser(const BallotParser&) = delete;
  BallotParser& operator=(const BallotParser&) = delete;

  // `line` must stay readable for 64 bytes past its end (simdjson's padding) unless
  // `padded` is false, in which case it is copied first.
  std::optional<Ballot> Parse(std::string_view line, bool padded = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Field values as they come from a database row (base58 text, decimal numbers).
std::optional<Ballot> BallotFromFields(uint64_t proposal, std::string_view voter,
                                       std::string_view choice, uint64_t nonce, uint64_t slot,
                                       std::string_view sig);

}  // namespace pmbench::votes

#endif  // PMBENCH_VOTES_BALLOT_H_
