#include "lib/votes/ballot.h"

#include <simdjson.h>

#include <algorithm>

#include "lib/base/base58.h"

namespace pmbench::votes {
namespace {

template <size_t N>
bool DecodeExact(std::string_view text, std::array<uint8_t, N>& out) {
  // A base58 string of N bytes has at most ceil(N * 1.3658) characters.
  if (text.empty() || text.size() > N * 14 / 10 + 1) return false;
  const auto bytes = base::Base58Decode(text);
  if (!bytes || bytes->size() != N) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

}  // namespace

std::string_view ChoiceName(Choice c) {
  switch (c) {
    case Choice::kYes: return "yes";
    case Choice::kNo: return "no";
    case Choice::kAbstain: return "abstain";
  }
  return "?";
}

std::optional<Choice> ParseChoice(std::string_view s) {
  if (s == "yes") return Choice::kYes;
  if (s == "no") return Choice::kNo;
  if (s == "abstain") return Choice::kAbstain;
  return std::nullopt;
}

std::string SignedMessage(uint64_t proposal, Choice choice, uint64_t nonce) {
  std::string m = "pmvote:v1:";
  m += std::to_string(proposal);
  m += ':';
  m += ChoiceName(choice);
  m += ':';
  m += std::to_string(nonce);
  return m;
}

bool VerifyBallot(const Ballot& b) {
  return chain::Ed25519Verify(b.voter, SignedMessage(b.proposal, b.choice, b.nonce), b.sig);
}

std::string ToJsonLine(const Ballot& b) {
  std::string s = "{\"proposal\":" + std::to_string(b.proposal) + ",\"voter\":\"" +
                  base::Base58Encode(b.voter) + "\",\"choice\":\"" + std::string(ChoiceName(b.choice)) +
                  "\",\"nonce\":" + std::to_string(b.nonce) + ",\"slot\":" + std::to_string(b.slot) +
                  ",\"sig\":\"" + base::Base58Encode(b.sig) + "\"}";
  return s;
}

std::optional<Ballot> BallotFromFields(uint64_t proposal, std::string_view voter,
                                       std::string_view choice, uint64_t nonce, uint64_t slot,
                                       std::string_view sig) {
  Ballot b;
  b.proposal = proposal;
  b.nonce = nonce;
  b.slot = slot;
  const auto c = ParseChoice(choice);
  if (!c || !DecodeExact(voter, b.voter) || !DecodeExact(sig, b.sig)) return std::nullopt;
  b.choice = *c;
  return b;
}

struct BallotParser::Impl {
  // The DOM parser validates the whole line (trailing content included), which the
  // on-demand one in simdjson 3.0 leaves to the caller; on 200-byte lines both are fast.
  simdjson::dom::parser parser;
  std::string copy;
};

BallotParser::BallotParser() : impl_(std::make_unique<Impl>()) {}
BallotParser::~BallotParser() = default;

std::optional<Ballot> BallotParser::Parse(std::string_view line, bool padded) {
  using namespace simdjson;
  if (!padded) {
    impl_->copy.assign(line);
    impl_->copy.append(SIMDJSON_PADDING, '\0');
    line = std::string_view(impl_->copy.data(), line.size());
  }
  dom::element doc;
  if (impl_->parser.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc)) {
    return std::nullopt;
  }
  dom::object obj;
  if (doc.get_object().get(obj)) return std::nullopt;
  // Fields in any order, each exactly once; others are ignored (the signature does not
  // cover them).
  uint64_t proposal = 0, nonce = 0, slot = 0;
  std::string_view voter, choice, sig;
  unsigned seen = 0;
  for (const dom::key_value_pair field : obj) {
    const std::string_view key = field.key;
    unsigned bit = 0;
    error_code err = SUCCESS;
    if (key == "proposal") {
      bit = 1, err = field.value.get_uint64().get(proposal);
    } else if (key == "voter") {
      bit = 2, err = field.value.get_string().get(voter);
    } else if (key == "choice") {
      bit = 4, err = field.value.get_string().get(choice);
    } else if (key == "nonce") {
      bit = 8, err = field.value.get_uint64().get(nonce);
    } else if (key == "slot") {
      bit = 16, err = field.value.get_uint64().get(slot);
    } else if (key == "sig") {
      bit = 32, err = field.value.get_string().get(sig);
    } else {
      continue;
    }
    if (err || (seen & bit)) return std::nullopt;
    seen |= bit;
  }
  if (seen != 63) return std::nullopt;
  return BallotFromFields(proposal, voter, choice, nonce, slot, sig);
}

}  // namespace pmbench::votes
