// File: channel_listener.h
//
// A session LISTENing on one channel, polled with a timeout so its owner can also notice
// a stop (why libpq: README.md, "Dependencies").
//
//   db::ChannelListener l(direct_url, "pmbench_market_changes");
//   l.ProveHeard();   // throws through a transaction pooler
//   while (l.Poll(100, [](const char* payload) { ... })) {}
#ifndef PMBENCH_DB_CHANNEL_LISTENER_H_
#define PMBENCH_DB_CHANNEL_LISTENER_H_

#include <functional>
#include <string>

struct pg_conn;  // libpq's PGconn

namespace pmbench::db {

class ChannelListener {
 public:
  // Connects and LISTENs; throws std::runtime_error with libpq's reason (secrets removed).
  ChannelListener(const std::string& url, const std::string& channel);
  ~ChannelListener();
  ChannelListener(const ChannelListener&) = delete;
  ChannelListener& operator=(const ChannelListener&) = delete;

  // Waits up to `timeout_ms` for input and hands each notification's payload to
  // `on_payload`. False once the connection is lost.
  bool Poll(int timeout_ms, const std::function<void(const char* payload)>& on_payload);

  // Sends a NOTIFY to the channel from a second connection and waits up to `timeout_s` to
  // hear it. Through a transaction pooler (pgbouncer, Supavisor) LISTEN succeeds but its
  // server connection returns to the pool with the transaction and nothing is ever heard:
  // this finds it at start. Throws std::runtime_error naming the direct URL as the fix.
  // Notifications that arrive meanwhile are dropped.
  void ProveHeard(double timeout_s = 3);

 private:
  std::string url_, channel_;
  pg_conn* conn_;
};

}  // namespace pmbench::db

#endif  // PMBENCH_DB_CHANNEL_LISTENER_H_
