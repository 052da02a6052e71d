// File: notification.h
//
// One logsNotification line (as Solana's logsSubscribe delivers it) turned into the
// platform's events. A "Program data:" line is the platform's event only while the platform
// program is the innermost one running — the invoke stack is tracked as Anchor's event
// parser does — and data of other programs is counted as foreign. With the memo carrier
// (carrier.h: the local stand-in for the program), the events are the Memo program's
// "Program log: pmevt:<base64>" lines instead.
//
//   NotificationParser parser(program_id);
//   ParsedLine p = parser.Parse(line);   // p.notification, or p.reject ("bad_base64", ...)
#ifndef PMBENCH_EVENTS_NOTIFICATION_H_
#define PMBENCH_EVENTS_NOTIFICATION_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/events/anchor.h"

namespace pmbench::events {

struct Notification {
  uint64_t slot = 0;
  std::string signature;  // base58, 64 bytes
  bool failed = false;    // err != null: no effects
  std::vector<Event> events;  // the platform's, in order: event_index = position
  uint32_t foreign = 0;       // data lines of other programs
};

struct ParsedLine {
  std::optional<Notification> notification;
  // malformed_json | not_notification | bad_signature | bad_base64 | unknown_event |
  // truncated_event | trailing_bytes | bad_enum | bad_text | out_of_range
  std::string reject;
};

enum class Carrier { kProgramData, kMemo };
// "program-data" | "memo"; throws std::invalid_argument otherwise.
Carrier ParseCarrier(std::string_view name);

class NotificationParser {
 public:
  explicit NotificationParser(const Pubkey& program, Carrier carrier = Carrier::kProgramData);
  ~NotificationParser();
  ParsedLine Parse(std::string_view line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The default platform program id of `pmbench events gen` (base58), and as a key.
std::string DefaultProgramId();
Pubkey DefaultProgram();
// A base58 32-byte program id; nullopt otherwise.
std::optional<Pubkey> ParseProgramId(std::string_view base58);

}  // namespace pmbench::events

#endif  // PMBENCH_EVENTS_NOTIFICATION_H_
