#include "lib/http/http_load.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

namespace pmbench::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string Url::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Url ParseUrl(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("bad URL '" + std::string(text.substr(0, 200)) + "': " + why);
  };
  Url u;
  std::string_view rest = text;
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
    u.tls = true;
  } else {
    throw bad("want http:// or https://");
  }
  const size_t slash = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    // Said without echoing the URL: it holds a secret.
    throw std::invalid_argument("a URL with user:password@ is not taken (credentials go in a header)");
  }
  if (const size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (target.empty()) target = "/";
  if (target[0] == '?') u.target = "/" + std::string(target);
  else u.target = std::string(target);
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) throw bad("unclosed [ in the host");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw bad("junk after the host");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) throw bad("no host");
  for (char c : u.host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_')) throw bad("bad host");
  }
  if (port.empty()) {
    u.port = u.tls ? 443 : 80;
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) throw bad("bad port");
    const int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) throw bad("port out of 1..65535");
    u.port = static_cast<uint16_t>(p);
  }
  for (char c : u.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) throw bad("a space or control character in the path");
  }
  return u;
}

std::vector<Request> ParseRequests(std::string_view text, const std::string& path) {
  std::vector<Request> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (line.empty() || line[0] == '#') {
      if (end == text.size()) break;
      continue;
    }
    const auto bad = [&](const std::string& why) {
      return std::invalid_argument(path + ":" + std::to_string(line_no) + ": " + why);
    };
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw bad("not a JSON object");
    }
    if (!j.is_object()) throw bad("not a JSON object");
    static const std::set<std::string> known = {"name", "method", "url", "headers", "body", "weight", "expect_status", "expect_body"};
    Request r;
    try {
      for (const auto& [k, v] : j.items()) {
        if (!known.count(k)) throw bad("unknown field '" + k + "'");
      }
      if (!j.contains("url")) throw bad("no \"url\"");
      r.url = j.at("url").get<std::string>();
      r.name = j.value("name", std::string());
      r.method = j.value("method", std::string("GET"));
      r.body = j.value("body", std::string());
      r.weight = j.value("weight", 1.0);
      r.expect_status = j.value("expect_status", 0);
      r.expect_body = j.value("expect_body", std::string());
      if (j.contains("headers")) {
        if (!j["headers"].is_object()) throw bad("\"headers\" is an object of strings");
        for (const auto& [k, v] : j["headers"].items()) r.headers.emplace_back(k, v.get<std::string>());
      }
    } catch (const nlohmann::json::exception&) {
      throw bad("a field of the wrong type (url, name, method, body, expect_body: strings; weight, expect_status: numbers)");
    }
    try {
      ParseUrl(r.url);
    } catch (const std::invalid_argument& e) {
      throw bad(e.what());
    }
    if (!(r.weight > 0)) throw bad("weight must be > 0");
    if (r.expect_status != 0 && (r.expect_status < 100 || r.expect_status > 599)) throw bad("expect_status must be 100..599");
    if (r.name.empty()) r.name = r.method + " " + ParseUrl(r.url).target;
    out.push_back(std::move(r));
    if (end == text.size()) break;
  }
  if (out.empty()) throw std::invalid_argument(path + ": no request in it");
  return out;
}

struct HttpWorkload::Shared {
  std::vector<Request> requests;
  HttpOptions o;
  Url url;
  tcp::resolver::results_type endpoints;
  std::optional<asio::ssl::context> tls;
  std::vector<std::string> wire;  // each request serialized once
  // The request kinds: lines sharing a name are one kind, sent in turn.
  struct Kind {
    std::string name;
    double weight = 0;
    std::vector<size_t> lines;
  };
  std::vector<Kind> kinds;
  std::vector<std::array<std::atomic<int64_t>, 6>> statuses;  // per kind
  // Per kind, the next of its lines: one counter for every engine thread, so the lines
  // alternate over the whole run (the engine's seq is strided per thread: seq % lines would
  // give each thread the same line again and again).
  std::unique_ptr<std::atomic<uint64_t>[]> turns;
  std::atomic<int64_t> bytes_read{0};
};

namespace {

// One keep-alive connection; reconnects for the next request after an error, a timeout or a
// `Connection: close`.
template <typename Stream>
class Connection {
 public:
  Connection(asio::io_context& io, HttpWorkload::Shared& w) : io_(io), w_(w) {}

  template <typename Done>
  void Connect(Done done) {
    Make();
    auto& low = beast::get_lowest_layer(*stream_);
    low.expires_after(Timeout());
    low.async_connect(w_.endpoints, [this, done = std::move(done)](beast::error_code ec, const tcp::endpoint&) mutable {
      if (ec) return Fail("connect: " + ec.message(), done);
      beast::get_lowest_layer(*stream_).socket().set_option(tcp::no_delay(true));
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        open_ = true;
        done("");
      } else {
        stream_->async_handshake(asio::ssl::stream_base::client, [this, done = std::move(done)](beast::error_code hs) mutable {
          if (hs) return Fail("TLS: " + TlsReason(hs), done);
          open_ = true;
          done("");
        });
      }
    });
  }

  void Exchange(int kind, load::Completion done) {
    const auto& lines = w_.kinds[static_cast<size_t>(kind)].lines;
    const size_t line = lines[w_.turns[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed) % lines.size()];
    if (!open_) {
      Connect([this, kind, line, done](const std::string& error) mutable {
        if (!error.empty()) return Finish(kind, 0, error, done);
        Send(kind, line, std::move(done));
      });
      return;
    }
    Send(kind, line, std::move(done));
  }

 private:
  std::chrono::steady_clock::duration Timeout() const {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(w_.o.timeout_s));
  }

  void Make() {
    open_ = false;
    buffer_.clear();
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.emplace(io_);
    } else {
      stream_.emplace(io_, *w_.tls);
      // SNI, and the name the certificate must carry.
      SSL_set_tlsext_host_name(stream_->native_handle(), w_.url.host.c_str());
      if (w_.o.verify_peer) stream_->set_verify_callback(asio::ssl::host_name_verification(w_.url.host));
    }
  }

  static std::string TlsReason(const beast::error_code& ec) {
    if (ec.category() == asio::error::get_ssl_category()) {
      // "certificate verify failed", "wrong version number", ...
      const char* r = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
      if (r) return r;
    }
    return ec.message();
  }

  template <typename Done>
  void Fail(const std::string& reason, Done& done) {
    Close();
    done(reason);
  }

  void Close() {
    open_ = false;
    if (stream_) {
      beast::error_code ignored;
      beast::get_lowest_layer(*stream_).socket().close(ignored);
    }
  }

  void Send(int kind, size_t line, load::Completion done) {
    auto& low = beast::get_lowest_layer(*stream_);
    low.expires_after(Timeout());
    const std::string& bytes = w_.wire[line];
    asio::async_write(*stream_, asio::buffer(bytes), [this, kind, line, done = std::move(done)](beast::error_code ec, size_t) mutable {
      if (ec) return Lost(kind, "write", ec, done);
      parser_.emplace();
      parser_->body_limit(w_.o.body_limit);
      if (w_.requests[line].method == "HEAD") parser_->skip(true);
      bhttp::async_read(*stream_, buffer_, *parser_, [this, kind, line, done = std::move(done)](beast::error_code rd, size_t n) mutable {
        if (rd) return Lost(kind, "read", rd, done);
        w_.bytes_read.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
        const auto& res = parser_->get();
        const int status = static_cast<int>(res.result_int());
        const Request& rq = w_.requests[line];
        std::string error;
        if (rq.expect_status ? status != rq.expect_status : status >= 400) {
          error = "HTTP " + std::to_string(status);
        } else if (!rq.expect_body.empty() && res.body().find(rq.expect_body) == std::string::npos) {
          error = "body without '" + rq.expect_body.substr(0, 40) + "'";
        }
        if (!res.keep_alive()) Close();
        Finish(kind, status, error, done);
      });
    });
  }

  void Lost(int kind, const char* what, const beast::error_code& ec, load::Completion& done) {
    const std::string reason = ec == beast::error::timeout ? "timeout" : std::string(what) + ": " + ec.message();
    Close();
    Finish(kind, 0, reason, done);
  }

  void Finish(int kind, int status, const std::string& error, load::Completion& done) {
    const size_t cls = status >= 100 && status < 600 ? static_cast<size_t>(status / 100) : 0;
    w_.statuses[static_cast<size_t>(kind)][cls].fetch_add(1, std::memory_order_relaxed);
    done(load::Outcome{.ok = error.empty(), .error = error});
  }

  asio::io_context& io_;
  HttpWorkload::Shared& w_;
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  bool open_ = false;
};

template <typename Stream>
class HttpClient : public load::Client {
 public:
  HttpClient(asio::io_context& io, std::shared_ptr<HttpWorkload::Shared> w) : w_(std::move(w)), c_(io, *w_) {}
  void Open(std::function<void(std::string)> done) override { c_.Connect(std::move(done)); }
  void Start(int kind, uint64_t /*seq*/, load::Completion done) override { c_.Exchange(kind, std::move(done)); }

 private:
  std::shared_ptr<HttpWorkload::Shared> w_;  // outlives the connection
  Connection<Stream> c_;
};

bool IsToken(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

}  // namespace

std::shared_ptr<HttpWorkload> HttpWorkload::Make(std::vector<Request> requests, HttpOptions o) {
  if (requests.empty()) throw std::invalid_argument("no request");
  if (!(o.timeout_s > 0)) throw std::invalid_argument("the timeout must be > 0");
  auto s = std::make_unique<Shared>();
  s->o = std::move(o);
  s->url = ParseUrl(requests[0].url);
  for (const Request& r : requests) {
    const Url u = ParseUrl(r.url);
    if (u.origin() != s->url.origin()) {
      throw std::invalid_argument("every request goes to one origin (" + s->url.origin() + "), not " + u.origin());
    }
    const auto kind = std::find_if(s->kinds.begin(), s->kinds.end(), [&](const Shared::Kind& k) { return k.name == r.name; });
    if (kind == s->kinds.end()) {
      s->kinds.push_back({r.name, r.weight, {s->wire.size()}});
    } else {
      kind->weight += r.weight;
      kind->lines.push_back(s->wire.size());
    }
    if (!IsToken(r.method)) throw std::invalid_argument("bad method '" + r.method + "'");
    bhttp::request<bhttp::string_body> m;
    m.method_string(r.method);
    m.target(u.target);
    m.version(11);
    m.set(bhttp::field::host, u.port == (u.tls ? 443 : 80) ? u.host : u.host + ":" + std::to_string(u.port));
    m.set(bhttp::field::user_agent, "pmbench");
    for (const auto& [k, v] : r.headers) {
      if (!IsToken(k) || v.find_first_of("\r\n") != std::string::npos) {
        throw std::invalid_argument("bad header '" + k.substr(0, 60) + "' in request '" + r.name + "'");
      }
      m.set(k, v);
    }
    m.body() = r.body;
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") m.prepare_payload();
    std::ostringstream wire;
    wire << m;
    s->wire.push_back(wire.str());
  }
  s->requests = std::move(requests);
  s->statuses = std::vector<std::array<std::atomic<int64_t>, 6>>(s->kinds.size());
  s->turns = std::make_unique<std::atomic<uint64_t>[]>(s->kinds.size());
  if (s->url.tls) {
    s->tls.emplace(asio::ssl::context::tls_client);
    beast::error_code ec;
    if (s->o.ca_file.empty()) {
      s->tls->set_default_verify_paths(ec);
    } else {
      s->tls->load_verify_file(s->o.ca_file, ec);
    }
    if (ec) throw std::invalid_argument("cannot load the CA file '" + s->o.ca_file + "': " + ec.message());
    s->tls->set_verify_mode(s->o.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
  }
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  s->endpoints = resolver.resolve(s->url.host, std::to_string(s->url.port), ec);
  if (ec) throw std::runtime_error("cannot resolve " + s->url.host + ": " + ec.message());
  return std::shared_ptr<HttpWorkload>(new HttpWorkload(std::move(s)));
}

HttpWorkload::HttpWorkload(std::unique_ptr<Shared> s) : s_(std::move(s)) {}
HttpWorkload::~HttpWorkload() = default;

std::vector<load::RequestKind> HttpWorkload::Mix() const {
  std::vector<load::RequestKind> mix;
  for (const auto& k : s_->kinds) mix.push_back({k.name, k.weight});
  return mix;
}

load::ClientFactory HttpWorkload::Clients() {
  auto s = s_;
  if (s->url.tls) {
    return [s](asio::io_context& io, int) { return std::make_unique<HttpClient<beast::ssl_stream<beast::tcp_stream>>>(io, s); };
  }
  return [s](asio::io_context& io, int) { return std::make_unique<HttpClient<beast::tcp_stream>>(io, s); };
}

const std::vector<Request>& HttpWorkload::requests() const { return s_->requests; }
const Url& HttpWorkload::origin() const { return s_->url; }
int64_t HttpWorkload::bytes_read() const { return s_->bytes_read.load(); }

StatusCounts HttpWorkload::statuses(size_t kind) const {
  StatusCounts c;
  for (size_t i = 0; i < 6; ++i) c.of[i] = s_->statuses.at(kind)[i].load();
  return c;
}

}  // namespace pmbench::http
