#include "lib/votes/gen.h"

#include <random>
#include <stdexcept>

#include "lib/base/base58.h"
#include "lib/chain/ed25519.h"
#include "lib/votes/ballot.h"

namespace pmbench::votes {
namespace {

std::array<uint8_t, 32> SeedBytes(std::mt19937_64& rng) {
  std::array<uint8_t, 32> s;
  for (size_t i = 0; i < s.size(); i += 8) {
    const uint64_t v = rng();
    for (size_t k = 0; k < 8; ++k) s[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return s;
}

Choice RandomChoice(std::mt19937_64& rng) {
  const uint64_t c = rng() % 100;  // 50% yes, 35% no, 15% abstain
  return c < 50 ? Choice::kYes : c < 85 ? Choice::kNo : Choice::kAbstain;
}

}  // namespace

GeneratedBallots GenerateBallots(const GenSpec& spec) {
  if (spec.voters == 0) throw std::invalid_argument("--voters must be at least 1");
  if (!(spec.bad_ratio >= 0 && spec.bad_ratio <= 1)) throw std::invalid_argument("--bad must be in [0, 1]");
  std::mt19937_64 rng(spec.seed);
  std::vector<chain::Ed25519Key> keys;
  for (uint64_t v = 0; v < spec.voters; ++v) keys.push_back(chain::Ed25519Key::FromSeed(SeedBytes(rng)));
  // Voters who sign properly but hold no stake.
  const uint64_t unstaked = std::max<uint64_t>(1, spec.voters / 100);
  std::vector<chain::Ed25519Key> unstaked_keys;
  for (uint64_t v = 0; v < unstaked; ++v) unstaked_keys.push_back(chain::Ed25519Key::FromSeed(SeedBytes(rng)));

  auto sign = [](const chain::Ed25519Key& key, uint64_t proposal, Choice choice, uint64_t nonce,
                 uint64_t slot) {
    Ballot b{proposal, key.public_key(), choice, nonce, slot, {}};
    b.sig = key.Sign(SignedMessage(proposal, choice, nonce));
    return b;
  };

  GeneratedBallots out;
  std::vector<uint64_t> nonce(spec.voters, 0);
  std::vector<size_t> latest(spec.voters, 0);  // each voter's last good line
  std::vector<Choice> last_choice(spec.voters, Choice::kYes);
  uint64_t bad_seen = 0;
  static constexpr const char* kMalformed[] = {
      "not json at all", R"({"proposal":1,"voter":"x")", R"({"proposal":"1","choice":"yes"})",
      R"({"proposal":-1,"voter":"11111111111111111111111111111111","choice":"yes","nonce":1,"slot":1,"sig":"1"})",
      R"({"proposal":99999999999999999999,"voter":"1","choice":"yes","nonce":1,"slot":1,"sig":"1"})"};
  std::bernoulli_distribution is_bad(spec.bad_ratio);
  // Copies and equivocations matter only at a voter's last nonce (earlier ones are simply
  // superseded), so they are made last, from a budget of 4% of the lines.
  const uint64_t extras = spec.count / 25;
  for (uint64_t i = 0; i + extras < spec.count; ++i) {
    const uint64_t slot = kGenFirstSlot + i;
    if (is_bad(rng)) {
      const uint64_t kind = bad_seen++ % 5;
      const auto& key = keys[rng() % spec.voters];
      Ballot b = sign(key, spec.proposal, RandomChoice(rng), 1'000'000 + i, slot);
      if (kind == 0) {
        if (bad_seen % 3 == 0) {
          b.choice = Choice::kYes;
          std::string line = ToJsonLine(b);
          line.replace(line.find("\"yes\""), 5, "\"maybe\"");  // unknown choice
          out.lines.push_back(line);
        } else if (bad_seen % 3 == 1) {
          std::string line = ToJsonLine(b);
          line[line.find("\"sig\":\"") + 7] = '0';  // not in the base58 alphabet
          out.lines.push_back(line);
        } else {
          out.lines.push_back(kMalformed[bad_seen % 5]);
        }
        continue;
      }
      if (kind == 1) b = sign(key, spec.proposal + 1, b.choice, b.nonce, slot);
      if (kind == 2) b = sign(key, spec.proposal, b.choice, b.nonce, 0);
      if (kind == 3) b.sig[bad_seen % 64] ^= 0x40;
      if (kind == 4) b = sign(unstaked_keys[rng() % unstaked], spec.proposal, b.choice, b.nonce, slot);
      out.lines.push_back(ToJsonLine(b));
      continue;
    }
    const uint64_t v = rng() % spec.voters;
    last_choice[v] = RandomChoice(rng);
    latest[v] = out.lines.size();
    out.lines.push_back(ToJsonLine(sign(keys[v], spec.proposal, last_choice[v], ++nonce[v], slot)));
  }
  for (uint64_t e = 0; out.lines.size() < spec.count; ++e) {
    const uint64_t v = rng() % spec.voters;
    const uint64_t slot = kGenFirstSlot + out.lines.size();
    if (nonce[v] == 0) {  // has not voted yet: a first vote
      last_choice[v] = RandomChoice(rng);
      latest[v] = out.lines.size();
      out.lines.push_back(ToJsonLine(sign(keys[v], spec.proposal, last_choice[v], ++nonce[v], slot)));
    } else if (e % 3 != 2) {  // an exact copy of the counted ballot
      out.lines.push_back(out.lines[latest[v]]);
    } else {  // the same nonce, another choice
      const Choice other = last_choice[v] == Choice::kYes ? Choice::kNo : Choice::kYes;
      out.lines.push_back(ToJsonLine(sign(keys[v], spec.proposal, other, nonce[v], slot)));
    }
  }
  // Fisher-Yates by hand: std::shuffle's algorithm is the library's choice, and the same
  // seed must give the same file everywhere.
  for (size_t i = out.lines.size(); i > 1; --i) std::swap(out.lines[i - 1], out.lines[rng() % i]);

  out.stakes_csv = "voter,amount\n";
  for (const auto& key : keys) {
    out.stakes_csv += base::Base58Encode(key.public_key()) + "," +
                      std::to_string(1 + rng() % 1'000'000'000'000ULL) + "\n";
  }
  return out;
}

}  // namespace pmbench::votes
