#include "lib/events/anchor.h"

#include <openssl/sha.h>

#include <cstring>

namespace pmbench::events {
namespace {

constexpr std::array<std::string_view, 5> kNames = {"MarketCreated", "BetPlaced", "VoteCast",
                                                    "MarketResolved", "WinningsClaimed"};

const std::array<std::array<uint8_t, 8>, 5>& Discriminators() {
  static const auto d = [] {
    std::array<std::array<uint8_t, 8>, 5> out;
    for (size_t i = 0; i < kNames.size(); ++i) out[i] = Discriminator(kNames[i]);
    return out;
  }();
  return d;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void Key(const Pubkey& k) { out_.append(reinterpret_cast<const char*>(k.data()), k.size()); }
  void Str(const std::string& s) {
    const auto n = static_cast<uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) U8(static_cast<uint8_t>(n >> (8 * i)));
    out_ += s;
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }
  uint8_t U8() { return static_cast<uint8_t>(Take(1)[0]); }
  uint64_t U64() {
    const std::string_view b = Take(8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(b[static_cast<size_t>(i)]);
    return v;
  }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  Pubkey Key() {
    Pubkey k{};
    const std::string_view b = Take(32);
    std::memcpy(k.data(), b.data(), b.size());
    return k;
  }
  std::string Str() {
    const std::string_view n = Take(4);
    uint32_t len = 0;
    for (int i = 3; i >= 0; --i) len = len << 8 | static_cast<uint8_t>(n[static_cast<size_t>(i)]);
    return std::string(Take(len));
  }

 private:
  // Past the end: a zero-filled view and ok() false, so decoding code stays linear.
  std::string_view Take(size_t n) {
    static const char kZeros[32] = {};
    if (!ok_ || n > in_.size()) {
      ok_ = false;
      in_ = {};
      return std::string_view(kZeros, n <= sizeof kZeros ? n : 0);
    }
    const std::string_view b = in_.substr(0, n);
    in_.remove_prefix(n);
    return b;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace

bool IsValidText(std::string_view s) {
  constexpr size_t kBad = ~size_t{0};
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    const size_t n = c == 0 ? kBad
                     : c < 0x80 ? 0
                     : (c & 0xE0) == 0xC0 ? 1
                     : (c & 0xF0) == 0xE0 ? 2
                     : (c & 0xF8) == 0xF0 ? 3
                                          : kBad;
    if (n == kBad || s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

std::string_view EventName(const Event& e) { return kNames[e.index()]; }

std::array<uint8_t, 8> Discriminator(std::string_view name) {
  const std::string preimage = "event:" + std::string(name);
  uint8_t h[32];
  SHA256(reinterpret_cast<const uint8_t*>(preimage.data()), preimage.size(), h);
  std::array<uint8_t, 8> d;
  std::memcpy(d.data(), h, 8);
  return d;
}

std::string EncodeEvent(const Event& e) {
  std::string out;
  const auto& d = Discriminators()[e.index()];
  out.append(reinterpret_cast<const char*>(d.data()), d.size());
  Writer w(out);
  std::visit(Overloaded{
                 [&](const MarketCreated& ev) {
                   w.U64(ev.market_id), w.Key(ev.creator), w.I64(ev.closes_at), w.Str(ev.title), w.Str(ev.category);
                 },
                 [&](const BetPlaced& ev) {
                   w.U64(ev.market_id), w.Key(ev.bettor), w.U8(ev.side), w.U64(ev.amount), w.U64(ev.yes_pool),
                       w.U64(ev.no_pool);
                 },
                 [&](const VoteCast& ev) { w.U64(ev.proposal_id), w.Key(ev.voter), w.U8(ev.choice), w.U64(ev.weight); },
                 [&](const MarketResolved& ev) { w.U64(ev.market_id), w.U8(ev.outcome); },
                 [&](const WinningsClaimed& ev) { w.U64(ev.market_id), w.Key(ev.bettor), w.U64(ev.payout); },
             },
      e);
  return out;
}

DecodeResult DecodeEvent(std::string_view bytes) {
  if (bytes.size() < 8) return {std::nullopt, "truncated_event"};
  size_t kind = kNames.size();
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (std::memcmp(bytes.data(), Discriminators()[i].data(), 8) == 0) kind = i;
  }
  if (kind == kNames.size()) return {std::nullopt, "unknown_event"};
  Reader r(bytes.substr(8));
  Event e;
  bool enum_ok = true, utf8_ok = true;
  switch (kind) {
    case 0: {
      MarketCreated m{r.U64(), r.Key(), r.I64(), r.Str(), r.Str()};
      utf8_ok = IsValidText(m.title) && IsValidText(m.category);
      e = std::move(m);
      break;
    }
    case 1: {
      BetPlaced b;
      b.market_id = r.U64(), b.bettor = r.Key(), b.side = r.U8(), b.amount = r.U64(),
      b.yes_pool = r.U64(), b.no_pool = r.U64();
      enum_ok = b.side <= 1;
      e = b;
      break;
    }
    case 2: {
      VoteCast v;
      v.proposal_id = r.U64(), v.voter = r.Key(), v.choice = r.U8(), v.weight = r.U64();
      enum_ok = v.choice <= 2;
      e = v;
      break;
    }
    case 3: {
      MarketResolved m;
      m.market_id = r.U64(), m.outcome = r.U8();
      enum_ok = m.outcome <= 2;
      e = m;
      break;
    }
    default: {
      WinningsClaimed w;
      w.market_id = r.U64(), w.bettor = r.Key(), w.payout = r.U64();
      e = w;
      break;
    }
  }
  if (!r.ok()) return {std::nullopt, "truncated_event"};
  if (!r.done()) return {std::nullopt, "trailing_bytes"};
  if (!enum_ok) return {std::nullopt, "bad_enum"};
  if (!utf8_ok) return {std::nullopt, "bad_text"};
  return {std::move(e), ""};
}

}  // namespace pmbench::events
