// File: async_pg_session.h
//
// An asynchronous PostgreSQL connection for load generation: libpq's non-blocking API
// (PQconnectPoll, PQsendQueryParams, PQconsumeInput) driven by an Asio event loop, so one
// thread serves thousands of connections (why libpq: README.md, "Dependencies"). Statements are
// unnamed and unprepared: they run through a transaction-pooling pgbouncer.
//
//   AsyncPgSession s(io, pooled_url);
//   s.Open([&](std::string error) {
//     s.Query(sql, {"42"}, [](const pg_result* r, std::string_view error) { ... });
//   });
#ifndef PMBENCH_DB_ASYNC_PG_SESSION_H_
#define PMBENCH_DB_ASYNC_PG_SESSION_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct pg_result;
namespace boost::asio {
class io_context;
}

namespace pmbench::db {

class AsyncPgSession {
 public:
  // r is the statement's result when it succeeded (valid during the call only), else
  // nullptr and a one-line reason.
  using Done = std::function<void(const pg_result* r, std::string_view error)>;

  AsyncPgSession(boost::asio::io_context& io, std::string url);
  ~AsyncPgSession();
  AsyncPgSession(const AsyncPgSession&) = delete;
  AsyncPgSession& operator=(const AsyncPgSession&) = delete;

  void Open(std::function<void(std::string)> done);
  // One statement at a time per connection. A lost connection is reopened by the next call.
  void Query(const std::string& sql, const std::vector<std::string>& params, Done done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pmbench::db

#endif  // PMBENCH_DB_ASYNC_PG_SESSION_H_
