// File: ws_protocol.h
//
// Another WebSocket server's protocol, described in a file, so `pmbench load ws` can load a
// team's own server (Supabase Realtime's phx_join, a Socket.IO-less JSON feed, ...): the
// handshake's path, the subscribe message, how its acknowledgement and an update are
// recognised, and where an update's channel, sequence and timestamp are (JSON pointers).
// Without a sequence, losses cannot be seen (lost reads 0 and says nothing); without a
// timestamp, latency is not measured.
//
//   {"path": "/socket/websocket?vsn=2.0.0",
//    "subscribe": "{\"topic\":\"{channel}\",\"event\":\"phx_join\",\"payload\":{},\"ref\":\"{ref}\"}",
//    "subscribed": {"match": {"/event": "phx_reply", "/payload/status": "ok"}, "channel": "/topic"},
//    "update": {"match": {"/event": "odds"}, "channel": "/topic", "seq": "/payload/seq",
//               "timestamp": "/payload/sent_at", "timestamp_unit": "ms", "data": "/payload"},
//    "heartbeat": {"every_s": 30, "message": "{\"topic\":\"phoenix\",\"event\":\"heartbeat\",\"payload\":{},\"ref\":\"{ref}\"}"}}
#ifndef PMBENCH_REALTIME_WS_PROTOCOL_H_
#define PMBENCH_REALTIME_WS_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pmbench::realtime {

// How a kind of frame is recognised and read. Pointers are RFC 6901 JSON pointers.
struct WsRule {
  std::vector<std::pair<std::string, std::string>> match;  // pointer -> the value's text; all must hold
  std::string channel;             // pointer to the channel (as subscribed); "" : none
  std::string channel_format = "{channel}";  // the value there: the channel inside this text
  std::string seq;                 // pointer to a per-channel sequence number; "" : none
  std::string timestamp;           // pointer to the publish time; "" : none
  std::string timestamp_unit = "ns";  // ns, us, ms, s (numbers, since the Unix epoch) or iso8601
  std::string data;                // pointer to the update's data (for on_update); "" : the frame
};

struct WsProtocol {
  std::string path = "/realtime";
  std::string subscribe;           // sent for each channel; {channel} and {ref} replaced
  std::optional<WsRule> subscribed;  // without: a channel counts as subscribed once asked for
  WsRule update;
  std::string heartbeat;           // sent every heartbeat_s; {ref} replaced
  double heartbeat_s = 0;
};

// Throws std::invalid_argument "WHERE: reason" for a file that is not such a description.
WsProtocol ParseWsProtocol(std::string_view json, const std::string& where = "protocol");

// One received frame read by a protocol: which rule it matched and what it carries.
struct WsFrame {
  enum Kind { kOther, kSubscribed, kUpdate } kind = kOther;
  std::string channel;
  std::optional<uint64_t> seq;
  std::optional<int64_t> ts_ns;  // CLOCK_REALTIME ns
  std::string data;
};
// A frame that is not JSON is kOther.
WsFrame ReadWsFrame(const WsProtocol& p, std::string_view frame);
// The subscribe message or heartbeat with {channel} and {ref} replaced (JSON-escaped).
std::string FillWsTemplate(const std::string& text, std::string_view channel, uint64_t ref);

}  // namespace pmbench::realtime

#endif  // PMBENCH_REALTIME_WS_PROTOCOL_H_
