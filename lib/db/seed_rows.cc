#include "lib/db/seed_rows.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "lib/base/base58.h"
#include "lib/db/pg_session.h"

namespace pmbench::db {
namespace {

constexpr int64_t kEpoch = 1767225600;  // 2026-01-01T00:00:00Z: data never depends on "now"
constexpr int64_t kDay = 86400;
constexpr int64_t kEpochSlot = 380'000'000;
constexpr int64_t kVotingDays = 3;

uint64_t Mix(uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A counter-based stream per (seed, table, row): rows are independent of chunking.
class Rng {
 public:
  // `stream` gives a row a second independent source, so a field can change its draws
  // without moving the others.
  Rng(uint64_t seed, SeedTable table, int64_t row, uint64_t stream = 0)
      : state_(Mix(seed * 0x9E3779B97F4A7C15ULL ^
                   Mix((static_cast<uint64_t>(table) + 1) << 56 ^ stream << 48 ^
                       static_cast<uint64_t>(row)))) {}
  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return Mix(state_);
  }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  template <size_t N>
  std::string Base58Bytes() {
    std::array<uint8_t, N> b;
    for (size_t i = 0; i < N; i += 8) {
      const uint64_t v = Next();
      for (size_t k = 0; k < 8 && i + k < N; ++k) b[i + k] = static_cast<uint8_t>(v >> (8 * k));
    }
    return base::Base58Encode(b);
  }

 private:
  uint64_t state_;
};

constexpr std::array<std::string_view, 6> kCategories = {"politics", "sports",  "crypto",
                                                         "economy",  "science", "culture"};
constexpr std::array<std::string_view, 4> kStatuses = {"open", "closed", "resolved", "cancelled"};
constexpr std::array<std::string_view, 12> kSubjects = {
    "SOL", "BTC", "the Fed", "the home team", "turnout", "inflation",
    "a new L2", "the launch", "the index", "the bill", "the champion", "the ETF"};
constexpr std::array<std::string_view, 8> kEvents = {
    "close above its high", "cut rates", "win the final", "pass 60%",
    "fall below 3%",        "ship",      "be approved",   "double"};
constexpr std::array<std::string_view, 3> kKinds = {"create_market", "resolve_market", "parameter"};
constexpr std::array<std::string_view, 4> kProposalStatuses = {"active", "passed", "rejected", "expired"};
constexpr std::array<std::string_view, 3> kChoices = {"yes", "no", "abstain"};

void Int(std::string& out, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void Two(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

// "YYYY-MM-DD HH:MM:SS+00" (Howard Hinnant's civil_from_days).
void Timestamp(std::string& out, int64_t unix_s) {
  const int64_t days = unix_s >= 0 ? unix_s / kDay : (unix_s - kDay + 1) / kDay;
  const int64_t secs = unix_s - days * kDay;
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  Int(out, y);
  out.push_back('-');
  Two(out, m);
  out.push_back('-');
  Two(out, d);
  out.push_back(' ');
  Two(out, static_cast<unsigned>(secs / 3600));
  out.push_back(':');
  Two(out, static_cast<unsigned>(secs / 60 % 60));
  out.push_back(':');
  Two(out, static_cast<unsigned>(secs % 60));
  out += "+00";
}

int64_t SlotAt(int64_t unix_s) { return kEpochSlot + (unix_s - kEpoch) * 5 / 2; }  // 400 ms slots

int64_t Scaled(double base, double scale) {
  return std::max<int64_t>(1, std::llround(base * scale));
}

}  // namespace

std::string_view TableName(SeedTable t) {
  constexpr std::array<std::string_view, 6> kNames = {"users", "markets", "proposals",
                                                      "bets",  "votes",   "stakes"};
  return kNames[static_cast<size_t>(t)];
}

std::string_view TableColumns(SeedTable t) {
  constexpr std::array<std::string_view, 6> kColumns = {
      "id, wallet, username, created_at",
      "id, title, category, status, creator, created_at, closes_at, outcome, yes_pool, no_pool, "
      "volume, bet_count",
      "id, title, proposer, kind, market_id, status, created_at, voting_ends_at, start_slot, "
      "end_slot",
      "id, market_id, wallet, side, amount, tx_signature, slot, placed_at, claimed",
      "proposal_id, voter, choice, nonce, slot, signature",
      "voter, amount"};
  return kColumns[static_cast<size_t>(t)];
}

SeedRows::SeedRows(const SeedSpec& spec) : spec_(spec) {
  if (!(spec.scale > 0 && spec.scale <= 1000)) {
    throw std::invalid_argument("seed scale must be in (0, 1000]");
  }
  counts_ = {Scaled(10'000, spec.scale), Scaled(1'000, spec.scale), Scaled(100, spec.scale),
             Scaled(100'000, spec.scale), Scaled(10'000, spec.scale), Scaled(10'000, spec.scale)};

  wallets_.reserve(static_cast<size_t>(RowCount(SeedTable::kUsers)));
  for (int64_t i = 0; i < RowCount(SeedTable::kUsers); ++i) {
    wallets_.push_back(Rng(spec_.seed, SeedTable::kUsers, i).Base58Bytes<32>());
  }
  markets_.reserve(static_cast<size_t>(RowCount(SeedTable::kMarkets)));
  for (int64_t i = 0; i < RowCount(SeedTable::kMarkets); ++i) {
    Rng r(spec_.seed, SeedTable::kMarkets, i);
    Market m{};
    m.created_s = kEpoch + r.Below(120 * kDay);
    m.closes_s = m.created_s + (1 + r.Below(60)) * kDay;
    m.category = static_cast<uint8_t>(r.Below(kCategories.size()));
    const int64_t s = r.Below(100);  // 60% open, 15% closed, 20% resolved, 5% cancelled
    m.status = s < 60 ? 0 : s < 75 ? 1 : s < 95 ? 2 : 3;
    m.outcome = m.status == 2 ? static_cast<uint8_t>(1 + r.Below(2)) : 0;
    m.subject = static_cast<uint16_t>(r.Below(kSubjects.size()));
    m.event = static_cast<uint16_t>(r.Below(kEvents.size()));
    m.creator = r.Below(RowCount(SeedTable::kUsers));
    markets_.push_back(m);
  }
  // The markets' pools and counts are the sums of their bets, as the listener keeps them.
  for (int64_t i = 0; i < RowCount(SeedTable::kBets); ++i) {
    const Bet b = MakeBet(i);
    Market& m = markets_[static_cast<size_t>(b.market)];
    (b.yes ? m.yes_pool : m.no_pool) += b.amount;
    ++m.bet_count;
  }
}

int64_t SeedRows::TotalRows() const {
  int64_t total = 0;
  for (int64_t c : counts_) total += c;
  return total;
}

SeedRows::Bet SeedRows::MakeBet(int64_t i) const {
  Rng r(spec_.seed, SeedTable::kBets, i);
  Bet b{};
  b.market = r.Below(RowCount(SeedTable::kMarkets));
  b.wallet = r.Below(RowCount(SeedTable::kUsers));
  b.yes = r.Below(100) < 55;
  b.amount = std::llround(std::pow(10.0, 7.0 + 4.0 * r.Unit()));  // 0.01 .. 100 SOL, log-uniform
  const Market& m = markets_[static_cast<size_t>(b.market)];
  b.placed_s = m.created_s + r.Below(m.closes_s - m.created_s);
  return b;
}

void SeedRows::Append(SeedTable t, int64_t begin, int64_t end, std::string& out) const {
  end = std::min(end, RowCount(t));
  for (int64_t i = begin; i < end; ++i) {
    switch (t) {
      case SeedTable::kUsers: AppendUser(i, out); break;
      case SeedTable::kMarkets: AppendMarket(i, out); break;
      case SeedTable::kProposals: AppendProposal(i, out); break;
      case SeedTable::kBets: AppendBet(i, out); break;
      case SeedTable::kVotes: AppendVote(i, out); break;
      case SeedTable::kStakes: AppendStake(i, out); break;
    }
  }
}

void SeedRows::AppendUser(int64_t i, std::string& out) const {
  Rng r(spec_.seed, SeedTable::kUsers, i, 1);
  Int(out, i + 1);
  out.push_back('\t');
  out += wallets_[static_cast<size_t>(i)];
  out += "\tuser_";
  Int(out, i + 1);
  out.push_back('\t');
  Timestamp(out, kEpoch - r.Below(365 * kDay));
  out.push_back('\n');
}

void SeedRows::AppendMarket(int64_t i, std::string& out) const {
  const Market& m = markets_[static_cast<size_t>(i)];
  Int(out, i + 1);
  out.push_back('\t');
  std::string title = "Will ";
  title += kSubjects[m.subject];
  title += ' ';
  title += kEvents[m.event];
  title += " by ";
  Timestamp(title, m.closes_s);
  title.resize(title.size() - 12);  // keep the date
  title += "? #";
  Int(title, i + 1);
  AppendCopyText(out, title);
  out.push_back('\t');
  out += kCategories[m.category];
  out.push_back('\t');
  out += kStatuses[m.status];
  out.push_back('\t');
  out += wallets_[static_cast<size_t>(m.creator)];
  out.push_back('\t');
  Timestamp(out, m.created_s);
  out.push_back('\t');
  Timestamp(out, m.closes_s);
  out.push_back('\t');
  out += m.outcome == 0 ? "\\N" : m.outcome == 1 ? "yes" : "no";
  out.push_back('\t');
  Int(out, m.yes_pool);
  out.push_back('\t');
  Int(out, m.no_pool);
  out.push_back('\t');
  Int(out, m.yes_pool + m.no_pool);
  out.push_back('\t');
  Int(out, m.bet_count);
  out.push_back('\n');
}

SeedRows::Proposal SeedRows::MakeProposal(int64_t i) const {
  Rng r(spec_.seed, SeedTable::kProposals, i);
  Proposal p{};
  p.kind = static_cast<uint8_t>(r.Below(kKinds.size()));
  p.status = static_cast<uint8_t>(r.Below(kProposalStatuses.size()));
  p.market = r.Below(RowCount(SeedTable::kMarkets));
  p.proposer = r.Below(RowCount(SeedTable::kUsers));
  p.created_s = kEpoch + r.Below(150 * kDay);
  return p;
}

void SeedRows::AppendProposal(int64_t i, std::string& out) const {
  const Proposal p = MakeProposal(i);
  const int64_t ends = p.created_s + kVotingDays * kDay;
  const std::string_view kind = kKinds[p.kind];
  Int(out, i + 1);
  out += "\tProposal #";
  Int(out, i + 1);
  out += ": ";
  out += kind;
  out.push_back('\t');
  out += wallets_[static_cast<size_t>(p.proposer)];
  out.push_back('\t');
  out += kind;
  out.push_back('\t');
  if (kind == "parameter") {
    out += "\\N";
  } else {
    Int(out, p.market + 1);
  }
  out.push_back('\t');
  out += kProposalStatuses[p.status];
  out.push_back('\t');
  Timestamp(out, p.created_s);
  out.push_back('\t');
  Timestamp(out, ends);
  out.push_back('\t');
  Int(out, SlotAt(p.created_s));
  out.push_back('\t');
  Int(out, SlotAt(ends));
  out.push_back('\n');
}

void SeedRows::AppendBet(int64_t i, std::string& out) const {
  const Bet b = MakeBet(i);
  Rng r(spec_.seed, SeedTable::kBets, i, 1);
  const Market& m = markets_[static_cast<size_t>(b.market)];
  Int(out, i + 1);
  out.push_back('\t');
  Int(out, b.market + 1);
  out.push_back('\t');
  out += wallets_[static_cast<size_t>(b.wallet)];
  out += b.yes ? "\tyes\t" : "\tno\t";
  Int(out, b.amount);
  out.push_back('\t');
  out += r.Base58Bytes<64>();
  out.push_back('\t');
  Int(out, SlotAt(b.placed_s));
  out.push_back('\t');
  Timestamp(out, b.placed_s);
  const bool won = m.outcome != 0 && b.yes == (m.outcome == 1);
  out += won && r.Below(2) == 0 ? "\tt\n" : "\tf\n";
}

void SeedRows::AppendVote(int64_t i, std::string& out) const {
  Rng r(spec_.seed, SeedTable::kVotes, i);
  const int64_t proposals = RowCount(SeedTable::kProposals);
  const int64_t proposal = i % proposals;
  // Row i's voter is the (i / proposals)-th user: one voter at most once per proposal.
  const int64_t voter = (i / proposals) % RowCount(SeedTable::kUsers);
  const int64_t created = MakeProposal(proposal).created_s;
  Int(out, proposal + 1);
  out.push_back('\t');
  out += wallets_[static_cast<size_t>(voter)];
  out.push_back('\t');
  const int64_t c = r.Below(100);  // 50% yes, 35% no, 15% abstain
  out += kChoices[c < 50 ? 0 : c < 85 ? 1 : 2];
  out.push_back('\t');
  Int(out, 1 + r.Below(3));
  out.push_back('\t');
  Int(out, SlotAt(created) + r.Below(SlotAt(kEpoch + kVotingDays * kDay) - kEpochSlot));
  out.push_back('\t');
  out += r.Base58Bytes<64>();
  out.push_back('\n');
}

void SeedRows::AppendStake(int64_t i, std::string& out) const {
  Rng r(spec_.seed, SeedTable::kStakes, i);
  out += wallets_[static_cast<size_t>(i % RowCount(SeedTable::kUsers))];
  out.push_back('\t');
  Int(out, std::llround(std::pow(10.0, 8.0 + 5.0 * r.Unit())));  // 0.1 .. 10,000 SOL
  out.push_back('\n');
}

}  // namespace pmbench::db
