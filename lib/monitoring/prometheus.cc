#include "lib/monitoring/prometheus.h"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it
#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <cstdio>
#include <stdexcept>

namespace pmbench::monitoring {

namespace asio = boost::asio;
using nlohmann::json;

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string HttpGet(const std::string& url, double timeout_s) {
  if (url.rfind("http://", 0) != 0) throw std::runtime_error("not an http:// URL: '" + url + "'");
  const std::string rest = url.substr(7);
  const auto slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash), target = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = hostport.rfind(':');
  const std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  // HTTP/1.0: the answer is the body up to the close, never chunked.
  const std::string request = "GET " + target + " HTTP/1.0\r\nHost: " + hostport + "\r\nAccept: application/json\r\n\r\n";
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::string response;
  boost::system::error_code failure;
  asio::ip::tcp::resolver resolver(io);
  asio::steady_timer timer(io, std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_s)));
  bool timed_out = false;
  timer.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = true;
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  resolver.async_resolve(host, port, [&](const boost::system::error_code& ec, asio::ip::tcp::resolver::results_type r) {
    if (ec) {
      failure = ec;
      timer.cancel();
      return;
    }
    asio::async_connect(socket, r, [&](const boost::system::error_code& ec2, const asio::ip::tcp::endpoint&) {
      if (ec2) {
        failure = ec2;
        timer.cancel();
        return;
      }
      asio::async_write(socket, asio::buffer(request), [&](const boost::system::error_code& ec3, size_t) {
        if (ec3) {
          failure = ec3;
          timer.cancel();
          return;
        }
        asio::async_read(socket, asio::dynamic_buffer(response), [&](const boost::system::error_code& ec4, size_t) {
          if (ec4 && ec4 != asio::error::eof) failure = ec4;
          timer.cancel();
        });
      });
    });
  });
  io.run();
  if (timed_out) throw std::runtime_error("GET " + url + ": no answer within " + std::to_string(static_cast<int>(timeout_s)) + " s");
  if (failure) throw std::runtime_error("GET " + url + ": " + failure.message());
  const auto head_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
    throw std::runtime_error("GET " + url + ": not an HTTP answer");
  }
  const int status = std::atoi(response.c_str() + 9);
  std::string body = response.substr(head_end + 4);
  if (status < 200 || status > 299) {
    throw std::runtime_error("GET " + url + ": HTTP " + std::to_string(status) + ": " + body.substr(0, body.find('\n')).substr(0, 200));
  }
  return body;
}

std::vector<PanelQuery> DashboardQueries(const std::string& dashboard_json) {
  json d;
  try {
    d = json::parse(dashboard_json);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("not JSON: ") + e.what());
  }
  if (!d.is_object() || !d.contains("panels") || !d["panels"].is_array()) {
    throw std::invalid_argument("not a Grafana dashboard (no \"panels\")");
  }
  std::vector<PanelQuery> out;
  std::function<void(const json&)> walk = [&](const json& panels) {
    for (const json& p : panels) {
      if (p.value("type", "") == "row") {
        if (p.contains("panels")) walk(p["panels"]);
        continue;
      }
      const std::string title = p.value("title", "(untitled)");
      if (!p.contains("targets") || !p["targets"].is_array() || p["targets"].empty()) {
        throw std::invalid_argument("panel '" + title + "' has no query");
      }
      for (const json& t : p["targets"]) {
        const std::string expr = t.value("expr", "");
        if (expr.empty()) throw std::invalid_argument("panel '" + title + "' has a target without expr");
        out.push_back({title, expr, t.value("legendFormat", "")});
      }
    }
  };
  walk(d["panels"]);
  if (out.empty()) throw std::invalid_argument("the dashboard has no panels");
  return out;
}

json QueryRange(const std::string& prometheus, const std::string& expr, double from, double to, double step) {
  char range[128];
  std::snprintf(range, sizeof range, "&start=%.3f&end=%.3f&step=%.3f", from, to, step);
  const std::string body = HttpGet(prometheus + "/api/v1/query_range?query=" + UrlEncode(expr) + range);
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception&) {
    throw std::runtime_error("Prometheus at " + prometheus + " answered something that is not JSON");
  }
  if (j.value("status", "") != "success") {
    throw std::runtime_error("Prometheus refused '" + expr + "': " + j.value("error", "?"));
  }
  return j["data"]["result"];
}

json Snapshot(const std::string& prometheus, const std::vector<PanelQuery>& queries, double from, double to, double step) {
  if (!(to > from)) throw std::invalid_argument("the window's end is not after its start");
  if (step <= 0) step = std::max(1.0, (to - from) / 240);
  json panels = json::array();
  for (const PanelQuery& q : queries) {
    panels.push_back({{"panel", q.panel}, {"expr", q.expr}, {"legend", q.legend}, {"series", QueryRange(prometheus, q.expr, from, to, step)}});
  }
  return {{"from", from}, {"to", to}, {"step", step}, {"panels", panels}};
}

json Alerts(const std::string& alertmanager) {
  const std::string body = HttpGet(alertmanager + "/api/v2/alerts");
  try {
    return json::parse(body);
  } catch (const json::exception&) {
    throw std::runtime_error("Alertmanager at " + alertmanager + " answered something that is not JSON");
  }
}

}  // namespace pmbench::monitoring
