// File: http_conn.h
//
// One HTTP/1.1 keep-alive connection (plain or TLS, SNI and host name verified) with its
// own event loop: a call blocks its thread, and the stream's timer bounds each step. The
// RPC client keeps a pool of these per endpoint. Beast and Asio stay behind this header's
// .cc for every other translation unit of the client.
#ifndef PMBENCH_CHAIN_INTERNAL_HTTP_CONN_H_
#define PMBENCH_CHAIN_INTERNAL_HTTP_CONN_H_

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "lib/chain/rpc.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace pmbench::chain::internal {

// The request never got an answer (resolve, connect, TLS, send or receive failed).
struct TransportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Answer {
  unsigned status = 0;
  std::string body;
  double retry_after_s = -1;  // -1: none given
};

class HttpConn {
 public:
  HttpConn();
  ~HttpConn();
  HttpConn(const HttpConn&) = delete;
  HttpConn& operator=(const HttpConn&) = delete;

  // Throws TransportError.
  void Open(const Endpoint& ep, boost::asio::ssl::context* ssl, std::chrono::milliseconds timeout);
  // POSTs a JSON body to ep.target; throws TransportError.
  Answer Exchange(const Endpoint& ep, const std::string& body, std::chrono::milliseconds timeout);
  bool open() const;
  // Whether it served a request before: a failure on it may be the server's idle close.
  bool reused() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmbench::chain::internal

#endif  // PMBENCH_CHAIN_INTERNAL_HTTP_CONN_H_
