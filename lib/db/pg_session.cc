#include "lib/db/pg_session.h"

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <stdexcept>

#include "lib/db/database_url.h"

namespace pmbench::db {
namespace {

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string ErrorOf(PGconn* conn) {
  std::string e = PQerrorMessage(conn);
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  return RedactSecrets(e);
}

}  // namespace

PgSession::PgSession(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = conn_ ? ErrorOf(conn_) : "out of memory";
    PQfinish(conn_);
    throw std::runtime_error("cannot connect to " + ParseDatabaseUrl(url).Display() + ": " + why);
  }
  // A library never prints: server notices ("relation already exists, skipping") are dropped.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

PgSession::~PgSession() { PQfinish(conn_); }

bool PgSession::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

void PgSession::Exec(const std::string& sql) {
  ResultPtr r(PQexec(conn_, sql.c_str()), &PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(ErrorOf(conn_));
  }
}

std::string PgSession::QueryValue(const std::string& sql) {
  const auto rows = QueryRows(sql);
  return rows.empty() || rows[0].empty() ? "" : rows[0][0];
}

std::vector<std::vector<std::string>> PgSession::QueryRows(const std::string& sql) {
  ResultPtr r(PQexec(conn_, sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) throw std::runtime_error(ErrorOf(conn_));
  std::vector<std::vector<std::string>> rows(static_cast<size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    for (int j = 0; j < PQnfields(r.get()); ++j) rows[i].emplace_back(PQgetvalue(r.get(), i, j));
  }
  return rows;
}

std::vector<std::map<std::string, std::string>> PgSession::QueryNamed(const std::string& sql) {
  ResultPtr r(PQexec(conn_, sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) throw std::runtime_error(ErrorOf(conn_));
  std::vector<std::map<std::string, std::string>> rows(static_cast<size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    for (int j = 0; j < PQnfields(r.get()); ++j) rows[i][PQfname(r.get(), j)] = PQgetvalue(r.get(), i, j);
  }
  return rows;
}

void PgResultFree::operator()(pg_result* r) const { PQclear(r); }

PgResult PgSession::Query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  PgResult r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(ErrorOf(conn_));
  return r;
}

std::string PgSession::QueryValue(const std::string& sql, const std::vector<std::string>& params) {
  const PgResult r = Query(sql, params);
  return PQntuples(r.get()) > 0 && PQnfields(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
}

int64_t PgSession::CopyIn(const std::string& copy_sql,
                          const std::function<bool(std::string&)>& fill) {
  {
    ResultPtr r(PQexec(conn_, copy_sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) throw std::runtime_error(ErrorOf(conn_));
  }
  std::string chunk;
  std::string failure;
  try {
    bool more = true;
    while (more) {
      chunk.clear();
      more = fill(chunk);
      if (!chunk.empty() &&
          PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size())) != 1) {
        failure = ErrorOf(conn_);
        break;
      }
    }
  } catch (const std::exception& e) {
    failure = std::string("COPY aborted: ") + e.what();
  }
  if (PQputCopyEnd(conn_, failure.empty() ? nullptr : failure.c_str()) != 1 && failure.empty()) {
    failure = ErrorOf(conn_);
  }
  int64_t rows = 0;
  while (PGresult* raw = PQgetResult(conn_)) {
    ResultPtr r(raw, &PQclear);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK) {
      if (failure.empty()) failure = ErrorOf(conn_);
    } else {
      rows += std::strtoll(PQcmdTuples(raw), nullptr, 10);
    }
  }
  if (!failure.empty()) throw std::runtime_error(failure);
  return rows;
}

int64_t PgSession::CopyOut(const std::string& copy_sql,
                           const std::function<void(std::string_view)>& row) {
  {
    ResultPtr r(PQexec(conn_, copy_sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COPY_OUT) throw std::runtime_error(ErrorOf(conn_));
  }
  int64_t rows = 0;
  std::string failure;
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(conn_, &buf, /*async=*/0);
    if (n < 0) {
      if (n == -2) failure = ErrorOf(conn_);
      break;
    }
    std::unique_ptr<char, decltype(&PQfreemem)> owned(buf, &PQfreemem);
    if (!failure.empty()) continue;  // drain the rest after a failed callback
    std::string_view line(buf, static_cast<size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    try {
      row(line);
      ++rows;
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  while (PGresult* raw = PQgetResult(conn_)) {
    ResultPtr r(raw, &PQclear);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && failure.empty()) failure = ErrorOf(conn_);
  }
  if (!failure.empty()) throw std::runtime_error(failure);
  return rows;
}

void AppendCopyText(std::string& out, std::string_view field) {
  for (char c : field) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
}

ClockOffset MeasureClockOffset(PgSession& session, int tries) {
  ClockOffset best{0, -1};
  for (int i = 0; i < tries; ++i) {
    const auto unix_us = [] {
      return static_cast<double>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    };
    const double t1 = unix_us();
    const std::string server = session.QueryValue("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint");
    const double t2 = unix_us();
    const double half_rtt_ms = (t2 - t1) / 2e3;
    if (best.error_ms < 0 || half_rtt_ms < best.error_ms) best = {((t1 + t2) / 2 - std::stod(server)) / 1e3, half_rtt_ms};
  }
  return best;
}

}  // namespace pmbench::db
