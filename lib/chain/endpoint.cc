// Endpoint URLs: parsed once, shown without their paths (which often carry API keys).
#include <stdexcept>
#include <string>

#include "lib/chain/rpc.h"

namespace pmbench::chain {

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

}  // namespace pmbench::chain
