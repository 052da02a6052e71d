#include "lib/votes/db_ballots.h"

#include <gtest/gtest.h>

#include "lib/db/testing/test_schema.h"
#include "lib/db/migrate.h"
#include "lib/votes/gen.h"

namespace pmbench::votes {
namespace {

TEST(DbBallotsTest, TallyFromTheDatabaseEqualsTheFileTallyOfWhatItHolds) {
  db::test::TestSchema schema("votes");
  db::Migrate(schema.url(), schema.name());
  const auto g = GenerateBallots({.proposal = 12, .voters = 80, .count = 1500, .seed = 4, .bad_ratio = 0.1});
  std::vector<std::string_view> lines(g.lines.begin(), g.lines.end());
  const LoadResult loaded = LoadBallots(schema.url(), schema.name(), lines);
  EXPECT_GT(loaded.malformed, 0);
  EXPECT_EQ(loaded.loaded + loaded.malformed, static_cast<int64_t>(lines.size()));

  // The database holds the parseable ballots; the tally reads the proposal's rows only.
  std::string text;
  BallotParser parser;
  for (const auto& l : g.lines) {
    const auto b = parser.Parse(l);
    if (b && b->proposal == 12) text += l + "\n";
  }
  const StakeTable stakes = StakeTable::ParseCsv(g.stakes_csv);
  for (const int threads : {1, 3}) {
    const TallyOptions o{.proposal = 12, .window_start = kGenFirstSlot, .stakes = &stakes, .threads = threads};
    EXPECT_EQ(TallyFromDatabase(schema.url(), schema.name(), o), TallyJsonLines(text, o));
  }
  const TallyResult none = TallyFromDatabase(schema.url(), schema.name(), {.proposal = 999});
  EXPECT_EQ(none.lines(), 0u);
}

TEST(DbBallotsTest, MissingTableIsAClearError) {
  db::test::TestSchema schema("novotes");
  EXPECT_THROW(TallyFromDatabase(schema.url(), schema.name(), {.proposal = 1}), std::runtime_error);
}

}  // namespace
}  // namespace pmbench::votes
