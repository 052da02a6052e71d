// File: uint128.h
//
// Exact 128-bit sums (latency totals, stake weights) and their decimal text: JSON numbers
// lose precision past 2^53, so results carry these as strings.
//
//   Uint128 total = Uint128{a} + b;
//   std::string s = ToDecimal(total);       // "55340232221128654845"
//   Uint128 back = ParseUint128(s);         // throws std::invalid_argument on bad text
#ifndef PMBENCH_STATS_UINT128_H_
#define PMBENCH_STATS_UINT128_H_

#include <string>
#include <string_view>

namespace pmbench::stats {

// __extension__ keeps -Wpedantic quiet about the GCC/Clang builtin.
__extension__ typedef unsigned __int128 Uint128;

std::string ToDecimal(Uint128 v);
// Throws std::invalid_argument unless `s` is a decimal number below 2^128.
Uint128 ParseUint128(std::string_view s);

}  // namespace pmbench::stats

#endif  // PMBENCH_STATS_UINT128_H_
