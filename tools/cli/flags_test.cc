#include "tools/cli/flags.h"

#include <chrono>

#include <gtest/gtest.h>

#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

TEST(FlagsTest, AcceptsSpaceAndEqualsFormsBooleansAndPositionals) {
  Flags f({"--scale", "2.5", "--seed=7", "--allow-remote-writes", "file.json"}, {"scale", "seed"},
          {"allow-remote-writes"});
  EXPECT_DOUBLE_EQ(f.GetDouble("scale", 1), 2.5);
  EXPECT_EQ(f.GetUint("seed", 1), 7u);
  EXPECT_TRUE(f.Has("allow-remote-writes"));
  EXPECT_EQ(f.positional(), std::vector<std::string>{"file.json"});
  EXPECT_EQ(f.Get("missing", "fallback"), "fallback");
}

TEST(FlagsTest, RejectsUnknownOptionsMissingValuesAndBadNumbers) {
  EXPECT_THROW(Flags({"--nope"}, {}, {}), UsageError);
  EXPECT_THROW(Flags({"--scale"}, {"scale"}, {}), UsageError);
  EXPECT_THROW(Flags({"--flag=1"}, {}, {"flag"}), UsageError);
  EXPECT_THROW(Flags({"--scale", "big"}, {"scale"}, {}).GetDouble("scale", 1), UsageError);
  EXPECT_THROW(Flags({"--seed", "-1"}, {"seed"}, {}).GetUint("seed", 1), UsageError);
  EXPECT_THROW(Flags({"--seed", "12x"}, {"seed"}, {}).GetUint("seed", 1), UsageError);
}

TEST(FlagsTest, HelpIsPrintedAndAStrayArgumentNamesTheCommandsHelp) {
  testing::internal::CaptureStdout();
  EXPECT_TRUE(PrintedHelpOrRejectedArguments(Flags({"--help"}, {}, {"help"}), "Usage: x\n", "pmbench x"));
  EXPECT_TRUE(PrintedHelpOrRejectedArguments(Flags({"-h"}, {}, {"help"}), "Usage: x\n", "pmbench x"));
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "Usage: x\nUsage: x\n");
  EXPECT_FALSE(PrintedHelpOrRejectedArguments(Flags({}, {}, {"help"}), "Usage: x\n", "pmbench x"));
  try {
    PrintedHelpOrRejectedArguments(Flags({"stray"}, {}, {"help"}), "Usage: x\n", "pmbench x");
    FAIL() << "a stray argument was accepted";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "unexpected argument 'stray' (see pmbench x --help)");
  }
}

// The shards of one run share everything but which one each is, where it writes and how
// many threads its machine has; never a password.
TEST(ShardFlagsTest, ThePlanIsTheRunsOptionsWithoutTheShardsOwn) {
  const std::string a = ShardPlan("load db", {"--rate", "100", "--shard", "0/4", "--out=a.json", "--threads", "2",
                                              "--database", "postgresql://u:s3cret@h/db"});
  const std::string b = ShardPlan("load db", {"--rate", "100", "--shard=3/4", "--out", "b.json", "--threads=8",
                                              "--database", "postgresql://u:s3cret@h/db"});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.find("s3cret"), std::string::npos) << a;
  EXPECT_NE(a.find("--rate 100"), std::string::npos);
  EXPECT_NE(ShardPlan("load db", {"--rate", "200", "--shard", "0/4"}), ShardPlan("load db", {"--rate", "100", "--shard", "0/4"}));
}

TEST(ShardFlagsTest, ShardAndStartAtAreParsedOrRefused) {
  const std::set<std::string> with = {"shard", "start-at"};
  load::LoadSpec spec;
  spec.clients = 10;
  ParseShard(Flags({"--shard", "3/4", "--start-at", "2026-12-03T20:30:00.250Z"}, with, {}), spec);
  EXPECT_EQ(spec.shard_index, 3);
  EXPECT_EQ(spec.shard_count, 4);
  ASSERT_TRUE(spec.start_at.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(spec.start_at->time_since_epoch()).count(), 1'796'329'800'250);
  ParseShard(Flags({"--start-at", "1796329800.5"}, with, {}), spec);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(spec.start_at->time_since_epoch()).count(), 1'796'329'800'500);
  for (const char* bad : {"4/4", "-1/4", "1/0", "1.5/4", "half", "1/"}) {
    load::LoadSpec s;
    s.clients = 10;
    EXPECT_THROW(ParseShard(Flags({"--shard", bad}, with, {}), s), UsageError) << bad;
  }
  for (const char* bad : {"tomorrow", "2026-13-01T00:00:00Z", "2026-12-03T20:30:00", "2026-12-03T20:30:00+01:00", "-5"}) {
    load::LoadSpec s;
    EXPECT_THROW(ParseShard(Flags({"--start-at", bad}, with, {}), s), UsageError) << bad;
  }
  load::LoadSpec few;
  few.clients = 2;
  EXPECT_THROW(ParseShard(Flags({"--shard", "0/3"}, with, {}), few), UsageError);  // a shard without a connection
}

}  // namespace
}  // namespace pmbench::cli
