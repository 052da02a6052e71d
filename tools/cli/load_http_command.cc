// pmbench load http: HTTP/1.1 load on the engine the benchmarks use (wrk's job, with the
// open model, coordinated omission corrected, per-request thresholds and JSON results).
#include <iostream>

#include "lib/http/http_load.h"
#include "lib/load/engine.h"
#include "lib/stats/threshold.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

const std::string kUsage = R"(Usage: pmbench load http URL [options]
       pmbench load http --requests FILE [options]

Sends HTTP/1.1 requests on keep-alive connections (TLS for https://, the certificate and
its name checked, SNI sent) from a few threads and reports latency from each request's
intended start (coordinated omission corrected) and from its actual send, per request.

Open model (default): requests arrive at --rate per second whatever the server does (wrk2's
and k6's arrival rate); those finding every connection busy wait, and past --max-in-flight
they are dropped and counted. Closed model (--vus N): N users each send, wait for the
answer, and think --think seconds (wrk's model with --think 0).

An answer is ok when its status is below 400 (k6's http_req_failed) or, in a request file,
equals its expect_status, and its body holds expect_body. Answers are counted by status
class (status_1xx ... status_5xx; status_none: no answer, a timeout, a refused connection).

Options:
  --requests FILE         JSON lines, one request each: {"name": "list", "method": "GET",
                          "url": "http://127.0.0.1:8080/api/markets", "headers": {..},
                          "body": "..", "weight": 5, "expect_status": 200,
                          "expect_body": "\"markets\""}; every URL of one origin
  --method M              with a URL: the method                                [GET]
  --header 'K: V'         with a URL: a header, repeatable
  --body TEXT             with a URL: the body
  --connections N         keep-alive connections opened before the run          [100]
)" + PlanUsage() + kShardUsage + R"(  --timeout D             each request's (and connection's) timeout              [10s]
  --ca FILE               PEM certificates to verify the server with (default: the system's)
  --insecure              TLS without verifying the server (never for real numbers)
  --threshold EXPR        k6-style, repeatable: [METRIC:]EXPR, e.g. 'p(95)<100ms',
                          'list:p(99)<50ms', 'success:rate>0.99'. METRIC: latency (default),
                          service, a request's name, success, requests, dropped, failed,
                          unfinished; an unknown one exits 2 before the run. Exit status 1
                          when one fails.
  --seed S                which request of the mix goes next                    [1]
  --out FILE              write the result JSON there instead of stdout
)" + std::string(kMetricsUsage) + R"(  --allow-remote          permit a host that is not on loopback

The result is Google Benchmark JSON: one entry for the run (load_http), one per request
(load_http/<name>), with achieved_requests_per_s, offered_requests_per_s (open model),
p50_ms..max_ms, service_*, status_* and read_bytes_per_s; the thresholds in pmbench_bars.
)";

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::vector<http::Request> RequestsOf(const Flags& flags) {
  if (flags.Has("requests")) {
    if (!flags.positional().empty()) throw UsageError("give a URL or --requests FILE, not both");
    if (flags.Has("method") || flags.Has("header") || flags.Has("body")) {
      throw UsageError("--method, --header and --body go with a URL; a request file says them per request");
    }
    const std::string path = flags.Get("requests", "");
    try {
      return http::ParseRequests(ReadFileOrFail(path), path);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (flags.positional().size() != 1) throw UsageError("give one URL or --requests FILE (see pmbench load http --help)");
  http::Request r;
  r.url = flags.positional()[0];
  r.method = flags.Get("method", "GET");
  r.body = flags.Get("body", "");
  for (const auto& h : flags.GetAll("header")) {
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) throw UsageError("--header takes 'Name: value', not '" + h.substr(0, 60) + "'");
    std::string v = h.substr(colon + 1);
    v.erase(0, v.find_first_not_of(' '));
    r.headers.emplace_back(h.substr(0, colon), v);
  }
  try {
    http::ParseUrl(r.url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  r.name = "request";
  return {r};
}

}  // namespace

int LoadHttpCommand(const std::vector<std::string>& args) {
  const Flags flags(args,
                    {"requests", "method", "header", "body", "connections", "rate", "vus", "think", "duration", "ramp-up", "stage",
                     "warmup", "max-in-flight", "threads", "timeout", "ca", "threshold", "seed", "out", "metrics-listen",
                     "shard", "start-at"},
                    {"insecure", "spike", "allow-remote", "help"});
  if (flags.Has("help")) {
    std::cout << kUsage;
    return 0;
  }
  LoadPlan plan = ParseLoadPlan(flags, 1000, "connections");
  std::vector<http::Request> requests = RequestsOf(flags);
  http::HttpOptions o;
  o.timeout_s = ParseDuration("timeout", flags.Get("timeout", "10s"));
  if (!(o.timeout_s > 0)) throw UsageError("--timeout must be > 0");
  o.ca_file = flags.Get("ca", "");
  o.verify_peer = !flags.Has("insecure");
  std::shared_ptr<http::HttpWorkload> w;
  try {
    w = http::HttpWorkload::Make(std::move(requests), o);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  // Load goes to loopback only, unless asked: it is a lot of traffic to send anyone.
  if (!IsLoopback(w->origin().host) && !flags.Has("allow-remote")) {
    throw UsageError(w->origin().host + " is not on loopback: add --allow-remote to load it");
  }
  plan.spec.mix = w->Mix();
  const auto thresholds = ParseThresholds(flags, "latency", LoadMetrics(plan.spec.mix));
  const auto served = ServeMetrics(flags, "pmbench load http");
  load::LoadSpec spec = plan.spec;
  spec.metrics = served ? &served->registry : nullptr;
  spec.role = "http";
  spec.system = "http";
  std::cerr << "loading " << w->origin().origin() << " (" << w->requests().size() << " request"
            << (w->requests().size() == 1 ? "" : "s") << ")\n";
  AddProgress(plan, spec);
  const load::LoadResult r = load::RunLoad(spec, w->Clients());

  static const char* const kClass[] = {"status_none", "status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx"};
  const auto classes = [&](const http::StatusCounts& c) {
    std::vector<std::pair<std::string, double>> out;
    for (size_t i = 0; i < 6; ++i) out.emplace_back(kClass[i], static_cast<double>(c.of[i]));
    return out;
  };
  http::StatusCounts total;
  for (size_t i = 0; i < plan.spec.mix.size(); ++i) {
    const auto c = w->statuses(i);
    for (size_t j = 0; j < 6; ++j) total.of[j] += c.of[j];
  }
  std::fprintf(stderr, "  answers: 2xx %lld, 3xx %lld, 4xx %lld, 5xx %lld, none %lld\n", static_cast<long long>(total.of[2]),
               static_cast<long long>(total.of[3]), static_cast<long long>(total.of[4]), static_cast<long long>(total.of[5]),
               static_cast<long long>(total.of[0]));
  LoadReport report{.base = "load_http",
                    .context = {{"executable", "pmbench load http"}, {"pmbench_target", w->origin().origin()}},
                    .whole = classes(total),
                    .per_kind = [&](size_t i) { return classes(w->statuses(i)); },
                    .plan = ShardPlan("load http", args)};
  report.whole.push_back({"read_bytes_per_s", r.seconds > 0 ? static_cast<double>(w->bytes_read()) / r.seconds : 0});
  return ReportLoad(flags, plan, r, thresholds, std::move(report));
}

}  // namespace pmbench::cli
