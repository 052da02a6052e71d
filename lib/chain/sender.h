// File: sender.h
//
// Sends transactions and follows them to a commitment level, the way a careful wallet
// does: signs against a cached recent blockhash, sends, polls getSignatureStatuses in
// batches, re-sends the same bytes while the blockhash is valid (a dropped transaction
// gets another chance; the signature stays its identity, so nothing is counted twice),
// and only once the cluster's block height has passed the blockhash's last valid height —
// when the old signature can no longer land — builds, signs and sends it anew. Where the
// node offers it, signatureSubscribe reports the commitment as it happens (signature_watcher.h).
//
//   TxSender sender(rpc, {.commitment = "confirmed"});
//   sender.Submit([&](const Hash& bh) { return Sign(CompileMessage(payer, ixs, bh), {&key}); },
//                 [](const TxOutcome& o) { ... });
#ifndef PMBENCH_CHAIN_SENDER_H_
#define PMBENCH_CHAIN_SENDER_H_

#include <functional>
#include <memory>
#include <string>

#include "lib/chain/rpc.h"
#include "lib/chain/transaction.h"

namespace pmbench::chain {

struct SenderOptions {
  std::string commitment = "confirmed";  // when a transaction counts as done
  double poll_s = 0.2;                   // status polling period (bounds the timing error)
  double resend_s = 2.0;                 // re-send an unconfirmed transaction this often
  double blockhash_refresh_s = 5.0;      // fetch a new blockhash for new transactions
  int max_resigns = 3;                   // fresh blockhashes per transaction before giving up
  int workers = 8;                       // threads building and sending
  // ws[s]://host:port: also confirm by signatureSubscribe there (exact times; polling stays the
  // fallback and still drives re-sends and expiry). Empty: polling only.
  std::string subscribe_url;
};

struct TxOutcome {
  bool ok = false;
  std::string error;      // why not: an on-chain error name, expired, rpc_unavailable, ...
  std::string signature;  // the signature that landed (or the last one tried)
  // Seconds from the first accepted send (sendTransaction answered) until each level was
  // seen; < 0 when not seen.
  double processed_s = -1, confirmed_s = -1, finalized_s = -1;
  int resends = 0, resigns = 0;
};

struct SenderStats {
  uint64_t submitted = 0, sent = 0, resends = 0, resigns = 0, confirmed = 0, failed = 0, status_polls = 0;
  uint64_t notified = 0;  // outcomes decided by a signatureSubscribe notification
};

class TxSender {
 public:
  using Build = std::function<Transaction(const Hash& recent_blockhash)>;
  using Done = std::function<void(const TxOutcome&)>;

  TxSender(RpcClient& rpc, SenderOptions options);
  // Stops: transactions still unconfirmed complete with error "stopped".
  ~TxSender();

  // `build` may be called more than once (after a blockhash expires); `done` exactly once,
  // from one of the sender's threads.
  void Submit(Build build, Done done);
  size_t in_flight() const;
  SenderStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_SENDER_H_
