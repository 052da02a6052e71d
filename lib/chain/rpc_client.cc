// The RPC client's transport policy: token buckets per endpoint, retries with backoff and
// Retry-After, failover between endpoints, and the per-method statistics. The HTTP
// exchange itself is internal/http_conn.cc; the methods are rpc_methods.cc.
#include <algorithm>
#include <boost/asio/ssl/context.hpp>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "lib/chain/internal/err_name.h"
#include "lib/chain/internal/http_conn.h"
#include "lib/chain/internal/tls.h"
#include "lib/chain/rpc.h"

namespace pmbench::chain {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::string internal::ErrName(const json& err) {
  if (err.is_string()) return err.get<std::string>();
  if (err.is_object() && !err.empty()) return err.begin().key();  // {"InstructionError": [...]}
  return err.dump();
}

namespace {

// A bucket of `capacity` tokens refilled at capacity / 10 s (capacity 0: unlimited).
struct Bucket {
  double capacity = 0, tokens = 0;
  SteadyClock::time_point updated = SteadyClock::now();
  void Refill(SteadyClock::time_point now) {
    tokens = std::min(capacity, tokens + std::chrono::duration<double>(now - updated).count() * capacity / 10.0);
    updated = now;
  }
  // When one token will be there.
  SteadyClock::time_point ReadyAt(SteadyClock::time_point now) {
    if (capacity <= 0) return now;
    Refill(now);
    if (tokens >= 1) return now;
    return now + std::chrono::duration_cast<SteadyClock::duration>(
                     std::chrono::duration<double>((1 - tokens) * 10.0 / capacity));
  }
  void Take() {
    if (capacity > 0) tokens -= 1;
  }
};

struct EndpointState {
  Endpoint ep;
  Bucket all, sends;
  SteadyClock::time_point paused_until{}, down_until{};
  std::vector<std::unique_ptr<internal::HttpConn>> idle;
};

}  // namespace

struct RpcClient::Impl {
  RpcOptions options;
  std::unique_ptr<boost::asio::ssl::context> ssl;
  mutable std::mutex mu;
  std::vector<EndpointState> endpoints;
  std::vector<Endpoint> public_endpoints;
  RpcStats stats;
  std::mt19937_64 rng;
  uint64_t next_id = 1;

  double Jitter() {
    std::lock_guard lock(mu);
    return std::uniform_real_distribution<double>(0.5, 1.5)(rng);
  }

  // Picks the endpoint that can take a request soonest, waits for it, takes its tokens.
  size_t Acquire(bool is_send) {
    std::unique_lock lock(mu);
    bool waited = false;
    const auto t0 = SteadyClock::now();
    for (;;) {
      const auto now = SteadyClock::now();
      size_t best = 0;
      SteadyClock::time_point best_at = SteadyClock::time_point::max();
      for (size_t pass = 0; pass < 2 && best_at == SteadyClock::time_point::max(); ++pass) {
        for (size_t i = 0; i < endpoints.size(); ++i) {
          auto& e = endpoints[i];
          // Second pass: every endpoint is down; try anyway, after its backoff.
          if (pass == 0 && e.down_until > now) continue;
          const auto at = std::max({now, e.paused_until, e.all.ReadyAt(now), is_send ? e.sends.ReadyAt(now) : now});
          if (at < best_at) {
            best_at = at;
            best = i;
          }
        }
      }
      if (best_at <= now) {
        endpoints[best].all.Take();
        if (is_send) endpoints[best].sends.Take();
        if (waited) {
          ++stats.throttle_waits;
          stats.throttle_wait_s += std::chrono::duration<double>(now - t0).count();
        }
        return best;
      }
      waited = true;
      lock.unlock();
      std::this_thread::sleep_until(std::min(best_at, now + std::chrono::milliseconds(200)));
      lock.lock();
    }
  }

  std::unique_ptr<internal::HttpConn> Borrow(size_t i) {
    std::lock_guard lock(mu);
    auto& idle = endpoints[i].idle;
    if (idle.empty()) return std::make_unique<internal::HttpConn>();
    auto c = std::move(idle.back());
    idle.pop_back();
    return c;
  }

  void Return(size_t i, std::unique_ptr<internal::HttpConn> c) {
    if (!c->open()) return;
    std::lock_guard lock(mu);
    endpoints[i].idle.push_back(std::move(c));
  }

  internal::Answer Exchange(size_t i, const std::string& body) {
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
    auto c = Borrow(i);
    const Endpoint& ep = endpoints[i].ep;
    for (int fresh = 0;; ++fresh) {
      try {
        if (!c->open()) c->Open(ep, ssl.get(), timeout);
        internal::Answer a = c->Exchange(ep, body, timeout);
        Return(i, std::move(c));
        return a;
      } catch (const internal::TransportError&) {
        // A kept-alive connection the server closed meanwhile: once more on a new one.
        const bool stale = c->reused() && fresh == 0;
        c = std::make_unique<internal::HttpConn>();
        if (!stale) throw;
      }
    }
  }

  std::string Call(const std::string& method, const std::string& params) {
    const auto start = SteadyClock::now();
    const bool is_send = method == "sendTransaction";
    uint64_t id;
    {
      std::lock_guard lock(mu);
      id = next_id++;
    }
    const std::string body =
        R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method + R"(","params":)" + params + "}";
    std::string last_error = "no attempt";
    size_t previous = SIZE_MAX;
    auto finish = [&](bool error) {
      std::lock_guard lock(mu);
      auto& m = stats.methods[method];
      ++m.calls;
      if (error) ++m.errors;
      m.latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count());
    };
    for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
      const size_t i = Acquire(is_send);
      {
        std::lock_guard lock(mu);
        if (attempt > 0) ++stats.retries;
        if (previous != SIZE_MAX && previous != i) ++stats.failovers;
      }
      previous = i;
      const double backoff_ms =
          std::min(options.backoff_cap_ms, options.backoff_base_ms * std::pow(2.0, attempt)) * Jitter();
      const auto backoff = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double, std::milli>(backoff_ms));
      internal::Answer a;
      try {
        a = Exchange(i, body);
      } catch (const internal::TransportError& e) {
        last_error = endpoints[i].ep.Display() + ": " + e.what();
        std::lock_guard lock(mu);
        ++stats.transport_errors;
        endpoints[i].down_until = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                            std::chrono::duration<double>(options.down_s));
        // Another endpoint may take it at once; if none, Acquire waits for this one.
        endpoints[i].paused_until = SteadyClock::now() + backoff;
        continue;
      }
      if (a.status == 429 || a.status >= 500) {
        last_error = endpoints[i].ep.Display() + ": HTTP " + std::to_string(a.status);
        std::lock_guard lock(mu);
        if (a.status == 429) ++stats.http_429;
        auto pause = backoff;
        if (a.retry_after_s >= 0) {
          pause = std::max(pause, std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(a.retry_after_s)));
        }
        endpoints[i].paused_until = SteadyClock::now() + pause;
        continue;
      }
      const json doc = json::parse(a.body, nullptr, false);
      if (a.status != 200 || doc.is_discarded() || !doc.is_object()) {
        finish(true);
        throw RpcError(RpcError::kUnavailable, endpoints[i].ep.Display() + ": HTTP " + std::to_string(a.status) +
                                                   (doc.is_discarded() ? ", not JSON" : ""));
      }
      if (doc.contains("error")) {
        finish(true);
        const json& e = doc["error"];
        std::string err;
        if (e.contains("data") && e["data"].is_object() && e["data"].contains("err")) err = internal::ErrName(e["data"]["err"]);
        throw RpcError(e.value("code", 0), method + ": " + e.value("message", std::string("RPC error")), err);
      }
      finish(false);
      return doc.contains("result") ? doc["result"].dump() : "null";
    }
    finish(true);
    throw RpcError(RpcError::kUnavailable, method + ": no answer after " + std::to_string(options.max_attempts) +
                                               " attempts (last: " + last_error + ")");
  }
};

RpcClient::RpcClient(RpcOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.endpoints.empty()) throw std::invalid_argument("no RPC endpoint given");
  if (options.max_attempts < 1) throw std::invalid_argument("max_attempts must be at least 1");
  impl_->rng.seed(options.seed);
  for (const auto& url : options.endpoints) {
    EndpointState s;
    s.ep = ParseEndpoint(url);
    s.all.capacity = s.all.tokens = options.requests_per_10s;
    s.sends.capacity = s.sends.tokens = options.sends_per_10s;
    if (s.ep.tls && !impl_->ssl) {
      impl_->ssl = internal::MakeTlsClientContext();
    }
    impl_->public_endpoints.push_back(s.ep);
    impl_->endpoints.push_back(std::move(s));
  }
  impl_->options = std::move(options);
}

RpcClient::~RpcClient() = default;

std::string RpcClient::Call(const std::string& method, const std::string& params) { return impl_->Call(method, params); }

RpcStats RpcClient::Stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

const std::vector<Endpoint>& RpcClient::endpoints() const { return impl_->public_endpoints; }

}  // namespace pmbench::chain
