#include "lib/chain/signature_watcher.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <deque>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "lib/chain/internal/ws_stream.h"
#include "lib/chain/rpc.h"

namespace pmbench::chain {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

// Everything below runs on the watcher's one thread, so it needs no lock; Watch posts to it.
// `gen` numbers connections: handlers of a connection given up ignore themselves.
struct SignatureWatcher::Impl {
  Endpoint ep;
  std::unique_ptr<asio::ssl::context> ssl;  // wss://: made once, with the trust store of then
  std::string commitment;
  Notify notify;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::resolver resolver{io};
  asio::steady_timer retry{io};
  std::unique_ptr<internal::WsStream> ws, retired;
  beast::flat_buffer buffer;
  std::deque<std::string> out;
  bool writing = false, connected = false;
  uint64_t gen = 0, next_id = 1;
  double backoff_s = 0.05;
  std::unordered_map<uint64_t, std::string> by_request, by_subscription;
  std::unordered_set<std::string> watching;
  std::atomic<uint64_t> notifications{0}, reconnects{0};
  std::thread thread;

  void Connect() {
    const uint64_t g = ++gen;
    resolver.async_resolve(ep.host, ep.port, [this, g](beast::error_code ec, tcp::resolver::results_type results) {
      if (g != gen) return;
      if (ec) return Retry();
      retired.reset();
      ws = std::make_unique<internal::WsStream>(io, ep, ssl.get());
      ws->AsyncOpen(results, std::chrono::seconds(5), [this, g](beast::error_code ec2, const char*) {
        if (g != gen) return;
        if (ec2) return Retry();
        ws->KeepAlive();
        connected = true;
        backoff_s = 0.05;
        for (const auto& sig : watching) Subscribe(sig);
        Read(g);
      });
    });
  }

  void Retry() {
    ++gen;
    if (connected) ++reconnects;
    connected = writing = false;
    out.clear();
    by_request.clear();
    by_subscription.clear();
    if (ws) {
      // Closed now, destroyed at the next attempt: a read or write still outstanding completes
      // (aborted) first — under TLS it refers to the stream.
      ws->Close();
      retired = std::move(ws);
    }
    retry.expires_after(std::chrono::milliseconds(static_cast<int64_t>(backoff_s * 1000)));
    backoff_s = std::min(2.0, backoff_s * 2);
    retry.async_wait([this](beast::error_code ec) {
      if (!ec) Connect();
    });
  }

  void Read(uint64_t g) {
    ws->AsyncRead(buffer, [this, g](beast::error_code ec, size_t) {
      if (g != gen) return;
      if (ec) return Retry();
      Handle(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      Read(g);
    });
  }

  void Subscribe(const std::string& sig) {
    const uint64_t id = next_id++;
    by_request[id] = sig;
    out.push_back(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "signatureSubscribe"},
                       {"params", json::array({sig, {{"commitment", commitment}}})}}.dump());
    Flush();
  }

  void Flush() {
    if (writing || out.empty() || !connected) return;
    writing = true;
    const uint64_t g = gen;
    ws->AsyncWrite(asio::buffer(out.front()), [this, g](beast::error_code ec, size_t) {
      if (g != gen) return;
      writing = false;
      if (ec) return Retry();
      out.pop_front();
      Flush();
    });
  }

  void Handle(const std::string& text) {
    const json m = json::parse(text, nullptr, false);
    if (m.is_discarded() || !m.is_object()) return;
    if (m.contains("id") && m["id"].is_number_unsigned()) {
      const auto it = by_request.find(m["id"].get<uint64_t>());
      if (it == by_request.end()) return;
      if (m.contains("result") && m["result"].is_number_unsigned()) by_subscription[m["result"].get<uint64_t>()] = it->second;
      by_request.erase(it);  // refused: polling will see to it
      return;
    }
    if (m.value("method", "") != "signatureNotification") return;
    const json* sub = nullptr;
    const json* value = nullptr;
    try {
      sub = &m.at("params").at("subscription");
      value = &m.at("params").at("result").at("value");
    } catch (const json::exception&) {
      return;
    }
    if (!sub->is_number_unsigned()) return;
    const auto it = by_subscription.find(sub->get<uint64_t>());
    if (it == by_subscription.end()) return;
    const std::string sig = it->second;
    by_subscription.erase(it);
    if (!watching.erase(sig)) return;
    std::string err;
    if (value->is_object() && value->contains("err") && !(*value)["err"].is_null()) {
      const json& e = (*value)["err"];
      err = e.is_string() ? e.get<std::string>() : e.is_object() && !e.empty() ? e.begin().key() : e.dump();
    }
    ++notifications;
    notify(sig, err);
  }
};

SignatureWatcher::SignatureWatcher(const std::string& url, std::string commitment, Notify notify)
    : impl_(std::make_unique<Impl>()) {
  if (CommitmentRank(commitment) < 0) throw std::invalid_argument("commitment must be processed, confirmed or finalized");
  impl_->ep = ParseWsEndpoint(url);
  if (impl_->ep.tls) impl_->ssl = internal::MakeTlsClientContext();
  impl_->commitment = std::move(commitment);
  impl_->notify = std::move(notify);
  asio::post(impl_->io, [impl = impl_.get()] { impl->Connect(); });
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

SignatureWatcher::~SignatureWatcher() {
  asio::post(impl_->io, [impl = impl_.get()] {
    ++impl->gen;
    impl->retry.cancel();
    impl->resolver.cancel();
    if (impl->ws) impl->ws->Close();
    // Not waiting for the handlers: the WebSocket's ping timer would keep the loop up to
    // 15 s; the ones left are destroyed with the io_context, unrun.
    impl->io.stop();
  });
  impl_->thread.join();
}

void SignatureWatcher::Watch(const std::string& signature) {
  asio::post(impl_->io, [impl = impl_.get(), signature] {
    // Unconnected, the next connection subscribes to everything watched.
    if (impl->watching.insert(signature).second && impl->connected) impl->Subscribe(signature);
  });
}

uint64_t SignatureWatcher::notifications() const { return impl_->notifications; }
uint64_t SignatureWatcher::reconnects() const { return impl_->reconnects; }

}  // namespace pmbench::chain
