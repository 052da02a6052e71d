// File: ed25519.h
//
// Ed25519 (RFC 8032, pure) through OpenSSL 3's EVP interface: what Solana wallets sign
// with. Keys are raw 32-byte public keys and 32-byte private seeds.
//
//   Ed25519Key key = Ed25519Key::FromSeed(seed);
//   Signature sig = key.Sign(message);
//   bool ok = Ed25519Verify(key.public_key(), message, sig);
#ifndef PMBENCH_CHAIN_ED25519_H_
#define PMBENCH_CHAIN_ED25519_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace pmbench::chain {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

// False for a bad signature, a malformed key (not a curve point) or a non-canonical S.
// Thread-safe; allocates a key object per call, as a verifier of unknown keys must.
bool Ed25519Verify(const PublicKey& key, std::span<const uint8_t> message, const Signature& sig);
inline bool Ed25519Verify(const PublicKey& key, std::string_view message, const Signature& sig) {
  return Ed25519Verify(key, {reinterpret_cast<const uint8_t*>(message.data()), message.size()}, sig);
}

class Ed25519Key {
 public:
  // Throws std::runtime_error if OpenSSL cannot make the key.
  static Ed25519Key FromSeed(const std::array<uint8_t, 32>& seed);
  ~Ed25519Key();
  Ed25519Key(Ed25519Key&&) noexcept;
  Ed25519Key& operator=(Ed25519Key&&) noexcept;

  const PublicKey& public_key() const { return public_key_; }
  Signature Sign(std::string_view message) const;

 private:
  struct Impl;
  explicit Ed25519Key(std::unique_ptr<Impl> impl, const PublicKey& pub);
  std::unique_ptr<Impl> impl_;
  PublicKey public_key_;
};

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_ED25519_H_
