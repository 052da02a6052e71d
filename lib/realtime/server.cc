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

  // A session's write reached the socket: its frames count as sent.
  void Written(const std::vector<int64_t>& frame_ts_ns, size_t bytes) {
    messages_sent += static_cast<int64_t>(frame_ts_ns.size());
    bytes_sent += static_cast<int64_t>(bytes);
    const int64_t now = stats::WallClockNs();
    std::lock_guard lock(latency_mu);
    for (const int64_t ts : frame_ts_ns) {
      if (ts > 0) publish_to_send.Record(now - ts < 0 ? 0 : now - ts);
    }
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

// The socket under each WebSocket session, its writes gathered into one buffer that goes
// to the socket in one write whenever none is in flight. The session appends its text
// frames straight into it (a server's frames are unmasked: a header and the text, the same
// for every subscriber); Beast's own writes (the handshake's answer, pongs, keep-alive
// pings, the close) are appended whole too, each a single small write. At low rates that
// is one write per frame, as before; when a subscriber's frames pile up behind a write they
// all leave in the next one — a system call and a loopback delivery per batch, not per
// frame. Order is kept: one buffer, one write at a time, all on the session's strand.
class GatheringStream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  // After each write: the frames it carried (their publish times) and its bytes.
  using OnWritten = std::function<void(const std::vector<int64_t>& frame_ts_ns, size_t bytes)>;

  GatheringStream(tcp::socket&& socket, OnWritten on_written)
      : next_(std::move(socket)), st_(std::make_shared<State>()) {
    st_->socket = &next_.socket();
    st_->on_written = std::move(on_written);
  }
  ~GatheringStream() { st_->socket = nullptr; }  // a write still in flight must not touch it
  GatheringStream(GatheringStream&&) = delete;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  beast::tcp_stream& next_layer() noexcept { return next_; }

  // Bytes and frames appended that are not yet on the socket.
  size_t unsent_bytes() const { return st_->pending.size() + st_->writing.size(); }
  size_t unsent_frames() const { return st_->pending_ts.size() + st_->writing_ts.size(); }

  // A text frame of `text` (FIN, opcode 1, unmasked; RFC 6455 5.2), sent in order with
  // everything else written. `ts_ns` is its publish time, 0 for none.
  void AppendText(std::string_view text, int64_t ts_ns) {
    if (st_->failed) return;
    std::string& p = st_->pending;
    const uint64_t n = text.size();
    p.push_back(static_cast<char>(0x81));
    if (n < 126) {
      p.push_back(static_cast<char>(n));
    } else if (n <= 0xffff) {
      p.push_back(static_cast<char>(126));
      for (int shift = 8; shift >= 0; shift -= 8) p.push_back(static_cast<char>((n >> shift) & 0xff));
    } else {
      p.push_back(static_cast<char>(127));
      for (int shift = 56; shift >= 0; shift -= 8) p.push_back(static_cast<char>((n >> shift) & 0xff));
    }
    p.append(text);
    st_->pending_ts.push_back(ts_ns);
    if (!st_->writing_now) Flush(st_);
  }

  // Forgets what is appended and not yet being written (a session closing without them).
  void DropUnsent() {
    st_->pending.clear();
    st_->pending_ts.clear();
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    next_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  // Beast's writes: appended whole, completed at once (the bytes are ours to send).
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    const size_t n = net::buffer_size(buffers);
    const beast::error_code ec = st_->failed;
    if (!ec) {
      std::string& p = st_->pending;
      const size_t at = p.size();
      p.resize(at + n);
      net::buffer_copy(net::buffer(p.data() + at, n), buffers);
      if (!st_->writing_now) Flush(st_);
    }
    net::post(get_executor(), beast::bind_front_handler(std::forward<Handler>(handler), ec, ec ? 0 : n));
  }

  // Runs `f` once every byte appended so far is on the socket (or the socket failed).
  void AfterFlush(std::function<void(beast::error_code)> f) {
    if (!st_->writing_now) {
      net::post(get_executor(), [f = std::move(f), ec = st_->failed] { f(ec); });
    } else {
      st_->waiters.push_back(std::move(f));
    }
  }

 private:
  struct State {
    tcp::socket* socket = nullptr;
    std::string pending, writing;
    std::vector<int64_t> pending_ts, writing_ts;
    bool writing_now = false;
    beast::error_code failed;
    OnWritten on_written;
    std::vector<std::function<void(beast::error_code)>> waiters;
  };

  static void Flush(const std::shared_ptr<State>& st) {
    st->writing_now = true;
    st->writing.swap(st->pending);
    st->writing_ts.swap(st->pending_ts);
    net::async_write(*st->socket, net::buffer(st->writing), [st](beast::error_code ec, size_t bytes) {
      if (!ec && st->on_written) st->on_written(st->writing_ts, bytes);
      st->writing.clear();
      st->writing_ts.clear();
      if (ec) {
        st->failed = ec;
        st->pending.clear();
        st->pending_ts.clear();
      }
      if (!ec && st->socket && !st->pending.empty()) return Flush(st);
      st->writing_now = false;
      for (auto& f : std::exchange(st->waiters, {})) f(ec);
    });
  }

  beast::tcp_stream next_;
  std::shared_ptr<State> st_;
};

// The close handshake's end: what was written goes out first, then the TCP teardown.
template <class Handler>
void async_teardown(beast::role_type role, GatheringStream& stream, Handler&& handler) {
  auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
  stream.AfterFlush([role, &stream, h](beast::error_code) {
    using websocket::async_teardown;
    async_teardown(role, stream.next_layer().socket(), std::move(*h));
  });
}

class WsSession : public Subscriber, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& socket, std::shared_ptr<Shared> shared)
      : ws_(std::move(socket), [s = shared](const std::vector<int64_t>& ts, size_t bytes) { s->Written(ts, bytes); }),
        s_(std::move(shared)) {}

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
  // One post carries every frame that arrived while the previous one waited to run.
  void Send(Frame f) override {
    std::lock_guard lock(inbox_mu_);
    inbox_.push_back(std::move(f));
    if (std::exchange(inbox_posted_, true)) return;
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      std::vector<Frame> frames;
      {
        std::lock_guard drain(self->inbox_mu_);
        frames.swap(self->inbox_);
        self->inbox_posted_ = false;
      }
      for (auto& frame : frames) self->Enqueue(std::move(frame));
    });
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
    GatheringStream& out = ws_.next_layer();
    if (out.unsent_frames() >= s_->o.queue_messages || out.unsent_bytes() + f->text.size() > s_->o.queue_bytes) {
      ++s_->slow_consumers;
      return Close(websocket::close_code::policy_error, "slow consumer");
    }
    out.AppendText(f->text, f->ts_ns);
  }

  // Stops taking frames and closes: with kSend after the frames already appended, with
  // kDrop without those not yet being written. Beast writes the close frame behind them.
  enum class Queued { kDrop, kSend };
  void Close(websocket::close_code code, const char* reason, Queued queued = Queued::kDrop) {
    if (closing_) return;
    closing_ = true;
    s_->hub.Leave(this);
    if (queued == Queued::kDrop) ws_.next_layer().DropUnsent();
    close_reason_ = websocket::close_reason(code, reason);
    DoClose();
  }

  void DoClose() {
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<GatheringStream> ws_;
  std::shared_ptr<Shared> s_;
  beast::flat_buffer buffer_;
  std::mutex inbox_mu_;
  std::vector<Frame> inbox_;  // frames from the hub, not yet on the strand
  bool inbox_posted_ = false;
  bool closing_ = false, accepted_ = false;
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
