// File: programs.h
//
// Instructions of the two native programs pmbench's transactions use: the System
// Program's transfer and the SPL Memo program (v2, MemoSq4g...).
//
//   Instruction pay = SystemTransfer(payer, escrow, 1'000'000);
//   Instruction note = Memo("pmevt:...");
#ifndef PMBENCH_CHAIN_PROGRAMS_H_
#define PMBENCH_CHAIN_PROGRAMS_H_

#include <string>
#include <string_view>

#include "lib/chain/transaction.h"

namespace pmbench::chain {

inline constexpr std::string_view kSystemProgramId = "11111111111111111111111111111111";
inline constexpr std::string_view kMemoProgramId = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";
const PublicKey& SystemProgram();
const PublicKey& MemoProgram();

// SystemInstruction::Transfer (index 2, u32 LE) with the lamports as u64 LE.
Instruction SystemTransfer(const PublicKey& from, const PublicKey& to, uint64_t lamports);
// The memo's text must be UTF-8 (the program rejects anything else); no signer accounts.
Instruction Memo(std::string_view text);

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_PROGRAMS_H_
