#include "lib/chain/ed25519.h"

#include <string>

#include <gtest/gtest.h>

#include "lib/chain/merkle.h"

namespace pmbench::chain {
namespace {

template <size_t N>
std::array<uint8_t, N> Hex(std::string_view hex) {
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  return out;
}

std::string Bytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

struct Rfc8032Vector {
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, tests 1-3.
constexpr Rfc8032Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519Test, Rfc8032KnownAnswers) {
  for (const auto& v : kVectors) {
    const auto key = Ed25519Key::FromSeed(Hex<32>(v.secret));
    EXPECT_EQ(key.public_key(), Hex<32>(v.public_key));
    const std::string msg = Bytes(v.message);
    EXPECT_EQ(key.Sign(msg), Hex<64>(v.signature));
    EXPECT_TRUE(Ed25519Verify(Hex<32>(v.public_key), msg, Hex<64>(v.signature)));
  }
}

TEST(Ed25519Test, RejectsTamperedMessageSignatureKeyAndNonCanonicalS) {
  const auto& v = kVectors[1];
  const auto pub = Hex<32>(v.public_key);
  const auto sig = Hex<64>(v.signature);
  EXPECT_FALSE(Ed25519Verify(pub, std::string("\x73"), sig));
  auto bad_sig = sig;
  bad_sig[10] ^= 1;
  EXPECT_FALSE(Ed25519Verify(pub, Bytes(v.message), bad_sig));
  auto other_key = Hex<32>(kVectors[0].public_key);
  EXPECT_FALSE(Ed25519Verify(other_key, Bytes(v.message), sig));
  // S + L (the group order) verifies under lax rules; RFC 8032 requires S < L.
  auto high_s = sig;
  high_s[63] |= 0xf0;
  EXPECT_FALSE(Ed25519Verify(pub, Bytes(v.message), high_s));
  PublicKey not_a_point{};
  not_a_point.fill(0xff);
  EXPECT_FALSE(Ed25519Verify(not_a_point, Bytes(v.message), sig));
}

std::vector<std::string> CtLeaves() {
  // The leaves of certificate-transparency's merkle_tree_test (RFC 6962 reference tests).
  return {Bytes(""), Bytes("00"), Bytes("10"), Bytes("2021"), Bytes("3031"), Bytes("40414243"),
          Bytes("5051525354555657"), Bytes("606162636465666768696a6b6c6d6e6f")};
}

std::string RootOfFirst(size_t n) {
  const auto leaves = CtLeaves();
  std::vector<std::span<const uint8_t>> spans;
  for (size_t i = 0; i < n; ++i) {
    spans.emplace_back(reinterpret_cast<const uint8_t*>(leaves[i].data()), leaves[i].size());
  }
  return ToHex(MerkleRoot(spans));
}

TEST(MerkleTest, Rfc6962KnownAnswers) {
  EXPECT_EQ(RootOfFirst(0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(RootOfFirst(1), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(RootOfFirst(2), "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
  EXPECT_EQ(RootOfFirst(3), "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77");
  EXPECT_EQ(RootOfFirst(5), "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4");
  EXPECT_EQ(RootOfFirst(8), "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

}  // namespace
}  // namespace pmbench::chain
