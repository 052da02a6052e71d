// The Solana JSON-RPC methods the suite calls, each one request through RpcClient::Call.
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "lib/base/base58.h"
#include "lib/base/base64.h"
#include "lib/chain/internal/err_name.h"
#include "lib/chain/rpc.h"

namespace pmbench::chain {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

int CommitmentRank(const std::string& c) {
  if (c == "processed") return 0;
  if (c == "confirmed") return 1;
  if (c == "finalized") return 2;
  return -1;
}

namespace {

json Parse(const std::string& text) { return json::parse(text); }

std::string Commitment(const std::string& c) { return json{{"commitment", c}}.dump(); }

Hash HashFrom(const std::string& b58) {
  const auto k = PublicKeyFromBase58(b58);
  if (!k) throw RpcError(RpcError::kUnavailable, "malformed blockhash in the answer");
  return *k;
}

}  // namespace

LatestBlockhash RpcClient::GetLatestBlockhash(const std::string& commitment) {
  const json r = Parse(Call("getLatestBlockhash", "[" + Commitment(commitment) + "]"));
  return {HashFrom(r.at("value").at("blockhash").get<std::string>()), r["value"].at("lastValidBlockHeight").get<uint64_t>(),
          r.at("context").at("slot").get<uint64_t>()};
}

std::string RpcClient::SendTransaction(const std::string& wire) {
  const std::string b64 = base::Base64Encode(wire);
  // The client confirms and re-sends itself, so the node must not retry on its own.
  const json r = Parse(Call("sendTransaction", R"([")" + b64 +
                                                   R"(",{"encoding":"base64","skipPreflight":false,"maxRetries":0,"preflightCommitment":"confirmed"}])"));
  return r.get<std::string>();
}

std::vector<std::optional<SignatureStatus>> RpcClient::GetSignatureStatuses(const std::vector<std::string>& signatures) {
  std::vector<std::optional<SignatureStatus>> out;
  out.reserve(signatures.size());
  for (size_t i = 0; i < signatures.size(); i += 256) {
    const size_t n = std::min<size_t>(256, signatures.size() - i);
    const json sigs = std::vector<std::string>(signatures.begin() + static_cast<ptrdiff_t>(i),
                                               signatures.begin() + static_cast<ptrdiff_t>(i + n));
    const json r = Parse(Call("getSignatureStatuses", "[" + sigs.dump() + R"(,{"searchTransactionHistory":false}])"));
    const json& v = r.at("value");
    if (v.size() != n) throw RpcError(RpcError::kUnavailable, "getSignatureStatuses: answer of the wrong length");
    for (const auto& s : v) {
      if (s.is_null()) {
        out.emplace_back();
        continue;
      }
      SignatureStatus st;
      st.slot = s.value("slot", uint64_t{0});
      if (s.contains("err") && !s["err"].is_null()) st.err = internal::ErrName(s["err"]);
      st.confirmation_status = s.contains("confirmationStatus") && s["confirmationStatus"].is_string()
                                   ? s["confirmationStatus"].get<std::string>()
                                   : "processed";
      out.push_back(std::move(st));
    }
  }
  return out;
}

uint64_t RpcClient::GetBalance(const PublicKey& key, const std::string& commitment) {
  return Parse(Call("getBalance", R"([")" + ToBase58(key) + R"(",)" + Commitment(commitment) + "]")).at("value").get<uint64_t>();
}

std::string RpcClient::RequestAirdrop(const PublicKey& key, uint64_t lamports) {
  return Parse(Call("requestAirdrop", R"([")" + ToBase58(key) + R"(",)" + std::to_string(lamports) + "]")).get<std::string>();
}

uint64_t RpcClient::GetSlot(const std::string& commitment) {
  return Parse(Call("getSlot", "[" + Commitment(commitment) + "]")).get<uint64_t>();
}

uint64_t RpcClient::GetBlockHeight(const std::string& commitment) {
  return Parse(Call("getBlockHeight", "[" + Commitment(commitment) + "]")).get<uint64_t>();
}

std::vector<SignatureInfo> RpcClient::GetSignaturesForAddress(const PublicKey& address, const std::string& before,
                                                              const std::string& until, int limit) {
  json cfg{{"limit", limit}, {"commitment", "confirmed"}};
  if (!before.empty()) cfg["before"] = before;
  if (!until.empty()) cfg["until"] = until;
  const json r = Parse(Call("getSignaturesForAddress", json::array({ToBase58(address), cfg}).dump()));
  std::vector<SignatureInfo> out;
  for (const auto& s : r) {
    out.push_back({s.at("signature").get<std::string>(), s.value("slot", uint64_t{0}), s.contains("err") && !s["err"].is_null()});
  }
  return out;
}

std::optional<TransactionLogs> RpcClient::GetTransaction(const std::string& signature) {
  const json r = Parse(Call("getTransaction", json::array({signature, {{"encoding", "json"}, {"commitment", "confirmed"}, {"maxSupportedTransactionVersion", 0}}}).dump()));
  if (r.is_null()) return std::nullopt;
  TransactionLogs t;
  t.slot = r.value("slot", uint64_t{0});
  const json& meta = r.at("meta");
  t.err_json = meta.contains("err") ? meta["err"].dump() : "null";
  if (meta.contains("logMessages") && meta["logMessages"].is_array()) {
    for (const auto& l : meta["logMessages"]) t.logs.push_back(l.get<std::string>());
  }
  return t;
}

bool WaitForCommitment(RpcClient& rpc, const std::string& signature, const std::string& commitment, double timeout_s) {
  const auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(timeout_s));
  while (SteadyClock::now() < deadline) {
    const auto s = rpc.GetSignatureStatuses({signature});
    if (s[0] && CommitmentRank(s[0]->confirmation_status) >= CommitmentRank(commitment)) return s[0]->err.empty();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling the cluster's state
  }
  return false;
}

}  // namespace pmbench::chain
