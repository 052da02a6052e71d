#include "lib/chain/programs.h"

namespace pmbench::chain {

const PublicKey& SystemProgram() {
  static const PublicKey k = *PublicKeyFromBase58(kSystemProgramId);
  return k;
}

const PublicKey& MemoProgram() {
  static const PublicKey k = *PublicKeyFromBase58(kMemoProgramId);
  return k;
}

Instruction SystemTransfer(const PublicKey& from, const PublicKey& to, uint64_t lamports) {
  std::string data(12, '\0');
  data[0] = 2;  // Transfer
  for (int i = 0; i < 8; ++i) data[4 + i] = static_cast<char>((lamports >> (8 * i)) & 0xff);
  return {SystemProgram(), {{from, true, true}, {to, false, true}}, std::move(data)};
}

Instruction Memo(std::string_view text) { return {MemoProgram(), {}, std::string(text)}; }

}  // namespace pmbench::chain
