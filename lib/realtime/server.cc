#include "lib/realtime/server.h"


#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "lib/stats/histogram.h"
#include "lib/stats/wall_clock.h"

namespace pmbench::realtime {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class WsSession;

struct Shared {
  Shared(ServerOptions opts, Hub& h) : o(std::move(opts)), hub(h) {}
  const ServerOptions o;
  Hub& hub;
  std::atomic<int64_t> connections{0}, connections_total{0}, messages_sent{0}, bytes_sent{0};
  std::atomic<int64_t> slow_consumers{0}, bad_frames{0}, floods{0};
  mutable std::mutex latency_mu;
  stats::LatencyHistogram publish_to_send;  // publish (LISTEN receipt) -> frame written

  void RecordLatency(int64_t ns) {
    std::lock_guard lock(latency_mu);
    publish_to_send.Record(ns < 0 ? 0 : ns);
  }
  std::string Metrics() const;

  // The open sessions, so that Stop can say goodbye to each; emptied as they end.
  std::mutex sessions_mu;
  std::condition_variable sessions_ended;
  std::map<const WsSession*, std::weak_ptr<WsSession>> sessions;
};

const Frame& Pong() {
  static const Frame f = std::make_shared<const Message>(Message{R"({"op":"pong"})"});
  return f;
}

class WsSession : public Subscriber, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& socket, std::shared_ptr<Shared> shared)
      : ws_(std::move(socket)), s_(std::move(shared)) {}

  ~WsSession() override {
    s_->hub.Leave(this);
    if (accepted_) {
      --s_->connections;
      std::lock_guard lock(s_->sessions_mu);
      s_->sessions.erase(this);
      s_->sessions_ended.notify_all();
    }
  }

  void Run(http::request<http::string_body> req) {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(s_->o.idle_timeout_s));
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(s_->o.max_frame);
    ws_.async_accept(req, beast::bind_front_handler(&WsSession::OnAccept, shared_from_this()));
  }

  // From any thread (the hub): the frame joins the queue on this session's strand.
  void Send(Frame f) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), f = std::move(f)]() mutable { self->Enqueue(std::move(f)); });
  }

  // From any thread (Stop): the frames already queued are sent, then a close 1001.
  void GoAway() {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->Close(websocket::close_code::going_away, "server shutting down", Queued::kSend);
    });
  }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) return;
    accepted_ = true;
    ++s_->connections;
    ++s_->connections_total;
    {
      std::lock_guard lock(s_->sessions_mu);
      s_->sessions[this] = weak_from_this();
    }
    Read();
  }

  void Read() { ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::OnRead, shared_from_this())); }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == websocket::error::message_too_big) {
      ++s_->bad_frames;  // Beast has failed the connection with 1009
      return;
    }
    if (ec) return;  // closed, reset or timed out: the session ends
    if (!ws_.got_text()) {
      ++s_->bad_frames;
      return Close(websocket::close_code::unknown_data, "binary frames are not accepted");
    }
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!Flooding()) Handle(text);
    if (!closing_) Read();
  }

  // More than max_ops_per_s client messages within a second: a flood, closed with 1008.
  bool Flooding() {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= std::chrono::seconds(1)) {
      window_start_ = now;
      ops_in_window_ = 0;
    }
    if (++ops_in_window_ <= s_->o.max_ops_per_s) return false;
    ++s_->floods;
    Close(websocket::close_code::policy_error, "too many messages");
    return true;
  }

  void Error(std::string_view reason) {
    ++s_->bad_frames;
    Enqueue(std::make_shared<const Message>(Message{ErrorFrame(reason)}));
  }

  void Handle(const std::string& text) {
    const nlohmann::json m = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (m.is_discarded() || !m.is_object()) return Error("not a JSON object");
    const auto op = m.find("op");
    if (op == m.end() || !op->is_string()) return Error("missing op");
    const std::string name = op->get<std::string>();
    if (name == "ping") return Enqueue(Pong());
    if (name != "subscribe" && name != "unsubscribe") return Error("unknown op");
    const auto ch = m.find("channel");
    if (ch == m.end() || !ch->is_string() || !IsValidChannel(ch->get<std::string>())) return Error("unknown channel");
    const std::string channel = ch->get<std::string>();
    if (name == "unsubscribe") {
      if (!s_->hub.Unsubscribe(channel, this)) return Error("not subscribed");
      channels_.erase(channel);
      return;
    }
    std::optional<uint64_t> since;
    if (const auto it = m.find("since"); it != m.end()) {
      if (!it->is_number_unsigned()) return Error("since must be a sequence number");
      since = it->get<uint64_t>();
    }
    if (!channels_.count(channel) && channels_.size() >= s_->o.max_subscriptions) return Error("too many subscriptions");
    channels_.insert(channel);
    for (auto& f : s_->hub.Subscribe(channel, since, shared_from_this()).frames) Enqueue(std::move(f));
  }

  void Enqueue(Frame f) {
    if (closing_) return;
    if (queue_.size() >= s_->o.queue_messages || queued_bytes_ + f->text.size() > s_->o.queue_bytes) {
      ++s_->slow_consumers;
      return Close(websocket::close_code::policy_error, "slow consumer");
    }
    queued_bytes_ += f->text.size();
    queue_.push_back(std::move(f));
    if (!writing_) Write();
  }

  void Write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()->text), beast::bind_front_handler(&WsSession::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t bytes) {
    writing_ = false;
    if (ec) return;
    const Frame done = std::move(queue_.front());
    queue_.pop_front();
    if (!closing_) queued_bytes_ -= done->text.size();
    ++s_->messages_sent;
    s_->bytes_sent += static_cast<int64_t>(bytes);
    if (done->ts_ns > 0) s_->RecordLatency(stats::WallClockNs() - done->ts_ns);
    if (!queue_.empty()) return Write();  // a close waits for the queue (kDrop empties it first)
    if (close_pending_) DoClose();
  }

  // Stops taking frames and closes once the write in progress (if any) is done, or with
  // kSend once the queue is: Beast allows one write at a time, and a close is a write.
  enum class Queued { kDrop, kSend };
  void Close(websocket::close_code code, const char* reason, Queued queued = Queued::kDrop) {
    if (closing_) return;
    closing_ = true;
    s_->hub.Leave(this);
    if (queued == Queued::kDrop) {
      // The frame being written stays until its write completes: the write reads from it.
      queue_.erase(queue_.begin() + (writing_ ? 1 : 0), queue_.end());
      queued_bytes_ = 0;
    }
    close_reason_ = websocket::close_reason(code, reason);
    if (writing_) {
      close_pending_ = true;
    } else {
      DoClose();
    }
  }

  void DoClose() {
    close_pending_ = false;
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<Shared> s_;
  beast::flat_buffer buffer_;
  std::deque<Frame> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false, closing_ = false, close_pending_ = false, accepted_ = false;
  websocket::close_reason close_reason_;
  std::set<std::string> channels_;
  std::chrono::steady_clock::time_point window_start_{};
  int ops_in_window_ = 0;
};

// Reads one HTTP request: an upgrade on /realtime becomes a WsSession; /healthz and /metrics
// are answered; anything else is 404.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, std::shared_ptr<Shared> shared) : stream_(std::move(socket)), s_(std::move(shared)) {}

  void Run() {
    stream_.expires_after(std::chrono::seconds(10));
    parser_.body_limit(4096);
    http::async_read(stream_, buffer_, parser_, beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
  }

 private:
  void OnRead(beast::error_code ec, size_t) {
    if (ec) return;
    auto req = parser_.release();
    if (websocket::is_upgrade(req)) {
      if (req.target() != "/realtime") return Respond(http::status::not_found, "no WebSocket endpoint here: use /realtime\n", req);
      stream_.expires_never();
      return std::make_shared<WsSession>(stream_.release_socket(), s_)->Run(std::move(req));
    }
    if (req.method() != http::verb::get) return Respond(http::status::method_not_allowed, "GET only\n", req);
    if (req.target() == "/healthz") return Respond(http::status::ok, "ok\n", req);
    if (req.target() == "/metrics") return Respond(http::status::ok, s_->Metrics(), req);
    Respond(http::status::not_found, "not found: /realtime, /healthz, /metrics\n", req);
  }

  void Respond(http::status status, std::string body, const http::request<http::string_body>& req) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req.version());
    res->set(http::field::content_type, "text/plain; version=0.0.4");
    res->keep_alive(false);
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Shared> s_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
};

std::string Shared::Metrics() const {
  const HubStats h = hub.stats();
  std::string out;
  const auto line = [&](const char* name, const char* type, const char* help, double v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(static_cast<int64_t>(v)) + "\n";
  };
  line("pmbench_realtime_connections", "gauge", "Open WebSocket connections.", static_cast<double>(connections.load()));
  line("pmbench_realtime_connections_total", "counter", "WebSocket connections accepted.", static_cast<double>(connections_total.load()));
  line("pmbench_realtime_subscriptions", "gauge", "Channel subscriptions.", static_cast<double>(h.subscriptions));
  line("pmbench_realtime_channels", "gauge", "Channels with state.", static_cast<double>(h.channels));
  line("pmbench_realtime_published_total", "counter", "Updates published.", static_cast<double>(h.published));
  line("pmbench_realtime_messages_sent_total", "counter", "Frames written to clients.", static_cast<double>(messages_sent.load()));
  line("pmbench_realtime_bytes_sent_total", "counter", "Bytes written to clients.", static_cast<double>(bytes_sent.load()));
  line("pmbench_realtime_slow_consumers_total", "counter", "Sessions closed (1008) for not keeping up.", static_cast<double>(slow_consumers.load()));
  line("pmbench_realtime_bad_frames_total", "counter", "Client frames rejected.", static_cast<double>(bad_frames.load()));
  line("pmbench_realtime_floods_total", "counter", "Sessions closed (1008) for flooding.", static_cast<double>(floods.load()));
  stats::LatencyHistogram lat;
  {
    std::lock_guard lock(latency_mu);
    lat = publish_to_send;
  }
  out += "# HELP pmbench_realtime_publish_to_send_seconds Publish to frame written.\n"
         "# TYPE pmbench_realtime_publish_to_send_seconds summary\n";
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    out += "pmbench_realtime_publish_to_send_seconds{quantile=\"" + std::to_string(q).substr(0, 5) + "\"} " +
           std::to_string(lat.Percentile(q * 100) / 1e9) + "\n";
  }
  out += "pmbench_realtime_publish_to_send_seconds_sum " + std::to_string(lat.mean() * static_cast<double>(lat.count()) / 1e9) + "\n";
  out += "pmbench_realtime_publish_to_send_seconds_count " + std::to_string(lat.count()) + "\n";
  return out;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Hub& hub) : shared(std::make_shared<Shared>(std::move(o), hub)) {}

  void Accept() {
    acceptor->async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) std::make_shared<HttpSession>(std::move(socket), shared)->Run();
      Accept();  // a failed accept (out of descriptors) must not stop the listener
    });
  }

  std::shared_ptr<Shared> shared;
  net::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t port = 0;
};

Server::Server(ServerOptions o, Hub& hub) : impl_(std::make_unique<Impl>(std::move(o), hub)) {}
Server::~Server() { Stop(); }

void Server::Start() {
  const ServerOptions& o = impl_->shared->o;
  const std::string where = o.address + ":" + std::to_string(o.port);
  beast::error_code ec;
  const auto address = net::ip::make_address(o.address, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + o.address + "'");
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  const tcp::endpoint endpoint(address, o.port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  impl_->port = acceptor->local_endpoint().port();
  impl_->acceptor = std::move(acceptor);
  impl_->Accept();
  const int n = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void Server::Stop() {
  if (impl_->threads.empty()) return;
  net::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
  });
  // Like a browser tab's server going down for a deploy: each client gets what was queued
  // for it and a close 1001, so it reconnects elsewhere instead of timing out; a client
  // that does not answer the close is cut off at the bound.
  Shared& s = *impl_->shared;
  std::vector<std::shared_ptr<WsSession>> open;
  {
    std::lock_guard lock(s.sessions_mu);
    for (const auto& [key, weak] : s.sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  for (const auto& session : open) session->GoAway();
  open.clear();  // ours must not keep them alive
  {
    std::unique_lock lock(s.sessions_mu);
    s.sessions_ended.wait_for(lock, std::chrono::duration<double>(s.o.drain_timeout_s), [&s] { return s.sessions.empty(); });
  }
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

uint16_t Server::port() const { return impl_->port; }
std::string Server::MetricsText() const { return impl_->shared->Metrics(); }

Server::Counters Server::counters() const {
  const Shared& s = *impl_->shared;
  return {s.connections.load(), s.connections_total.load(), s.messages_sent.load(), s.bytes_sent.load(),
          s.slow_consumers.load(), s.bad_frames.load(), s.floods.load()};
}

}  // namespace pmbench::realtime
