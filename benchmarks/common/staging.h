// File: staging.h
//
// The staging that e2e benchmarks write to: the embedded one or STAGING_DATABASE_URL, and
// refused when it is not on loopback unless PMBENCH_ALLOW_REMOTE_WRITES=1
// (tools/bench --allow-remote-writes). Header-only: only e2e benchmarks, which link
// pmbench::db, include it.
//
//   const db::Staging s = bench::WritableStaging();   // throws std::runtime_error
//
//   // A schema of the process's own, prepared once, dropped at exit:
//   class Staging : public bench::BenchSchema {
//     Staging() : BenchSchema("queries") { Prepare([&] { db::Seed(direct(), schema(), {...}); }); }
//   };
//   if (!st.error().empty()) return state.SkipWithError(st.error().c_str());
#ifndef PMBENCH_BENCHMARKS_COMMON_STAGING_H_
#define PMBENCH_BENCHMARKS_COMMON_STAGING_H_

#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"

namespace pmbench::bench {

// COPYs `text` (whole rows of COPY text) with `copy_sql`, 1 MiB of rows at a time, as a
// client streaming a load would: the raw-COPY limits beside the seed and the listener.
inline int64_t CopyText(db::PgSession& session, const std::string& copy_sql, std::string_view text) {
  size_t at = 0;
  return session.CopyIn(copy_sql, [&](std::string& chunk) {
    if (at >= text.size()) return false;
    size_t end = std::min(text.size(), at + (1 << 20));
    while (end < text.size() && text[end - 1] != '\n') ++end;  // whole rows
    chunk.assign(text.substr(at, end - at));
    at = end;
    return true;
  });
}

inline db::Staging WritableStaging() {
  db::Staging s = db::ResolveStaging();
  const char* allow = std::getenv("PMBENCH_ALLOW_REMOTE_WRITES");
  const bool allowed = allow && std::string(allow) == "1";
  db::CheckWritable(db::ParseDatabaseUrl(s.direct_url), allowed);
  db::CheckWritable(db::ParseDatabaseUrl(s.pooled_url), allowed);
  return s;
}

// A schema named bench_<area>_<pid> on the writable staging, made by Prepare (migrate,
// seed, load) and dropped on destruction. Failures are kept in error() (secrets removed)
// for the benchmarks to skip with, rather than thrown.
// The schemas this process's BenchSchemas made (url, schema), for DropBenchSchemas.
inline std::vector<std::pair<std::string, std::string>>& BenchSchemasMade() {
  static std::vector<std::pair<std::string, std::string>> made;
  return made;
}

// Drops every BenchSchema's schema; the benchmark main calls it once the benchmarks have
// run. Not a destructor's job: BenchSchemas are statics, destroyed after libpqxx's and the
// standard library's function-local statics constructed later (a query from there spun or
// crashed at exit).
inline void DropBenchSchemas() {
  for (const auto& [url, schema] : std::exchange(BenchSchemasMade(), {})) {
    try {
      if (db::IsSuiteSchema(url, schema)) db::DropSuiteSchema(url, schema);
    } catch (const std::exception&) {  // the server is gone: nothing left to clean
    }
  }
}

class BenchSchema {
 public:
  explicit BenchSchema(const std::string& area) : schema_("bench_" + area + "_" + std::to_string(getpid())) {
    try {
      const db::Staging s = WritableStaging();
      direct_ = s.direct_url;
      pooled_ = s.pooled_url;
      BenchSchemasMade().emplace_back(direct_, schema_);
    } catch (const std::exception& e) {
      error_ = db::RedactSecrets(e.what());
    }
  }
  BenchSchema(const BenchSchema&) = delete;
  BenchSchema& operator=(const BenchSchema&) = delete;

  // Runs `prepare` unless the staging could not be reached; what it throws becomes error().
  void Prepare(const std::function<void()>& prepare) {
    if (!error_.empty()) return;
    try {
      prepare();
    } catch (const std::exception& e) {
      error_ = db::RedactSecrets(e.what());
    }
  }

  const std::string& error() const { return error_; }
  const std::string& direct() const { return direct_; }
  const std::string& pooled() const { return pooled_; }
  const std::string& schema() const { return schema_; }

 private:
  std::string schema_, direct_, pooled_, error_;
};

// A freshly migrated suite schema for one run (dropped first if a killed run left it),
// dropped when the run ends.
class RunSchema {
 public:
  RunSchema(std::string url, std::string name) : url_(std::move(url)), name_(std::move(name)) {
    Drop();
    db::Migrate(url_, name_);
  }
  ~RunSchema() { Drop(); }
  RunSchema(const RunSchema&) = delete;
  RunSchema& operator=(const RunSchema&) = delete;
  const std::string& name() const { return name_; }

 private:
  void Drop() {
    try {
      if (db::IsSuiteSchema(url_, name_)) db::DropSuiteSchema(url_, name_);
    } catch (const std::exception&) {  // reported by the run that broke it
    }
  }
  std::string url_, name_;
};

}  // namespace pmbench::bench

#endif  // PMBENCH_BENCHMARKS_COMMON_STAGING_H_
