#include "lib/chain/base58.h"

#include <array>

namespace pmbench::chain {
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
  // log(256)/log(58) ~ 1.366: digits needed, in base 58, least significant last.
  std::vector<uint8_t> digits((bytes.size() - zeros) * 138 / 100 + 1);
  size_t used = 0;
  for (size_t i = zeros; i < bytes.size(); ++i) {
    unsigned carry = bytes[i];
    size_t j = 0;
    for (auto it = digits.rbegin(); (carry != 0 || j < used) && it != digits.rend(); ++it, ++j) {
      carry += 256u * *it;
      *it = static_cast<uint8_t>(carry % 58);
      carry /= 58;
    }
    used = j;
  }
  std::string out(zeros, '1');
  out.reserve(zeros + used);
  for (size_t i = digits.size() - used; i < digits.size(); ++i) out.push_back(kAlphabet[digits[i]]);
  return out;
}

std::optional<std::vector<uint8_t>> Base58Decode(std::string_view text) {
  size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  // log(58)/log(256) ~ 0.733
  std::vector<uint8_t> bytes((text.size() - ones) * 733 / 1000 + 1);
  size_t used = 0;
  for (size_t i = ones; i < text.size(); ++i) {
    const int d = kDecode[static_cast<unsigned char>(text[i])];
    if (d < 0) return std::nullopt;
    unsigned carry = static_cast<unsigned>(d);
    size_t j = 0;
    for (auto it = bytes.rbegin(); (carry != 0 || j < used) && it != bytes.rend(); ++it, ++j) {
      carry += 58u * *it;
      *it = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    used = j;
  }
  std::vector<uint8_t> out(ones, 0);
  out.insert(out.end(), bytes.end() - static_cast<std::ptrdiff_t>(used), bytes.end());
  return out;
}

}  // namespace pmbench::chain
