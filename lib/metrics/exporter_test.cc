#include "lib/metrics/exporter.h"

#include <gtest/gtest.h>

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it
#include <boost/asio.hpp>
#include <stdexcept>
#include <string>

#include "lib/metrics/registry.h"

namespace pmbench::metrics {
namespace {

namespace asio = boost::asio;

std::string Get(uint16_t port, const std::string& target) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
  asio::write(s, asio::buffer(req));
  std::string out;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(out), ec);
  return out;
}

TEST(ExporterTest, ServesTheRegistryAsItIsNow) {
  Registry r;
  Counter& c = r.AddCounter("pmbench_served_total", "Served.");
  Exporter e(r, "127.0.0.1:0");
  e.Start();
  ASSERT_NE(e.port(), 0);
  c.Inc(2);
  std::string res = Get(e.port(), "/metrics");
  EXPECT_EQ(res.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << res;
  EXPECT_NE(res.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(res.find("\r\n\r\n# HELP pmbench_served_total Served.\n"), std::string::npos) << res;
  EXPECT_NE(res.find("pmbench_served_total 2\n"), std::string::npos);
  c.Inc();
  EXPECT_NE(Get(e.port(), "/metrics").find("pmbench_served_total 3\n"), std::string::npos);
  EXPECT_NE(Get(e.port(), "/healthz").find("\r\n\r\nok\n"), std::string::npos);
  EXPECT_EQ(Get(e.port(), "/nosuch").rfind("HTTP/1.1 404", 0), 0u);
  e.Stop();
}

TEST(ExporterTest, APortInUseIsNamed) {
  Registry r;
  Exporter a(r, "127.0.0.1:0");
  a.Start();
  Exporter b(r, "127.0.0.1:" + std::to_string(a.port()));
  try {
    b.Start();
    FAIL() << "a second exporter on the same port started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(a.port())), std::string::npos) << e.what();
  }
}

TEST(ExporterTest, ListenAddressesAreChecked) {
  EXPECT_EQ(ParseListen("127.0.0.1:9464").port, 9464);
  EXPECT_EQ(ParseListen("[::1]:80").host, "::1");
  EXPECT_THROW(ParseListen("9464"), std::invalid_argument);
  EXPECT_THROW(ParseListen("localhost:"), std::invalid_argument);
  EXPECT_THROW(ParseListen("h:99999"), std::invalid_argument);
  EXPECT_THROW(ParseListen("h:9x"), std::invalid_argument);
  Registry r;
  EXPECT_THROW(Exporter(r, "not-an-ip:0").Start(), std::runtime_error);
}

}  // namespace
}  // namespace pmbench::metrics
