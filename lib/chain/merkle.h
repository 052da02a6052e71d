// File: merkle.h
//
// RFC 6962 Merkle Tree Hash over SHA-256: leaf = H(0x00 || data), node = H(0x01 || l || r),
// split at the largest power of two below n, empty tree = H(""). Anyone can recompute it
// with any SHA-256 tool, which is why results publish it.
//
//   std::array<uint8_t, 32> root = MerkleRoot(leaves);   // leaves: spans of bytes
#ifndef PMBENCH_CHAIN_MERKLE_H_
#define PMBENCH_CHAIN_MERKLE_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace pmbench::chain {

using Hash256 = std::array<uint8_t, 32>;

Hash256 MerkleRoot(const std::vector<std::span<const uint8_t>>& leaves);

std::string ToHex(std::span<const uint8_t> bytes);

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_MERKLE_H_
