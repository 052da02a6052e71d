// File: pg_session.h
//
// A bare libpq connection for the bulk path: COPY fed in large chunks, parameters sent
// unprepared (why libpq and not libpqxx: README.md, "Dependencies").
//
//   PgSession s(url);
//   s.Exec("BEGIN");
//   s.CopyIn("COPY t (a, b) FROM STDIN", [&](std::string& chunk) { ...; return more; });
//   s.Exec("COMMIT");
#ifndef PMBENCH_DB_PG_SESSION_H_
#define PMBENCH_DB_PG_SESSION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

struct pg_conn;    // libpq's PGconn, kept out of this header
struct pg_result;  // libpq's PGresult

namespace pmbench::db {

struct PgResultFree {
  void operator()(pg_result* r) const;
};
using PgResult = std::unique_ptr<pg_result, PgResultFree>;

class PgSession {
 public:
  // Throws std::runtime_error with libpq's reason (secrets removed).
  explicit PgSession(const std::string& url);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // False once the connection is lost (server restart, pg_terminate_backend).
  bool ok() const;

  // Runs statements that return no rows; throws std::runtime_error on failure.
  void Exec(const std::string& sql);
  // Runs a query and returns the first column of the first row ("" when no row).
  std::string QueryValue(const std::string& sql);
  // Runs a query and returns all rows as text (NULL as "").
  std::vector<std::vector<std::string>> QueryRows(const std::string& sql);
  // Rows as column name -> text (NULL as ""), by the simple protocol: what pgbouncer's
  // admin console (SHOW POOLS) answers, whose columns change between versions.
  std::vector<std::map<std::string, std::string>> QueryNamed(const std::string& sql);
  // Runs one statement with text parameters, unnamed and unprepared (so it is safe under
  // transaction pooling), and returns its result; throws std::runtime_error on failure.
  PgResult Query(const std::string& sql, const std::vector<std::string>& params = {});
  // Query, returning the first column of the first row ("" when no row).
  std::string QueryValue(const std::string& sql, const std::vector<std::string>& params);

  // Runs a COPY ... FROM STDIN statement. `fill` appends COPY text to its argument and
  // returns false when it has nothing more; the chunk is sent after each call. Returns the
  // number of rows the server reports. On failure the COPY is aborted and this throws.
  int64_t CopyIn(const std::string& copy_sql, const std::function<bool(std::string&)>& fill);

  // Runs a COPY ... TO STDOUT statement and hands each row (COPY text, without the newline)
  // to `row` as it arrives: the result is streamed, never held whole. Returns the rows.
  int64_t CopyOut(const std::string& copy_sql, const std::function<void(std::string_view)>& row);

 private:
  pg_conn* conn_;
};

// Appends `field` escaped for COPY's text format (backslash, tab, newline, CR).
void AppendCopyText(std::string& out, std::string_view field);

// This machine's wall clock minus the server's (clock_timestamp()), NTP's way: of `tries`
// round trips the shortest, whose half is the error bound. What sharded load runs on
// different machines report, so their merge can say how far their clocks disagree.
struct ClockOffset {
  double offset_ms = 0, error_ms = 0;
};
ClockOffset MeasureClockOffset(PgSession& session, int tries = 8);

}  // namespace pmbench::db

#endif  // PMBENCH_DB_PG_SESSION_H_
