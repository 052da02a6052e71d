#include "lib/chain/transaction.h"

#include <algorithm>
#include <cctype>

#include "lib/base/base58.h"

namespace pmbench::chain {

void AppendCompactU16(std::string& out, uint16_t value) {
  uint32_t rest = value;
  for (;;) {
    const uint8_t low = rest & 0x7f;
    rest >>= 7;
    if (rest == 0) {
      out.push_back(static_cast<char>(low));
      return;
    }
    out.push_back(static_cast<char>(low | 0x80));
  }
}

std::optional<uint16_t> ReadCompactU16(std::string_view in, size_t& pos) {
  uint32_t value = 0;
  for (int i = 0; i < 3; ++i) {
    if (pos >= in.size()) return std::nullopt;
    const auto b = static_cast<uint8_t>(in[pos++]);
    // The third byte holds the top two bits only.
    if (i == 2 && b > 0x03) return std::nullopt;
    value |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return static_cast<uint16_t>(value);
  }
  return std::nullopt;
}

std::string ToBase58(const PublicKey& key) { return base::Base58Encode(key); }
std::string ToBase58(const Signature& sig) { return base::Base58Encode(sig); }

std::optional<PublicKey> PublicKeyFromBase58(std::string_view text) {
  const auto bytes = base::Base58Decode(text);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  PublicKey k;
  std::copy(bytes->begin(), bytes->end(), k.begin());
  return k;
}

namespace {

// web3.js sorts keys of one kind by their base58 text with an ICU collator ('en',
// caseFirst lower). For base58's alphabet that is: compare case-folded, then the first
// case difference, lower before upper. Any order is valid on chain; this one makes our
// bytes equal the reference client's.
bool CollateLess(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const int x = std::tolower(static_cast<unsigned char>(a[i])), y = std::tolower(static_cast<unsigned char>(b[i]));
    if (x != y) return x < y;
  }
  if (a.size() != b.size()) return a.size() < b.size();
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return std::islower(static_cast<unsigned char>(a[i])) != 0;
  }
  return false;
}

struct KeyEntry {
  PublicKey key;
  bool signer, writable;
  std::string text;
};

void Append(std::string& out, std::span<const uint8_t> bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

uint16_t CheckedLength(size_t n, const char* what) {
  if (n > 0xffff) throw std::invalid_argument(std::string(what) + " longer than 65535");
  return static_cast<uint16_t>(n);
}

}  // namespace

Message CompileMessage(const PublicKey& fee_payer, const std::vector<Instruction>& instructions,
                       const Hash& recent_blockhash) {
  // As web3.js's compileMessage: instruction accounts in order, then program ids; merge
  // duplicates (signer/writable if any use is); sort; the fee payer moves to the front.
  std::vector<KeyEntry> keys;
  auto add = [&](const PublicKey& k, bool signer, bool writable) {
    for (auto& e : keys) {
      if (e.key == k) {
        e.signer = e.signer || signer;
        e.writable = e.writable || writable;
        return;
      }
    }
    keys.push_back({k, signer, writable, ToBase58(k)});
  };
  for (const auto& ix : instructions)
    for (const auto& a : ix.accounts) add(a.pubkey, a.is_signer, a.is_writable);
  for (const auto& ix : instructions) add(ix.program_id, false, false);
  std::stable_sort(keys.begin(), keys.end(), [](const KeyEntry& x, const KeyEntry& y) {
    if (x.signer != y.signer) return x.signer;
    if (x.writable != y.writable) return x.writable;
    return CollateLess(x.text, y.text);
  });
  auto payer = std::find_if(keys.begin(), keys.end(), [&](const KeyEntry& e) { return e.key == fee_payer; });
  KeyEntry head{fee_payer, true, true, ""};
  if (payer != keys.end()) keys.erase(payer);
  keys.insert(keys.begin(), head);
  if (keys.size() > 256) throw std::invalid_argument("a legacy transaction holds at most 256 accounts");

  Message m;
  m.recent_blockhash = recent_blockhash;
  for (const auto& e : keys) {
    m.account_keys.push_back(e.key);
    if (e.signer) {
      ++m.num_required_signatures;
      if (!e.writable) ++m.num_readonly_signed;
    } else if (!e.writable) {
      ++m.num_readonly_unsigned;
    }
  }
  auto index_of = [&](const PublicKey& k) {
    return static_cast<uint8_t>(std::find(m.account_keys.begin(), m.account_keys.end(), k) - m.account_keys.begin());
  };
  for (const auto& ix : instructions) {
    CompiledInstruction c;
    c.program_index = index_of(ix.program_id);
    for (const auto& a : ix.accounts) c.accounts.push_back(index_of(a.pubkey));
    CheckedLength(ix.accounts.size(), "instruction accounts");
    CheckedLength(ix.data.size(), "instruction data");
    c.data = ix.data;
    m.instructions.push_back(std::move(c));
  }
  return m;
}

std::string Message::Serialize() const {
  std::string out;
  out.reserve(3 + 1 + 32 * account_keys.size() + 32 + 64);
  out.push_back(static_cast<char>(num_required_signatures));
  out.push_back(static_cast<char>(num_readonly_signed));
  out.push_back(static_cast<char>(num_readonly_unsigned));
  AppendCompactU16(out, CheckedLength(account_keys.size(), "account keys"));
  for (const auto& k : account_keys) Append(out, k);
  Append(out, recent_blockhash);
  AppendCompactU16(out, CheckedLength(instructions.size(), "instructions"));
  for (const auto& ix : instructions) {
    out.push_back(static_cast<char>(ix.program_index));
    AppendCompactU16(out, static_cast<uint16_t>(ix.accounts.size()));
    Append(out, ix.accounts);
    AppendCompactU16(out, static_cast<uint16_t>(ix.data.size()));
    out += ix.data;
  }
  return out;
}

Transaction Sign(const Message& message, const std::vector<const Ed25519Key*>& signers) {
  for (const Ed25519Key* k : signers) {
    const auto end = message.account_keys.begin() + message.num_required_signatures;
    if (std::find(message.account_keys.begin(), end, k->public_key()) == end) {
      throw std::invalid_argument("key " + ToBase58(k->public_key()) + " is not a signer of this message");
    }
  }
  Transaction tx;
  tx.message = message.Serialize();
  for (size_t i = 0; i < message.num_required_signatures; ++i) {
    const auto it = std::find_if(signers.begin(), signers.end(),
                                 [&](const Ed25519Key* k) { return k->public_key() == message.account_keys[i]; });
    if (it == signers.end()) throw std::invalid_argument("missing signature of " + ToBase58(message.account_keys[i]));
    tx.signatures.push_back((*it)->Sign(tx.message));
  }
  return tx;
}

std::string Transaction::Wire() const {
  std::string out;
  out.reserve(1 + 64 * signatures.size() + message.size());
  AppendCompactU16(out, static_cast<uint16_t>(signatures.size()));
  for (const auto& s : signatures) Append(out, s);
  out += message;
  return out;
}

std::string Transaction::Id() const { return signatures.empty() ? std::string() : ToBase58(signatures[0]); }

std::optional<ParsedTransaction> ParseWire(std::string_view wire) {
  size_t pos = 0;
  auto take = [&](size_t n) -> std::optional<std::string_view> {
    if (wire.size() - pos < n) return std::nullopt;
    auto v = wire.substr(pos, n);
    pos += n;
    return v;
  };
  ParsedTransaction p;
  const auto nsig = ReadCompactU16(wire, pos);
  if (!nsig || *nsig == 0) return std::nullopt;
  for (size_t i = 0; i < *nsig; ++i) {
    const auto s = take(64);
    if (!s) return std::nullopt;
    Signature sig;
    std::copy(s->begin(), s->end(), sig.begin());
    p.tx.signatures.push_back(sig);
  }
  const size_t message_start = pos;
  const auto header = take(3);
  if (!header || (static_cast<uint8_t>((*header)[0]) & 0x80)) return std::nullopt;  // versioned
  Message& m = p.message;
  m.num_required_signatures = static_cast<uint8_t>((*header)[0]);
  m.num_readonly_signed = static_cast<uint8_t>((*header)[1]);
  m.num_readonly_unsigned = static_cast<uint8_t>((*header)[2]);
  const auto nkeys = ReadCompactU16(wire, pos);
  if (!nkeys) return std::nullopt;
  for (size_t i = 0; i < *nkeys; ++i) {
    const auto k = take(32);
    if (!k) return std::nullopt;
    PublicKey key;
    std::copy(k->begin(), k->end(), key.begin());
    m.account_keys.push_back(key);
  }
  const auto bh = take(32);
  if (!bh) return std::nullopt;
  std::copy(bh->begin(), bh->end(), m.recent_blockhash.begin());
  const auto nix = ReadCompactU16(wire, pos);
  if (!nix) return std::nullopt;
  for (size_t i = 0; i < *nix; ++i) {
    CompiledInstruction c;
    const auto prog = take(1);
    const auto nacc = prog ? ReadCompactU16(wire, pos) : std::nullopt;
    const auto acc = nacc ? take(*nacc) : std::nullopt;
    const auto ndata = acc ? ReadCompactU16(wire, pos) : std::nullopt;
    const auto data = ndata ? take(*ndata) : std::nullopt;
    if (!data) return std::nullopt;
    c.program_index = static_cast<uint8_t>((*prog)[0]);
    c.accounts.assign(acc->begin(), acc->end());
    c.data = std::string(*data);
    if (c.program_index >= m.account_keys.size()) return std::nullopt;
    for (uint8_t a : c.accounts)
      if (a >= m.account_keys.size()) return std::nullopt;
    m.instructions.push_back(std::move(c));
  }
  if (pos != wire.size() || m.num_required_signatures != *nsig || *nsig > m.account_keys.size()) return std::nullopt;
  p.tx.message = std::string(wire.substr(message_start));
  return p;
}

}  // namespace pmbench::chain
