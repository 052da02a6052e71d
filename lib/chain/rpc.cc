#include "lib/chain/rpc.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "lib/base/base58.h"
#include "lib/base/base64.h"
#include "lib/chain/internal/tls.h"

namespace pmbench::chain {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::string Endpoint::Display() const { return std::string(tls ? "https://" : "http://") + host + ":" + port; }

Endpoint ParseEndpoint(const std::string& url) {
  Endpoint ep;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    ep.tls = true;
    rest = url.substr(8);
  } else {
    throw std::invalid_argument("RPC endpoint must start with http:// or https://");
  }
  const size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  ep.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (ep.target[0] == '?') ep.target = "/" + ep.target;
  if (authority.find('@') != std::string::npos) throw std::invalid_argument("RPC endpoint: user:password@ is not supported");
  if (authority.empty()) throw std::invalid_argument("RPC endpoint has no host");
  std::string port = ep.tls ? "443" : "80";
  if (authority[0] == '[') {  // [::1]:8899
    const size_t close = authority.find(']');
    if (close == std::string::npos) throw std::invalid_argument("RPC endpoint: bad IPv6 address");
    ep.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') throw std::invalid_argument("RPC endpoint: bad port");
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    ep.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (ep.host.empty()) throw std::invalid_argument("RPC endpoint has no host");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    throw std::invalid_argument("RPC endpoint: bad port '" + port + "'");
  }
  ep.port = port;
  return ep;
}

Endpoint ParseWsEndpoint(const std::string& url) {
  std::string http;
  if (url.rfind("ws://", 0) == 0) {
    http = "http://" + url.substr(5);
  } else if (url.rfind("wss://", 0) == 0) {
    http = "https://" + url.substr(6);
  } else {
    throw std::invalid_argument("WebSocket URL must start with ws:// or wss://");
  }
  try {
    return ParseEndpoint(http);
  } catch (const std::invalid_argument& e) {
    std::string why = e.what();
    if (why.rfind("RPC endpoint", 0) == 0) why.replace(0, 12, "WebSocket URL");
    throw std::invalid_argument(why);
  }
}

int CommitmentRank(const std::string& c) {
  if (c == "processed") return 0;
  if (c == "confirmed") return 1;
  if (c == "finalized") return 2;
  return -1;
}

namespace {

struct TransportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Answer {
  unsigned status = 0;
  std::string body;
  double retry_after_s = -1;  // -1: none given
};

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

// One keep-alive connection with its own event loop: calls block their thread, and the
// stream's timer bounds each step.
struct Conn {
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

struct EndpointState {
  Endpoint ep;
  Bucket all, sends;
  SteadyClock::time_point paused_until{}, down_until{};
  std::vector<std::unique_ptr<Conn>> idle;
};

std::string ErrName(const json& err) {
  if (err.is_string()) return err.get<std::string>();
  if (err.is_object() && !err.empty()) return err.begin().key();  // {"InstructionError": [...]}
  return err.dump();
}

}  // namespace

struct RpcClient::Impl {
  RpcOptions options;
  std::unique_ptr<asio::ssl::context> ssl;
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

  std::unique_ptr<Conn> Borrow(size_t i) {
    std::lock_guard lock(mu);
    auto& idle = endpoints[i].idle;
    if (idle.empty()) return std::make_unique<Conn>();
    auto c = std::move(idle.back());
    idle.pop_back();
    return c;
  }

  void Return(size_t i, std::unique_ptr<Conn> c) {
    if (!c->open()) return;
    std::lock_guard lock(mu);
    endpoints[i].idle.push_back(std::move(c));
  }

  Answer Exchange(size_t i, const std::string& body) {
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
    auto c = Borrow(i);
    const Endpoint& ep = endpoints[i].ep;
    for (int fresh = 0;; ++fresh) {
      try {
        if (!c->open()) c->Open(ep, ssl.get(), timeout);
        Answer a = c->Exchange(ep, body, timeout);
        Return(i, std::move(c));
        return a;
      } catch (const TransportError&) {
        // A kept-alive connection the server closed meanwhile: once more on a new one.
        const bool stale = c->reused && fresh == 0;
        c = std::make_unique<Conn>();
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
      Answer a;
      try {
        a = Exchange(i, body);
      } catch (const TransportError& e) {
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
        if (e.contains("data") && e["data"].is_object() && e["data"].contains("err")) err = ErrName(e["data"]["err"]);
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

namespace {

json Parse(const std::string& text) { return json::parse(text); }

std::string Commitment(const std::string& c) { return json{{"commitment", c}}.dump(); }

Hash HashFrom(const std::string& b58) {
  const auto k = PublicKeyFromBase58(b58);
  if (!k) throw RpcError(RpcError::kUnavailable, "malformed blockhash in the answer");
  return *k;
}

}  // namespace

LatestBlockhash RpcClient::GetLatestBlockhash(const std::string& commitment) {
  const json r = Parse(Call("getLatestBlockhash", "[" + Commitment(commitment) + "]"));
  return {HashFrom(r.at("value").at("blockhash").get<std::string>()), r["value"].at("lastValidBlockHeight").get<uint64_t>(),
          r.at("context").at("slot").get<uint64_t>()};
}

std::string RpcClient::SendTransaction(const std::string& wire) {
  const std::string b64 = base::Base64Encode(wire);
  // The client confirms and re-sends itself, so the node must not retry on its own.
  const json r = Parse(Call("sendTransaction", R"([")" + b64 +
                                                   R"(",{"encoding":"base64","skipPreflight":false,"maxRetries":0,"preflightCommitment":"confirmed"}])"));
  return r.get<std::string>();
}

std::vector<std::optional<SignatureStatus>> RpcClient::GetSignatureStatuses(const std::vector<std::string>& signatures) {
  std::vector<std::optional<SignatureStatus>> out;
  out.reserve(signatures.size());
  for (size_t i = 0; i < signatures.size(); i += 256) {
    const size_t n = std::min<size_t>(256, signatures.size() - i);
    const json sigs = std::vector<std::string>(signatures.begin() + static_cast<ptrdiff_t>(i),
                                               signatures.begin() + static_cast<ptrdiff_t>(i + n));
    const json r = Parse(Call("getSignatureStatuses", "[" + sigs.dump() + R"(,{"searchTransactionHistory":false}])"));
    const json& v = r.at("value");
    if (v.size() != n) throw RpcError(RpcError::kUnavailable, "getSignatureStatuses: answer of the wrong length");
    for (const auto& s : v) {
      if (s.is_null()) {
        out.emplace_back();
        continue;
      }
      SignatureStatus st;
      st.slot = s.value("slot", uint64_t{0});
      if (s.contains("err") && !s["err"].is_null()) st.err = ErrName(s["err"]);
      st.confirmation_status = s.contains("confirmationStatus") && s["confirmationStatus"].is_string()
                                   ? s["confirmationStatus"].get<std::string>()
                                   : "processed";
      out.push_back(std::move(st));
    }
  }
  return out;
}

uint64_t RpcClient::GetBalance(const PublicKey& key, const std::string& commitment) {
  return Parse(Call("getBalance", R"([")" + ToBase58(key) + R"(",)" + Commitment(commitment) + "]")).at("value").get<uint64_t>();
}

std::string RpcClient::RequestAirdrop(const PublicKey& key, uint64_t lamports) {
  return Parse(Call("requestAirdrop", R"([")" + ToBase58(key) + R"(",)" + std::to_string(lamports) + "]")).get<std::string>();
}

uint64_t RpcClient::GetSlot(const std::string& commitment) {
  return Parse(Call("getSlot", "[" + Commitment(commitment) + "]")).get<uint64_t>();
}

uint64_t RpcClient::GetBlockHeight(const std::string& commitment) {
  return Parse(Call("getBlockHeight", "[" + Commitment(commitment) + "]")).get<uint64_t>();
}

std::vector<SignatureInfo> RpcClient::GetSignaturesForAddress(const PublicKey& address, const std::string& before,
                                                              const std::string& until, int limit) {
  json cfg{{"limit", limit}, {"commitment", "confirmed"}};
  if (!before.empty()) cfg["before"] = before;
  if (!until.empty()) cfg["until"] = until;
  const json r = Parse(Call("getSignaturesForAddress", json::array({ToBase58(address), cfg}).dump()));
  std::vector<SignatureInfo> out;
  for (const auto& s : r) {
    out.push_back({s.at("signature").get<std::string>(), s.value("slot", uint64_t{0}), s.contains("err") && !s["err"].is_null()});
  }
  return out;
}

std::optional<TransactionLogs> RpcClient::GetTransaction(const std::string& signature) {
  const json r = Parse(Call("getTransaction", json::array({signature, {{"encoding", "json"}, {"commitment", "confirmed"}, {"maxSupportedTransactionVersion", 0}}}).dump()));
  if (r.is_null()) return std::nullopt;
  TransactionLogs t;
  t.slot = r.value("slot", uint64_t{0});
  const json& meta = r.at("meta");
  t.err_json = meta.contains("err") ? meta["err"].dump() : "null";
  if (meta.contains("logMessages") && meta["logMessages"].is_array()) {
    for (const auto& l : meta["logMessages"]) t.logs.push_back(l.get<std::string>());
  }
  return t;
}

bool WaitForCommitment(RpcClient& rpc, const std::string& signature, const std::string& commitment, double timeout_s) {
  const auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(timeout_s));
  while (SteadyClock::now() < deadline) {
    const auto s = rpc.GetSignatureStatuses({signature});
    if (s[0] && CommitmentRank(s[0]->confirmation_status) >= CommitmentRank(commitment)) return s[0]->err.empty();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling the cluster's state
  }
  return false;
}

}  // namespace pmbench::chain
