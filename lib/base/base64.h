// File: base64.h
//
// Standard base64 with padding: what Solana's "Program data:" lines and memos carry, and
// what sendTransaction takes.
//
//   std::string text = pmbench::base::Base64Encode(bytes);
//   std::optional<std::string> back = pmbench::base::Base64Decode(text);  // nullopt: not base64
#ifndef PMBENCH_BASE_BASE64_H_
#define PMBENCH_BASE_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace pmbench::base {

std::string Base64Encode(std::string_view bytes);
// nullopt on a character outside the alphabet, a length not a multiple of 4, or misplaced '='.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace pmbench::base

#endif  // PMBENCH_BASE_BASE64_H_
