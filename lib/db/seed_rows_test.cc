#include "lib/db/seed_rows.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "lib/base/base58.h"

namespace pmbench::db {
namespace {

std::vector<std::vector<std::string>> Rows(const SeedRows& rows, SeedTable t) {
  std::string text;
  rows.Append(t, 0, rows.RowCount(t), text);
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::istringstream f(line);
    for (std::string field; std::getline(f, field, '\t');) fields.push_back(field);
    out.push_back(fields);
  }
  return out;
}

size_t ColumnCount(SeedTable t) {
  const std::string_view c = TableColumns(t);
  return static_cast<size_t>(std::count(c.begin(), c.end(), ',')) + 1;
}

TEST(SeedRowsTest, ScaleOneHasTheDocumentedSizes) {
  SeedRows rows({.scale = 1, .seed = 1});
  EXPECT_EQ(rows.RowCount(SeedTable::kUsers), 10'000);
  EXPECT_EQ(rows.RowCount(SeedTable::kMarkets), 1'000);
  EXPECT_EQ(rows.RowCount(SeedTable::kBets), 100'000);
  EXPECT_EQ(rows.RowCount(SeedTable::kProposals), 100);
  EXPECT_EQ(rows.RowCount(SeedTable::kVotes), 10'000);
  EXPECT_EQ(SeedRows({.scale = 0.1, .seed = 1}).RowCount(SeedTable::kBets), 10'000);
  EXPECT_THROW(SeedRows({.scale = 0, .seed = 1}), std::invalid_argument);
  EXPECT_THROW(SeedRows({.scale = -1, .seed = 1}), std::invalid_argument);
}

TEST(SeedRowsTest, SameSeedSameRowsWhateverTheChunking) {
  SeedRows a({.scale = 0.05, .seed = 42});
  SeedRows b({.scale = 0.05, .seed = 42});
  SeedRows other({.scale = 0.05, .seed = 43});
  for (SeedTable t : kSeedTables) {
    std::string whole, chunked, different;
    a.Append(t, 0, a.RowCount(t), whole);
    const int64_t mid = b.RowCount(t) / 3;
    b.Append(t, 0, mid, chunked);
    b.Append(t, mid, b.RowCount(t), chunked);
    other.Append(t, 0, other.RowCount(t), different);
    EXPECT_EQ(whole, chunked) << TableName(t);
    EXPECT_NE(whole, different) << TableName(t);
  }
}

TEST(SeedRowsTest, EveryRowHasEveryColumn) {
  SeedRows rows({.scale = 0.02, .seed = 7});
  for (SeedTable t : kSeedTables) {
    const auto all = Rows(rows, t);
    ASSERT_EQ(static_cast<int64_t>(all.size()), rows.RowCount(t));
    for (const auto& r : all) ASSERT_EQ(r.size(), ColumnCount(t)) << TableName(t);
  }
}

TEST(SeedRowsTest, MarketTotalsAreTheSumsOfTheirBets) {
  SeedRows rows({.scale = 0.05, .seed = 9});
  std::map<std::string, std::array<int64_t, 3>> sums;  // yes, no, count
  for (const auto& bet : Rows(rows, SeedTable::kBets)) {
    auto& s = sums[bet[1]];
    (bet[3] == "yes" ? s[0] : s[1]) += std::stoll(bet[4]);
    ++s[2];
  }
  int64_t markets_with_bets = 0;
  for (const auto& m : Rows(rows, SeedTable::kMarkets)) {
    const auto s = sums[m[0]];
    EXPECT_EQ(std::stoll(m[8]), s[0]) << "market " << m[0];
    EXPECT_EQ(std::stoll(m[9]), s[1]);
    EXPECT_EQ(std::stoll(m[10]), s[0] + s[1]);
    EXPECT_EQ(std::stoll(m[11]), s[2]);
    markets_with_bets += s[2] > 0;
  }
  EXPECT_GT(markets_with_bets, 0);
}

TEST(SeedRowsTest, KeysAreUniqueAndSignaturesAreSolanaShaped) {
  SeedRows rows({.scale = 0.05, .seed = 3});
  std::set<std::string> signatures, votes, wallets;
  for (const auto& u : Rows(rows, SeedTable::kUsers)) {
    EXPECT_TRUE(wallets.insert(u[1]).second);
    EXPECT_EQ(base::Base58Decode(u[1])->size(), 32u);
  }
  for (const auto& b : Rows(rows, SeedTable::kBets)) {
    EXPECT_TRUE(signatures.insert(b[5]).second) << "duplicate tx_signature";
    EXPECT_EQ(base::Base58Decode(b[5])->size(), 64u);
    EXPECT_TRUE(wallets.count(b[2])) << "bet by unknown wallet";
  }
  for (const auto& v : Rows(rows, SeedTable::kVotes)) {
    EXPECT_TRUE(votes.insert(v[0] + "/" + v[1]).second) << "voter votes twice";
  }
}

}  // namespace
}  // namespace pmbench::db
