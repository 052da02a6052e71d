// File: processes.h
//
// The platform's own processes for a whole-platform run, each a child process so that
// /proc shows its CPU and memory apart from the load generator's: the event listener
// (logsSubscribe on the ledger -> Ingest into PostgreSQL) and the WebSocket fan-out server
// (LISTEN -> Hub -> Server). Each is started and checked (ready, or a one-line error) and
// stopped with SIGTERM on scope exit; a child dies with its parent.
//
//   ListenerProcess listener({.ledger_ws = "ws://127.0.0.1:8900", .url = direct, .schema = s, .program = treasury});
//   FanoutProcess fanout(direct, s);
//   fanout.port();
#ifndef PMBENCH_SCENARIO_PROCESSES_H_
#define PMBENCH_SCENARIO_PROCESSES_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lib/chain/ed25519.h"

namespace pmbench::scenario {

// A function run in a forked child. It calls ready(word) once it serves (the parent's
// constructor returns then with the word) and returns its exit status once it receives
// SIGTERM, which the child sees through `wait_for_term`.
class ChildProcess {
 public:
  using Body = std::function<int(const std::function<void(uint32_t)>& ready, const std::function<void()>& wait_for_term)>;
  // Throws std::runtime_error naming `name` when the child exits or stays silent past timeout_s.
  ChildProcess(std::string name, const Body& body, double timeout_s = 30);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // SIGTERM, then waits (SIGKILL after timeout_s); the exit status (-1 when killed).
  int Stop(double timeout_s = 30);
  pid_t pid() const { return pid_; }
  uint32_t word() const { return word_; }
  bool running() const;

 private:
  std::string name_;
  pid_t pid_ = -1;
  int from_child_ = -1;
  uint32_t word_ = 0;
};

struct ListenerOptions {
  std::string ledger_ws;  // ws://host:port of the ledger's PubSub
  std::string url;        // direct database URL
  std::string schema;
  chain::PublicKey program{};  // the treasury the memo carrier's transactions pay
};

// Ready once subscribed: nothing sent after the constructor returns is missed; word() is the
// port of its /metrics (pmbench_ingest_*) on 127.0.0.1.
std::unique_ptr<ChildProcess> StartListener(const ListenerOptions& o);
// Ready once it LISTENs and serves on `address` (an IP address), a free port; word() is the port.
std::unique_ptr<ChildProcess> StartFanout(const std::string& direct_url, const std::string& schema,
                                          const std::string& address = "127.0.0.1");

}  // namespace pmbench::scenario

#endif  // PMBENCH_SCENARIO_PROCESSES_H_
