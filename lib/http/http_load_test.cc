#include "lib/http/http_load.h"

#include <gtest/gtest.h>

#include "lib/http/testing/nginx.h"
#include "lib/load/engine.h"

namespace pmbench::http {
namespace {

TEST(ParseUrlTest, TakesSchemesPortsAndTargets) {
  const Url a = ParseUrl("http://127.0.0.1:8080/api/markets?cursor=abc#frag");
  EXPECT_FALSE(a.tls);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(a.target, "/api/markets?cursor=abc");
  const Url b = ParseUrl("https://example.com");
  EXPECT_TRUE(b.tls);
  EXPECT_EQ(b.port, 443);
  EXPECT_EQ(b.target, "/");
  const Url c = ParseUrl("http://[::1]:81?x=1");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.target, "/?x=1");
  EXPECT_EQ(c.origin(), "http://[::1]:81");
}

TEST(ParseUrlTest, RefusesBadOnesWithoutEchoingSecrets) {
  for (const char* bad : {"ftp://x/", "http://", "http://host:0/", "http://host:99999/", "http://ho st/", "http://h/a b", "127.0.0.1:80"}) {
    EXPECT_THROW(ParseUrl(bad), std::invalid_argument) << bad;
  }
  try {
    ParseUrl("https://user:hunter2@example.com/");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
  }
}

TEST(ParseRequestsTest, ReadsJsonLinesAndNamesTheBadLine) {
  const auto r = ParseRequests(R"(# a comment
{"name": "list", "url": "http://127.0.0.1:1/a", "weight": 5, "expect_status": 200, "expect_body": "markets"}

{"method": "POST", "url": "http://127.0.0.1:1/b", "headers": {"content-type": "application/json"}, "body": "{}"}
)");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "list");
  EXPECT_EQ(r[0].weight, 5);
  EXPECT_EQ(r[0].expect_status, 200);
  EXPECT_EQ(r[1].name, "POST /b");
  EXPECT_EQ(r[1].headers.at(0).second, "application/json");
  const auto error = [](std::string_view text) {
    try {
      ParseRequests(text, "f.jsonl");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("{\"url\": \"http://a/\"}\n{\"url\": 5}"), "f.jsonl:2: a field of the wrong type (url, name, method, body, expect_body: strings; weight, expect_status: numbers)");
  EXPECT_EQ(error("\n\n{\"url\": \"http://a/\", \"wieght\": 2}"), "f.jsonl:3: unknown field 'wieght'");
  EXPECT_EQ(error("{\"url\": \"http://a/\", \"weight\": 0}"), "f.jsonl:1: weight must be > 0");
  EXPECT_EQ(error("not json"), "f.jsonl:1: not a JSON object");
  EXPECT_EQ(error("# only a comment\n"), "f.jsonl: no request in it");
}

TEST(HttpWorkloadTest, RefusesMixedOriginsAndGroupsLinesByName) {
  EXPECT_THROW(HttpWorkload::Make(ParseRequests("{\"url\": \"http://127.0.0.1:1/\"}\n{\"url\": \"http://127.0.0.1:2/\"}")),
               std::invalid_argument);
  const auto w = HttpWorkload::Make(ParseRequests(
      "{\"name\": \"a\", \"url\": \"http://127.0.0.1:1/x\"}\n{\"name\": \"b\", \"url\": \"http://127.0.0.1:1/z\", \"weight\": 3}\n"
      "{\"name\": \"a\", \"url\": \"http://127.0.0.1:1/y\", \"weight\": 2}"));
  const auto mix = w->Mix();
  ASSERT_EQ(mix.size(), 2u);
  EXPECT_EQ(mix[0].name, "a");
  EXPECT_EQ(mix[0].weight, 3);
  EXPECT_EQ(mix[1].name, "b");
}

// Lines of one name are sent in turn across the whole run, whatever engine thread sends
// them: the bytes per answer fall between those of each file alone, at the middle. (With
// each thread taking its line from its own strided sequence, a thread sent one file only,
// and the share followed whichever thread ran faster.)
TEST(HttpLoadTest, LinesOfOneNameAreSentInTurn) {
  test::Nginx nginx;
  const auto bytes_per_answer = [&](std::vector<Request> requests) {
    auto w = HttpWorkload::Make(std::move(requests));
    const auto r = load::RunLoad({.model = load::Model::kClosed, .start = 2, .stages = {{0.3, 2}}, .clients = 2, .mix = w->Mix()},
                                 w->Clients());
    EXPECT_EQ(r.kinds.size(), 1u);
    EXPECT_GT(r.total.ok, 50);
    EXPECT_EQ(r.total.failed, 0);
    return static_cast<double>(w->bytes_read()) / static_cast<double>(r.total.ok);
  };
  const double a = bytes_per_answer({{.name = "one", .url = nginx.url("/static.txt")}});
  const double b = bytes_per_answer({{.name = "one", .url = nginx.url("/api.json")}});
  const double both = bytes_per_answer({{.name = "both", .url = nginx.url("/static.txt")}, {.name = "both", .url = nginx.url("/api.json")}});
  ASSERT_NE(a, b);
  const double share_of_b = (both - a) / (b - a);
  EXPECT_GT(share_of_b, 0.4);
  EXPECT_LT(share_of_b, 0.6);
}

load::LoadResult RunHttp(HttpWorkload& w, load::Model model, double level, double seconds, int clients) {
  return load::RunLoad({.model = model, .start = level, .stages = {{seconds, level}}, .clients = clients, .mix = w.Mix(), .drain_s = 2},
                       w.Clients());
}

// Every answer is checked and counted by class: a missing file is a 404 (failed, 4xx), a
// body without the text wanted fails, the rest pass; the weights split the requests.
TEST(HttpLoadTest, CountsStatusClassesAndChecksBodies) {
  test::Nginx nginx;
  const std::string u = nginx.url("");
  auto w = HttpWorkload::Make(ParseRequests(
      "{\"name\": \"json\", \"url\": \"" + u + "/api.json\", \"weight\": 3, \"expect_body\": \"\\\"markets\\\"\"}\n"
      "{\"name\": \"missing\", \"url\": \"" + u + "/nothing-here\", \"weight\": 1}\n"
      "{\"name\": \"wrong_body\", \"url\": \"" + u + "/static.txt\", \"weight\": 1, \"expect_body\": \"markets\"}\n"
      "{\"name\": \"expect_404\", \"url\": \"" + u + "/nothing-here\", \"weight\": 1, \"expect_status\": 404}\n"));
  const auto r = RunHttp(*w, load::Model::kOpen, 600, 2, 8);
  ASSERT_EQ(r.kinds.size(), 4u);
  EXPECT_EQ(r.total.requests(), 1200);
  EXPECT_EQ(r.kinds[0].failed, 0);
  EXPECT_GT(r.kinds[0].ok, 450);
  EXPECT_EQ(w->statuses(0).of[2], r.kinds[0].ok);
  EXPECT_EQ(r.kinds[1].ok, 0);
  EXPECT_EQ(w->statuses(1).of[4], r.kinds[1].failed);
  EXPECT_EQ(r.kinds[1].errors.begin()->first, "HTTP 404");
  EXPECT_EQ(r.kinds[2].ok, 0);
  EXPECT_EQ(r.kinds[2].errors.begin()->first, "body without 'markets'");
  EXPECT_EQ(r.kinds[3].failed, 0);
  EXPECT_GT(r.kinds[3].ok, 100);
  EXPECT_GT(w->bytes_read(), 1200 * 100);
}

// The certificate and the name it carries are both checked: trusted and matching connects,
// untrusted fails, and --insecure connects anyway.
TEST(HttpLoadTest, VerifiesTheServersCertificate) {
  test::Nginx nginx({.tls = true});
  auto trusted = HttpWorkload::Make({{.name = "s", .url = nginx.url("/static.txt"), .expect_body = "pmbench static"}}, {.ca_file = nginx.ca()});
  const auto r = RunHttp(*trusted, load::Model::kClosed, 4, 1, 4);
  EXPECT_GT(r.total.ok, 100);
  EXPECT_EQ(r.total.failed, 0);

  auto untrusted = HttpWorkload::Make({{.name = "s", .url = nginx.url("/static.txt")}}, {.ca_file = "/etc/ssl/certs/ca-certificates.crt"});
  try {
    RunHttp(*untrusted, load::Model::kClosed, 1, 1, 1);
    FAIL() << "connected to an untrusted server";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
  }
  // The certificate is for localhost and 127.0.0.1, not for 127.0.0.2 (also loopback).
  auto wrong_name = HttpWorkload::Make({{.name = "s", .url = "https://127.0.0.2:" + std::to_string(nginx.port()) + "/static.txt"}},
                                       {.ca_file = nginx.ca()});
  EXPECT_THROW(RunHttp(*wrong_name, load::Model::kClosed, 1, 1, 1), std::runtime_error);
  auto insecure = HttpWorkload::Make({{.name = "s", .url = nginx.url("/static.txt")}}, {.verify_peer = false});
  EXPECT_GT(RunHttp(*insecure, load::Model::kClosed, 1, 1, 1).total.ok, 10);
}

// A server that stops answering: the requests under way time out, later ones are refused,
// and each is counted as no answer.
TEST(HttpLoadTest, ASilentOrGoneServerIsCountedNotHung) {
  auto nginx = std::make_unique<test::Nginx>();
  auto w = HttpWorkload::Make({{.name = "s", .url = nginx->url("/static.txt")}}, {.timeout_s = 0.5});
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    nginx.reset();
  });
  const auto r = RunHttp(*w, load::Model::kOpen, 200, 1.5, 4);
  stopper.join();
  EXPECT_GT(r.total.ok, 50);
  EXPECT_GT(r.total.failed, 50);
  EXPECT_EQ(w->statuses(0).of[0], r.total.failed);
  EXPECT_EQ(r.total.ok + r.total.failed + r.total.dropped + r.total.unfinished, 300);
}

}  // namespace
}  // namespace pmbench::http
