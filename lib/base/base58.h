// File: base58.h
//
// Base58 with the Bitcoin/Solana alphabet, as Solana prints public keys (32 bytes) and
// transaction signatures (64 bytes). Leading zero bytes become leading '1's.
//
//   std::string key = pmbench::base::Base58Encode(bytes);
//   std::optional<std::vector<uint8_t>> back = pmbench::base::Base58Decode(key);
#ifndef PMBENCH_BASE_BASE58_H_
#define PMBENCH_BASE_BASE58_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pmbench::base {

std::string Base58Encode(std::span<const uint8_t> bytes);

// nullopt when `text` holds a character outside the alphabet.
std::optional<std::vector<uint8_t>> Base58Decode(std::string_view text);

}  // namespace pmbench::base

#endif  // PMBENCH_BASE_BASE58_H_
