// File: db_ballots.h
//
// Ballots in staging's `votes` table: load a JSONL file into it (`pmbench votes load`) and
// tally a proposal straight from it (`pmbench votes tally --database`), streaming rows with
// COPY while other threads verify them. Same rules, same result as the file tally.
//
//   LoadResult l = LoadBallots(url, "pmbench", lines);
//   TallyResult r = TallyFromDatabase(url, "pmbench", {.proposal = 42});
#ifndef PMBENCH_VOTES_DB_BALLOTS_H_
#define PMBENCH_VOTES_DB_BALLOTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/votes/tally.h"

namespace pmbench::votes {

struct LoadResult {
  int64_t loaded = 0;
  int64_t malformed = 0;  // lines that do not parse cannot live in typed columns: skipped
};

// Appends the ballots of `lines` to <schema>.votes by COPY, in one transaction. The schema
// must be the suite's (migrated). Throws std::runtime_error on failure.
LoadResult LoadBallots(const std::string& url, const std::string& schema,
                       const std::vector<std::string_view>& lines);

// The tally of options.proposal from <schema>.votes. Throws std::runtime_error on failure.
TallyResult TallyFromDatabase(const std::string& url, const std::string& schema,
                              const TallyOptions& options);

}  // namespace pmbench::votes

#endif  // PMBENCH_VOTES_DB_BALLOTS_H_
