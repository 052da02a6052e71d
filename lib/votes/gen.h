// File: gen.h
//
// `pmbench votes gen`: deterministic signed ballots for tests and benchmarks, with the
// platform's real mess mixed in: re-votes (superseded), exact copies (duplicate),
// equivocations, and at `bad_ratio` one bad line of each kind in turn (malformed,
// wrong_proposal, outside_window — slot 0, below any window starting at kGenFirstSlot —,
// bad_signature, no_stake — a voter left out of the stakes file). Lines are shuffled.
//
//   GeneratedBallots g = GenerateBallots({.proposal = 42, .voters = 1000, .count = 10000});
#ifndef PMBENCH_VOTES_GEN_H_
#define PMBENCH_VOTES_GEN_H_

#include <cstdint>
#include <string>
#include <vector>

namespace pmbench::votes {

inline constexpr uint64_t kGenFirstSlot = 1000;

struct GenSpec {
  uint64_t proposal = 1;
  uint64_t voters = 1000;
  uint64_t count = 10000;  // lines
  uint64_t seed = 1;
  double bad_ratio = 0;
};

struct GeneratedBallots {
  std::vector<std::string> lines;  // JSON, no newline
  std::string stakes_csv;          // "voter,amount" for every voter but the unstaked ones
};

// Throws std::invalid_argument for voters == 0 or bad_ratio outside [0, 1].
GeneratedBallots GenerateBallots(const GenSpec& spec);

}  // namespace pmbench::votes

#endif  // PMBENCH_VOTES_GEN_H_
