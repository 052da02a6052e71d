// File: http_load.h
//
// HTTP/1.1 load for the engine (lib/load): keep-alive connections over Beast, TLS with the
// peer's certificate and name verified (and SNI), a per-request timeout, and requests from
// a single URL or a request file of JSON lines, each with a name, a weight and an optional
// check. Status classes are counted per request name. Used by `pmbench load http` and the
// HTTP benchmarks.
//
//   auto w = HttpWorkload::Make(ParseRequestFile("requests.jsonl"), {.timeout_s = 5});
//   LoadResult r = RunLoad({.model = Model::kClosed, .start = 64, .stages = {{10, 64}},
//                           .clients = 64, .mix = w->Mix()}, w->Clients());
//   w->statuses(0).of[2];  // 2xx answers of the first request
#ifndef PMBENCH_HTTP_HTTP_LOAD_H_
#define PMBENCH_HTTP_HTTP_LOAD_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/load/engine.h"

namespace pmbench::http {

struct Url {
  bool tls = false;
  std::string host;  // a name or an address; IPv6 without brackets
  uint16_t port = 0;
  std::string target = "/";  // path and query
  std::string origin() const;  // scheme://host:port, what a connection is bound to
};
// http:// or https:// URLs only; throws std::invalid_argument naming what is wrong. URLs with
// user:password@ are refused: a secret does not belong in a load test's results.
Url ParseUrl(std::string_view text);

struct Request {
  std::string name;
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double weight = 1;
  // Checks an answer must pass to count as ok: this status (0: any status below 400, as
  // k6's http_req_failed), and a body containing this text ("" : no check).
  int expect_status = 0;
  std::string expect_body;
};

// One request per line: {"name", "method", "url", "headers": {..}, "body", "weight",
// "expect_status", "expect_body"}; blank lines and lines starting with # are skipped. Lines
// sharing a name are one request kind (their weights summed), sent in turn: one line per
// market id makes a "market" kind that visits them all. Throws
// std::invalid_argument "PATH:LINE: reason" for the first bad line, or for no request.
std::vector<Request> ParseRequests(std::string_view text, const std::string& path = "requests");

struct HttpOptions {
  double timeout_s = 10;         // each request, and each connection's opening
  std::string ca_file;           // PEM bundle; "" : the system's
  bool verify_peer = true;       // false: TLS without checking the certificate (--insecure)
  size_t body_limit = 8 << 20;   // larger answers fail
};

// Answers by status class, per request kind: of[0] no answer (a connection or TLS error, a
// timeout), of[1]..of[5] the 1xx..5xx answers.
struct StatusCounts {
  std::array<int64_t, 6> of{};
};

class HttpWorkload {
 public:
  // Every request must go to one origin (scheme, host and port), as with wrk: each connection
  // is bound to it. The host is resolved here, once. Throws std::invalid_argument for bad
  // requests (mixed origins, a bad method or header) and std::runtime_error when the host
  // does not resolve.
  static std::shared_ptr<HttpWorkload> Make(std::vector<Request> requests, HttpOptions o = {});
  ~HttpWorkload();

  std::vector<load::RequestKind> Mix() const;  // one kind per name, in order of appearance
  load::ClientFactory Clients();
  const std::vector<Request>& requests() const;
  const Url& origin() const;
  StatusCounts statuses(size_t kind) const;  // kind: an index of Mix()
  // The bytes of the answers read, headers included.
  int64_t bytes_read() const;

  struct Shared;  // lib/http/http_load.cc

 private:
  explicit HttpWorkload(std::unique_ptr<Shared> s);
  std::shared_ptr<Shared> s_;
};

}  // namespace pmbench::http

#endif  // PMBENCH_HTTP_HTTP_LOAD_H_
