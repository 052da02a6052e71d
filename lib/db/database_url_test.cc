#include "lib/db/database_url.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace pmbench::db {
namespace {

TEST(DatabaseUrlTest, ParsesUrlAndDisplaysItWithoutPassword) {
  const auto t = ParseDatabaseUrl("postgresql://alice:s3cret@db.example.com:6543/app?sslmode=require");
  EXPECT_EQ(t.host, "db.example.com");
  EXPECT_EQ(t.port, "6543");
  EXPECT_EQ(t.dbname, "app");
  EXPECT_EQ(t.user, "alice");
  EXPECT_TRUE(t.has_password);
  EXPECT_EQ(t.Display(), "postgresql://alice@db.example.com:6543/app");
  EXPECT_FALSE(t.IsLoopback());
}

TEST(DatabaseUrlTest, ParsesKeywordForm) {
  const auto t = ParseDatabaseUrl("host=127.0.0.1 port=5433 dbname=pmbench user=pmbench");
  EXPECT_EQ(t.Display(), "postgresql://pmbench@127.0.0.1:5433/pmbench");
  EXPECT_FALSE(t.has_password);
  EXPECT_TRUE(t.IsLoopback());
}

TEST(DatabaseUrlTest, RecognisesLoopbackOnly) {
  for (const char* url : {"postgresql://localhost/x", "postgresql://127.0.0.1/x",
                          "postgresql://127.1.2.3:5/x", "postgresql://[::1]/x",
                          "postgresql:///x?host=/var/run/postgresql", "dbname=x"}) {
    EXPECT_TRUE(ParseDatabaseUrl(url).IsLoopback()) << url;
  }
  for (const char* url : {"postgresql://10.0.0.5/x", "postgresql://db.internal/x",
                          "postgresql://128.0.0.1/x", "postgresql://127.0.0.1.evil.com/x",
                          "host=localhost hostaddr=192.168.1.9 dbname=x"}) {
    EXPECT_FALSE(ParseDatabaseUrl(url).IsLoopback()) << url;
  }
}

TEST(DatabaseUrlTest, BadUrlErrorNamesProblemButNotPassword) {
  for (const char* bad : {"postgresql://u:s3cret@[::1/db", "postgresql://u:s3cret@h:port/db",
                          "nonsense password=s3cret =="}) {
    try {
      ParseDatabaseUrl(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.starts_with("invalid database URL: ")) << what;
      EXPECT_EQ(what.find("s3cret"), std::string::npos) << what;
    }
  }
}

TEST(DatabaseUrlTest, RedactsPasswordsInFreeText) {
  EXPECT_EQ(RedactSecrets("connect postgresql://bob:hunter2@h:5432/d failed"),
            "connect postgresql://bob:***@h:5432/d failed");
  EXPECT_EQ(RedactSecrets("host=h password=hunter2 user=bob"), "host=h password=*** user=bob");
  EXPECT_EQ(RedactSecrets("password='two words' x"), "password=*** x");
  EXPECT_EQ(RedactSecrets("postgresql://bob@h/d"), "postgresql://bob@h/d");
}

TEST(DatabaseUrlTest, WritesToRemoteServersNeedExplicitConsent) {
  const auto remote = ParseDatabaseUrl("postgresql://u:pw@db.example.com/x");
  EXPECT_THROW(CheckWritable(remote, false), std::runtime_error);
  EXPECT_NO_THROW(CheckWritable(remote, true));
  EXPECT_NO_THROW(CheckWritable(ParseDatabaseUrl("postgresql://127.0.0.1/x"), false));
  try {
    CheckWritable(remote, false);
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).find("pw"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--allow-remote-writes"), std::string::npos);
  }
}

TEST(DatabaseUrlTest, SchemaNamesArePlainIdentifiers) {
  EXPECT_NO_THROW(CheckSchemaName("pmbench"));
  EXPECT_NO_THROW(CheckSchemaName("t_seed_123"));
  for (const char* bad : {"", "Pm", "a-b", "x; drop table y", "public", "pg_catalog", "1abc",
                          "information_schema"}) {
    EXPECT_THROW(CheckSchemaName(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace pmbench::db
