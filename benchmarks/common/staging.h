// File: staging.h
//
// The staging that e2e benchmarks write to: the embedded one or STAGING_DATABASE_URL, and
// refused when it is not on loopback unless PMBENCH_ALLOW_REMOTE_WRITES=1
// (tools/bench --allow-remote-writes). Header-only: only e2e benchmarks, which link
// pmbench::db, include it.
//
//   const db::Staging s = bench::WritableStaging();   // throws std::runtime_error
#ifndef PMBENCH_BENCHMARKS_COMMON_STAGING_H_
#define PMBENCH_BENCHMARKS_COMMON_STAGING_H_

#include <cstdlib>
#include <string>

#include "lib/db/database_url.h"
#include "lib/db/staging.h"

namespace pmbench::bench {

inline db::Staging WritableStaging() {
  db::Staging s = db::ResolveStaging();
  const char* allow = std::getenv("PMBENCH_ALLOW_REMOTE_WRITES");
  const bool allowed = allow && std::string(allow) == "1";
  db::CheckWritable(db::ParseDatabaseUrl(s.direct_url), allowed);
  db::CheckWritable(db::ParseDatabaseUrl(s.pooled_url), allowed);
  return s;
}

}  // namespace pmbench::bench

#endif  // PMBENCH_BENCHMARKS_COMMON_STAGING_H_
