#include "lib/db/channel_listener.h"

#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <memory>
#include <stdexcept>

#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"

namespace pmbench::db {
namespace {

std::string ErrorOf(PGconn* c) {
  std::string e = c ? PQerrorMessage(c) : "out of memory";
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  return RedactSecrets(e);
}

}  // namespace

ChannelListener::ChannelListener(const std::string& url, const std::string& channel)
    : url_(url), channel_(channel), conn_(PQconnectdb(url.c_str())) {
  std::string error;
  if (PQstatus(conn_) != CONNECTION_OK) {
    error = ErrorOf(conn_);
  } else {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn_, ("LISTEN \"" + channel + "\"").c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = ErrorOf(conn_);
    PQclear(r);
  }
  if (!error.empty()) {
    PQfinish(conn_);
    throw std::runtime_error(error);
  }
}

ChannelListener::~ChannelListener() { PQfinish(conn_); }

bool ChannelListener::Poll(int timeout_ms, const std::function<void(const char*)>& on_payload) {
  pollfd p{PQsocket(conn_), POLLIN, 0};
  const int ready = poll(&p, 1, timeout_ms);
  if (ready > 0 && !PQconsumeInput(conn_)) return false;
  while (PGnotify* n = PQnotifies(conn_)) {
    std::unique_ptr<PGnotify, decltype(&PQfreemem)> owned(n, &PQfreemem);
    on_payload(n->extra);
  }
  return PQstatus(conn_) == CONNECTION_OK;
}

void ChannelListener::ProveHeard(double timeout_s) {
  const std::string payload =
      "{\"probe\":" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "}";
  PgSession(url_).Query("SELECT pg_notify($1, $2)", {channel_, payload});
  // Delivered at the sender's commit, so within milliseconds; the bound allows a busy server.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  bool heard = false;
  while (!heard && std::chrono::steady_clock::now() < deadline) {
    if (!Poll(100, [&](const char* p) { heard |= payload == p; })) throw std::runtime_error(ErrorOf(conn_));
  }
  if (!heard) {
    throw std::runtime_error(
        "LISTEN heard nothing: this URL reaches a transaction pooler, which cannot hold a LISTEN; "
        "give the direct URL (tools/staging url --direct; on Supabase the direct connection, port 5432)");
  }
}

}  // namespace pmbench::db
