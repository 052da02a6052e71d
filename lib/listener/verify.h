// File: verify.h
//
// `pmbench ingest verify`: recomputes from the input what the database must hold — each
// distinct event applied once, failed transactions and rejects without effect — and
// compares: row identities per table, each market's pools, volume, bet count, status and
// outcome, and a digest of the sorted event identities.
//
//   VerifyReport r = Verify(lines, program, url, "pmbench");
//   r.sync_accuracy == 1 && r.ok()
#ifndef PMBENCH_LISTENER_VERIFY_H_
#define PMBENCH_LISTENER_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/events/anchor.h"
#include "lib/events/notification.h"

namespace pmbench::listener {

struct VerifyReport {
  uint64_t expected = 0;  // event rows + markets the input implies
  uint64_t matched = 0;   // of those, found in the database exactly
  uint64_t unexpected = 0;  // event rows in the database the input does not imply
  double sync_accuracy = 0;  // matched / expected (1 for an empty input)
  std::string expected_digest, database_digest;  // SHA-256 of sorted "signature:index" lines
  std::vector<std::string> differences;  // the first few, for people
  bool ok() const { return matched == expected && unexpected == 0 && expected_digest == database_digest; }
  std::string ToJson() const;
};

// `carrier` must be the one the input was ingested with: read with another, a memo-carried
// input implies no events at all. Throws std::runtime_error when the database cannot be read.
VerifyReport Verify(const std::vector<std::string>& lines, const events::Pubkey& program,
                    const std::string& url, const std::string& schema,
                    events::Carrier carrier = events::Carrier::kProgramData);

}  // namespace pmbench::listener

#endif  // PMBENCH_LISTENER_VERIFY_H_
