// File: gen.h
//
// `pmbench events gen`: deterministic logsNotification lines with the platform's mix —
// markets created first (in slot order), then bets dominating, votes, claims and
// resolutions — and, at the given ratios, re-deliveries, out-of-order delivery within a
// window, malformed lines of each kind in turn, failed transactions and foreign programs'
// data in nested CPIs.
//
//   auto lines = GenerateNotifications({.count = 10000, .markets = 100, .seed = 7});
#ifndef PMBENCH_EVENTS_GEN_H_
#define PMBENCH_EVENTS_GEN_H_

#include <cstdint>
#include <string>
#include <vector>

namespace pmbench::events {

struct EventGenSpec {
  uint64_t count = 10000;  // lines
  uint64_t markets = 100;
  uint64_t seed = 1;
  double dup_ratio = 0;
  uint64_t reorder_window = 0;
  double malformed_ratio = 0;
  double failed_tx_ratio = 0;
  double foreign_ratio = 0;
  std::string program;  // base58; empty: DefaultProgramId()
};

// Throws std::invalid_argument for ratios outside [0, 1] or markets == 0.
std::vector<std::string> GenerateNotifications(const EventGenSpec& spec);

}  // namespace pmbench::events

#endif  // PMBENCH_EVENTS_GEN_H_
