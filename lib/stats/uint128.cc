#include "lib/stats/uint128.h"

#include <stdexcept>

namespace pmbench::stats {

std::string ToDecimal(Uint128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return {s.rbegin(), s.rend()};
}

Uint128 ParseUint128(std::string_view s) {
  if (s.empty() || s.size() > 39) throw std::invalid_argument("not a 128-bit number: '" + std::string(s) + "'");
  Uint128 v = 0;
  const Uint128 max = ~Uint128{0};
  for (char c : s) {
    if (c < '0' || c > '9') throw std::invalid_argument("not a number: '" + std::string(s) + "'");
    const auto d = static_cast<unsigned>(c - '0');
    if (v > (max - d) / 10) throw std::invalid_argument("number too large: '" + std::string(s) + "'");
    v = v * 10 + d;
  }
  return v;
}

}  // namespace pmbench::stats
