#include "lib/metrics/exporter.h"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it
#include <boost/asio.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "lib/metrics/registry.h"

namespace pmbench::metrics {

namespace asio = boost::asio;
using asio::ip::tcp;

ListenAddress ParseListen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("a listen address is HOST:PORT, not '" + text + "'");
  }
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  const std::string port = text.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoi(port) > 65535) {
    throw std::invalid_argument("not a port: '" + port + "' in '" + text + "'");
  }
  a.port = static_cast<uint16_t>(std::stoi(port));
  return a;
}

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket s, const Registry& r) : socket_(std::move(s)), timer_(socket_.get_executor()), registry_(r) {}

  void Run() {
    // A peer that never finishes its request is cut off: the exporter serves one at a time.
    timer_.expires_after(std::chrono::seconds(5));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->socket_.close();
    });
    asio::async_read_until(socket_, asio::dynamic_buffer(request_, 16384), "\r\n\r\n",
                           [self = shared_from_this()](const boost::system::error_code& ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(const boost::system::error_code& ec) {
    if (ec) {
      timer_.cancel();
      return;
    }
    const std::string line = request_.substr(0, request_.find("\r\n"));
    std::string status = "200 OK", body;
    if (line.rfind("GET /metrics", 0) == 0 && (line.size() == 12 || line[12] == ' ' || line[12] == '?')) {
      body = registry_.Text();
    } else if (line.rfind("GET /healthz ", 0) == 0) {
      body = "ok\n";
    } else {
      status = "404 Not Found";
      body = "not found: /metrics, /healthz\n";
    }
    response_ = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    asio::async_write(socket_, asio::buffer(response_), [self = shared_from_this()](const boost::system::error_code&, size_t) {
      boost::system::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
      self->socket_.close(ignored);
      self->timer_.cancel();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  const Registry& registry_;
  std::string request_, response_;
};

}  // namespace

struct Exporter::Impl {
  Impl(const Registry& r, ListenAddress a) : registry(r), address(std::move(a)) {}

  void Accept() {
    acceptor->async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Connection>(std::move(s), registry)->Run();
      Accept();
    });
  }

  const Registry& registry;
  ListenAddress address;
  asio::io_context io{1};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  uint16_t port = 0;
};

Exporter::Exporter(const Registry& registry, const std::string& listen)
    : impl_(std::make_unique<Impl>(registry, ParseListen(listen))) {}

Exporter::~Exporter() { Stop(); }

void Exporter::Start() {
  const std::string where = impl_->address.host + ":" + std::to_string(impl_->address.port);
  try {
    const tcp::endpoint ep(asio::ip::make_address(impl_->address.host), impl_->address.port);
    impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->io);
    impl_->acceptor->open(ep.protocol());
    impl_->acceptor->set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor->bind(ep);
    impl_->acceptor->listen();
    impl_->port = impl_->acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    impl_->acceptor.reset();
    throw std::runtime_error("cannot serve metrics on " + where + ": " + e.what());
  }
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void Exporter::Stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor->close(ignored);
    impl_->io.stop();
  });
  impl_->thread.join();
}

uint16_t Exporter::port() const { return impl_->port; }
std::string Exporter::host() const { return impl_->address.host; }

}  // namespace pmbench::metrics
