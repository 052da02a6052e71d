// File: keypair.h
//
// Wallet keys in the Solana CLI's file format: a JSON array of 64 numbers, the 32-byte
// Ed25519 seed followed by the public key (what `solana-keygen new` writes).
//
//   Keypair payer = LoadKeypair("~/.config/solana/id.json");   // throws with the reason
//   Keypair fresh = Keypair::Generate();
#ifndef PMBENCH_CHAIN_KEYPAIR_H_
#define PMBENCH_CHAIN_KEYPAIR_H_

#include <array>
#include <string>
#include <string_view>

#include "lib/chain/ed25519.h"

namespace pmbench::chain {

class Keypair {
 public:
  static Keypair FromSeed(const std::array<uint8_t, 32>& seed);
  static Keypair Generate();  // OpenSSL's RAND_bytes

  const PublicKey& public_key() const { return key_.public_key(); }
  const Ed25519Key& key() const { return key_; }
  // The CLI's JSON text: [seed..., public key...].
  std::string ToJson() const;

 private:
  Keypair(const std::array<uint8_t, 32>& seed, Ed25519Key key) : seed_(seed), key_(std::move(key)) {}
  std::array<uint8_t, 32> seed_;
  Ed25519Key key_;
};

// Throws std::runtime_error naming the problem: not 64 numbers in 0..255, or a public key
// that does not belong to the seed.
Keypair ParseKeypairJson(std::string_view json);
Keypair LoadKeypair(const std::string& path);

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_KEYPAIR_H_
