#include "lib/chain/logs_source.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_set>

#include "lib/chain/internal/ws_stream.h"
#include "lib/chain/rpc.h"
#include "lib/chain/transaction.h"

namespace pmbench::chain {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

namespace {

// The signatures delivered lately: enough to drop what a catch-up and the live stream both
// bring, without growing for ever.
class RecentSet {
 public:
  bool Insert(const std::string& s) {
    if (!set_.insert(s).second) return false;
    order_.push_back(s);
    if (order_.size() > 200000) {
      set_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }

 private:
  std::unordered_set<std::string> set_;
  std::deque<std::string> order_;
};

}  // namespace

struct LogsSource::Impl {
  LogsSourceOptions options;
  Endpoint ws_url;
  std::unique_ptr<asio::ssl::context> ssl;  // wss://: made once, with the trust store of then
  std::string mentions_b58;
  std::unique_ptr<RpcClient> rpc;

  asio::io_context io;
  std::unique_ptr<internal::WsStream> ws;
  beast::flat_buffer buffer;
  bool read_pending = false;
  beast::error_code read_ec;
  bool read_done = false;

  std::deque<std::string> queue;  // caught-up lines, oldest first
  RecentSet seen;
  std::atomic<bool> stopped{false};
  mutable std::mutex mu;
  LogsSourceStats stats;
  std::string last;
  bool connected_once = false;

  // Runs handlers until `flag` is set or `d` passes; the WebSocket's ping timer keeps the
  // loop busy, so run_for alone would always take all of `d`.
  bool RunUntil(const bool& flag, Clock::duration d) {
    const auto deadline = Clock::now() + d;
    io.restart();
    while (!flag) {
      if (io.run_one_until(deadline) == 0) break;  // timed out, or nothing left to run
    }
    return flag;
  }

  void Connect() {
    ws.reset();
    io.restart();
    read_pending = false;
    beast::error_code ec;
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(ws_url.host, ws_url.port, ec);
    if (ec) throw std::runtime_error("resolve: " + ec.message());
    auto s = std::make_unique<internal::WsStream>(io, ws_url, ssl.get());
    std::string step;
    s->AsyncOpen(results, std::chrono::seconds(5), [&](beast::error_code e, const char* what) {
      ec = e;
      step = what;
    });
    io.run();
    if (ec) throw std::runtime_error(step + ": " + ec.message());
    // A node that vanished without closing the socket is noticed; the source reconnects and
    // catches up.
    s->KeepAlive();
    const std::string sub = json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "logsSubscribe"},
                                 {"params", json::array({json{{"mentions", json::array({mentions_b58})}},
                                                         json{{"commitment", options.commitment}}})}}.dump();
    beast::flat_buffer b;
    bool done = false;
    s->AsyncWrite(asio::buffer(sub), [&](beast::error_code e, size_t) {
      ec = e;
      if (e) {
        done = true;
        return;
      }
      // The answer comes before any notification of this subscription.
      s->AsyncRead(b, [&](beast::error_code e2, size_t) {
        ec = e2;
        done = true;
      });
    });
    if (!RunUntil(done, std::chrono::seconds(10))) {  // let the handlers finish (aborted) before the state they point to goes
      s->Close();
      io.restart();
      io.run();
      throw std::runtime_error("subscribe: no answer in 10 s");
    }
    if (ec) throw std::runtime_error("subscribe: " + ec.message());
    const json answer = json::parse(beast::buffers_to_string(b.data()), nullptr, false);
    if (answer.is_discarded() || !answer.contains("result")) {
      const std::string why = !answer.is_discarded() && answer.contains("error") ? answer["error"].value("message", "") : "bad answer";
      throw std::invalid_argument("logsSubscribe refused: " + why);  // not worth retrying
    }
    ws = std::move(s);
  }

  // Everything at the address after `after`, oldest first, as logsNotification lines.
  void CatchUp(const std::string& after) {
    if (after.empty()) return;
    const auto key = PublicKeyFromBase58(mentions_b58);
    std::vector<SignatureInfo> newer;
    std::string before;
    for (;;) {
      auto page = rpc->GetSignaturesForAddress(*key, before, after, 1000);
      if (page.empty()) break;
      before = page.back().signature;
      newer.insert(newer.end(), page.begin(), page.end());
      if (page.size() < 1000) break;
    }
    std::reverse(newer.begin(), newer.end());
    for (const auto& info : newer) {
      if (!seen.Insert(info.signature)) continue;
      const auto tx = rpc->GetTransaction(info.signature);
      if (!tx) continue;  // not confirmed yet: the live stream brings it
      json logs = tx->logs;
      const std::string line =
          json{{"jsonrpc", "2.0"}, {"method", "logsNotification"},
               {"params", {{"result", {{"context", {{"slot", tx->slot}}},
                                       {"value", {{"signature", info.signature}, {"err", json::parse(tx->err_json)}, {"logs", logs}}}}},
                           {"subscription", 0}}}}.dump();
      queue.push_back(line);
      std::lock_guard lock(mu);
      ++stats.caught_up;
    }
  }

  std::string LastDelivered() {
    std::lock_guard lock(mu);
    return last;
  }

  // Connects (with backoff) and catches up; false if stopped meanwhile.
  bool Reconnect() {
    const auto start = Clock::now();
    double delay = 0.05;
    std::string last_error;
    while (!stopped) {
      try {
        Connect();
        CatchUp(connected_once ? LastDelivered() : options.resume_after.empty() ? LastDelivered() : options.resume_after);
        if (connected_once) {
          std::lock_guard lock(mu);
          ++stats.reconnects;
        }
        connected_once = true;
        if (options.on_subscribed) options.on_subscribed();
        return true;
      } catch (const std::invalid_argument&) {
        throw;
      } catch (const std::exception& e) {
        last_error = e.what();
        ws.reset();
      }
      if (std::chrono::duration<double>(Clock::now() - start).count() > options.give_up_after_s) {
        const std::string where = (ws_url.tls ? "wss://" : "ws://") + ws_url.host + ":" + ws_url.port;  // no path: keys
        throw std::runtime_error("live input " + where + " unreachable for " +
                                 std::to_string(static_cast<int>(options.give_up_after_s)) + " s: " + last_error);
      }
      // Backoff before the next attempt, in slices so Stop() is prompt.
      const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
      while (!stopped && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      delay = std::min(options.reconnect_max_s, delay * 2);
    }
    return false;
  }

  bool Deliver(std::string& line, Clock::time_point& arrival, std::string text, bool live) {
    const json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || doc.value("method", "") != "logsNotification") return false;
    const json* sig = nullptr;
    try {
      sig = &doc.at("params").at("result").at("value").at("signature");
    } catch (const json::exception&) {
      sig = nullptr;
    }
    if (sig && sig->is_string()) {
      if (live && !seen.Insert(sig->get<std::string>())) {
        std::lock_guard lock(mu);
        ++stats.duplicates;
        return false;
      }
      std::lock_guard lock(mu);
      last = sig->get<std::string>();
      if (live) ++stats.live;
    }
    line = std::move(text);
    arrival = Clock::now();
    return true;  // a notification without a signature goes on: the parser rejects it
  }

  bool Next(std::string& line, Clock::time_point& arrival) {
    for (;;) {
      if (stopped) return false;
      if (!queue.empty()) {
        std::string text = std::move(queue.front());
        queue.pop_front();
        if (Deliver(line, arrival, std::move(text), false)) return true;
        continue;
      }
      if (!ws && !Reconnect()) return false;
      if (!read_pending) {
        buffer.clear();
        read_done = false;
        read_pending = true;
        ws->AsyncRead(buffer, [this](beast::error_code e, size_t) {
          read_ec = e;
          read_done = true;
        });
      }
      if (!RunUntil(read_done, std::chrono::milliseconds(200))) continue;  // the read stays outstanding; look at stopped again
      read_pending = false;
      if (read_ec) {
        ws.reset();  // lost: the next round reconnects and catches up
        continue;
      }
      if (Deliver(line, arrival, beast::buffers_to_string(buffer.data()), true)) return true;
    }
  }
};

LogsSource::LogsSource(LogsSourceOptions options) : impl_(std::make_unique<Impl>()) {
  try {
    impl_->ws_url = ParseWsEndpoint(options.url);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("live input: ") + e.what());
  }
  if (impl_->ws_url.tls) impl_->ssl = internal::MakeTlsClientContext();
  if (options.commitment != "confirmed" && options.commitment != "finalized") {
    throw std::invalid_argument("live input commitment must be confirmed or finalized");
  }
  impl_->mentions_b58 = ToBase58(options.mentions);
  // The catch-up's RPC: the same host, port and path over http:// or https://.
  const auto& w = impl_->ws_url;
  RpcOptions rpc{.endpoints = {(w.tls ? "https://" : "http://") + w.host + ":" + w.port + w.target},
                        .requests_per_10s = 0, .sends_per_10s = 0};
  impl_->rpc = std::make_unique<RpcClient>(rpc);
  impl_->options = std::move(options);
}

LogsSource::~LogsSource() = default;

bool LogsSource::Next(std::string& line, Clock::time_point& arrival) { return impl_->Next(line, arrival); }

void LogsSource::Stop() { impl_->stopped = true; }

LogsSourceStats LogsSource::Stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::string LogsSource::last_signature() const { return impl_->LastDelivered(); }

}  // namespace pmbench::chain
