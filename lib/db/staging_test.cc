#include "lib/db/staging.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace pmbench::db {
namespace {

// A state directory as tools/staging up leaves it, with the environment pointed at it.
class StagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pmbench-staging-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (const char* v : {"STAGING_DATABASE_URL", "STAGING_DATABASE_DIRECT_URL", "STAGING_LEDGER_URL",
                          "PMBENCH_STAGING_STATE"}) {
      if (const char* old = std::getenv(v)) saved_.emplace_back(v, old);
      ::unsetenv(v);
    }
    ::setenv("PMBENCH_STAGING_STATE", (dir_ + "/state.env").c_str(), 1);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    ::unsetenv("PMBENCH_STAGING_STATE");
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
  }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }

  std::string dir_;
  std::vector<std::pair<std::string, std::string>> saved_;
};

constexpr const char* kState =
    "PMBENCH_STAGING_KIND=embedded\n"
    "PMBENCH_STAGING_URL=postgresql://pmbench@127.0.0.1:6432/pmbench\n"
    "PMBENCH_STAGING_DIRECT_URL=postgresql://pmbench@127.0.0.1:5432/pmbench\n";

TEST_F(StagingTest, ReadsTheLedgerUrlsFromTheStateFile) {
  Write("state.env", std::string(kState) + "PMBENCH_LEDGER_URL=http://127.0.0.1:1,http://127.0.0.1:2\n");
  Write("ledger.error", "stale reason from an earlier start\n");
  const Staging s = ResolveStaging();
  EXPECT_EQ(s.kind, "embedded");
  EXPECT_EQ(s.pooled_url, "postgresql://pmbench@127.0.0.1:6432/pmbench");
  EXPECT_EQ(s.direct_url, "postgresql://pmbench@127.0.0.1:5432/pmbench");
  EXPECT_EQ(s.ledger_url, "http://127.0.0.1:1,http://127.0.0.1:2");
  EXPECT_EQ(s.ledger_error, "");
}

TEST_F(StagingTest, SaysWhyThereIsNoLedger) {
  Write("state.env", std::string(kState) + "PMBENCH_LEDGER_URL=\n");
  Write("ledger.error", "the local Solana ledger failed to start: cannot listen on 127.0.0.1:40001: EADDRINUSE\n");
  const Staging s = ResolveStaging();
  EXPECT_EQ(s.ledger_url, "");
  EXPECT_EQ(s.ledger_error, "the local Solana ledger failed to start: cannot listen on 127.0.0.1:40001: EADDRINUSE");
}

TEST_F(StagingTest, RemoteStagingTakesItsLedgerFromTheEnvironment) {
  ::setenv("STAGING_DATABASE_URL", "postgresql://u@db.example.com/x", 1);
  Staging s = ResolveStaging();
  EXPECT_EQ(s.kind, "remote");
  EXPECT_EQ(s.direct_url, "postgresql://u@db.example.com/x");
  EXPECT_EQ(s.ledger_url, "");
  EXPECT_EQ(s.ledger_error, "STAGING_LEDGER_URL is not set");
  ::setenv("STAGING_LEDGER_URL", "https://api.devnet.solana.com", 1);
  s = ResolveStaging();
  EXPECT_EQ(s.ledger_url, "https://api.devnet.solana.com");
  EXPECT_EQ(s.ledger_error, "");
  ::unsetenv("STAGING_DATABASE_URL");
  ::unsetenv("STAGING_LEDGER_URL");
}

TEST_F(StagingTest, MissingStateFileNamesTheCommandToRun) {
  try {
    ResolveStaging();
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tools/staging up"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pmbench::db
