// File: change_stream.h
//
// The database's committed changes as text, by logical decoding: a replication connection
// streams a temporary slot's changes through the built-in test_decoding plugin, one line
// per change, each transaction whole and in commit order ("BEGIN", "table s.t: UPDATE:
// id[bigint]:42 …", "message: transactional: 1 prefix: …", "COMMIT"). PostgreSQL drops
// the slot when the connection ends, so a crashed reader leaves no WAL pinned.
//
// Why not LISTEN/NOTIFY: every committing transaction that NOTIFYs takes one database-wide
// lock and holds it through its WAL flush, so a notification per bet serialised all bets
// (README.md, "Real time"); decoding reads the WAL after the fact and costs writers nothing.
//
//   db::ChangeStream s(direct_url);   // throws naming what is missing
//   while (s.Poll(100, [](std::string_view line) { ... })) {}
#ifndef PMBENCH_DB_CHANGE_STREAM_H_
#define PMBENCH_DB_CHANGE_STREAM_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

struct pg_conn;  // libpq's PGconn

namespace pmbench::db {

class ChangeStream {
 public:
  // Connects for replication, creates the temporary slot and starts streaming from it:
  // changes committed from here on arrive. Throws std::runtime_error with the reason (no
  // secrets): a pooler (it cannot carry replication), wal_level below logical, no
  // REPLICATION privilege, no free slot or WAL sender.
  explicit ChangeStream(const std::string& url);
  ~ChangeStream();
  ChangeStream(const ChangeStream&) = delete;
  ChangeStream& operator=(const ChangeStream&) = delete;

  // Waits up to `timeout_ms` for changes and hands each line to `on_change`. False once the
  // connection is lost (the slot is gone with it: changes meanwhile are not replayed).
  bool Poll(int timeout_ms, const std::function<void(std::string_view line)>& on_change);

  const std::string& slot() const { return slot_; }

 private:
  bool SendFeedback(bool force);

  pg_conn* conn_ = nullptr;
  std::string slot_;
  uint64_t received_ = 0;  // WAL position of the last change handed on
  std::chrono::steady_clock::time_point last_feedback_{};
};

}  // namespace pmbench::db

#endif  // PMBENCH_DB_CHANGE_STREAM_H_
