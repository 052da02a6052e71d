#include "lib/db/change_stream.h"

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <stdexcept>

#include "lib/db/database_url.h"

namespace pmbench::db {
namespace {

std::string ErrorOf(PGconn* c) {
  std::string e = c ? PQerrorMessage(c) : "out of memory";
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  return RedactSecrets(e);
}

// What to do about the errors a user can fix, said beside PostgreSQL's own words.
std::string Explained(const std::string& error) {
  if (error.find("unsupported startup parameter") != std::string::npos) {  // pgbouncer's words
    return error + " — the live feed reads PostgreSQL's logical decoding over a replication connection, which a "
                   "transaction pooler cannot carry; give the direct URL (tools/staging url --direct; on Supabase "
                   "the direct connection, port 5432)";
  }
  if (error.find("wal_level") != std::string::npos) {
    return error + " — the live feed needs wal_level = logical (tools/staging starts PostgreSQL so; elsewhere "
                   "ALTER SYSTEM SET wal_level = logical and restart)";
  }
  if (error.find("superuser or replication role") != std::string::npos || error.find("permission denied") != std::string::npos) {
    return error + " — the live feed's role needs the REPLICATION attribute (ALTER ROLE … REPLICATION)";
  }
  return error;
}

uint64_t ReadBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

void WriteBigEndian(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}

}  // namespace

ChangeStream::ChangeStream(const std::string& url) {
  static std::atomic<int> next{0};
  slot_ = "pmbench_feed_" + std::to_string(getpid()) + "_" + std::to_string(next++);
  const char* keys[] = {"dbname", "replication", nullptr};
  const char* values[] = {url.c_str(), "database", nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  std::string error;
  if (PQstatus(conn_) != CONNECTION_OK) {
    error = ErrorOf(conn_);
  } else {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn_, ("CREATE_REPLICATION_SLOT " + slot_ + " TEMPORARY LOGICAL test_decoding NOEXPORT_SNAPSHOT").c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) error = ErrorOf(conn_);
    PQclear(r);
    if (error.empty()) {
      r = PQexec(conn_, ("START_REPLICATION SLOT " + slot_ + " LOGICAL 0/0 (\"include-xids\" '0', \"skip-empty-xacts\" '1')").c_str());
      if (PQresultStatus(r) != PGRES_COPY_BOTH) error = ErrorOf(conn_);
      PQclear(r);
    }
  }
  if (!error.empty()) {
    PQfinish(conn_);
    throw std::runtime_error(Explained(error));
  }
}

ChangeStream::~ChangeStream() { PQfinish(conn_); }

bool ChangeStream::SendFeedback(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_feedback_ < std::chrono::seconds(1)) return true;
  last_feedback_ = now;
  // Written, flushed and applied up to what was handed on: the server may recycle the WAL
  // before it. Time in microseconds since 2000-01-01, as the protocol counts.
  char msg[34];
  msg[0] = 'r';
  WriteBigEndian(msg + 1, received_);
  WriteBigEndian(msg + 9, received_);
  WriteBigEndian(msg + 17, received_);
  const auto unix_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  WriteBigEndian(msg + 25, static_cast<uint64_t>(unix_us - 946'684'800'000'000LL));
  msg[33] = 0;
  return PQputCopyData(conn_, msg, sizeof msg) == 1 && PQflush(conn_) == 0;
}

bool ChangeStream::Poll(int timeout_ms, const std::function<void(std::string_view)>& on_change) {
  bool waited = false;
  for (;;) {
    char* raw = nullptr;
    const int n = PQgetCopyData(conn_, &raw, /*async=*/1);
    if (n == 0) {  // nothing buffered
      if (waited) break;
      if (!SendFeedback(false)) return false;
      pollfd p{PQsocket(conn_), POLLIN, 0};
      if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR) return false;
      if (!PQconsumeInput(conn_)) return false;
      waited = true;
      continue;
    }
    if (n < 0) return false;  // -1: the server ended the stream; -2: an error
    std::unique_ptr<char, decltype(&PQfreemem)> owned(raw, &PQfreemem);
    if (raw[0] == 'w' && n >= 25) {  // XLogData: start, end, send time, then the plugin's text
      received_ = std::max(received_, ReadBigEndian(raw + 1));
      on_change(std::string_view(raw + 25, static_cast<size_t>(n - 25)));
    } else if (raw[0] == 'k' && n >= 18) {  // keepalive: everything before its end was sent
      received_ = std::max(received_, ReadBigEndian(raw + 1));
      if (raw[17] && !SendFeedback(true)) return false;
    }
  }
  return PQstatus(conn_) == CONNECTION_OK;
}

}  // namespace pmbench::db
