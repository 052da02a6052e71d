#include "lib/chain/merkle.h"

#include <openssl/sha.h>

#include <algorithm>

namespace pmbench::chain {
namespace {

Hash256 LeafHash(std::span<const uint8_t> data, std::vector<uint8_t>& scratch) {
  scratch.assign(1, 0x00);
  scratch.insert(scratch.end(), data.begin(), data.end());
  Hash256 h;
  SHA256(scratch.data(), scratch.size(), h.data());
  return h;
}

Hash256 NodeHash(const Hash256& left, const Hash256& right) {
  uint8_t buf[65];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 33);
  Hash256 h;
  SHA256(buf, sizeof buf, h.data());
  return h;
}

// MTH(D[begin:end]) over precomputed leaf hashes.
Hash256 Subtree(const std::vector<Hash256>& leaves, size_t begin, size_t end) {
  const size_t n = end - begin;
  if (n == 1) return leaves[begin];
  size_t k = 1;
  while (k * 2 < n) k *= 2;  // the largest power of two smaller than n
  return NodeHash(Subtree(leaves, begin, begin + k), Subtree(leaves, begin + k, end));
}

}  // namespace

Hash256 MerkleRoot(const std::vector<std::span<const uint8_t>>& leaves) {
  if (leaves.empty()) {
    Hash256 h;
    SHA256(nullptr, 0, h.data());
    return h;
  }
  std::vector<Hash256> hashes;
  hashes.reserve(leaves.size());
  std::vector<uint8_t> scratch;
  for (const auto& leaf : leaves) hashes.push_back(LeafHash(leaf, scratch));
  return Subtree(hashes, 0, hashes.size());
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

}  // namespace pmbench::chain
