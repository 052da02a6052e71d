// File: internal/ws_stream.h
//
// DO NOT INCLUDE THIS FILE in headers: Beast's WebSocket and Asio's SSL are slow to compile.
//
// A client WebSocket over TCP (ws://) or TLS (wss://), chosen at run time, for the
// subscription users (SignatureWatcher, LogsSource). Public RPC providers offer
// subscriptions only over wss://. TLS checks the peer's certificate and host name against the
// system's trust store (SSL_CERT_FILE overrides it) and sends SNI, as RpcClient does.
//
//   auto ssl = MakeTlsClientContext();
//   WsStream ws(io, ParseWsEndpoint("wss://api.devnet.solana.com"), ssl.get());   // rpc.h
//   ws.AsyncOpen(results, std::chrono::seconds(5), [&](beast::error_code ec, const char* step) {...});
#ifndef PMBENCH_CHAIN_INTERNAL_WS_STREAM_H_
#define PMBENCH_CHAIN_INTERNAL_WS_STREAM_H_

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "lib/chain/internal/tls.h"
#include "lib/chain/rpc.h"

namespace pmbench::chain::internal {

class WsStream {
 public:
  // `ssl` (from MakeTlsClientContext, outliving the stream) is needed when ep.tls.
  WsStream(boost::asio::io_context& io, Endpoint ep, boost::asio::ssl::context* ssl) : ep_(std::move(ep)) {
    if (ep_.tls) {
      if (!ssl) throw std::invalid_argument("wss:// needs a TLS context");
      secure_ = std::make_unique<Secure>(io, *ssl);
    } else {
      plain_ = std::make_unique<Plain>(io);
    }
  }

  boost::beast::tcp_stream& lowest() {
    return secure_ ? boost::beast::get_lowest_layer(*secure_) : boost::beast::get_lowest_layer(*plain_);
  }

  // TCP connect, TLS handshake for wss://, WebSocket handshake, all within `timeout`.
  // Handler: void(beast::error_code, const char* step) — step names what failed.
  template <class Handler>
  void AsyncOpen(const boost::asio::ip::tcp::resolver::results_type& results, std::chrono::seconds timeout,
                 Handler handler) {
    lowest().expires_after(timeout);
    lowest().async_connect(results, [this, h = std::move(handler)](boost::beast::error_code ec,
                                                                    const boost::asio::ip::tcp::endpoint&) mutable {
      if (ec) return h(ec, "connect");
      boost::beast::error_code ignored;  // Nagle only delays small frames: not worth failing over
      lowest().socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
      if (!secure_) return Handshake(std::move(h));
      auto& tls = secure_->next_layer();
      if (!SSL_set_tlsext_host_name(tls.native_handle(), ep_.host.c_str())) {
        return h(boost::beast::error_code(static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category()),
                 "TLS");
      }
      tls.set_verify_callback(boost::asio::ssl::host_name_verification(ep_.host));
      tls.async_handshake(boost::asio::ssl::stream_base::client, [this, h = std::move(h)](boost::beast::error_code ec2) mutable {
        if (ec2) return h(ec2, "TLS handshake");
        Handshake(std::move(h));
      });
    });
  }

  // After opening, outside a loop that must drain: pings after 10 s of silence, gives up after
  // 30 (a node gone without closing is noticed). Its timer keeps an io_context busy.
  void KeepAlive() {
    const boost::beast::websocket::stream_base::timeout t{std::chrono::seconds(10), std::chrono::seconds(30), true};
    if (secure_) {
      secure_->set_option(t);
    } else {
      plain_->set_option(t);
    }
  }

  template <class Buffer, class Handler>
  void AsyncRead(Buffer& buffer, Handler handler) {
    if (secure_) {
      secure_->async_read(buffer, std::move(handler));
    } else {
      plain_->async_read(buffer, std::move(handler));
    }
  }

  template <class Handler>
  void AsyncWrite(boost::asio::const_buffer data, Handler handler) {
    if (secure_) {
      secure_->async_write(data, std::move(handler));
    } else {
      plain_->async_write(data, std::move(handler));
    }
  }

  // Abrupt: pending operations end with an error.
  void Close() { lowest().close(); }

 private:
  using Plain = boost::beast::websocket::stream<boost::beast::tcp_stream>;
  using Secure = boost::beast::websocket::stream<boost::beast::ssl_stream<boost::beast::tcp_stream>>;

  template <class Handler>
  void Handshake(Handler h) {
    auto done = [this, h = std::move(h)](boost::beast::error_code ec) mutable {
      if (ec) return h(ec, "WebSocket handshake");
      lowest().expires_never();
      h(ec, "");
    };
    const std::string host = ep_.host + ":" + ep_.port;
    if (secure_) {
      secure_->async_handshake(host, ep_.target, std::move(done));
    } else {
      plain_->async_handshake(host, ep_.target, std::move(done));
    }
  }

  Endpoint ep_;
  std::unique_ptr<Plain> plain_;
  std::unique_ptr<Secure> secure_;
};

}  // namespace pmbench::chain::internal

#endif  // PMBENCH_CHAIN_INTERNAL_WS_STREAM_H_
