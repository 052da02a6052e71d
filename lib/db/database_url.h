// File: database_url.h
//
// What pmbench knows about a database target, parsed by libpq itself (URL or key=value
// form), and the one place that keeps passwords out of everything it prints or writes.
//
//   DatabaseTarget t = ParseDatabaseUrl(url);   // throws std::invalid_argument
//   if (!t.IsLoopback() && !allow_remote_writes) ...;
//   std::cout << t.Display();                   // postgresql://user@host:port/db
#ifndef PMBENCH_DB_DATABASE_URL_H_
#define PMBENCH_DB_DATABASE_URL_H_

#include <string>
#include <string_view>

namespace pmbench::db {

struct DatabaseTarget {
  std::string host;  // empty or a directory: a local Unix socket
  std::string port;
  std::string dbname;
  std::string user;
  bool has_password = false;

  // A Unix socket, localhost, 127.0.0.0/8 or ::1.
  bool IsLoopback() const;
  // "postgresql://user@host:port/dbname": never the password.
  std::string Display() const;
};

// Throws std::invalid_argument("invalid database URL: <libpq's reason>"), secrets removed.
DatabaseTarget ParseDatabaseUrl(const std::string& url);

// Masks the password of every libpq URL or password=... in `text` (e.g. an error message).
std::string RedactSecrets(std::string_view text);

// Throws std::runtime_error unless writes to `target` are allowed: loopback, or the user
// passed --allow-remote-writes.
void CheckWritable(const DatabaseTarget& target, bool allow_remote_writes);

// Throws std::invalid_argument unless `schema` is a plain lower-case identifier the suite may
// own (create, seed, drop): never public or pg_*.
void CheckSchemaName(const std::string& schema);
// The same for a schema the suite only reads and calls into (a platform's own, public
// included): a plain lower-case identifier, never pg_*.
void CheckReadableSchemaName(const std::string& schema);

}  // namespace pmbench::db

#endif  // PMBENCH_DB_DATABASE_URL_H_
