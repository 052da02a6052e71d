#include "lib/realtime/server.h"
#include "lib/realtime/ws_load.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

namespace pmbench::realtime {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A blocking client, as simple as a test needs.
class Client {
 public:
  explicit Client(uint16_t port) : ws_(io_) {
    tcp::resolver r(io_);
    net::connect(ws_.next_layer(), r.resolve("127.0.0.1", std::to_string(port)));
    ws_.handshake("127.0.0.1", "/realtime");
  }
  void Send(const std::string& text) { ws_.write(net::buffer(text)); }
  void SendBinary(const std::string& bytes) {
    ws_.binary(true);
    ws_.write(net::buffer(bytes));
    ws_.text(true);
  }
  std::string Next() {
    beast::flat_buffer b;
    ws_.read(b);
    return beast::buffers_to_string(b.data());
  }
  // Reads until the server closes; returns its close code.
  int CloseCode() {
    beast::error_code ec;
    while (!ec) {
      beast::flat_buffer b;
      ws_.read(b, ec);
    }
    // The close frame's code, even when the server's teardown beat the client's reply.
    return ws_.reason().code != 0 ? static_cast<int>(ws_.reason().code) : -1;
  }
  websocket::stream<tcp::socket>& ws() { return ws_; }

 private:
  net::io_context io_;
  websocket::stream<tcp::socket> ws_;
};

std::string HttpGet(uint16_t port, const std::string& target, int& status) {
  net::io_context io;
  tcp::socket s(io);
  tcp::resolver r(io);
  net::connect(s, r.resolve("127.0.0.1", std::to_string(port)));
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(s, req);
  beast::flat_buffer b;
  http::response<http::string_body> res;
  http::read(s, b, res);
  status = static_cast<int>(res.result_int());
  return res.body();
}

class ServerTest : public testing::Test {
 protected:
  void SetUp() override { server_.Start(); }
  Hub hub_{{.replay = 4}};
  Server server_{{.port = 0, .threads = 2, .queue_messages = 1024, .max_frame = 1024, .max_ops_per_s = 200}, hub_};
};

TEST_F(ServerTest, SubscribeUpdatePingUnsubscribe) {
  Client c(server_.port());
  c.Send(R"({"op":"subscribe","channel":"market:1"})");
  EXPECT_EQ(c.Next(), R"({"op":"subscribed","channel":"market:1","seq":0})");
  hub_.Publish("market:1", R"({"yes_pool":5})", 123);
  EXPECT_EQ(c.Next(), R"({"op":"update","channel":"market:1","seq":1,"ts_ns":123,"data":{"yes_pool":5}})");
  c.Send(R"({"op":"ping"})");
  EXPECT_EQ(c.Next(), R"({"op":"pong"})");
  c.Send(R"({"op":"unsubscribe","channel":"market:1"})");
  c.Send(R"({"op":"ping"})");
  EXPECT_EQ(c.Next(), R"({"op":"pong"})");  // the unsubscribe was processed before it
  hub_.Publish("market:1", "{}", 124);
  c.Send(R"({"op":"ping"})");
  EXPECT_EQ(c.Next(), R"({"op":"pong"})");  // no update in between
  EXPECT_EQ(server_.counters().connections, 1);
}

// Frames are written by the server itself, gathered into batches, between the pongs Beast
// answers to control pings: every length encoding (7-bit, 16-bit, 64-bit) arrives intact
// and in order, interleaved with pings, and the pongs come back.
TEST_F(ServerTest, FramesOfEveryLengthArriveInOrderBetweenControlPings) {
  Client c(server_.port());
  std::atomic<int> pongs{0};
  c.ws().control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) ++pongs;
  });
  c.Send(R"({"op":"subscribe","channel":"market:3"})");
  EXPECT_EQ(c.Next(), R"({"op":"subscribed","channel":"market:3","seq":0})");
  // Frame lengths at each encoding's edges (the frame is the update's envelope and data).
  const std::vector<size_t> lengths = {100, 125, 126, 127, 1000, 65535, 65536, 65537, 200000};
  std::vector<std::string> sent;
  for (size_t i = 0; i < lengths.size() * 3; ++i) {
    const size_t envelope = UpdateFrame("market:3", i + 1, static_cast<int64_t>(i + 1), "\"\"").size();
    const std::string data =
        "\"" + std::string(lengths[i % lengths.size()] - envelope, static_cast<char>('a' + i % 26)) + "\"";
    hub_.Publish("market:3", data, static_cast<int64_t>(i + 1));
    sent.push_back(data);
    if (i % 4 == 0) c.ws().ping("p");
  }
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(c.Next(), R"({"op":"update","channel":"market:3","seq":)" + std::to_string(i + 1) + R"(,"ts_ns":)" +
                            std::to_string(i + 1) + R"(,"data":)" + sent[i] + "}")
        << i;
  }
  c.Send(R"({"op":"ping"})");
  EXPECT_EQ(c.Next(), R"({"op":"pong"})");
  EXPECT_EQ(pongs.load(), static_cast<int>((sent.size() + 3) / 4));
  // Counted once the socket took them, which may be just after the client read them.
  const int64_t frames = static_cast<int64_t>(sent.size()) + 2;
  for (int i = 0; i < 100 && server_.counters().messages_sent < frames; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_.counters().messages_sent, frames);
}

TEST_F(ServerTest, SinceReplaysOrResets) {
  for (int i = 1; i <= 3; ++i) hub_.Publish("market:2", "{}", i);
  Client c(server_.port());
  c.Send(R"({"op":"subscribe","channel":"market:2","since":1})");
  EXPECT_EQ(c.Next(), R"({"op":"subscribed","channel":"market:2","seq":3})");
  EXPECT_NE(c.Next().find(R"("seq":2,)"), std::string::npos);
  EXPECT_NE(c.Next().find(R"("seq":3,)"), std::string::npos);
  for (int i = 4; i <= 10; ++i) hub_.Publish("market:3", "{}", i);
  c.Send(R"({"op":"subscribe","channel":"market:3","since":0})");  // ring of 4 forgot 1..3
  EXPECT_EQ(c.Next(), R"({"op":"subscribed","channel":"market:3","seq":7})");
  EXPECT_EQ(c.Next(), R"({"op":"reset","channel":"market:3","seq":7})");
}

TEST_F(ServerTest, BadMessagesGetErrorsAndTheServerCarriesOn) {
  Client c(server_.port());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {R"({"channel":"markets"})", "missing op"},
      {R"({"op":"dance"})", "unknown op"},
      {R"({"op":"subscribe","channel":"bets"})", "unknown channel"},
      {R"({"op":"subscribe","channel":"market:1","since":-1})", "since must be a sequence number"},
      {R"({"op":"unsubscribe","channel":"market:9"})", "not subscribed"},
  };
  for (const auto& [msg, reason] : cases) {
    c.Send(msg);
    EXPECT_EQ(c.Next(), R"({"op":"error","reason":")" + reason + R"("})") << msg;
  }
  EXPECT_EQ(server_.counters().bad_frames, static_cast<int64_t>(cases.size()));
  c.Send(R"({"op":"ping"})");
  EXPECT_EQ(c.Next(), R"({"op":"pong"})");
}

TEST_F(ServerTest, BinaryOversizeAndFloodsAreClosedWithTheirCodes) {
  {
    Client c(server_.port());
    c.SendBinary("\x01\x02");
    EXPECT_EQ(c.CloseCode(), 1003);
  }
  {
    Client c(server_.port());
    c.Send(std::string(2000, 'x'));
    EXPECT_EQ(c.CloseCode(), 1009);
  }
  {
    Client c(server_.port());
    for (int i = 0; i < 300; ++i) c.Send(R"({"op":"ping"})");
    EXPECT_EQ(c.CloseCode(), 1008);
  }
  EXPECT_GE(server_.counters().floods, 1);
  Client after(server_.port());  // and it still serves
  after.Send(R"({"op":"ping"})");
  EXPECT_EQ(after.Next(), R"({"op":"pong"})");
}

// A load shape over subscribers: growing opens and subscribes more, shrinking closes the
// last for good, growing again reopens them; an update reaches exactly the open ones.
TEST_F(ServerTest, TheLoadClientFollowsAShapeOfSubscribers) {
  std::atomic<int> got{0};
  WsLoad load({.port = server_.port(), .connections = 20, .threads = 2, .channels = {"market:1"},
               .on_update = [&](std::string_view, std::string_view, int64_t) { ++got; }});
  const auto server_sees = [&](int64_t n) {
    for (int i = 0; i < 200 && server_.counters().connections != n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return server_.counters().connections;
  };
  load.Resize(5);
  EXPECT_EQ(server_sees(5), 5);
  load.Resize(20);
  EXPECT_EQ(server_sees(20), 20);
  load.Resize(3);
  EXPECT_EQ(server_sees(3), 3);
  hub_.Publish("market:1", R"({"id":1})", 1);
  for (int i = 0; i < 200 && got < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(got.load(), 3);
  load.Resize(8);
  EXPECT_EQ(server_sees(8), 8);
  const WsLoadStats st = load.Stats();
  EXPECT_EQ(st.lost, 0);
  EXPECT_EQ(st.connected, 8);
  load.Close();
}

TEST(ServerStopTest, OpenSessionsGetTheirQueuedFramesThenGoingAway) {
  Hub hub;
  Server server({.port = 0, .threads = 2}, hub);
  server.Start();
  Client c(server.port());
  c.Send(R"({"op":"subscribe","channel":"market:9"})");
  EXPECT_NE(c.Next().find("subscribed"), std::string::npos);
  for (int i = 1; i <= 50; ++i) hub.Publish("market:9", "{}", i);
  std::thread stopper([&server] { server.Stop(); });
  int updates = 0;
  for (beast::error_code ec; !ec;) {
    beast::flat_buffer b;
    c.ws().read(b, ec);
    if (!ec && beast::buffers_to_string(b.data()).find(R"("op":"update")") != std::string::npos) ++updates;
  }
  stopper.join();
  EXPECT_EQ(updates, 50);  // nothing published before the stop is lost
  EXPECT_EQ(static_cast<int>(c.ws().reason().code), 1001);
  EXPECT_EQ(server.counters().connections, 0);
}

TEST(ServerStopTest, AClientThatNeverAnswersTheCloseIsCutOffAtTheBound) {
  Hub hub;
  Server server({.port = 0, .threads = 2, .drain_timeout_s = 0.3}, hub);
  server.Start();
  Client c(server.port());
  c.Send(R"({"op":"ping"})");
  EXPECT_EQ(c.Next(), R"({"op":"pong"})");
  // c reads no more, so the close handshake never completes; Beast alone would wait 10 s.
  const auto t0 = std::chrono::steady_clock::now();
  server.Stop();
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(250));  // it did wait for the client
  EXPECT_LT(waited, std::chrono::seconds(5));         // and no longer than the bound allows
}

TEST(ServerSlowConsumerTest, ASlowConsumerIsClosedWith1008AndMemoryStaysBounded) {
  Hub hub_;
  Server server_({.port = 0, .threads = 2, .queue_messages = 16}, hub_);
  server_.Start();
  Client slow(server_.port());
  slow.Send(R"({"op":"subscribe","channel":"markets"})");
  EXPECT_NE(slow.Next().find("subscribed"), std::string::npos);
  Client fine(server_.port());
  fine.Send(R"({"op":"subscribe","channel":"market:7"})");
  EXPECT_NE(fine.Next().find("subscribed"), std::string::npos);
  // The slow client reads nothing while 20 MB are published; kernel buffers fill, then its
  // queue of 16 frames, and the server lets it go.
  const std::string big = "{\"pad\":\"" + std::string(1000, 'p') + "\"}";
  for (int i = 0; i < 20000 && server_.counters().slow_consumers == 0; ++i) hub_.Publish("markets", big, 1);
  EXPECT_EQ(server_.counters().slow_consumers, 1);
  EXPECT_EQ(slow.CloseCode(), 1008);
  hub_.Publish("market:7", "{}", 1);
  EXPECT_NE(fine.Next().find(R"("seq":1,)"), std::string::npos);  // others unaffected
}

TEST_F(ServerTest, HealthAndMetricsOverPlainHttp) {
  int status = 0;
  EXPECT_EQ(HttpGet(server_.port(), "/healthz", status), "ok\n");
  EXPECT_EQ(status, 200);
  Client c(server_.port());
  c.Send(R"({"op":"subscribe","channel":"markets"})");
  c.Next();
  hub_.Publish("markets", "{}", 1);
  c.Next();
  const std::string m = HttpGet(server_.port(), "/metrics", status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(m.find("pmbench_realtime_connections 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("pmbench_realtime_subscriptions 1\n"), std::string::npos);
  EXPECT_NE(m.find("pmbench_realtime_messages_sent_total 2\n"), std::string::npos);
  EXPECT_NE(m.find("pmbench_realtime_publish_to_send_seconds_count 1\n"), std::string::npos);
  HttpGet(server_.port(), "/nope", status);
  EXPECT_EQ(status, 404);
}

TEST_F(ServerTest, APortInUseIsNamed) {
  Server other({.port = server_.port()}, hub_);
  try {
    other.Start();
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(server_.port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pmbench::realtime
