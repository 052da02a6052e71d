#include "lib/votes/tally.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>

#include <sys/mman.h>

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
  // Rule 6 is a group-by voter. Sorting the ballots spent its time in comparisons that
  // reach back into 128-byte ballots at random, and partitioning them by key first read
  // every ballot twice; instead one sequential pass looks each voter up in an
  // open-addressing table of per-voter state, the table slot and then the state fetched
  // ahead of use, so the pass waits on memory about as much as a plain read of the
  // ballots does. Only the counted voters are sorted, for the root.
  struct alignas(64) Voter {  // one cache line: one fetch ahead brings all of it
    std::array<uint64_t, 4> key;  // big-endian words: compares in memcmp order
    uint64_t nonce;               // the highest
    uint32_t total;               // ballots
    uint32_t top;                 // ballots at the highest nonce
    uint32_t best;                // the counted ballot among those (the root's leaf)
    Choice choice;
    bool equivocates;
  };
  // Room for every ballot to be a new voter; pages are touched only as voters arrive, and
  // 2 MB pages keep the random lookups from missing the TLB as well as the cache.
  const size_t bytes = std::max<size_t>(1, accepted.size()) * sizeof(Voter);
  constexpr size_t kHuge = size_t{1} << 21;
  const bool huge = bytes >= 4 * kHuge;  // below that a 2 MB page costs more to fault in
  const size_t align = huge ? kHuge : alignof(Voter);
  std::unique_ptr<Voter[], decltype(&std::free)> voter_store(
      static_cast<Voter*>(std::aligned_alloc(align, (bytes + align - 1) / align * align)), &std::free);
  if (!voter_store) throw std::bad_alloc();
  if (huge) madvise(voter_store.get(), bytes, MADV_HUGEPAGE);  // advice: fine if refused
  std::span<Voter> voters(voter_store.get(), 0);
  // Sized for a voter per four ballots (re-votes and copies are common); grows past that.
  std::vector<uint32_t> slots(std::bit_ceil(std::max<size_t>(64, accepted.size() / 2)));  // 1 + index into voters; 0: empty
  size_t mask = slots.size() - 1;
  auto key_of = [](const Ballot& b) {
    std::array<uint64_t, 4> k;
    std::memcpy(k.data(), b.voter.data(), sizeof k);
    for (uint64_t& w : k) w = __builtin_bswap64(w);
    return k;
  };
  // Keys are Ed25519 public keys, but a voter can grind one to collide: mix all of it.
  auto hash_of = [](const std::array<uint64_t, 4>& k) {
    uint64_t h = (k[0] ^ (k[1] * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
    h ^= (k[2] ^ (k[3] * 0x94D049BB133111EBull)) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
  };
  auto same = [](const std::array<uint64_t, 4>& a, const std::array<uint64_t, 4>& b) {
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;  // not memcmp's call
  };
  auto grow = [&] {
    slots.assign(slots.size() * 2, 0);
    mask = slots.size() - 1;
    for (size_t v = 0; v < voters.size(); ++v) {
      size_t slot = hash_of(voters[v].key) & mask;
      while (slots[slot]) slot = (slot + 1) & mask;
      slots[slot] = static_cast<uint32_t>(v + 1);
    }
  };
  constexpr size_t kAhead = 32;  // ballots between fetching a slot and using it
  std::array<uint64_t, kAhead> hashes;
  for (size_t j = 0; j < std::min(kAhead, accepted.size()); ++j) hashes[j] = hash_of(key_of(accepted[j]));
  for (size_t i = 0; i < accepted.size(); ++i) {
    const uint64_t h = hashes[i % kAhead];
    if (const size_t j = i + kAhead; j < accepted.size()) {
      hashes[j % kAhead] = hash_of(key_of(accepted[j]));
      __builtin_prefetch(&slots[hashes[j % kAhead] & mask]);
    }
    if (const size_t j = i + kAhead / 2; j < accepted.size()) {
      if (const uint32_t v = slots[hashes[j % kAhead] & mask]) __builtin_prefetch(&voters[v - 1]);
    }
    const Ballot& b = accepted[i];
    const auto key = key_of(b);
    size_t slot = h & mask;
    while (slots[slot] && !same(voters[slots[slot] - 1].key, key)) slot = (slot + 1) & mask;
    if (!slots[slot]) {
      voters = std::span<Voter>(voter_store.get(), voters.size() + 1);
      voters.back() = {key, b.nonce, 1, 1, static_cast<uint32_t>(i), b.choice, false};
      slots[slot] = static_cast<uint32_t>(voters.size());
      if (voters.size() * 2 > slots.size()) grow();
      continue;
    }
    Voter& v = voters[slots[slot] - 1];
    ++v.total;
    if (b.nonce > v.nonce) {
      v.nonce = b.nonce;
      v.choice = b.choice;
      v.top = 1;
      v.best = static_cast<uint32_t>(i);
      v.equivocates = false;
    } else if (b.nonce == v.nonce) {
      ++v.top;
      v.equivocates |= b.choice != v.choice;
      // Copies at the top nonce: the root counts the least by the sort order.
      if (options.with_root && BallotLess(b, accepted[v.best])) v.best = static_cast<uint32_t>(i);
    }
  }
  std::vector<size_t> counted_index;
  if (options.with_root) {
    std::sort(voters.begin(), voters.end(), [](const Voter& a, const Voter& b) { return a.key < b.key; });
  }
  for (const Voter& v : voters) {
    if (v.equivocates) {
      r.rejected[static_cast<size_t>(Reason::kEquivocation)] += v.total;
      continue;
    }
    r.rejected[static_cast<size_t>(Reason::kDuplicate)] += v.top - 1;
    r.rejected[static_cast<size_t>(Reason::kSuperseded)] += v.total - v.top;
    const auto c = static_cast<size_t>(v.choice);
    ++r.counted[c];
    r.weight[c] += options.stakes ? options.stakes->Find(accepted[v.best].voter).value_or(0) : 1;
    if (options.with_root) counted_index.push_back(v.best);
  }
  r.total_weight = r.weight[0] + r.weight[1] + r.weight[2];
  r.quorum_reached = r.total_weight >= options.quorum;
  const Uint128 yes = r.weight[static_cast<size_t>(Choice::kYes)];
  const Uint128 no = r.weight[static_cast<size_t>(Choice::kNo)];
  r.outcome = !r.quorum_reached ? "no_quorum"
              : yes * 10000 > Uint128{options.threshold_bps} * (yes + no) ? "passed"
                                                                          : "failed";
  if (options.with_root) {
    // Leaves in public-key order, as grouped: key bytes then signature bytes.
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
