#include "lib/chain/keypair.h"

#include <openssl/rand.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace pmbench::chain {

Keypair Keypair::FromSeed(const std::array<uint8_t, 32>& seed) { return Keypair(seed, Ed25519Key::FromSeed(seed)); }

Keypair Keypair::Generate() {
  std::array<uint8_t, 32> seed;
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return FromSeed(seed);
}

std::string Keypair::ToJson() const {
  nlohmann::json a = nlohmann::json::array();
  for (uint8_t b : seed_) a.push_back(b);
  for (uint8_t b : public_key()) a.push_back(b);
  return a.dump();
}

Keypair ParseKeypairJson(std::string_view json) {
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_array() || doc.size() != 64) throw std::runtime_error("not a keypair: expected a JSON array of 64 numbers");
  std::array<uint8_t, 64> bytes;
  for (size_t i = 0; i < 64; ++i) {
    if (!doc[i].is_number_unsigned() || doc[i].get<uint64_t>() > 255) {
      throw std::runtime_error("not a keypair: element " + std::to_string(i) + " is not a byte");
    }
    bytes[i] = static_cast<uint8_t>(doc[i].get<uint64_t>());
  }
  std::array<uint8_t, 32> seed;
  std::copy(bytes.begin(), bytes.begin() + 32, seed.begin());
  Keypair kp = Keypair::FromSeed(seed);
  if (!std::equal(kp.public_key().begin(), kp.public_key().end(), bytes.begin() + 32)) {
    throw std::runtime_error("not a keypair: its public key does not match its secret key");
  }
  return kp;
}

Keypair LoadKeypair(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read keypair file " + path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    return ParseKeypairJson(text.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace pmbench::chain
