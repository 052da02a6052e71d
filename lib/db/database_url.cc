#include "lib/db/database_url.h"

#include <libpq-fe.h>

#include <memory>
#include <regex>
#include <stdexcept>

namespace pmbench::db {

bool DatabaseTarget::IsLoopback() const {
  if (host.empty() || host.front() == '/') return true;
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  static const std::regex kLoopbackV4(R"(127\.\d{1,3}\.\d{1,3}\.\d{1,3})");
  return std::regex_match(host, kLoopbackV4);
}

std::string DatabaseTarget::Display() const {
  std::string s = "postgresql://";
  if (!user.empty()) s += user + "@";
  s += host.empty() ? "localhost" : host;
  if (!port.empty()) s += ":" + port;
  if (!dbname.empty()) s += "/" + dbname;
  return s;
}

std::string RedactSecrets(std::string_view text) {
  static const std::regex kUrlPassword(R"((://[^:/@\s]*):[^@\s]*@)");
  static const std::regex kKeyword(R"((password\s*=\s*)('[^']*'|\S+))", std::regex::icase);
  std::string s = std::regex_replace(std::string(text), kUrlPassword, "$1:***@");
  return std::regex_replace(s, kKeyword, "$1***");
}

DatabaseTarget ParseDatabaseUrl(const std::string& url) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(url.c_str(), &err), &PQconninfoFree);
  if (!options) {
    std::string why = err ? err : "out of memory";
    PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw std::invalid_argument("invalid database URL: " + RedactSecrets(why));
  }
  DatabaseTarget t;
  std::string hostaddr;
  for (const PQconninfoOption* o = options.get(); o->keyword; ++o) {
    if (!o->val) continue;
    const std::string_view key = o->keyword;
    if (key == "host") t.host = o->val;
    if (key == "hostaddr") hostaddr = o->val;
    if (key == "port") t.port = o->val;
    if (key == "dbname") t.dbname = o->val;
    if (key == "user") t.user = o->val;
    if (key == "password") t.has_password = *o->val != '\0';
  }
  // A hostaddr decides where libpq actually connects.
  if (!hostaddr.empty()) t.host = hostaddr;
  // libpq would only notice at connect time; a typo deserves an error before any work.
  static const std::regex kPorts(R"(\d{1,5}(,\d{1,5})*)");
  if (!t.port.empty() && !std::regex_match(t.port, kPorts)) {
    throw std::invalid_argument("invalid database URL: port '" + RedactSecrets(t.port) +
                                "' is not a number");
  }
  return t;
}

void CheckWritable(const DatabaseTarget& target, bool allow_remote_writes) {
  if (!target.IsLoopback() && !allow_remote_writes) {
    throw std::runtime_error("refusing to write to non-loopback server " + target.Display() +
                             " without --allow-remote-writes");
  }
}

void CheckSchemaName(const std::string& schema) {
  static const std::regex kIdentifier("[a-z_][a-z0-9_]{0,62}");
  if (!std::regex_match(schema, kIdentifier) || schema.starts_with("pg_") ||
      schema == "public" || schema == "information_schema") {
    throw std::invalid_argument("invalid schema name '" + schema +
                                "': use lower-case letters, digits and _, not public or pg_*");
  }
}

void CheckReadableSchemaName(const std::string& schema) {
  static const std::regex kIdentifier("[a-z_][a-z0-9_]{0,62}");
  if (!std::regex_match(schema, kIdentifier) || schema.starts_with("pg_") || schema == "information_schema") {
    throw std::invalid_argument("invalid schema name '" + schema + "': use lower-case letters, digits and _, not pg_*");
  }
}

}  // namespace pmbench::db
