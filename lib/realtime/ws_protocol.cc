#include "lib/realtime/ws_protocol.h"

#include <cmath>
#include <ctime>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace pmbench::realtime {
namespace {

using nlohmann::json;

const json* At(const json& doc, const std::string& pointer) {
  try {
    const json::json_pointer p(pointer);
    return doc.contains(p) ? &doc.at(p) : nullptr;
  } catch (const json::exception&) {
    return nullptr;
  }
}

std::string TextOf(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// 2026-12-03T14:55:00.123456Z, or with +HH:MM / -HH:MM.
std::optional<int64_t> ParseIso8601(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t ns = static_cast<int64_t>(timegm(&tm)) * 1'000'000'000;
  size_t i = static_cast<size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100'000'000;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      ns += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int h = 0, m = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &h, &m) < 1) return std::nullopt;
    const int64_t offset = (static_cast<int64_t>(h) * 3600 + m * 60) * 1'000'000'000;
    ns += s[i] == '+' ? -offset : offset;
  }
  return ns;
}

std::optional<int64_t> Timestamp(const json& v, const std::string& unit) {
  if (unit == "iso8601") return v.is_string() ? ParseIso8601(v.get<std::string>()) : std::nullopt;
  double x = 0;
  if (v.is_number()) {
    x = v.get<double>();
  } else if (v.is_string()) {
    try {
      x = std::stod(v.get<std::string>());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (v.is_number_integer() && unit == "ns") return v.get<int64_t>();  // exact
  const double scale = unit == "us" ? 1e3 : unit == "ms" ? 1e6 : unit == "s" ? 1e9 : 1;
  return static_cast<int64_t>(std::llround(x * scale));
}

bool Matches(const json& doc, const WsRule& r) {
  for (const auto& [pointer, text] : r.match) {
    const json* v = At(doc, pointer);
    if (!v || TextOf(*v) != text) return false;
  }
  return true;
}

std::string ChannelOf(const json& doc, const WsRule& r) {
  if (r.channel.empty()) return "";
  const json* v = At(doc, r.channel);
  if (!v) return "";
  const std::string text = TextOf(*v);
  const size_t at = r.channel_format.find("{channel}");
  const std::string before = r.channel_format.substr(0, at), after = r.channel_format.substr(at + 9);
  if (text.size() < before.size() + after.size() || text.compare(0, before.size(), before) != 0 ||
      text.compare(text.size() - after.size(), after.size(), after) != 0) {
    return "";
  }
  return text.substr(before.size(), text.size() - before.size() - after.size());
}

WsRule ParseRule(const json& j, const std::string& where, bool update) {
  if (!j.is_object()) throw std::invalid_argument(where + ": an object");
  static const std::set<std::string> known = {"match", "channel", "channel_format", "seq", "timestamp", "timestamp_unit", "data"};
  for (const auto& [k, v] : j.items()) {
    if (!known.count(k)) throw std::invalid_argument(where + ": unknown field '" + k + "'");
  }
  WsRule r;
  try {
    if (!j.contains("match") || !j["match"].is_object() || j["match"].empty()) {
      throw std::invalid_argument(where + ": \"match\" is an object of JSON pointer -> value, at least one");
    }
    for (const auto& [k, v] : j["match"].items()) {
      if (!k.empty() && k[0] != '/') throw std::invalid_argument(where + ": match key '" + k + "' is not a JSON pointer");
      r.match.emplace_back(k, TextOf(v));
    }
    r.channel = j.value("channel", "");
    r.channel_format = j.value("channel_format", "{channel}");
    r.seq = j.value("seq", "");
    r.timestamp = j.value("timestamp", "");
    r.timestamp_unit = j.value("timestamp_unit", "ns");
    r.data = j.value("data", "");
  } catch (const json::exception&) {
    throw std::invalid_argument(where + ": channel, channel_format, seq, timestamp, timestamp_unit and data are strings");
  }
  for (const std::string* p : {&r.channel, &r.seq, &r.timestamp, &r.data}) {
    if (!p->empty() && (*p)[0] != '/') throw std::invalid_argument(where + ": '" + *p + "' is not a JSON pointer (/a/b)");
  }
  if (r.channel_format.find("{channel}") == std::string::npos) throw std::invalid_argument(where + ": channel_format must hold {channel}");
  static const std::set<std::string> units = {"ns", "us", "ms", "s", "iso8601"};
  if (!units.count(r.timestamp_unit)) throw std::invalid_argument(where + ": timestamp_unit is ns, us, ms, s or iso8601");
  if (update && r.channel.empty()) throw std::invalid_argument(where + ": an update needs \"channel\" (whose update it is)");
  return r;
}

std::string Escaped(std::string_view s) {
  const std::string quoted = json(std::string(s)).dump();
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

WsProtocol ParseWsProtocol(std::string_view text, const std::string& where) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument(where + ": not a JSON object");
  static const std::set<std::string> known = {"path", "subscribe", "subscribed", "update", "heartbeat"};
  for (const auto& [k, v] : j.items()) {
    if (!known.count(k)) throw std::invalid_argument(where + ": unknown field '" + k + "'");
  }
  WsProtocol p;
  if (j.contains("path")) {
    if (!j["path"].is_string() || j["path"].get<std::string>().empty() || j["path"].get<std::string>()[0] != '/') {
      throw std::invalid_argument(where + ": \"path\" is the handshake's path, starting with /");
    }
    p.path = j["path"].get<std::string>();
  }
  if (!j.contains("subscribe") || !j["subscribe"].is_string() || j["subscribe"].get<std::string>().find("{channel}") == std::string::npos) {
    throw std::invalid_argument(where + ": \"subscribe\" is the message sent per channel, holding {channel}");
  }
  p.subscribe = j["subscribe"].get<std::string>();
  if (j.contains("subscribed")) p.subscribed = ParseRule(j["subscribed"], where + ": subscribed", false);
  if (!j.contains("update")) throw std::invalid_argument(where + ": no \"update\" (how an update is recognised)");
  p.update = ParseRule(j["update"], where + ": update", true);
  if (j.contains("heartbeat")) {
    const json& h = j["heartbeat"];
    if (!h.is_object() || !h.contains("message") || !h["message"].is_string() || !h.contains("every_s") || !h["every_s"].is_number() ||
        !(h["every_s"].get<double>() > 0)) {
      throw std::invalid_argument(where + ": \"heartbeat\" is {\"every_s\": seconds > 0, \"message\": text}");
    }
    p.heartbeat = h["message"].get<std::string>();
    p.heartbeat_s = h["every_s"].get<double>();
  }
  return p;
}

WsFrame ReadWsFrame(const WsProtocol& p, std::string_view frame) {
  WsFrame f;
  const json doc = json::parse(frame, nullptr, false);
  if (doc.is_discarded()) return f;
  if (p.subscribed && Matches(doc, *p.subscribed)) {
    f.kind = WsFrame::kSubscribed;
    f.channel = ChannelOf(doc, *p.subscribed);
    return f;
  }
  if (!Matches(doc, p.update)) return f;
  f.kind = WsFrame::kUpdate;
  f.channel = ChannelOf(doc, p.update);
  if (!p.update.seq.empty()) {
    if (const json* v = At(doc, p.update.seq)) {
      if (v->is_number_unsigned() || v->is_number_integer()) {
        f.seq = v->get<uint64_t>();
      } else if (v->is_string()) {
        try {
          f.seq = std::stoull(v->get<std::string>());
        } catch (const std::exception&) {
        }
      }
    }
  }
  if (!p.update.timestamp.empty()) {
    if (const json* v = At(doc, p.update.timestamp)) f.ts_ns = Timestamp(*v, p.update.timestamp_unit);
  }
  if (p.update.data.empty()) {
    f.data = std::string(frame);
  } else if (const json* v = At(doc, p.update.data)) {
    f.data = v->dump();
  }
  return f;
}

std::string FillWsTemplate(const std::string& text, std::string_view channel, uint64_t ref) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 9, "{channel}") == 0) {
      out += Escaped(channel);
      i += 9;
    } else if (text.compare(i, 5, "{ref}") == 0) {
      out += std::to_string(ref);
      i += 5;
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace pmbench::realtime
