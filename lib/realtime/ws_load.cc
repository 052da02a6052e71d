#include "lib/realtime/ws_load.h"

#include "lib/metrics/registry.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "lib/stats/wall_clock.h"

namespace pmbench::realtime {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// The value after `"key":` in a frame we made (server frames have a fixed shape).
std::string_view Field(std::string_view frame, std::string_view key) {
  std::string k = "\"";
  k += key;
  k += "\":";
  const auto at = frame.find(k);
  if (at == std::string_view::npos) return {};
  std::string_view rest = frame.substr(at + k.size());
  if (!rest.empty() && rest[0] == '"') {
    const auto end = rest.find('"', 1);
    return end == std::string_view::npos ? std::string_view{} : rest.substr(1, end - 1);
  }
  size_t n = 0;
  while (n < rest.size() && rest[n] != ',' && rest[n] != '}') ++n;
  return rest.substr(0, n);
}

uint64_t Number(std::string_view s) {
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

struct WsLoad::Impl {
  struct Shard {
    net::io_context io{1};
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work{io.get_executor()};
    std::mutex mu;  // guards the stats below (the shard's thread writes, Stats() reads)
    WsLoadStats stats;
  };

  class Conn : public std::enable_shared_from_this<Conn> {
   public:
    Conn(Impl& load, Shard& shard, std::vector<std::string> channels)
        : load_(load), shard_(shard), channels_(std::move(channels)), timer_(shard.io), heartbeat_(shard.io) {}

    void Start() {
      stopping_ = false;  // a connection stopped by a shrinking load may be started again
      started_ = Clock::now();
      ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(shard_.io);
      beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(10));
      beast::get_lowest_layer(*ws_).async_connect(load_.endpoint, [self = shared_from_this()](beast::error_code ec) {
        self->OnConnect(ec);
      });
    }

    void Resubscribe(size_t which) {  // churn: unsubscribe, then subscribe with since
      if (!open_ || channels_.empty() || load_.o.protocol) return;
      const std::string& ch = channels_[which % channels_.size()];
      Write(R"({"op":"unsubscribe","channel":")" + ch + R"("})");
      Subscribe(ch);
    }

    void Stop() {
      stopping_ = true;
      timer_.cancel();
      heartbeat_.cancel();
      // Closed, not just cancelled: a load that shrinks must let the server see it go.
      if (ws_) beast::get_lowest_layer(*ws_).close();
    }

   private:
    void OnConnect(beast::error_code ec) {
      if (ec) return Retry();
      beast::get_lowest_layer(*ws_).expires_never();
      websocket::stream_base::timeout t = websocket::stream_base::timeout::suggested(beast::role_type::client);
      ws_->set_option(t);
      ws_->async_handshake(load_.o.host, load_.o.protocol ? load_.o.protocol->path : "/realtime",
                           [self = shared_from_this()](beast::error_code e) { self->OnHandshake(e); });
    }

    void OnHandshake(beast::error_code ec) {
      if (ec) return Retry();
      open_ = true;
      pending_ = 0;
      for (const auto& ch : channels_) Subscribe(ch);
      if (load_.o.protocol && load_.o.protocol->heartbeat_s > 0) Heartbeat();
      Read();
    }

    void Heartbeat() {
      heartbeat_.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(load_.o.protocol->heartbeat_s)));
      heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || !self->open_) return;
        self->Write(FillWsTemplate(self->load_.o.protocol->heartbeat, "", ++self->ref_));
        self->Heartbeat();
      });
    }

    void Subscribe(const std::string& ch) {
      if (const auto& p = load_.o.protocol) {
        if (p->subscribed) ++pending_;
        target_[ch] = 0;  // no replay: caught up once acknowledged
        Write(FillWsTemplate(p->subscribe, ch, ++ref_));
        return;
      }
      std::string msg = R"({"op":"subscribe","channel":")" + ch + "\"";
      if (const auto it = last_.find(ch); it != last_.end()) msg += R"(,"since":)" + std::to_string(it->second);
      msg += "}";
      ++pending_;
      Write(std::move(msg));
    }

    void Write(std::string msg) {
      out_.push_back(std::move(msg));
      if (out_.size() == 1) WriteNext();
    }
    void WriteNext() {
      // A write of a connection that closed meanwhile completes after its queue was cleared
      // (and maybe refilled by the next connection): it must not touch the queue.
      ws_->async_write(net::buffer(out_.front()), [self = shared_from_this(), life = life_](beast::error_code ec, size_t) {
        if (life != self->life_ || self->out_.empty()) return;
        self->out_.pop_front();
        if (!ec && !self->out_.empty()) self->WriteNext();
      });
    }

    void Read() {
      ws_->async_read(buf_, [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

    void OnRead(beast::error_code ec) {
      if (ec) return Closed();
      const std::string frame = beast::buffers_to_string(buf_.data());
      buf_.consume(buf_.size());
      Handle(frame);
      Read();
    }

    // A frame of another server's protocol: what its rules recognise.
    void HandleOther(std::string_view f) {
      const WsFrame w = ReadWsFrame(*load_.o.protocol, f);
      if (w.kind == WsFrame::kSubscribed) {
        if (pending_ > 0) --pending_;
      } else if (w.kind == WsFrame::kUpdate) {
        const int64_t now = stats::WallClockNs();
        std::lock_guard lock(shard_.mu);
        if (w.seq) {
          auto& next = next_[w.channel];
          if (next != 0 && *w.seq > next) {
            shard_.stats.lost += static_cast<int64_t>(*w.seq - next);
            shard_.stats.gaps.emplace_back(w.ts_ns.value_or(now), static_cast<int64_t>(*w.seq - next));
          }
          if (next != 0 && *w.seq < next) return;  // a duplicate: neither counted nor lost
          next = *w.seq + 1;
        }
        ++shard_.stats.received;
        if (w.ts_ns) {
          shard_.stats.update.Record(std::max<int64_t>(0, now - *w.ts_ns));
          if (load_.o.update_latency) load_.o.update_latency->Observe(static_cast<double>(std::max<int64_t>(0, now - *w.ts_ns)) / 1e9);
        }
        if (load_.o.on_update) load_.o.on_update(w.channel, w.data, now);
      }
      CheckCaughtUp();
    }

    void Handle(std::string_view f) {
      if (load_.o.protocol) return HandleOther(f);
      const std::string_view op = Field(f, "op");
      const std::string ch(Field(f, "channel"));
      if (op == "update") {
        const int64_t now = stats::WallClockNs();
        const uint64_t seq = Number(Field(f, "seq"));
        const int64_t ts = static_cast<int64_t>(Number(Field(f, "ts_ns")));
        auto& next = next_[ch];
        std::lock_guard lock(shard_.mu);
        if (next != 0 && seq > next) {
          shard_.stats.lost += static_cast<int64_t>(seq - next);
          shard_.stats.gaps.emplace_back(ts, static_cast<int64_t>(seq - next));
        }
        if (seq >= next) {  // a duplicate (seq < next) is neither counted nor lost
          next = seq + 1;
          last_[ch] = seq;
          ++shard_.stats.received;
          shard_.stats.update.Record(std::max<int64_t>(0, now - ts));
          if (load_.o.update_latency) load_.o.update_latency->Observe(static_cast<double>(std::max<int64_t>(0, now - ts)) / 1e9);
          if (load_.o.on_update) {
            const auto d = f.find("\"data\":");
            if (d != std::string_view::npos) load_.o.on_update(ch, f.substr(d + 7, f.size() - d - 8), now);
          }
        }
      } else if (op == "subscribed") {
        const uint64_t seq = Number(Field(f, "seq"));
        const auto it = last_.find(ch);
        // With since = L the replay L+1..seq follows; without, the next update is seq+1.
        next_[ch] = it != last_.end() && it->second <= seq ? it->second + 1 : seq + 1;
        if (it == last_.end() || it->second > seq) last_[ch] = seq;
        target_[ch] = seq;
        --pending_;
      } else if (op == "reset") {
        const uint64_t seq = Number(Field(f, "seq"));
        std::lock_guard lock(shard_.mu);
        ++shard_.stats.resets;
        next_[ch] = seq + 1;
        last_[ch] = seq;
        target_[ch] = seq;
      } else if (op == "error") {
        std::lock_guard lock(shard_.mu);
        ++shard_.stats.errors;
      }
      CheckCaughtUp();
    }

    void CheckCaughtUp() {
      if (caught_up_ || pending_ > 0) return;
      for (const auto& ch : channels_) {
        const auto t = target_.find(ch);
        if (t == target_.end() || last_[ch] < t->second) return;
      }
      caught_up_ = true;
      {
        std::lock_guard lock(shard_.mu);
        ++shard_.stats.connected;
        if (first_life_) shard_.stats.connect.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started_).count());
        else ++shard_.stats.reconnects;
      }
      first_life_ = false;
      load_.caught_up.fetch_add(1);
      load_.OneDone();
    }

    void Closed() {
      if (open_) {
        std::lock_guard lock(shard_.mu);
        ++shard_.stats.closed;
        if (caught_up_) --shard_.stats.connected;
      }
      if (caught_up_) load_.caught_up.fetch_sub(1);
      open_ = caught_up_ = false;
      heartbeat_.cancel();
      out_.clear();
      ++life_;
      if (stopping_) return;
      // Everyone was dropped at once: spread the reconnects over half a second.
      timer_.expires_after(std::chrono::milliseconds(load_.Jitter(500)));
      timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->Start();
      });
    }

    void Retry() {
      if (stopping_) return;
      if (first_life_ && ++attempts_ > 20) {
        load_.Failed("cannot connect to " + load_.o.host + ":" + std::to_string(load_.o.port));
        return;
      }
      timer_.expires_after(std::chrono::milliseconds(100 + load_.Jitter(200)));
      timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->Start();
      });
    }

    Impl& load_;
    Shard& shard_;
    std::vector<std::string> channels_;
    net::steady_timer timer_, heartbeat_;
    uint64_t ref_ = 0;   // the protocol's {ref}: numbers this connection's messages
    uint64_t life_ = 0;  // bumped when a connection closes: its writes still completing are stale
    std::unique_ptr<websocket::stream<beast::tcp_stream>> ws_;
    beast::flat_buffer buf_;
    std::deque<std::string> out_;
    std::map<std::string, uint64_t> next_, last_, target_;
    Clock::time_point started_;
    int pending_ = 0, attempts_ = 0;
    bool open_ = false, caught_up_ = false, first_life_ = true, stopping_ = false;
  };

  explicit Impl(WsLoadOptions opts) : o(std::move(opts)), endpoint(net::ip::make_address(o.host), o.port) {
    if (o.connections < 1 || o.channels.empty() || o.threads < 1) {
      throw std::invalid_argument("a WebSocket load needs connections, threads and channels");
    }
    for (int i = 0; i < o.threads; ++i) shards.push_back(std::make_unique<Shard>());
    for (int i = 0; i < o.connections; ++i) {
      std::vector<std::string> chs;
      for (int k = 0; k < o.channels_per_connection; ++k) {
        const auto run_index = static_cast<size_t>(o.first_index) + static_cast<size_t>(o.index_stride) * static_cast<size_t>(i);
        chs.push_back(o.channels[(run_index + static_cast<size_t>(k)) % o.channels.size()]);
      }
      chs.insert(chs.end(), o.every_connection.begin(), o.every_connection.end());
      conns.push_back(std::make_shared<Conn>(*this, *shards[static_cast<size_t>(i % o.threads)], std::move(chs)));
    }
    for (auto& s : shards) threads.emplace_back([&io = s->io] { io.run(); });
  }

  ~Impl() { Stop(); }

  // Cancels every connection and lets the loops run dry, so no handler outlives its
  // connection; loops still busy after 5 s are stopped.
  void Stop() {
    if (threads.empty()) return;
    for (size_t i = 0; i < conns.size(); ++i) {
      net::post(shards[i % shards.size()]->io, [c = conns[i]] { c->Stop(); });
    }
    for (auto& s : shards) s->work.reset();
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    for (auto& s : shards) {
      while (!s->io.stopped() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      s->io.stop();
    }
    for (auto& t : threads) t.join();
    threads.clear();
  }

  // Starts connection `next` if it is below `limit` (the number the load is growing to).
  void StartNext() {
    size_t i = next.load();
    do {
      if (i >= limit.load()) return;
    } while (!next.compare_exchange_weak(i, i + 1));
    net::post(shards[i % shards.size()]->io, [c = conns[i]] { c->Start(); });
  }
  void OneDone() {
    if (opening) StartNext();  // keeps connect_concurrency handshakes in flight while opening
  }
  void Failed(const std::string& why) {
    std::lock_guard lock(error_mu);
    if (error.empty()) error = why;
  }
  int Jitter(int ms) {
    std::lock_guard lock(rng_mu);
    return static_cast<int>(rng() % static_cast<uint64_t>(ms));
  }

  const WsLoadOptions o;
  const tcp::endpoint endpoint;
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<std::shared_ptr<Conn>> conns;
  std::vector<std::thread> threads;
  std::atomic<size_t> next{0}, limit{0};
  size_t open_target = 0;  // connections the caller wants open (Resize)
  std::atomic<int64_t> caught_up{0};
  std::atomic<bool> opening{true};
  std::mutex error_mu, rng_mu;
  std::string error;
  std::mt19937_64 rng{7};
};

WsLoad::WsLoad(WsLoadOptions o) : impl_(std::make_unique<Impl>(std::move(o))) {}
WsLoad::~WsLoad() = default;

void WsLoad::Open(double timeout_s) { Resize(impl_->o.connections, timeout_s); }

void WsLoad::Resize(int n, double timeout_s) {
  Impl& l = *impl_;
  const auto target = static_cast<size_t>(std::clamp(n, 0, l.o.connections));
  if (target < l.open_target) {  // the last ones close for good (no reconnect)
    for (size_t i = target; i < l.open_target; ++i) net::post(l.shards[i % l.shards.size()]->io, [c = l.conns[i]] { c->Stop(); });
    l.limit = target;
    l.next = target;
    l.open_target = target;
    return;
  }
  l.limit = target;
  l.opening = true;
  const size_t first = std::min(static_cast<size_t>(l.o.connect_concurrency), target - l.open_target);
  l.open_target = target;
  for (size_t i = 0; i < first; ++i) l.StartNext();
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  while (l.caught_up.load() < static_cast<int64_t>(target)) {
    {
      std::lock_guard lock(l.error_mu);
      if (!l.error.empty()) throw std::runtime_error(l.error);
    }
    if (Clock::now() > deadline) {
      throw std::runtime_error("only " + std::to_string(l.caught_up.load()) + " of " + std::to_string(target) +
                               " WebSocket connections subscribed in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  l.opening = false;
}

double WsLoad::WaitAllCaughtUp(double timeout_s) {
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  // First every connection notices the drop, then every one comes back.
  while (Stats().closed < impl_->o.connections && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  while (impl_->caught_up.load() < impl_->o.connections) {
    if (Clock::now() > deadline) {
      throw std::runtime_error("only " + std::to_string(impl_->caught_up.load()) + " of " +
                               std::to_string(impl_->o.connections) + " connections came back in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int64_t WsLoad::Churn(double rate, double seconds) {
  if (!(rate > 0)) return 0;
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  int64_t n = 0;
  for (auto due = t0; due < end; due += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / rate))) {
    std::this_thread::sleep_until(due);
    const size_t i = static_cast<size_t>(impl_->Jitter(impl_->o.connections));
    net::post(impl_->shards[i % impl_->shards.size()]->io, [c = impl_->conns[i], n] { c->Resubscribe(static_cast<size_t>(n)); });
    ++n;
  }
  return n;
}

WsLoadStats WsLoad::Stats() const {
  WsLoadStats total;
  for (const auto& s : impl_->shards) {
    std::lock_guard lock(s->mu);
    total.connect.Merge(s->stats.connect);
    total.update.Merge(s->stats.update);
    total.received += s->stats.received;
    total.lost += s->stats.lost;
    total.resets += s->stats.resets;
    total.closed += s->stats.closed;
    total.reconnects += s->stats.reconnects;
    total.errors += s->stats.errors;
    total.connected += s->stats.connected;
    total.gaps.insert(total.gaps.end(), s->stats.gaps.begin(), s->stats.gaps.end());
  }
  return total;
}

stats::LatencyHistogram UpdateLatencyWithLosses(const WsLoadStats& s, int64_t deadline_ns) {
  stats::LatencyHistogram h = s.update;
  for (const auto& [ts, missing] : s.gaps) {
    for (int64_t i = 0; i < missing; ++i) h.Record(std::max<int64_t>(0, deadline_ns - ts));
  }
  return h;
}

void WsLoad::Close() { impl_->Stop(); }

int64_t UpdateIntField(std::string_view data, std::string_view key) {
  std::string k(1, '"');  // built up, not "\"" + key: GCC 12 -Wrestrict false positive
  k += key;
  k += "\":";
  const auto at = data.find(k);
  if (at == std::string_view::npos) return -1;
  int64_t v = -1;
  std::from_chars(data.data() + at + k.size(), data.data() + data.size(), v);
  return v;
}

WsMetrics::WsMetrics(metrics::Registry& r, const std::string& role)
    : connected_(r.AddGauge("pmbench_ws_connections", "Subscriber connections open and subscribed.", {{"role", role}})),
      received_(r.AddCounter("pmbench_ws_updates_received_total", "Updates received by the subscribers.", {{"role", role}})),
      lost_(r.AddCounter("pmbench_ws_updates_lost_total", "Updates never received (sequence gaps).", {{"role", role}})),
      resets_(r.AddCounter("pmbench_ws_resets_total", "Snapshots that replaced a subscriber's history (replay gone).", {{"role", role}})),
      reconnects_(r.AddCounter("pmbench_ws_reconnects_total", "Subscriber connections re-opened after the server closed them.", {{"role", role}})),
      errors_(r.AddCounter("pmbench_ws_errors_total", "Subscriber errors (bad frames, failed handshakes).", {{"role", role}})),
      latency_(r.AddHistogram("pmbench_ws_update_latency_seconds", "From an update's publish time to its receipt by a subscriber.",
                              {{"role", role}})) {}

void WsMetrics::Update(const WsLoadStats& s) {
  connected_.Set(static_cast<double>(s.connected));
  const auto raise = [](metrics::Counter& c, int64_t total) {
    if (static_cast<double>(total) > c.value()) c.Inc(static_cast<double>(total) - c.value());
  };
  raise(received_, s.received);
  raise(lost_, s.lost);
  raise(resets_, s.resets);
  raise(reconnects_, s.reconnects);
  raise(errors_, s.errors);
}

}  // namespace pmbench::realtime
