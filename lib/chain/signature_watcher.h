// File: signature_watcher.h
//
// Confirmation by subscription: signatureSubscribe over one WebSocket for every signature
// watched, at a commitment level, reconnecting with backoff and subscribing again to what
// is still watched. A notification is delivered once; the node ends that subscription
// itself. Polling stays the fallback (TxSender keeps polling): a node that offers no
// subscriptions, or a lost socket, only costs the subscription's precision.
//
//   SignatureWatcher w("ws://127.0.0.1:8900", "confirmed", [](auto& sig, auto& err) {...});
//   w.Watch(signature);
#ifndef PMBENCH_CHAIN_SIGNATURE_WATCHER_H_
#define PMBENCH_CHAIN_SIGNATURE_WATCHER_H_

#include <functional>
#include <memory>
#include <string>

namespace pmbench::chain {

class SignatureWatcher {
 public:
  // err: empty when the transaction succeeded, else the chain's error name.
  using Notify = std::function<void(const std::string& signature, const std::string& err)>;

  // `url` is ws:// or wss://host:port[/path] (wss: certificate and host name verified);
  // throws std::invalid_argument otherwise. `notify` runs on the watcher's thread.
  SignatureWatcher(const std::string& url, std::string commitment, Notify notify);
  ~SignatureWatcher();
  SignatureWatcher(const SignatureWatcher&) = delete;
  SignatureWatcher& operator=(const SignatureWatcher&) = delete;

  void Watch(const std::string& signature);  // thread-safe
  uint64_t notifications() const;
  uint64_t reconnects() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::chain

#endif  // PMBENCH_CHAIN_SIGNATURE_WATCHER_H_
