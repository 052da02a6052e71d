#include "lib/chain/transaction.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lib/chain/keypair.h"
#include "lib/chain/programs.h"

namespace pmbench::chain {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::array<uint8_t, 32> Seed(const std::string& hex) {
  const std::string b = Unhex(hex);
  std::array<uint8_t, 32> s;
  std::copy(b.begin(), b.end(), s.begin());
  return s;
}

nlohmann::json Vectors() {
  std::ifstream in(PMBENCH_CHAIN_TESTDATA "/web3_vectors.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

TEST(CompactU16, MatchesTheDocumentedEncoding) {
  // Solana's documented table (short_vec): 7 bits a byte, continuation bit high.
  const std::vector<std::pair<uint16_t, std::string>> table = {
      {0, "00"}, {0x7f, "7f"}, {0x80, "8001"}, {0xff, "ff01"}, {0x3fff, "ff7f"}, {0x4000, "808001"}, {0xffff, "ffff03"}};
  for (const auto& [value, hex] : table) {
    std::string out;
    AppendCompactU16(out, value);
    EXPECT_EQ(Hex(out), hex) << value;
    size_t pos = 0;
    EXPECT_EQ(ReadCompactU16(out, pos), value);
    EXPECT_EQ(pos, out.size());
  }
}

TEST(CompactU16, RejectsTruncatedAndOverlongInput) {
  size_t pos = 0;
  EXPECT_FALSE(ReadCompactU16(Unhex("80"), pos));
  pos = 0;
  EXPECT_FALSE(ReadCompactU16(Unhex("ffff04"), pos));  // above 65535
  pos = 0;
  EXPECT_FALSE(ReadCompactU16(Unhex("808080"), pos));
}

TEST(KnownAnswer, TransactionsEqualTheReferenceClientsBytes) {
  const auto doc = Vectors();
  ASSERT_GE(doc["vectors"].size(), 5u);
  for (const auto& v : doc["vectors"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    std::vector<Instruction> ixs;
    for (const auto& j : v["instructions"]) {
      Instruction ix{*PublicKeyFromBase58(j["program"].get<std::string>()), {}, Unhex(j["data"].get<std::string>())};
      for (const auto& a : j["accounts"]) {
        ix.accounts.push_back({*PublicKeyFromBase58(a["pubkey"].get<std::string>()), a["signer"], a["writable"]});
      }
      ixs.push_back(std::move(ix));
    }
    std::vector<Keypair> keys;
    keys.push_back(Keypair::FromSeed(Seed(v["payer_seed"])));
    for (const auto& s : v["signer_seeds"]) keys.push_back(Keypair::FromSeed(Seed(s)));
    std::vector<const Ed25519Key*> signers;
    for (const auto& k : keys) signers.push_back(&k.key());

    const Message m = CompileMessage(keys[0].public_key(), ixs, *PublicKeyFromBase58(v["blockhash"].get<std::string>()));
    EXPECT_EQ(Hex(m.Serialize()), v["message"].get<std::string>());
    const Transaction tx = Sign(m, signers);
    ASSERT_EQ(tx.signatures.size(), v["signatures"].size());
    for (size_t i = 0; i < tx.signatures.size(); ++i) EXPECT_EQ(ToBase58(tx.signatures[i]), v["signatures"][i]);
    EXPECT_EQ(tx.Id(), v["signatures"][0]);

    // The reference wire bytes parse back to the same transaction.
    std::string ref;
    {
      static const std::string b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      uint32_t acc = 0;
      int bits = 0;
      for (char c : v["wire_base64"].get<std::string>()) {
        if (c == '=') break;
        acc = (acc << 6) | static_cast<uint32_t>(b64.find(c));
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          ref.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
      }
    }
    EXPECT_EQ(Hex(tx.Wire()), Hex(ref));
    const auto parsed = ParseWire(ref);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->tx.message, tx.message);
    EXPECT_EQ(parsed->message.account_keys, m.account_keys);
    EXPECT_EQ(parsed->message.Serialize(), tx.message);
  }
}

TEST(KnownAnswer, KeypairFileOfTheCli) {
  const auto doc = Vectors();
  const Keypair kp = ParseKeypairJson(doc["keypair_json"].get<std::string>());
  EXPECT_EQ(ToBase58(kp.public_key()), doc["keypair_pubkey"]);
  EXPECT_EQ(kp.ToJson(), doc["keypair_json"]);
}

TEST(Keypair, RejectsMalformedFiles) {
  EXPECT_THROW(ParseKeypairJson("[1,2,3]"), std::runtime_error);
  EXPECT_THROW(ParseKeypairJson("not json"), std::runtime_error);
  std::string bad = "[";
  for (int i = 0; i < 64; ++i) bad += (i ? "," : "") + std::to_string(i == 40 ? 7 : 1);
  bad += "]";
  EXPECT_THROW(ParseKeypairJson(bad), std::runtime_error);  // public key not the seed's
  EXPECT_THROW(LoadKeypair("/nonexistent/id.json"), std::runtime_error);
}

TEST(Sign, RefusesMissingAndForeignSigners) {
  const Keypair a = Keypair::FromSeed(Seed(std::string(64, '1'))), b = Keypair::FromSeed(Seed(std::string(64, '2')));
  const Message m = CompileMessage(a.public_key(), {SystemTransfer(b.public_key(), a.public_key(), 1)}, Hash{});
  EXPECT_EQ(m.num_required_signatures, 2);
  EXPECT_THROW(Sign(m, {&a.key()}), std::invalid_argument);
  const Keypair c = Keypair::FromSeed(Seed(std::string(64, '3')));
  EXPECT_THROW(Sign(m, {&a.key(), &b.key(), &c.key()}), std::invalid_argument);
  EXPECT_NO_THROW(Sign(m, {&b.key(), &a.key()}));
}

TEST(ParseWire, RejectsMalformedBytes) {
  const Keypair a = Keypair::FromSeed(Seed(std::string(64, '1')));
  const Transaction tx = Sign(CompileMessage(a.public_key(), {Memo("x")}, Hash{}), {&a.key()});
  const std::string wire = tx.Wire();
  ASSERT_TRUE(ParseWire(wire));
  EXPECT_FALSE(ParseWire(wire.substr(0, wire.size() - 1)));
  EXPECT_FALSE(ParseWire(wire + "x"));
  EXPECT_FALSE(ParseWire(""));
  std::string bad_index = wire;
  bad_index[1 + 64 + 3 + 1 + 64 + 32 + 1] = 9;  // the memo's program index, past the keys
  EXPECT_FALSE(ParseWire(bad_index));
}

}  // namespace
}  // namespace pmbench::chain
