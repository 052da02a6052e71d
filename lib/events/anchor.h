// File: anchor.h
//
// The platform program's events as Anchor emits them: base64 of an 8-byte discriminator
// (SHA-256("event:<Name>")[0..8]) followed by the fields in Borsh (little-endian integers,
// 32-byte pubkeys, u32-length-prefixed UTF-8 strings).
//
//   std::string bytes = EncodeEvent(BetPlaced{...});
//   DecodeResult r = DecodeEvent(bytes);   // r.event or r.error ("unknown_event", ...)
#ifndef PMBENCH_EVENTS_ANCHOR_H_
#define PMBENCH_EVENTS_ANCHOR_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "lib/chain/ed25519.h"

namespace pmbench::events {

using Pubkey = chain::PublicKey;

struct MarketCreated {
  uint64_t market_id;
  Pubkey creator;
  int64_t closes_at;
  std::string title;
  std::string category;
  friend bool operator==(const MarketCreated&, const MarketCreated&) = default;
};
struct BetPlaced {
  uint64_t market_id;
  Pubkey bettor;
  uint8_t side;  // 0 no, 1 yes
  uint64_t amount, yes_pool, no_pool;
  friend bool operator==(const BetPlaced&, const BetPlaced&) = default;
};
struct VoteCast {
  uint64_t proposal_id;
  Pubkey voter;
  uint8_t choice;  // 0 no, 1 yes, 2 abstain
  uint64_t weight;
  friend bool operator==(const VoteCast&, const VoteCast&) = default;
};
struct MarketResolved {
  uint64_t market_id;
  uint8_t outcome;  // 0 no, 1 yes, 2 invalid
  friend bool operator==(const MarketResolved&, const MarketResolved&) = default;
};
struct WinningsClaimed {
  uint64_t market_id;
  Pubkey bettor;
  uint64_t payout;
  friend bool operator==(const WinningsClaimed&, const WinningsClaimed&) = default;
};

using Event = std::variant<MarketCreated, BetPlaced, VoteCast, MarketResolved, WinningsClaimed>;

// For std::visit over an Event with one lambda per kind and no catch-all, so that a new
// kind fails to compile wherever it is not handled:
//   std::visit(Overloaded{[](const MarketCreated&) {...}, ..., [](const WinningsClaimed&) {...}}, e);
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// "MarketCreated", ...: the name the discriminator hashes.
std::string_view EventName(const Event& e);
// SHA-256("event:<name>")[0..8].
std::array<uint8_t, 8> Discriminator(std::string_view name);

std::string EncodeEvent(const Event& e);

struct DecodeResult {
  std::optional<Event> event;
  std::string error;  // unknown_event | truncated_event | trailing_bytes | bad_enum | bad_text
};
DecodeResult DecodeEvent(std::string_view bytes);

// UTF-8 that PostgreSQL text can hold: well-formed sequences and no NUL.
bool IsValidText(std::string_view s);

}  // namespace pmbench::events

#endif  // PMBENCH_EVENTS_ANCHOR_H_
