// File: err_name.h
//
// The name of a Solana transaction error as the RPC returns it ("BlockhashNotFound", or
// the key of {"InstructionError": [...]}): read from error answers and from statuses.
#ifndef PMBENCH_CHAIN_INTERNAL_ERR_NAME_H_
#define PMBENCH_CHAIN_INTERNAL_ERR_NAME_H_

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace pmbench::chain::internal {

std::string ErrName(const nlohmann::json& err);

}  // namespace pmbench::chain::internal

#endif  // PMBENCH_CHAIN_INTERNAL_ERR_NAME_H_
