// File: rpc.h
//
// Solana JSON-RPC over HTTP/1.1 keep-alive (Boost.Beast), TLS through OpenSSL for
// https:// endpoints, made to survive public endpoints' limits:
//  - a token bucket per endpoint for all requests and one for sendTransaction (defaults:
//    public devnet's 100 requests and 40 sendTransaction per 10 s per IP);
//  - retries of 429, 5xx, timeouts and lost connections with capped exponential backoff
//    and jitter, never sooner than the endpoint's Retry-After;
//  - failover: several endpoints, the first with a token free is used, an unreachable one
//    is set aside for a while.
// JSON-RPC errors (a rejected transaction, a bad parameter) are answers, not retried.
// Endpoints are shown as scheme://host:port only: paths and queries often carry API keys.
//
//   RpcClient rpc({.endpoints = {"http://127.0.0.1:8899"}});
//   LatestBlockhash bh = rpc.GetLatestBlockhash("confirmed");
//   std::string sig = rpc.SendTransaction(tx.Wire());   // throws RpcError
#ifndef PMBENCH_CHAIN_RPC_H_
#define PMBENCH_CHAIN_RPC_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/chain/transaction.h"
#include "lib/stats/histogram.h"

namespace pmbench::chain {

struct Endpoint {
  bool tls = false;
  std::string host, port, target;  // target: path and query, "/" at least
  std::string Display() const;     // scheme://host:port, no secrets
};
// Accepts http:// and https:// URLs; throws std::invalid_argument naming the problem.
Endpoint ParseEndpoint(const std::string& url);
// The same for a WebSocket: ws:// (tls false) or wss:// (tls true). The URL is never echoed.
Endpoint ParseWsEndpoint(const std::string& url);

// A JSON-RPC error answer (code, message, the data's "err" if any), or, with
// code == kUnavailable, every retry spent without an answer.
struct RpcError : std::runtime_error {
  static constexpr int kUnavailable = -1;
  RpcError(int c, const std::string& message, std::string e = "")
      : std::runtime_error(message), code(c), err(std::move(e)) {}
  int code;
  std::string err;  // e.g. "BlockhashNotFound", "SignatureFailure", "InsufficientFundsForRent"
};

struct RpcOptions {
  std::vector<std::string> endpoints;
  // Per endpoint, per 10 s; 0 = no limit.
  double requests_per_10s = 100;
  double sends_per_10s = 40;
  int max_attempts = 6;          // per call, over all endpoints
  double backoff_base_ms = 100;  // doubled each retry, jittered x[0.5, 1.5]
  double backoff_cap_ms = 5000;
  double timeout_s = 10;         // one request: connect + send + answer
  double down_s = 5;             // an unreachable endpoint is skipped this long
  uint64_t seed = 1;             // the jitter's
};

struct LatestBlockhash {
  Hash blockhash{};
  uint64_t last_valid_block_height = 0;
  uint64_t slot = 0;
};

struct SignatureStatus {
  uint64_t slot = 0;
  std::string err;                  // empty when the transaction succeeded
  std::string confirmation_status;  // processed | confirmed | finalized
};

struct SignatureInfo {
  std::string signature;
  uint64_t slot = 0;
  bool failed = false;
};

struct TransactionLogs {
  uint64_t slot = 0;
  std::string err_json;  // "null" when it succeeded
  std::vector<std::string> logs;
};

struct MethodStats {
  uint64_t calls = 0, errors = 0;  // errors: JSON-RPC error answers and calls given up
  stats::LatencyHistogram latency;  // one call, retries and waits included
};

struct RpcStats {
  std::map<std::string, MethodStats> methods;
  uint64_t http_429 = 0;       // answered 429 and absorbed by a retry or given up
  uint64_t retries = 0;        // attempts after the first
  uint64_t failovers = 0;      // attempts sent to another endpoint than the previous one
  uint64_t transport_errors = 0;
  uint64_t throttle_waits = 0;  // calls that waited for a token
  double throttle_wait_s = 0;
};

class RpcClient {
 public:
  explicit RpcClient(RpcOptions options);  // throws std::invalid_argument on a bad URL
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // The raw call: `params` is a JSON array's text; returns the "result" as JSON text.
  // Thread-safe; each thread borrows its own keep-alive connection.
  std::string Call(const std::string& method, const std::string& params);

  LatestBlockhash GetLatestBlockhash(const std::string& commitment);
  std::string SendTransaction(const std::string& wire);  // base64 on the wire; returns the signature
  // Any number of signatures: asked 256 at a time. nullopt: unknown to the cluster.
  std::vector<std::optional<SignatureStatus>> GetSignatureStatuses(const std::vector<std::string>& signatures);
  uint64_t GetBalance(const PublicKey& key, const std::string& commitment = "confirmed");
  std::string RequestAirdrop(const PublicKey& key, uint64_t lamports);
  uint64_t GetSlot(const std::string& commitment);
  uint64_t GetBlockHeight(const std::string& commitment);
  // Newest first, as the RPC returns them; `before`/`until` may be empty.
  std::vector<SignatureInfo> GetSignaturesForAddress(const PublicKey& address, const std::string& before,
                                                     const std::string& until, int limit = 1000);
  std::optional<TransactionLogs> GetTransaction(const std::string& signature);

  RpcStats Stats() const;
  const std::vector<Endpoint>& endpoints() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Polls until `signature` reaches `commitment`: true if it did and succeeded, false if it
// failed on chain or timeout_s passed. A helper for tools and tests.
bool WaitForCommitment(RpcClient& rpc, const std::string& signature, const std::string& commitment,
                       double timeout_s);

// processed < confirmed < finalized; -1 for anything else.
int CommitmentRank(const std::string& commitment);

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_RPC_H_
