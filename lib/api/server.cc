#include "lib/api/server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"
#include "lib/queries/queries.h"
#include "lib/queries/schema_check.h"
#include "lib/realtime/hub.h"
#include "lib/realtime/market_feed.h"

namespace pmbench::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

struct Answer {
  int status = 200;
  std::string body;
  std::string allow;  // for 405
};

Answer Error(int status, const std::string& message) { return {status, json{{"error", message}}.dump(), ""}; }

// A cached load's failure travels as "<status> <body>" through the cache's error string.
std::string Encode(const Answer& a) { return std::to_string(a.status) + " " + a.body; }
Answer Decode(const std::string& e) {
  if (e.size() > 4 && e[3] == ' ') return {std::stoi(e.substr(0, 3)), e.substr(4), ""};
  return Error(503, "cache: " + e);
}

json MarketJson(const queries::Market& m) {
  return {{"id", m.id},           {"title", m.title},         {"category", m.category}, {"status", m.status},
          {"outcome", m.outcome}, {"closes_at_us", m.closes_at_us}, {"yes_pool", m.yes_pool}, {"no_pool", m.no_pool},
          {"volume", m.volume},   {"bet_count", m.bet_count}, {"odds_yes", m.odds_yes()}};
}

// %XX and + in a query string.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> QueryArgs(std::string_view q) {
  std::map<std::string, std::string> args;
  while (!q.empty()) {
    const size_t amp = std::min(q.find('&'), q.size());
    const std::string_view pair = q.substr(0, amp);
    const size_t eq = pair.find('=');
    if (!pair.empty()) args[Unescape(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : Unescape(pair.substr(eq + 1));
    q.remove_prefix(std::min(amp + 1, q.size()));
  }
  return args;
}

std::optional<int64_t> PositiveId(std::string_view s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  const int64_t v = std::stoll(std::string(s));
  if (v <= 0) return std::nullopt;
  return v;
}

}  // namespace

struct ApiServer::Impl {
  ApiOptions o;
  queries::QueryPaths paths;
  std::unique_ptr<BodyCache> cache;
  asio::io_context io;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> io_threads, workers;
  uint16_t port = 0;
  bool running = false;

  // The workers' queue: each job runs with the worker's own connection.
  struct Worker {
    std::unique_ptr<db::PgSession> session;
  };
  using Job = std::function<void(Worker&)>;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;
  bool stopping = false;

  std::unique_ptr<realtime::Hub> hub;
  std::unique_ptr<realtime::MarketFeed> feed;
  std::shared_ptr<realtime::Subscriber> invalidator;

  std::atomic<int64_t> requests{0}, db_errors{0}, feed_invalidations{0};
  std::array<std::atomic<int64_t>, 6> by_class{};
  std::atomic<bool> db_error_said{false};

  explicit Impl(ApiOptions opts) : o(std::move(opts)), paths(o.schema) {
    db::CheckReadableSchemaName(o.schema);
    if (o.db_connections < 1 || o.db_connections > 1000) throw std::invalid_argument("db connections must be 1..1000");
    if (o.cache != "none") cache = MakeBodyCache(o.cache, o.cache_options, o.cache_namespace.empty() ? o.schema : o.cache_namespace);  // connects Redis: fails early
  }

  void Submit(Job job) {
    {
      std::lock_guard lock(mu);
      jobs.push_back(std::move(job));
    }
    cv.notify_one();
  }

  void WorkerLoop() {
    Worker w;
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job(w);
    }
  }

  // Runs `f` on the worker's connection (opened on first use, reopened after a failure);
  // a failing database answers 503, a rejected argument 400.
  template <typename F>
  Answer WithDb(Worker& w, F f) {
    try {
      if (!w.session || !w.session->ok()) {
        w.session.reset();
        w.session = std::make_unique<db::PgSession>(o.database);
      }
      return f(*w.session);
    } catch (const std::invalid_argument& e) {
      return Error(400, e.what());
    } catch (const std::exception& e) {
      w.session.reset();
      ++db_errors;
      if (!db_error_said.exchange(true)) std::fprintf(stderr, "api: database error (answering 503): %s\n", db::RedactSecrets(e.what()).c_str());
      return Error(503, "database unavailable");
    }
  }

  // Through the cache when there is one; `load` renders the answer and the tags read from it.
  void Cached(Worker& w, const std::string& key, std::vector<int64_t> tags,
              const std::function<Answer(db::PgSession&, std::vector<int64_t>&)>& load, const std::function<void(Answer)>& respond) {
    const auto run = [&](std::vector<int64_t>& more) { return WithDb(w, [&](db::PgSession& s) { return load(s, more); }); };
    if (!cache) {
      std::vector<int64_t> more;
      return respond(run(more));
    }
    cache->Get(
        key, std::move(tags),
        [&](BodyCache::LoadDone done) {
          std::vector<int64_t> more;
          Answer a = run(more);
          if (a.status == 200) return done(std::move(a.body), std::move(more), "");
          done("", {}, Encode(a));
        },
        [respond](BodyCache::Value body, const std::string& error) { respond(body ? Answer{200, *body, ""} : Decode(error)); });
  }

  void Route(Worker& w, const std::string& method, const std::string& target, const std::string& body,
             const std::function<void(Answer)>& respond) {
    const size_t qmark = target.find('?');
    const std::string path = target.substr(0, qmark);
    const auto args = QueryArgs(qmark == std::string::npos ? std::string_view() : std::string_view(target).substr(qmark + 1));
    const auto only = [&](const char* allowed) {
      if (method == allowed) return true;
      Answer a = Error(405, method + " is not allowed on " + path);
      a.allow = allowed;
      respond(a);
      return false;
    };
    const auto arg = [&](const std::string& k, const std::string& fallback) {
      const auto it = args.find(k);
      return it == args.end() ? fallback : it->second;
    };

    if (path == "/healthz") {
      if (only("GET")) respond({200, "{\"ok\":true}", ""});
      return;
    }
    if (path == "/api/markets") {
      if (!only("GET")) return;
      queries::ListMarketsArgs a;
      a.status = arg("status", "open");
      a.category = arg("category", "");
      const std::string order = arg("order", "volume");
      if (order != "volume" && order != "closes_at") return respond(Error(400, "order is volume or closes_at"));
      a.order = order == "volume" ? queries::MarketOrder::kVolume : queries::MarketOrder::kClosesAt;
      const std::string limit = arg("limit", "20");
      if (limit.empty() || limit.size() > 3 || limit.find_first_not_of("0123456789") != std::string::npos) {
        return respond(Error(400, "limit is a number in 1..100"));
      }
      a.limit = std::stoi(limit);
      a.after = arg("cursor", "");
      try {
        paths.ListMarkets(a);  // the platform's own checks, before the cache sees the key
      } catch (const std::invalid_argument& e) {
        return respond(Error(400, e.what()));
      }
      const std::string key = "markets:" + a.status + ":" + a.category + ":" + order + ":" + limit + ":" + a.after;
      return Cached(w, key, {}, [this, a](db::PgSession& s, std::vector<int64_t>& tags) {
        const queries::MarketPage page = queries::ListMarkets(s, paths, a);
        json list = json::array();
        for (const auto& m : page.markets) {
          list.push_back(MarketJson(m));
          tags.push_back(m.id);
        }
        return Answer{200, json{{"markets", list}, {"next", page.next}}.dump(), ""};
      }, respond);
    }
    if (path.rfind("/api/markets/", 0) == 0) {
      if (!only("GET")) return;
      const auto id = PositiveId(std::string_view(path).substr(13));
      if (!id) return respond(Error(400, "a market id is a positive number"));
      return Cached(w, "market:" + std::to_string(*id), {*id}, [this, id = *id](db::PgSession& s, std::vector<int64_t>&) {
        const auto d = queries::GetMarketDetail(s, paths, id);
        if (!d) return Error(404, "unknown market " + std::to_string(id));
        json bets = json::array();
        for (const auto& b : d->last_bets) {
          bets.push_back({{"id", b.id}, {"wallet", b.wallet}, {"side", b.side}, {"amount", b.amount}, {"placed_at_us", b.placed_at_us}});
        }
        return Answer{200, json{{"market", MarketJson(d->market)}, {"last_bets", bets}}.dump(), ""};
      }, respond);
    }
    if (path.rfind("/api/users/", 0) == 0 && path.size() > 21 && path.compare(path.size() - 10, 10, "/dashboard") == 0) {
      if (!only("GET")) return;
      const std::string wallet = Unescape(std::string_view(path).substr(11, path.size() - 21));
      if (wallet.empty() || wallet.size() > 64 || wallet.find('/') != std::string::npos) return respond(Error(400, "bad wallet"));
      return respond(WithDb(w, [&](db::PgSession& s) {
        const queries::Dashboard d = queries::UserDashboard(s, paths, wallet);
        json rows = json::array();
        for (const auto& r : d.markets) {
          rows.push_back({{"market_id", r.market_id}, {"title", r.title},     {"status", r.status},     {"outcome", r.outcome},
                          {"yes_stake", r.yes_stake}, {"no_stake", r.no_stake}, {"yes_pool", r.yes_pool}, {"no_pool", r.no_pool},
                          {"bets", r.bets},           {"odds_yes", r.odds_yes}, {"payout", r.payout}});
        }
        return Answer{200, json{{"wallet", wallet}, {"markets", rows}, {"total_staked", d.total_staked}, {"total_payout", d.total_payout}}.dump(), ""};
      }));
    }
    if (path == "/api/leaderboard") {
      if (!only("GET")) return;
      const std::string limit = arg("limit", "10");
      if (limit.empty() || limit.size() > 3 || limit.find_first_not_of("0123456789") != std::string::npos || std::stoi(limit) < 1 ||
          std::stoi(limit) > 100) {
        return respond(Error(400, "limit is a number in 1..100"));
      }
      return Cached(w, "leaderboard:" + limit, {}, [this, n = std::stoi(limit)](db::PgSession& s, std::vector<int64_t>&) {
        const queries::Leaderboard lb = queries::GetLeaderboard(s, paths, n, queries::LeaderboardSource::kMaterialized);
        const auto rows = [](const std::vector<queries::LeaderRow>& v) {
          json out = json::array();
          for (const auto& r : v) out.push_back({{"wallet", r.wallet}, {"volume", r.volume}, {"profit", r.profit}, {"bets", r.bets}});
          return out;
        };
        return Answer{200, json{{"by_volume", rows(lb.by_volume)}, {"by_profit", rows(lb.by_profit)}}.dump(), ""};
      }, respond);
    }
    if (path == "/api/bets") {
      if (!only("POST")) return;
      const json j = json::parse(body, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return respond(Error(400, "the body is not a JSON object"));
      queries::BetArgs b;
      try {
        b.wallet = j.at("wallet").get<std::string>();
        b.market_id = j.at("market_id").get<int64_t>();
        b.side = j.at("side").get<std::string>();
        b.amount = j.at("amount").get<int64_t>();
        b.tx_signature = j.at("tx_signature").get<std::string>();
      } catch (const json::exception&) {
        return respond(Error(400, "a bet is {wallet, market_id, side, amount, tx_signature} (strings; market_id and amount numbers)"));
      }
      if (b.wallet.empty() || b.tx_signature.empty() || b.market_id <= 0) return respond(Error(400, "wallet, tx_signature and market_id > 0 are required"));
      Answer a = WithDb(w, [&](db::PgSession& s) {
        const queries::BetResult r = queries::PlaceBet(s, paths, b);
        switch (r.code) {
          case queries::BetCode::kOk:
            return Answer{r.replayed ? 200 : 201,
                          json{{"bet_id", r.bet_id}, {"replayed", r.replayed}, {"yes_pool", r.yes_pool}, {"no_pool", r.no_pool}}.dump(), ""};
          case queries::BetCode::kUnknownMarket:
            return Error(404, "unknown market " + std::to_string(b.market_id));
          case queries::BetCode::kMarketClosed:
            return Error(409, "market " + std::to_string(b.market_id) + " is not open");
          default:
            return Error(400, std::string(queries::BetCodeName(r.code)));
        }
      });
      if (a.status == 201 && cache) cache->Invalidate(b.market_id);  // this process reads its own bet at once
      return respond(a);
    }
    respond(Error(404, "no such path: " + path));
  }

  void Count(int status) {
    ++requests;
    by_class[static_cast<size_t>(std::clamp(status / 100, 0, 5))]++;
  }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ApiServer::Impl& api) : stream_(std::move(socket)), api_(api) {}
  void Run() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(api_.o.body_limit);
    stream_.expires_after(std::chrono::seconds(120));  // an idle keep-alive connection
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return Write(Error(413, "the body is over " + std::to_string(api_.o.body_limit) + " bytes"));
    }
    if (ec) {
      keep_alive_ = false;
      return Write(Error(400, "bad HTTP request: " + ec.message()));
    }
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    const std::string method(req.method_string());
    const std::string target(req.target());
    api_.Submit([self = shared_from_this(), method, target, body = std::move(req.body())](ApiServer::Impl::Worker& w) {
      self->api_.Route(w, method, target, body, [self](Answer a) {
        asio::post(self->stream_.get_executor(), [self, a = std::move(a)]() mutable { self->Write(std::move(a)); });
      });
    });
  }

  void Write(Answer a) {
    api_.Count(a.status);
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(a.status));
    res_.set(bhttp::field::server, "pmbench-api");
    res_.set(bhttp::field::content_type, "application/json");
    if (!a.allow.empty()) res_.set(bhttp::field::allow, a.allow);
    res_.keep_alive(keep_alive_);
    res_.body() = std::move(a.body);
    res_.prepare_payload();
    bhttp::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  ApiServer::Impl& api_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  bool keep_alive_ = true;
};

void Accept(ApiServer::Impl& api) {
  api.acceptor->async_accept(asio::make_strand(api.io), [&api](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !api.acceptor->is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), api)->Run();
    }
    Accept(api);
  });
}

// Every committed market change invalidates that market's entries; a reset (the feed lost
// its connection, so changes may have been missed) drops the whole cache.
class Invalidator : public realtime::Subscriber {
 public:
  explicit Invalidator(ApiServer::Impl& api) : api_(api) {}
  void Send(realtime::Frame frame) override {
    const json j = json::parse(frame->text, nullptr, false);
    if (j.is_discarded()) return;
    const std::string op = j.value("op", "");
    if (op == "reset") {
      api_.cache->Clear();
    } else if (op == "update" && j.contains("data") && j["data"].contains("id")) {
      ++api_.feed_invalidations;
      api_.cache->Invalidate(j["data"]["id"].get<int64_t>());
    }
  }

 private:
  ApiServer::Impl& api_;
};

}  // namespace

ApiServer::ApiServer(ApiOptions o) : impl_(std::make_unique<Impl>(std::move(o))) {}
ApiServer::~ApiServer() { Stop(); }

void ApiServer::Start() {
  Impl& a = *impl_;
  if (a.running) return;
  // A platform's own schema is used as it is: what the routes read is checked, never
  // migrated. A database that does not answer yet is no reason not to serve: its requests
  // get 503 until it does.
  bool reachable = true;
  try {
    db::PgSession probe(a.o.database);
  } catch (const std::exception& e) {
    reachable = false;
    std::fprintf(stderr, "api: the database does not answer (%s): serving 503 until it does\n", db::RedactSecrets(e.what()).c_str());
  }
  if (reachable) queries::CheckSchema(a.o.database, a.o.schema, queries::ApiNeeds(), "api serve");
  if (!a.o.feed_url.empty() && a.cache) queries::CheckSchema(a.o.feed_url, a.o.schema, queries::FeedNeeds(), "the live feed");
  if (a.cache && !a.o.feed_url.empty()) {
    a.hub = std::make_unique<realtime::Hub>(realtime::HubOptions{.replay = 1});
    a.invalidator = std::make_shared<Invalidator>(a);
    a.hub->Subscribe("markets", std::nullopt, a.invalidator);
    a.feed = std::make_unique<realtime::MarketFeed>(a.o.feed_url, a.o.schema, *a.hub);
    a.feed->Start();  // throws naming what is wrong (a pooled URL, wal_level)
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(a.o.address, ec);
  if (ec) throw std::runtime_error("bad listen address '" + a.o.address + "'");
  a.acceptor.emplace(a.io);
  const tcp::endpoint ep(address, a.o.port);
  a.acceptor->open(ep.protocol(), ec);
  if (!ec) a.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.acceptor->bind(ep, ec);
  if (!ec) a.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    a.acceptor.reset();
    if (a.feed) a.feed->Stop();
    throw std::runtime_error("cannot listen on " + a.o.address + ":" + std::to_string(a.o.port) + ": " + ec.message());
  }
  a.port = a.acceptor->local_endpoint().port();
  a.stopping = false;
  for (int i = 0; i < a.o.db_connections; ++i) a.workers.emplace_back([&a] { a.WorkerLoop(); });
  Accept(a);
  const int threads = a.o.threads > 0 ? a.o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) a.io_threads.emplace_back([&a] { a.io.run(); });
  a.running = true;
}

void ApiServer::Stop() {
  Impl& a = *impl_;
  if (!a.running) return;
  a.running = false;
  asio::post(a.io, [&a] {
    beast::error_code ignored;
    a.acceptor->close(ignored);
  });
  {
    std::lock_guard lock(a.mu);
    a.stopping = true;
  }
  a.cv.notify_all();
  for (auto& t : a.workers) t.join();
  a.workers.clear();
  a.io.stop();
  for (auto& t : a.io_threads) t.join();
  a.io_threads.clear();
  if (a.feed) a.feed->Stop();
}

uint16_t ApiServer::port() const { return impl_->port; }

ApiCounters ApiServer::counters() const {
  const Impl& a = *impl_;
  ApiCounters c;
  c.requests = a.requests.load();
  for (size_t i = 0; i < 6; ++i) c.by_class[i] = a.by_class[i].load();
  c.db_errors = a.db_errors.load();
  c.feed_invalidations = a.feed_invalidations.load();
  if (a.cache) c.cache = a.cache->stats();
  return c;
}

}  // namespace pmbench::api
