// File: seed_rows.h
//
// The deterministic data generator behind `pmbench db seed`: every row is a pure function
// of (seed, table, row index), so the same scale and seed give the same rows however they
// are chunked, and the markets' pools and counts agree with their bets.
//
//   SeedRows rows({.scale = 1, .seed = 42});
//   std::string copy_text;
//   rows.Append(SeedTable::kBets, 0, 1000, copy_text);   // COPY text format
#ifndef PMBENCH_DB_SEED_ROWS_H_
#define PMBENCH_DB_SEED_ROWS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pmbench::db {

struct SeedSpec {
  double scale = 1.0;  // 1 = 1,000 markets, 10,000 users, 100,000 bets, 100 proposals, 10,000 votes
  uint64_t seed = 1;
};

// In load order: referenced tables first.
enum class SeedTable { kUsers, kMarkets, kProposals, kBets, kVotes, kStakes };
inline constexpr std::array<SeedTable, 6> kSeedTables = {SeedTable::kUsers, SeedTable::kMarkets,
                                                         SeedTable::kProposals, SeedTable::kBets,
                                                         SeedTable::kVotes, SeedTable::kStakes};
std::string_view TableName(SeedTable t);
// The column list COPY names, in the order Append writes them.
std::string_view TableColumns(SeedTable t);

class SeedRows {
 public:
  // Throws std::invalid_argument when scale is not in (0, 1000].
  explicit SeedRows(const SeedSpec& spec);

  int64_t RowCount(SeedTable t) const { return counts_[static_cast<size_t>(t)]; }
  int64_t TotalRows() const;
  // Appends rows [begin, end) of `t` as COPY text lines.
  void Append(SeedTable t, int64_t begin, int64_t end, std::string& out) const;

 private:
  struct Market {
    int64_t created_s, closes_s;
    uint8_t category, status, outcome;  // outcome: 0 none, 1 yes, 2 no
    uint16_t subject, event;
    int64_t creator;
    int64_t yes_pool = 0, no_pool = 0, bet_count = 0;
  };
  struct Bet {
    int64_t market, wallet, amount, placed_s;
    bool yes;
  };
  struct Proposal {
    int64_t market, proposer, created_s;
    uint8_t kind, status;
  };
  Bet MakeBet(int64_t i) const;
  Proposal MakeProposal(int64_t i) const;
  void AppendUser(int64_t i, std::string& out) const;
  void AppendMarket(int64_t i, std::string& out) const;
  void AppendProposal(int64_t i, std::string& out) const;
  void AppendBet(int64_t i, std::string& out) const;
  void AppendVote(int64_t i, std::string& out) const;
  void AppendStake(int64_t i, std::string& out) const;

  SeedSpec spec_;
  std::array<int64_t, 6> counts_{};
  std::vector<std::string> wallets_;  // base58 is the costly part: one per user, reused
  std::vector<Market> markets_;
};

}  // namespace pmbench::db

#endif  // PMBENCH_DB_SEED_ROWS_H_
