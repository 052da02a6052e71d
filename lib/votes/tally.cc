#include "lib/votes/tally.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "lib/base/base58.h"

namespace pmbench::votes {
namespace {

constexpr std::array<std::string_view, kReasonCount> kReasonNames = {
    "malformed", "wrong_proposal", "outside_window", "bad_signature",
    "no_stake",  "superseded",     "equivocation",   "duplicate"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Everything except the voter, in the order that picks the counted ballot among copies.
bool BallotLess(const Ballot& a, const Ballot& b) {
  if (int c = std::memcmp(a.voter.data(), b.voter.data(), a.voter.size())) return c < 0;
  if (a.nonce != b.nonce) return a.nonce > b.nonce;  // the highest nonce first
  if (a.choice != b.choice) return a.choice < b.choice;
  if (int c = std::memcmp(a.sig.data(), b.sig.data(), a.sig.size())) return c < 0;
  if (a.proposal != b.proposal) return a.proposal < b.proposal;
  return a.slot < b.slot;
}

int ThreadCount(int requested, size_t work) {
  int n = requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return static_cast<int>(std::min<size_t>(static_cast<size_t>(n), std::max<size_t>(1, work / 64)));
}

}  // namespace

std::string_view ReasonName(Reason r) { return kReasonNames[static_cast<size_t>(r)]; }

size_t StakeTable::KeyHash::operator()(const chain::PublicKey& k) const {
  uint64_t h;  // public keys are uniformly random: their first bytes are a good hash
  std::memcpy(&h, k.data(), sizeof h);
  return static_cast<size_t>(h);
}

std::optional<uint64_t> StakeTable::Find(const chain::PublicKey& voter) const {
  const auto it = stakes_.find(voter);
  if (it == stakes_.end()) return std::nullopt;
  return it->second;
}

StakeTable StakeTable::ParseCsv(std::string_view text) {
  StakeTable table;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = Trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_no;
    if (line.empty() || (line_no == 1 && line == "voter,amount")) continue;
    auto bad = [&](const std::string& why) {
      return std::invalid_argument("stakes line " + std::to_string(line_no) + ": " + why);
    };
    const size_t comma = line.find(',');
    if (comma == std::string_view::npos) throw bad("expected voter,amount");
    const std::string_view key_text = Trim(line.substr(0, comma));
    const std::string_view amount_text = Trim(line.substr(comma + 1));
    const auto key = base::Base58Decode(key_text);
    if (!key || key->size() != 32) throw bad("voter is not a base58 32-byte key");
    uint64_t amount = 0;
    const auto [p, ec] = std::from_chars(amount_text.data(), amount_text.data() + amount_text.size(), amount);
    if (ec != std::errc() || p != amount_text.data() + amount_text.size() || amount_text.empty()) {
      throw bad("amount is not an unsigned 64-bit integer");
    }
    chain::PublicKey k;
    std::copy(key->begin(), key->end(), k.begin());
    if (table.stakes_.count(k)) throw bad("voter listed twice");
    table.stakes_[k] = amount;
  }
  return table;
}

uint64_t TallyResult::lines() const {
  uint64_t n = counted[0] + counted[1] + counted[2];
  for (uint64_t r : rejected) n += r;
  return n;
}

std::string TallyResult::ToJson() const {
  std::string s = "{\"proposal\":" + std::to_string(proposal) + ",\"counted\":{";
  for (size_t c = 0; c < 3; ++c) {
    s += (c ? ",\"" : "\"") + std::string(ChoiceName(static_cast<Choice>(c))) + "\":" +
         std::to_string(counted[c]);
  }
  s += "},\"weight\":{";
  for (size_t c = 0; c < 3; ++c) {
    s += (c ? ",\"" : "\"") + std::string(ChoiceName(static_cast<Choice>(c))) + "\":\"" +
         ToDecimal(weight[c]) + "\"";
  }
  s += "},\"total_weight\":\"" + ToDecimal(total_weight) + "\",\"quorum_reached\":" +
       (quorum_reached ? "true" : "false") + ",\"outcome\":\"" + outcome + "\",\"rejected\":{";
  for (size_t r = 0; r < kReasonCount; ++r) {
    s += (r ? ",\"" : "\"") + std::string(kReasonNames[r]) + "\":" + std::to_string(rejected[r]);
  }
  s += "},\"ballots_root\":\"" + chain::ToHex(ballots_root) + "\"}";
  return s;
}

std::optional<Reason> Screen(const Ballot& b, const TallyOptions& options) {
  if (b.proposal != options.proposal) return Reason::kWrongProposal;
  if (b.slot < options.window_start || b.slot > options.window_end) return Reason::kOutsideWindow;
  if (!VerifyBallot(b)) return Reason::kBadSignature;
  if (options.stakes && !options.stakes->Find(b.voter)) return Reason::kNoStake;
  return std::nullopt;
}

TallyResult TallyAccepted(std::span<const Ballot> accepted, const RejectCounts& rejected,
                          const TallyOptions& options) {
  TallyResult r;
  r.proposal = options.proposal;
  r.rejected = rejected;
  // Sort 16-byte references, not 128-byte ballots: the first 8 key bytes decide almost
  // every comparison, and only one voter's own ballots need the full order.
  struct Ref {
    uint64_t key;
    size_t index;
  };
  std::vector<Ref> refs(accepted.size());
  for (size_t i = 0; i < accepted.size(); ++i) {
    uint64_t key = 0;
    for (int k = 0; k < 8; ++k) key = key << 8 | accepted[i].voter[static_cast<size_t>(k)];
    refs[i] = {key, i};
  }
  std::sort(refs.begin(), refs.end(), [&](const Ref& a, const Ref& b) {
    if (a.key != b.key) return a.key < b.key;
    return BallotLess(accepted[a.index], accepted[b.index]);
  });
  auto at = [&](size_t i) -> const Ballot& { return accepted[refs[i].index]; };
  std::vector<size_t> counted_index;
  for (size_t i = 0; i < refs.size();) {
    size_t end = i + 1;
    while (end < refs.size() && refs[end].key == refs[i].key && at(end).voter == at(i).voter) ++end;
    // [i, end) is one voter, highest nonce first; [i, top) holds that nonce.
    size_t top = i;
    bool equivocates = false;
    while (top < end && at(top).nonce == at(i).nonce) {
      equivocates |= at(top).choice != at(i).choice;
      ++top;
    }
    if (equivocates) {
      r.rejected[static_cast<size_t>(Reason::kEquivocation)] += end - i;
    } else {
      r.rejected[static_cast<size_t>(Reason::kDuplicate)] += top - i - 1;
      r.rejected[static_cast<size_t>(Reason::kSuperseded)] += end - top;
      const Ballot& b = at(i);
      const auto c = static_cast<size_t>(b.choice);
      ++r.counted[c];
      r.weight[c] += options.stakes ? options.stakes->Find(b.voter).value_or(0) : 1;
      counted_index.push_back(refs[i].index);
    }
    i = end;
  }
  r.total_weight = r.weight[0] + r.weight[1] + r.weight[2];
  r.quorum_reached = r.total_weight >= options.quorum;
  const Uint128 yes = r.weight[static_cast<size_t>(Choice::kYes)];
  const Uint128 no = r.weight[static_cast<size_t>(Choice::kNo)];
  r.outcome = !r.quorum_reached ? "no_quorum"
              : yes * 10000 > Uint128{options.threshold_bps} * (yes + no) ? "passed"
                                                                          : "failed";
  if (options.with_root) {
    // Leaves in public-key order, as sorted: key bytes then signature bytes.
    std::vector<std::array<uint8_t, 96>> leaves(counted_index.size());
    std::vector<std::span<const uint8_t>> spans;
    spans.reserve(leaves.size());
    for (size_t k = 0; k < counted_index.size(); ++k) {
      const Ballot& b = accepted[counted_index[k]];
      std::copy(b.voter.begin(), b.voter.end(), leaves[k].begin());
      std::copy(b.sig.begin(), b.sig.end(), leaves[k].begin() + 32);
      spans.emplace_back(leaves[k]);
    }
    r.ballots_root = chain::MerkleRoot(spans);
  }
  return r;
}

TallyResult TallyJsonLines(std::string_view text, const TallyOptions& options) {
  // One copy with simdjson's padding lets every line be parsed in place.
  std::string padded;
  padded.reserve(text.size() + 64);
  padded.assign(text);
  padded.append(64, '\0');
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line(padded.data() + pos, end - pos);
    if (!Trim(line).empty()) lines.push_back(line);
    pos = end + 1;
  }

  // A line's fate is a function of its bytes: verify each distinct line once and count it
  // as often as it occurs (exact copies are common: clients resend).
  std::unordered_map<std::string_view, uint32_t> seen;
  seen.reserve(lines.size());
  std::vector<std::pair<std::string_view, uint32_t>> unique;  // line, occurrences
  unique.reserve(lines.size());
  for (std::string_view line : lines) {
    const auto [it, inserted] = seen.try_emplace(line, static_cast<uint32_t>(unique.size()));
    if (inserted) {
      unique.emplace_back(line, 1);
    } else {
      ++unique[it->second].second;
    }
  }

  const int threads = ThreadCount(options.threads, unique.size());
  struct Part {
    std::vector<Ballot> accepted;
    RejectCounts rejected{};
  };
  std::vector<Part> parts(static_cast<size_t>(threads));
  std::atomic<size_t> next{0};  // threads take 64 lines at a time: no one idles at the end
  auto work = [&](size_t part) {
    BallotParser parser;
    Part& p = parts[part];
    for (;;) {
      const size_t begin = next.fetch_add(64);
      if (begin >= unique.size()) break;
      const size_t end = std::min(unique.size(), begin + 64);
      for (size_t i = begin; i < end; ++i) {
        const auto& [line, count] = unique[i];
        const auto ballot = parser.Parse(line, /*padded=*/true);
        const auto reason = ballot ? Screen(*ballot, options) : Reason::kMalformed;
        if (reason) {
          p.rejected[static_cast<size_t>(*reason)] += count;
        } else {
          p.accepted.insert(p.accepted.end(), count, *ballot);
        }
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    for (size_t t = 1; t < parts.size(); ++t) pool.emplace_back(work, t);
    work(0);
  }
  std::vector<Ballot> accepted;
  RejectCounts rejected{};
  for (Part& p : parts) {
    accepted.insert(accepted.end(), p.accepted.begin(), p.accepted.end());
    for (size_t r = 0; r < kReasonCount; ++r) rejected[r] += p.rejected[r];
  }
  return TallyAccepted(accepted, rejected, options);
}

}  // namespace pmbench::votes
