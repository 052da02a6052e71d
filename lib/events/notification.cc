#include "lib/events/notification.h"

#include <openssl/sha.h>
#include <simdjson.h>

#include <algorithm>

#include "lib/base/base58.h"
#include "lib/base/base64.h"
#include "lib/chain/programs.h"
#include "lib/chain/transaction.h"
#include "lib/events/carrier.h"

namespace pmbench::events {

namespace {

// Every number must fit PostgreSQL's bigint, where it will be stored.
bool FitsBigint(const Event& e) {
  constexpr uint64_t kMax = 9223372036854775807ULL;
  return std::visit(
      [](const auto& ev) {
        using T = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<T, MarketCreated>) return ev.market_id <= kMax;
        if constexpr (std::is_same_v<T, BetPlaced>)
          return ev.market_id <= kMax && ev.amount <= kMax && ev.yes_pool <= kMax && ev.no_pool <= kMax;
        if constexpr (std::is_same_v<T, VoteCast>) return ev.proposal_id <= kMax && ev.weight <= kMax;
        if constexpr (std::is_same_v<T, MarketResolved>) return ev.market_id <= kMax;
        if constexpr (std::is_same_v<T, WinningsClaimed>) return ev.market_id <= kMax && ev.payout <= kMax;
      },
      e);
}

}  // namespace

Carrier ParseCarrier(std::string_view name) {
  if (name == "program-data") return Carrier::kProgramData;
  if (name == "memo") return Carrier::kMemo;
  throw std::invalid_argument("carrier must be program-data or memo, not '" + std::string(name) + "'");
}

struct NotificationParser::Impl {
  std::string program;  // base58, as the logs print it
  Carrier carrier = Carrier::kProgramData;
  simdjson::dom::parser parser;
  std::string padded;
};

NotificationParser::NotificationParser(const Pubkey& program, Carrier carrier) : impl_(std::make_unique<Impl>()) {
  impl_->program = base::Base58Encode(program);
  impl_->carrier = carrier;
}
NotificationParser::~NotificationParser() = default;

std::string DefaultProgramId() {
  uint8_t h[32];
  const std::string seed = "pmbench prediction-market program";
  SHA256(reinterpret_cast<const uint8_t*>(seed.data()), seed.size(), h);
  return base::Base58Encode(std::span<const uint8_t>(h, 32));
}

Pubkey DefaultProgram() { return *ParseProgramId(DefaultProgramId()); }

std::optional<Pubkey> ParseProgramId(std::string_view base58) { return chain::PublicKeyFromBase58(base58); }

ParsedLine NotificationParser::Parse(std::string_view line) {
  using namespace simdjson;
  impl_->padded.assign(line);
  impl_->padded.append(SIMDJSON_PADDING, '\0');
  dom::element doc;
  if (impl_->parser.parse(impl_->padded.data(), line.size(), false).get(doc)) return {std::nullopt, "malformed_json"};
  std::string_view method, signature;
  uint64_t slot = 0;
  dom::element value, err;
  dom::array logs;
  if (doc["method"].get_string().get(method) || method != "logsNotification" ||
      doc.at_pointer("/params/result/context/slot").get_uint64().get(slot) ||
      doc.at_pointer("/params/result/value").get(value) || value["signature"].get_string().get(signature) ||
      value["err"].get(err) || value["logs"].get_array().get(logs)) {
    return {std::nullopt, "not_notification"};
  }
  const auto sig = base::Base58Decode(signature);
  if (!sig || sig->size() != 64) return {std::nullopt, "bad_signature"};
  Notification n;
  n.slot = slot;
  n.signature = std::string(signature);
  n.failed = !err.is_null();
  std::vector<std::string_view> stack;  // invoked program ids, innermost last
  for (dom::element entry : logs) {
    std::string_view text;
    if (entry.get_string().get(text)) return {std::nullopt, "not_notification"};
    if (!text.starts_with("Program ")) continue;
    std::string_view rest = text.substr(8);
    const bool memo = impl_->carrier == Carrier::kMemo;
    std::string_view payload;
    if (!memo && rest.starts_with("data: ")) {
      if (stack.empty() || stack.back() != impl_->program) {
        ++n.foreign;
        continue;
      }
      payload = rest.substr(6);
    } else if (memo && rest.starts_with("log: ") && !stack.empty() && stack.back() == chain::kMemoProgramId &&
               rest.substr(5).starts_with(kMemoEventPrefix)) {
      payload = rest.substr(5 + kMemoEventPrefix.size());
    } else if (memo && rest.starts_with("data: ")) {
      ++n.foreign;
      continue;
    }
    if (payload.data() != nullptr) {
      if (n.failed) continue;  // a failed transaction has no effects to decode
      const auto bytes = base::Base64Decode(payload);
      if (!bytes) return {std::nullopt, "bad_base64"};
      DecodeResult d = DecodeEvent(*bytes);
      if (!d.event) return {std::nullopt, d.error};
      if (!FitsBigint(*d.event)) return {std::nullopt, "out_of_range"};
      n.events.push_back(std::move(*d.event));
      continue;
    }
    if (rest.starts_with("log: ") || rest.starts_with("return: ")) continue;
    const size_t space = rest.find(' ');
    if (space == std::string_view::npos) continue;
    const std::string_view id = rest.substr(0, space), what = rest.substr(space + 1);
    if (what.starts_with("invoke [")) {
      stack.push_back(id);
    } else if ((what == "success" || what.starts_with("failed")) && !stack.empty()) {
      stack.pop_back();
    }
  }
  return {std::move(n), ""};
}

}  // namespace pmbench::events
