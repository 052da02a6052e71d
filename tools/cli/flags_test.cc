#include "tools/cli/flags.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pmbench::cli
