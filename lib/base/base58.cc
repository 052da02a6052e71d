#include "lib/base/base58.h"

#include <array>

namespace pmbench::base {
namespace {

constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 58; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kDecode = MakeDecodeTable();

}  // namespace

std::string Base58Encode(std::span<const uint8_t> bytes) {
  size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
  // Big-number conversion in limbs of 58^5 fed 32 bits at a time: ~30x fewer steps than
  // the textbook byte-by-digit loop, which made base58 the seed's bottleneck.
  constexpr uint64_t kLimb = 58ULL * 58 * 58 * 58 * 58;  // < 2^30, so limb * 2^32 fits
  std::vector<uint32_t> limbs;  // least significant first
  limbs.reserve((bytes.size() - zeros) * 138 / 500 + 2);
  size_t i = zeros;
  const size_t head = (bytes.size() - zeros) % 4;
  while (i < bytes.size()) {
    const size_t take = (i == zeros && head != 0) ? head : 4;
    uint64_t carry = 0;
    for (size_t k = 0; k < take; ++k) carry = carry << 8 | bytes[i + k];
    const int shift = static_cast<int>(8 * take);
    for (uint32_t& limb : limbs) {
      const uint64_t v = (static_cast<uint64_t>(limb) << shift) + carry;
      limb = static_cast<uint32_t>(v % kLimb);
      carry = v / kLimb;
    }
    while (carry) {
      limbs.push_back(static_cast<uint32_t>(carry % kLimb));
      carry /= kLimb;
    }
    i += take;
  }
  std::string digits;  // least significant first
  digits.reserve(limbs.size() * 5);
  for (uint32_t limb : limbs) {
    for (int k = 0; k < 5; ++k, limb /= 58) digits.push_back(kAlphabet[limb % 58]);
  }
  while (!digits.empty() && digits.back() == '1') digits.pop_back();  // the top limb's padding
  std::string out(zeros, '1');
  out.append(digits.rbegin(), digits.rend());
  return out;
}

std::optional<std::vector<uint8_t>> Base58Decode(std::string_view text) {
  size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  // The mirror of Encode: up to five digits at a time (58^5 < 2^30) folded into 32-bit
  // limbs. The byte-by-digit loop this replaces was the listener's largest cost of its own
  // (a signature is 88 digits into 64 bytes on every notification).
  std::vector<uint32_t> limbs;  // least significant first
  limbs.reserve((text.size() - ones) * 733 / 4000 + 2);
  for (size_t i = ones; i < text.size();) {
    uint64_t group = 0, scale = 1;
    for (size_t k = 0; k < 5 && i < text.size(); ++k, ++i) {
      const int d = kDecode[static_cast<unsigned char>(text[i])];
      if (d < 0) return std::nullopt;
      group = group * 58 + static_cast<uint64_t>(d);
      scale *= 58;
    }
    uint64_t carry = group;
    for (uint32_t& limb : limbs) {
      const uint64_t v = static_cast<uint64_t>(limb) * scale + carry;
      limb = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    if (carry) limbs.push_back(static_cast<uint32_t>(carry));  // scale * 2^32 + carry < 2^62: one limb
  }
  std::vector<uint8_t> out(ones, 0);
  out.reserve(ones + limbs.size() * 4);
  bool started = false;
  for (auto it = limbs.rbegin(); it != limbs.rend(); ++it) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      const auto byte = static_cast<uint8_t>(*it >> shift);
      if (!started && byte == 0) continue;  // the number's own leading zeros are not bytes
      started = true;
      out.push_back(byte);
    }
  }
  return out;
}

}  // namespace pmbench::base
