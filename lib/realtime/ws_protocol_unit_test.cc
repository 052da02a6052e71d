#include "lib/realtime/ws_protocol.h"

#include <gtest/gtest.h>

namespace pmbench::realtime {
namespace {

const char* kSupabaseLike = R"({
  "path": "/realtime/v1/websocket?vsn=1.0.0",
  "subscribe": "{\"topic\": \"realtime:{channel}\", \"event\": \"phx_join\", \"payload\": {}, \"ref\": \"{ref}\"}",
  "subscribed": {"match": {"/event": "phx_reply", "/payload/status": "ok"}, "channel": "/topic", "channel_format": "realtime:{channel}"},
  "update": {"match": {"/event": "postgres_changes"}, "channel": "/topic", "channel_format": "realtime:{channel}",
             "seq": "/payload/ids/0", "timestamp": "/payload/data/commit_timestamp", "timestamp_unit": "iso8601",
             "data": "/payload/data/record"}})";

TEST(WsProtocolTest, ReadsAcknowledgementsAndUpdatesByTheirRules) {
  const WsProtocol p = ParseWsProtocol(kSupabaseLike);
  EXPECT_EQ(p.path, "/realtime/v1/websocket?vsn=1.0.0");
  EXPECT_EQ(FillWsTemplate(p.subscribe, "public:markets", 7),
            R"({"topic": "realtime:public:markets", "event": "phx_join", "payload": {}, "ref": "7"})");
  const WsFrame ack = ReadWsFrame(p, R"({"topic":"realtime:public:markets","event":"phx_reply","payload":{"status":"ok"},"ref":"7"})");
  EXPECT_EQ(ack.kind, WsFrame::kSubscribed);
  EXPECT_EQ(ack.channel, "public:markets");
  const WsFrame u = ReadWsFrame(p, R"({"topic":"realtime:public:markets","event":"postgres_changes","ref":null,
      "payload":{"ids":[41],"data":{"commit_timestamp":"2026-12-03T14:55:00.250Z","record":{"id":7,"yes_pool":5}}}})");
  EXPECT_EQ(u.kind, WsFrame::kUpdate);
  EXPECT_EQ(u.channel, "public:markets");
  EXPECT_EQ(u.seq, 41u);
  EXPECT_EQ(u.ts_ns, 1796309700250000000);  // 2026-12-03T14:55:00.250Z
  EXPECT_EQ(u.data, R"({"id":7,"yes_pool":5})");
  // An offset is the same instant; a rejected join, an unrelated event, a non-JSON frame are none of these.
  EXPECT_EQ(ReadWsFrame(p, R"({"topic":"realtime:x","event":"postgres_changes","payload":{"data":{"commit_timestamp":"2026-12-03T15:55:00.25+01:00"}}})").ts_ns,
            1796309700250000000);
  EXPECT_EQ(ReadWsFrame(p, R"({"topic":"realtime:x","event":"phx_reply","payload":{"status":"error"}})").kind, WsFrame::kOther);
  EXPECT_EQ(ReadWsFrame(p, R"({"topic":"phoenix","event":"presence_diff"})").kind, WsFrame::kOther);
  EXPECT_EQ(ReadWsFrame(p, "not json").kind, WsFrame::kOther);
  // A topic outside the format names no channel.
  EXPECT_EQ(ReadWsFrame(p, R"({"topic":"other:x","event":"postgres_changes","payload":{}})").channel, "");
}

TEST(WsProtocolTest, TimestampUnitsAndStringSequences) {
  WsProtocol p = ParseWsProtocol(R"({"subscribe": "{channel}", "update": {"match": {"/t": "u"}, "channel": "/c", "seq": "/s",
                                     "timestamp": "/ts", "timestamp_unit": "ms"}})");
  const WsFrame f = ReadWsFrame(p, R"({"t":"u","c":"a","s":"12","ts":1764773700123.5})");
  EXPECT_EQ(f.seq, 12u);
  ASSERT_TRUE(f.ts_ns.has_value());
  EXPECT_NEAR(static_cast<double>(*f.ts_ns), 1764773700123500000.0, 1000);  // a double's precision at this magnitude
  p.update.timestamp_unit = "s";
  EXPECT_EQ(ReadWsFrame(p, R"({"t":"u","c":"a","ts":"1764773700.5"})").ts_ns, 1764773700500000000);
  EXPECT_FALSE(ReadWsFrame(p, R"({"t":"u","c":"a","ts":"soon"})").ts_ns.has_value());
}

TEST(WsProtocolTest, RefusesWhatCannotWork) {
  const auto error = [](const char* text) {
    try {
      ParseWsProtocol(text, "p.json");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("taken");
  };
  EXPECT_EQ(error("[]"), "p.json: not a JSON object");
  EXPECT_EQ(error(R"({"subscribe": "x", "update": {"match": {"/a": 1}, "channel": "/c"}})"),
            R"(p.json: "subscribe" is the message sent per channel, holding {channel})");
  EXPECT_EQ(error(R"({"subscribe": "{channel}"})"), R"(p.json: no "update" (how an update is recognised))");
  EXPECT_EQ(error(R"({"subscribe": "{channel}", "update": {"match": {"/a": 1}}})"),
            R"(p.json: update: an update needs "channel" (whose update it is))");
  EXPECT_EQ(error(R"({"subscribe": "{channel}", "update": {"match": {"a": 1}, "channel": "/c"}})"),
            "p.json: update: match key 'a' is not a JSON pointer");
  EXPECT_EQ(error(R"({"subscribe": "{channel}", "update": {"match": {"/a": 1}, "channel": "/c", "timestamp_unit": "days"}})"),
            "p.json: update: timestamp_unit is ns, us, ms, s or iso8601");
  EXPECT_EQ(error(R"({"subscribe": "{channel}", "udpate": {}})"), "p.json: unknown field 'udpate'");
}

}  // namespace
}  // namespace pmbench::realtime
