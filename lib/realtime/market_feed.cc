#include "lib/realtime/market_feed.h"

#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/stats/wall_clock.h"

namespace pmbench::realtime {
namespace {

// A LISTENing connection, or nullptr with `error` set.
PGconn* Listen(const std::string& url, std::string& error) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    error = db::RedactSecrets(PQerrorMessage(c));
    PQfinish(c);
    return nullptr;
  }
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, ("LISTEN " + std::string(kMarketNotifyChannel)).c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok) {
    error = db::RedactSecrets(PQerrorMessage(c));
    PQfinish(c);
    return nullptr;
  }
  return c;
}

// Whether `listening` hears a NOTIFY sent from another connection to `url`. Through a
// transaction pooler (pgbouncer, Supavisor) LISTEN succeeds but its server connection goes
// back to the pool with the transaction, so nothing is ever heard: found here, at start,
// rather than as a feed that silently sends nothing.
bool HearsANotify(PGconn* listening, const std::string& url, std::string& error) {
  PGconn* sender = PQconnectdb(url.c_str());
  const std::string payload = "{\"probe\":" + std::to_string(stats::WallClockNs()) + "}";
  const std::string sql = "SELECT pg_notify('" + std::string(kMarketNotifyChannel) + "', '" + payload + "')";
  PGresult* r = PQstatus(sender) == CONNECTION_OK ? PQexec(sender, sql.c_str()) : nullptr;
  const bool sent = r && PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!sent) error = db::RedactSecrets(PQerrorMessage(sender));
  PQclear(r);
  PQfinish(sender);
  if (!sent) return false;
  // Delivered at the sender's commit, so within milliseconds; 3 s allows for a busy server.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{PQsocket(listening), POLLIN, 0};
    if (poll(&p, 1, 100) > 0 && !PQconsumeInput(listening)) {
      error = db::RedactSecrets(PQerrorMessage(listening));
      return false;
    }
    bool heard = false;
    while (PGnotify* n = PQnotifies(listening)) {
      heard |= payload == n->extra;
      PQfreemem(n);
    }
    if (heard) return true;
  }
  error = "LISTEN heard nothing: this URL reaches a transaction pooler, which cannot hold a LISTEN; "
          "give the direct URL (tools/staging url --direct; on Supabase the direct connection, port 5432)";
  return false;
}

}  // namespace

std::optional<MarketChange> ParseMarketChange(std::string_view payload, std::string_view schema) {
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || j.value("schema", "") != schema) return std::nullopt;
  const auto id = j.find("id"), yes = j.find("yes_pool"), no = j.find("no_pool"), volume = j.find("volume");
  if (id == j.end() || yes == j.end() || no == j.end() || volume == j.end() || !id->is_number_integer() ||
      !yes->is_number_integer() || !no->is_number_integer() || !volume->is_number_integer()) {
    return std::nullopt;
  }
  const int64_t y = yes->get<int64_t>(), n = no->get<int64_t>();
  const double odds = y + n == 0 ? 0.5 : static_cast<double>(y) / static_cast<double>(y + n);
  char buf[200];
  std::snprintf(buf, sizeof buf, R"({"id":%lld,"yes_pool":%lld,"no_pool":%lld,"odds_yes":%.6f,"volume":%lld})",
                static_cast<long long>(id->get<int64_t>()), static_cast<long long>(y), static_cast<long long>(n), odds,
                static_cast<long long>(volume->get<int64_t>()));
  return MarketChange{id->get<int64_t>(), buf};
}

void MarketFeed::Start() {
  if (thread_.joinable()) return;
  std::string error;
  PGconn* first = Listen(url_, error);
  if (!first) throw std::runtime_error("cannot LISTEN for market changes: " + error);
  if (!HearsANotify(first, url_, error)) {
    PQfinish(first);
    throw std::runtime_error("cannot LISTEN for market changes: " + error);
  }
  stop_ = false;
  connected_ = true;
  thread_ = std::thread([this, first] { Loop(first); });
}

void MarketFeed::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void MarketFeed::Loop(void* first_connection) {
  PGconn* c = static_cast<PGconn*>(first_connection);
  auto backoff = std::chrono::milliseconds(50);
  while (!stop_) {
    if (!c) {
      std::string error;
      c = Listen(url_, error);
      if (!c) {
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      backoff = std::chrono::milliseconds(50);
      ++reconnects_;
      connected_ = true;
      hub_.ResetAll();  // whatever changed while we were away was not published
    }
    pollfd p{PQsocket(c), POLLIN, 0};
    const int ready = poll(&p, 1, 100);  // wakes to notice Stop()
    if (ready < 0) continue;
    if (ready > 0 && !PQconsumeInput(c)) {
      connected_ = false;
      PQfinish(c);
      c = nullptr;
      continue;
    }
    while (PGnotify* n = PQnotifies(c)) {
      ++notifications_;
      if (const auto change = ParseMarketChange(n->extra, schema_)) {
        const int64_t ts = stats::WallClockNs();
        hub_.Publish("market:" + std::to_string(change->id), change->data, ts);
        hub_.Publish("markets", change->data, ts);
      }
      PQfreemem(n);
    }
  }
  if (c) PQfinish(c);
  connected_ = false;
}

}  // namespace pmbench::realtime
