// File: test_schema.h
//
// For tests of any package that need the database: a hermetic schema per test, with a
// unique name, dropped afterwards, on the staging the ctest fixture starts.
//
//   db::test::TestSchema schema("feed");
//   db::Migrate(schema.url(), schema.name());
#ifndef PMBENCH_DB_TESTING_TEST_SCHEMA_H_
#define PMBENCH_DB_TESTING_TEST_SCHEMA_H_

#include <unistd.h>

#include <atomic>
#include <random>
#include <string>

#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"

namespace pmbench::db::test {

class TestSchema {
 public:
  explicit TestSchema(const std::string& tag)
      : url_(ResolveStaging().direct_url),
        name_("t_" + tag + "_" + std::to_string(getpid()) + "_" +
              std::to_string(std::random_device()() % 100000)) {}
  ~TestSchema() {
    try {
      PgSession(url_).Exec("DROP SCHEMA IF EXISTS \"" + name_ + "\" CASCADE");
    } catch (...) {  // the test already reported whatever broke the server
    }
  }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string url_;
  std::string name_;
};

}  // namespace pmbench::db::test

#endif  // PMBENCH_DB_TESTING_TEST_SCHEMA_H_
