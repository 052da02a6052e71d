// File: transaction.h
//
// Solana's legacy transaction: compact-u16 lengths, the message (header, account keys,
// recent blockhash, compiled instructions), its signatures, and the wire format that
// sendTransaction takes. Account keys are ordered as the reference client (web3.js) orders
// them, so that the same instructions give the same bytes and signatures.
//
//   Message m = CompileMessage(payer.public_key(), {SystemTransfer(...), Memo("...")}, blockhash);
//   Transaction tx = Sign(m, {&payer});
//   std::string wire = tx.Wire();           // base64 of this is what sendTransaction takes
#ifndef PMBENCH_CHAIN_TRANSACTION_H_
#define PMBENCH_CHAIN_TRANSACTION_H_

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lib/chain/ed25519.h"

namespace pmbench::chain {

using Hash = std::array<uint8_t, 32>;

// Lengths in the wire format: 7 bits a byte, low bits first, at most 3 bytes.
void AppendCompactU16(std::string& out, uint16_t value);
// Reads at `pos` and advances it; nullopt when truncated or longer than 3 bytes.
std::optional<uint16_t> ReadCompactU16(std::string_view in, size_t& pos);

struct AccountMeta {
  PublicKey pubkey;
  bool is_signer = false;
  bool is_writable = false;
};

struct Instruction {
  PublicKey program_id;
  std::vector<AccountMeta> accounts;
  std::string data;
};

struct CompiledInstruction {
  uint8_t program_index = 0;
  std::vector<uint8_t> accounts;
  std::string data;
};

struct Message {
  uint8_t num_required_signatures = 0;
  uint8_t num_readonly_signed = 0;
  uint8_t num_readonly_unsigned = 0;
  std::vector<PublicKey> account_keys;  // signers first, the fee payer at 0
  Hash recent_blockhash{};
  std::vector<CompiledInstruction> instructions;

  std::string Serialize() const;  // the bytes every signer signs
};

// Throws std::invalid_argument past the format's limits (256 accounts, 65535 bytes).
Message CompileMessage(const PublicKey& fee_payer, const std::vector<Instruction>& instructions,
                       const Hash& recent_blockhash);

struct Transaction {
  std::vector<Signature> signatures;  // one per required signer, in account-key order
  std::string message;                // Message::Serialize()

  std::string Wire() const;
  // The transaction's identity: its first signature, base58.
  std::string Id() const;
};

// Signs with every key the message requires; throws std::invalid_argument if one is
// missing or a key is not a signer of the message.
Transaction Sign(const Message& message, const std::vector<const Ed25519Key*>& signers);

// Parses the wire format back (legacy only); nullopt if malformed.
struct ParsedTransaction {
  Transaction tx;
  Message message;
};
std::optional<ParsedTransaction> ParseWire(std::string_view wire);

// base58 text of a key or signature.
std::string ToBase58(const PublicKey& key);
std::string ToBase58(const Signature& sig);
// A 32-byte base58 key or hash; nullopt otherwise.
std::optional<PublicKey> PublicKeyFromBase58(std::string_view text);

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_TRANSACTION_H_
