#include "lib/chain/internal/http_conn.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace pmbench::chain::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpConn::Impl {
  asio::io_context io;
  std::unique_ptr<beast::tcp_stream> tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool reused = false;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }

  void RunOrThrow(const char* step, beast::error_code& ec) {
    io.restart();
    io.run();
    if (ec) throw TransportError(std::string(step) + ": " + ec.message());
  }

  void Open(const Endpoint& ep, asio::ssl::context* ssl, std::chrono::milliseconds timeout) {
    beast::error_code ec;
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(ep.host, ep.port, ec);
    if (ec) throw TransportError("resolve " + ep.host + ": " + ec.message());
    tls.reset();
    tcp = std::make_unique<beast::tcp_stream>(io);
    tcp->expires_after(timeout);
    tcp->async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunOrThrow("connect", ec);
    tcp->socket().set_option(tcp::no_delay(true));
    if (ep.tls) {
      tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*tcp), *ssl);
      tcp.reset();
      if (!SSL_set_tlsext_host_name(tls->native_handle(), ep.host.c_str())) throw TransportError("TLS: cannot set SNI");
      tls->set_verify_callback(asio::ssl::host_name_verification(ep.host));
      beast::get_lowest_layer(*tls).expires_after(timeout);
      tls->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      RunOrThrow("TLS handshake", ec);
    }
    buffer.clear();
    reused = false;
  }

  Answer Exchange(const Endpoint& ep, const std::string& body, std::chrono::milliseconds timeout) {
    http::request<http::string_body> req{http::verb::post, ep.target, 11};
    req.set(http::field::host, ep.host);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "pmbench");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    http::response<http::string_body> res;
    lowest().expires_after(timeout);
    auto on_write = [&](beast::error_code e, size_t) { ec = e; };
    auto on_read = [&](beast::error_code e, size_t) { ec = e; };
    if (tls) {
      http::async_write(*tls, req, on_write);
      RunOrThrow("send", ec);
      http::async_read(*tls, buffer, res, on_read);
    } else {
      http::async_write(*tcp, req, on_write);
      RunOrThrow("send", ec);
      http::async_read(*tcp, buffer, res, on_read);
    }
    RunOrThrow("receive", ec);
    Answer a{res.result_int(), std::move(res.body()), -1};
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      try {
        a.retry_after_s = std::stod(std::string(it->value()));
      } catch (...) {
        a.retry_after_s = -1;  // an HTTP date: fall back to backoff
      }
    }
    if (!res.keep_alive()) {
      tcp.reset();
      tls.reset();
    }
    reused = true;
    return a;
  }

  bool open() const { return tcp || tls; }
};

HttpConn::HttpConn() : impl_(std::make_unique<Impl>()) {}
HttpConn::~HttpConn() = default;
void HttpConn::Open(const Endpoint& ep, asio::ssl::context* ssl, std::chrono::milliseconds timeout) {
  impl_->Open(ep, ssl, timeout);
}
Answer HttpConn::Exchange(const Endpoint& ep, const std::string& body, std::chrono::milliseconds timeout) {
  return impl_->Exchange(ep, body, timeout);
}
bool HttpConn::open() const { return impl_->open(); }
bool HttpConn::reused() const { return impl_->reused; }

}  // namespace pmbench::chain::internal
