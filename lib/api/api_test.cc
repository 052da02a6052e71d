#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "lib/api/body_cache.h"
#include "lib/api/server.h"
#include "lib/db/pg_session.h"
#include "lib/db/seed.h"
#include "lib/db/staging.h"
#include "lib/db/testing/test_schema.h"
#include "lib/http/http_load.h"
#include "lib/load/engine.h"

namespace pmbench::api {
namespace {

using namespace std::chrono_literals;

std::string RedisUrl() {
  const std::string url = db::ResolveStaging().redis_url;
  if (url.empty()) throw std::runtime_error("staging has no Redis (tools/staging up starts one; apt-get install redis-server)");
  return url;
}

// Each test its own key space on the shared Redis.
std::string Ns(const std::string& tag) { return "t_" + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device()() % 100000); }

BodyCache::Loader Counting(std::atomic<int>& loads, std::string body, std::chrono::milliseconds takes = 0ms) {
  return [&loads, body, takes](BodyCache::LoadDone done) {
    ++loads;
    std::this_thread::sleep_for(takes);  // holds the load open so others arrive during it
    done(body, {}, "");
  };
}

std::string GetNow(BodyCache& c, const std::string& key, std::vector<int64_t> tags, const BodyCache::Loader& load) {
  std::string got = "(nothing)";
  c.Get(key, std::move(tags), load, [&](BodyCache::Value v, const std::string& e) { got = v ? *v : "error: " + e; });
  return got;
}

// Two processes' caches on one Redis: eight concurrent misses, one load.
TEST(RedisBodyCacheTest, ConcurrentMissesAcrossProcessesShareOneLoad) {
  const std::string ns = Ns("flight");
  auto a = MakeBodyCache(RedisUrl(), {.ttl = 10s}, ns);
  auto b = MakeBodyCache(RedisUrl(), {.ttl = 10s}, ns);
  std::atomic<int> loads{0};
  std::atomic<int> served{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      BodyCache& c = i % 2 ? *a : *b;
      c.Get("k", {}, Counting(loads, "body", 200ms), [&](BodyCache::Value v, const std::string&) {
        if (v && *v == "body") ++served;
      });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(served.load(), 8);
  EXPECT_EQ(a->stats().loads + b->stats().loads, 1);
}

// Invalidation in one process drops the other's entry, and a load under way when it came is
// served to its waiters but not stored.
TEST(RedisBodyCacheTest, InvalidationReachesOtherProcessesAndLoadsUnderWay) {
  const std::string ns = Ns("inval");
  auto a = MakeBodyCache(RedisUrl(), {.ttl = 10s}, ns);
  auto b = MakeBodyCache(RedisUrl(), {.ttl = 10s}, ns);
  std::atomic<int> loads{0};
  EXPECT_EQ(GetNow(*a, "market:7", {7}, Counting(loads, "v1")), "v1");
  EXPECT_EQ(GetNow(*b, "market:7", {7}, Counting(loads, "v2")), "v1");  // a hit in the other process
  EXPECT_EQ(loads.load(), 1);
  a->Invalidate(7);
  EXPECT_EQ(GetNow(*b, "market:7", {7}, Counting(loads, "v3")), "v3");
  EXPECT_EQ(loads.load(), 2);
  // A page whose tags come from its body (the markets it lists) is invalidated by them too.
  EXPECT_EQ(GetNow(*a, "page", {}, [&](BodyCache::LoadDone d) { ++loads; d("p1", {7, 8}, ""); }), "p1");
  b->Invalidate(8);
  EXPECT_EQ(GetNow(*a, "page", {}, Counting(loads, "p2")), "p2");

  b->Invalidate(7);
  std::thread slow([&] { EXPECT_EQ(GetNow(*b, "market:7", {7}, Counting(loads, "old", 300ms)), "old"); });
  std::this_thread::sleep_for(100ms);
  a->Invalidate(7);  // while b's load reads the old state
  slow.join();
  const int before = loads.load();
  EXPECT_EQ(GetNow(*a, "market:7", {7}, Counting(loads, "new")), "new");
  EXPECT_EQ(loads.load(), before + 1);
}

TEST(RedisBodyCacheTest, FreshThenServedStaleWhileOneRefreshRuns) {
  auto c = MakeBodyCache(RedisUrl(), {.ttl = 200ms, .stale = 5s}, Ns("ttl"));
  std::atomic<int> loads{0};
  EXPECT_EQ(GetNow(*c, "k", {}, Counting(loads, "v1")), "v1");
  EXPECT_EQ(GetNow(*c, "k", {}, Counting(loads, "v2")), "v1");
  EXPECT_EQ(loads.load(), 1);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(GetNow(*c, "k", {}, Counting(loads, "v2")), "v1");  // stale, and refreshed
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(GetNow(*c, "k", {}, Counting(loads, "v3")), "v2");
  EXPECT_EQ(c->stats().stale, 1);
  EXPECT_EQ(c->stats().hits, 2);
}

TEST(RedisBodyCacheTest, RefusesBadSpecsAndSilentServers) {
  EXPECT_THROW(MakeBodyCache("memcached://x", {}, "n"), std::invalid_argument);
  EXPECT_THROW(MakeBodyCache("redis://h:99999", {}, "n"), std::invalid_argument);
  EXPECT_THROW(MakeBodyCache("redis://:secret@h:1", {}, "n"), std::invalid_argument);
  try {
    MakeBodyCache("redis://127.0.0.1:1", {}, "n");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Redis at 127.0.0.1:1 does not answer");
  }
}

class ApiServerTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    schema_ = std::make_unique<db::test::TestSchema>("api");
    db::Seed(schema_->url(), schema_->name(), {.scale = 0.05, .seed = 5});
  }
  static void TearDownTestSuite() { schema_.reset(); }
  static std::unique_ptr<db::test::TestSchema> schema_;

  ApiOptions Options(const std::string& cache) const {
    return {.database = db::ResolveStaging().pooled_url, .feed_url = schema_->url(), .schema = schema_->name(), .db_connections = 8,
            .cache = cache, .cache_options = {.ttl = 2s, .stale = 5s}};
  }
  std::string Value(const std::string& sql) const { return db::PgSession(schema_->url()).QueryValue(sql); }
  std::string Table(const std::string& t) const { return "\"" + schema_->name() + "\"." + t; }

  static load::LoadResult Drive(http::HttpWorkload& w, double rate, double seconds, int connections) {
    return load::RunLoad({.start = rate, .stages = {{seconds, rate}}, .clients = connections, .mix = w.Mix(), .drain_s = 5}, w.Clients());
  }
};
std::unique_ptr<db::test::TestSchema> ApiServerTest::schema_;

// The check: load http drives every path of api serve through the Redis cache, and
// every answer passes its check.
TEST_F(ApiServerTest, LoadHttpThroughTheRedisCacheAnswersEveryRequest) {
  ApiServer api(Options(RedisUrl()));
  api.Start();
  const std::string base = "http://127.0.0.1:" + std::to_string(api.port());
  const std::string market = Value("SELECT id FROM " + Table("markets") + " WHERE status = 'open' ORDER BY id LIMIT 1");
  const std::string wallet = Value("SELECT wallet FROM " + Table("users") + " ORDER BY wallet LIMIT 1");
  std::vector<http::Request> requests = {
      {.name = "list", .url = base + "/api/markets?limit=20", .weight = 5, .expect_status = 200, .expect_body = "{\"markets\":[{\"bet_count\""},
      {.name = "market", .url = base + "/api/markets/" + market, .weight = 3, .expect_status = 200, .expect_body = "\"id\":" + market + ","},
      {.name = "dashboard", .url = base + "/api/users/" + wallet + "/dashboard", .expect_status = 200, .expect_body = "\"wallet\":\"" + wallet + "\""},
      {.name = "leaderboard", .url = base + "/api/leaderboard?limit=5", .expect_status = 200, .expect_body = "\"by_volume\":"},
      {.name = "bet", .method = "POST", .url = base + "/api/bets", .headers = {{"content-type", "application/json"}},
       .body = "{\"wallet\":\"" + wallet + "\",\"market_id\":" + market + ",\"side\":\"yes\",\"amount\":1000,\"tx_signature\":\"api-test-" +
               schema_->name() + "\"}",
       .weight = 0.5, .expect_body = "\"bet_id\":"}};
  auto w = http::HttpWorkload::Make(requests, {.timeout_s = 5});
  const auto r = Drive(*w, 400, 3, 50);
  EXPECT_EQ(r.total.success_ratio().value_or(0), 1.0) << (r.total.errors.empty() ? "" : r.total.errors.begin()->first);
  EXPECT_EQ(r.total.ok, 1200);
  for (size_t i = 0; i < requests.size(); ++i) EXPECT_GT(r.kinds[i].ok, 0) << requests[i].name;
  const ApiCounters c = api.counters();
  EXPECT_EQ(c.by_class[2], 1200);
  EXPECT_GT(c.cache.hits, 600);                  // the cached paths are mostly served from Redis
  EXPECT_LT(c.cache.loads, c.cache.misses + c.cache.stale + 1);
  // Only the first bet is new: the signature replays it after that (200, same bet).
  EXPECT_EQ(Value("SELECT count(*) FROM " + Table("bets") + " WHERE tx_signature = 'api-test-" + schema_->name() + "'"), "1");
  api.Stop();
}

// A bet placed behind the server's back (another process) reaches its cache through the
// feed: the market's next answer shows it.
TEST_F(ApiServerTest, AChangeCommittedElsewhereInvalidatesThroughTheFeed) {
  ApiServer api(Options("memory"));
  api.Start();
  const std::string market = Value("SELECT id FROM " + Table("markets") + " WHERE status = 'open' ORDER BY id DESC LIMIT 1");
  auto get = http::HttpWorkload::Make({{.name = "m", .url = "http://127.0.0.1:" + std::to_string(api.port()) + "/api/markets/" + market,
                                        .expect_status = 200, .expect_body = "\"title\":\"renamed " + schema_->name() + "\""}});
  db::PgSession(schema_->url()).Exec("UPDATE " + Table("markets") + " SET title = 'before' WHERE id = " + market);
  EXPECT_EQ(Drive(*get, 20, 0.5, 1).total.ok, 0);  // cached with the old title
  db::PgSession(schema_->url()).Exec("UPDATE " + Table("markets") + " SET title = 'renamed " + schema_->name() + "' WHERE id = " + market);
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (api.counters().feed_invalidations == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_GT(api.counters().feed_invalidations, 0);
  EXPECT_EQ(Drive(*get, 20, 0.5, 1).total.ok, 10);  // well within the 2 s TTL: the feed did it
}

// Each bad input gets its 4xx and a JSON error, the server keeps serving; unknown markets 404.
TEST_F(ApiServerTest, BadInputGetsA4xxWithAJsonError) {
  ApiOptions o = Options("none");
  o.body_limit = 1024;
  ApiServer api(o);
  api.Start();
  const std::string base = "http://127.0.0.1:" + std::to_string(api.port());
  const auto bad = [&](std::string name, std::string method, std::string path, std::string body, int status) {
    return http::Request{.name = std::move(name), .method = std::move(method), .url = base + path, .body = std::move(body),
                         .expect_status = status, .expect_body = "{\"error\":\""};
  };
  auto w = http::HttpWorkload::Make({bad("bad_json", "POST", "/api/bets", "{not json", 400),
                                     bad("missing_field", "POST", "/api/bets", "{\"wallet\":\"w\"}", 400),
                                     bad("bad_side", "POST", "/api/bets",
                                         "{\"wallet\":\"w\",\"market_id\":1,\"side\":\"maybe\",\"amount\":5,\"tx_signature\":\"s\"}", 400),
                                     bad("unknown_market", "GET", "/api/markets/999999999", "", 404),
                                     bad("bad_id", "GET", "/api/markets/abc", "", 400),
                                     bad("bad_limit", "GET", "/api/markets?limit=1000", "", 400),
                                     bad("bad_cursor", "GET", "/api/markets?cursor=%27;drop", "", 400),
                                     bad("wrong_method", "DELETE", "/api/markets", "", 405),
                                     bad("no_path", "GET", "/api/nothing", "", 404),
                                     bad("too_big", "POST", "/api/bets", std::string(4096, 'x'), 413)});
  const auto r = Drive(*w, 200, 1, 4);
  for (const auto& k : r.kinds) {
    EXPECT_EQ(k.failed, 0) << k.name << ": " << (k.errors.empty() ? "" : k.errors.begin()->first);
    EXPECT_GT(k.ok, 0) << k.name;
  }
  EXPECT_EQ(api.counters().by_class[5], 0);
}

TEST_F(ApiServerTest, ADatabaseThatIsGoneIs503AndAPortInUseIsNamed) {
  ApiOptions o = Options("memory");
  o.database = "postgresql://pmbench@127.0.0.1:1/pmbench?connect_timeout=2";
  o.feed_url.clear();
  ApiServer api(o);
  api.Start();
  const std::string base = "http://127.0.0.1:" + std::to_string(api.port());
  auto w = http::HttpWorkload::Make({{.name = "m", .url = base + "/api/markets/1", .expect_status = 503, .expect_body = "database unavailable"},
                                     {.name = "h", .url = base + "/healthz", .expect_status = 200}});
  const auto r = Drive(*w, 20, 1, 2);
  EXPECT_EQ(r.total.failed, 0);
  EXPECT_GT(api.counters().db_errors, 0);

  ApiOptions same = Options("none");
  same.port = api.port();
  ApiServer second(same);
  try {
    second.Start();
    FAIL() << "two servers on one port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(api.port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pmbench::api
