#include "lib/db/async_pg_session.h"

#include <libpq-fe.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "lib/db/database_url.h"

namespace pmbench::db {
namespace {

namespace asio = boost::asio;
using Descriptor = asio::posix::stream_descriptor;

// libpq's messages end in newlines and may carry details; the first line is the reason.
std::string FirstLine(const char* message) {
  std::string s = message ? message : "";
  if (s.starts_with("ERROR:  ")) s.erase(0, 8);
  const auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s.empty() ? "unknown error" : RedactSecrets(s);
}

}  // namespace

// Shared with the pending waits, so a wait completing after a failure still finds it.
struct AsyncPgSession::Impl : std::enable_shared_from_this<AsyncPgSession::Impl> {
  Impl(asio::io_context& io, std::string u) : socket(io), url(std::move(u)) {}
  ~Impl() { Close(); }

  void Close() {
    if (socket.is_open()) socket.release();  // the descriptor is libpq's to close
    if (conn) PQfinish(conn);
    conn = nullptr;
  }

  bool Watch() {  // (re)binds the Asio descriptor to libpq's current socket
    const int fd = PQsocket(conn);
    if (fd < 0) return false;
    if (socket.is_open() && socket.native_handle() == fd) return true;
    if (socket.is_open()) socket.release();
    boost::system::error_code ec;
    socket.assign(fd, ec);
    return !ec;
  }

  void Open(std::function<void(std::string)> done) {
    Close();
    conn = PQconnectStart(url.c_str());
    if (!conn) return done("out of memory");
    if (PQstatus(conn) == CONNECTION_BAD) return done(FirstLine(PQerrorMessage(conn)));
    PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
    Poll(PGRES_POLLING_WRITING, std::move(done));
  }

  void Poll(PostgresPollingStatusType state, std::function<void(std::string)> done) {
    if (state == PGRES_POLLING_OK) {
      PQsetnonblocking(conn, 1);
      return done("");
    }
    if (state == PGRES_POLLING_FAILED || !Watch()) return done(FirstLine(PQerrorMessage(conn)));
    socket.async_wait(state == PGRES_POLLING_READING ? Descriptor::wait_read : Descriptor::wait_write,
                      [self = shared_from_this(), done = std::move(done)](const boost::system::error_code& ec) mutable {
                        if (ec) return done(ec.message());
                        self->Poll(PQconnectPoll(self->conn), std::move(done));
                      });
  }

  void Query(const std::string& sql, const std::vector<std::string>& params, Done done) {
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
      // Reopen once, then send: a pooler restart costs the requests in flight, not the run.
      return Open([self = shared_from_this(), sql, params, done = std::move(done)](std::string error) mutable {
        if (!error.empty()) return done(nullptr, "connection lost: " + error);
        self->Send(sql, params, std::move(done));
      });
    }
    Send(sql, params, std::move(done));
  }

  void Send(const std::string& sql, const std::vector<std::string>& params, Done done) {
    values.clear();
    for (const auto& p : params) values.push_back(p.c_str());
    if (!PQsendQueryParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                           nullptr, 0)) {
      return done(nullptr, FirstLine(PQerrorMessage(conn)));
    }
    Flush(std::move(done));
  }

  void Flush(Done done) {
    const int r = PQflush(conn);
    if (r < 0) return done(nullptr, FirstLine(PQerrorMessage(conn)));
    if (!Watch()) return done(nullptr, "connection lost");
    if (r == 1) {
      socket.async_wait(Descriptor::wait_write, [self = shared_from_this(), done = std::move(done)](
                                                    const boost::system::error_code& ec) mutable {
        if (ec) return done(nullptr, ec.message());
        self->Flush(std::move(done));
      });
      return;
    }
    Read(std::move(done));
  }

  void Read(Done done) {
    socket.async_wait(Descriptor::wait_read, [self = shared_from_this(), done = std::move(done)](
                                                 const boost::system::error_code& ec) mutable {
      if (ec) return done(nullptr, ec.message());
      self->Collect(std::move(done));
    });
  }

  void Collect(Done done) {
    if (!PQconsumeInput(conn)) {
      Drop();
      return done(nullptr, FirstLine(PQerrorMessage(conn)));
    }
    while (!PQisBusy(conn)) {
      PGresult* r = PQgetResult(conn);
      if (!r) {  // the statement is complete
        PGresult* first = result;
        result = nullptr;
        const auto status = PQresultStatus(first);
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
          done(first, "");
        } else {
          const char* primary = first ? PQresultErrorField(first, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
          done(nullptr, FirstLine(primary ? primary : PQerrorMessage(conn)));
        }
        PQclear(first);
        return;
      }
      if (result) {
        PQclear(r);  // one statement: later results are not expected
      } else {
        result = r;
      }
    }
    Read(std::move(done));
  }

  void Drop() {
    if (result) PQclear(result);
    result = nullptr;
  }

  Descriptor socket;
  std::string url;
  PGconn* conn = nullptr;
  PGresult* result = nullptr;
  std::vector<const char*> values;
};

AsyncPgSession::AsyncPgSession(asio::io_context& io, std::string url) : impl_(std::make_shared<Impl>(io, std::move(url))) {}
AsyncPgSession::~AsyncPgSession() {
  boost::system::error_code ec;
  impl_->socket.cancel(ec);
  impl_->Close();
}
void AsyncPgSession::Open(std::function<void(std::string)> done) { impl_->Open(std::move(done)); }
void AsyncPgSession::Query(const std::string& sql, const std::vector<std::string>& params, Done done) {
  impl_->Query(sql, params, std::move(done));
}

}  // namespace pmbench::db
