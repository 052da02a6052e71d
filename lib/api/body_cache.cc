#include "lib/api/body_cache.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace pmbench::api {
namespace {

// --- memory ------------------------------------------------------------------------------

struct Entry {
  std::string body;
  std::vector<int64_t> tags;
};

class MemoryCache : public BodyCache {
 public:
  explicit MemoryCache(queries::CacheOptions o) : c_(std::move(o), [](const Entry& e) { return e.tags; }) {}

  void Get(const std::string& key, std::vector<int64_t> tags, const Loader& load, Done done) override {
    c_.Get(
        key, std::move(tags),
        [&load](queries::Cache<Entry>::Done d) {
          load([d](std::string body, std::vector<int64_t> more, const std::string& error) {
            if (!error.empty()) return d(nullptr, error);
            d(std::make_shared<const Entry>(Entry{std::move(body), std::move(more)}), "");
          });
        },
        [done = std::move(done)](queries::Cache<Entry>::Value v, const std::string& error) {
          done(v ? Value(v, &v->body) : nullptr, error);
        });
  }
  void Invalidate(int64_t tag) override { c_.Invalidate(tag); }
  void Clear() override { c_.Clear(); }
  BodyCacheStats stats() const override {
    BodyCacheStats s;
    static_cast<queries::CacheStats&>(s) = c_.stats();
    return s;
  }
  std::string name() const override { return "memory"; }

 private:
  queries::Cache<Entry> c_;
};

// --- redis ---------------------------------------------------------------------------------

// Stores a loaded body only when no invalidation came since the load began (its generation
// key unchanged), and files the key under each of its tags.
constexpr const char* kStore = R"(
local g = redis.call('GET', KEYS[2])
if not g then g = '0' end
if g ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
for i = 5, #ARGV do
  redis.call('SADD', ARGV[i], ARGV[4])
  redis.call('PEXPIRE', ARGV[i], ARGV[3])
end
return 1)";

// Drops every key filed under a tag and bumps its generation: loads under way are not stored.
constexpr const char* kInvalidate = R"(
local members = redis.call('SMEMBERS', KEYS[1])
for _, k in ipairs(members) do
  redis.call('DEL', ARGV[1] .. 'v:' .. k)
  redis.call('INCR', ARGV[1] .. 'g:' .. k)
  redis.call('PEXPIRE', ARGV[1] .. 'g:' .. k, 3600000)
end
redis.call('DEL', KEYS[1])
return #members)";

constexpr const char* kClear = R"(
local n = 0
for _, v in ipairs(redis.call('KEYS', ARGV[1] .. 'v:*')) do
  redis.call('DEL', v)
  local g = ARGV[1] .. 'g:' .. string.sub(v, #ARGV[1] + 3)
  redis.call('INCR', g)
  redis.call('PEXPIRE', g, 3600000)
  n = n + 1
end
return n)";

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class RedisCache : public BodyCache {
 public:
  RedisCache(std::string host, int port, int db, queries::CacheOptions o, const std::string& ns)
      : host_(std::move(host)), port_(port), db_(db), o_(std::move(o)), ns_("pmbench:" + ns + ":") {
    ttl_ms_ = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(o_.ttl).count());
    keep_ms_ = ttl_ms_ + std::chrono::duration_cast<std::chrono::milliseconds>(o_.stale).count();
    redisContext* c = Connect();
    if (!c) throw std::runtime_error("Redis at " + host_ + ":" + std::to_string(port_) + " does not answer");
    Release(c, true);
  }
  ~RedisCache() override {
    for (redisContext* c : idle_) redisFree(c);
  }

  void Get(const std::string& key, std::vector<int64_t> tags, const Loader& load, Done done) override {
    redisContext* c = Acquire();
    Reply cached = c ? Run(c, {"GET", ns_ + "v:" + key}) : nullptr;
    if (!cached) return Bypass(c, load, std::move(done));
    if (cached->type == REDIS_REPLY_STRING) {
      const std::string_view text(cached->str, cached->len);
      const size_t nl = text.find('\n');
      const int64_t fresh_until = nl == std::string_view::npos ? 0 : std::stoll(std::string(text.substr(0, nl)));
      auto body = std::make_shared<const std::string>(text.substr(nl == std::string_view::npos ? text.size() : nl + 1));
      if (NowMs() < fresh_until) {
        ++hits_;
        Release(c, true);
        return done(body, "");
      }
      ++stale_;
      done(body, "");
      // One refresh across every process: whoever takes the lock.
      Reply locked = Run(c, {"SET", ns_ + "l:" + key, "1", "NX", "PX", std::to_string(LockMs())});
      const bool mine = locked && locked->type == REDIS_REPLY_STATUS;
      Release(c, locked != nullptr);
      if (mine) Load(key, std::move(tags), load, nullptr);
      return;
    }
    ++misses_;
    {
      std::lock_guard lock(mu_);
      auto [it, first] = inflight_.try_emplace(key);
      it->second.push_back(std::move(done));
      if (!first) {
        ++coalesced_;
        Release(c, true);
        return;
      }
    }
    // Another process may be loading it: wait for its value (polling, as a lock holds no
    // queue) until the lock is ours, or load anyway once the lock's time is up.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(LockMs());
    while (true) {
      Reply locked = Run(c, {"SET", ns_ + "l:" + key, "1", "NX", "PX", std::to_string(LockMs())});
      if (!locked) break;
      const bool mine = locked->type == REDIS_REPLY_STATUS;
      // Checked after the lock too: the lock is free again once another process has stored.
      Reply v = Run(c, {"GET", ns_ + "v:" + key});
      if (v && v->type == REDIS_REPLY_STRING) {
        ++coalesced_;
        const std::string_view text(v->str, v->len);
        const size_t nl = text.find('\n');
        auto body = std::make_shared<const std::string>(text.substr(nl == std::string_view::npos ? text.size() : nl + 1));
        Release(c, !mine || Run(c, {"DEL", ns_ + "l:" + key}) != nullptr);
        return Finish(key, std::move(body), "");
      }
      if (mine || std::chrono::steady_clock::now() > give_up) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    Release(c, true);
    Load(key, std::move(tags), load, [this, key](Value v, const std::string& error) { Finish(key, std::move(v), error); });
  }

  void Invalidate(int64_t tag) override {
    redisContext* c = Acquire();
    Reply r = c ? Run(c, {"EVAL", kInvalidate, "1", ns_ + "t:" + std::to_string(tag), ns_}) : nullptr;
    if (r && r->type == REDIS_REPLY_INTEGER) invalidated_ += r->integer;
    Release(c, r != nullptr);
  }

  void Clear() override {
    redisContext* c = Acquire();
    Reply r = c ? Run(c, {"EVAL", kClear, "0", ns_}) : nullptr;
    if (r && r->type == REDIS_REPLY_INTEGER) invalidated_ += r->integer;
    Release(c, r != nullptr);
  }

  BodyCacheStats stats() const override {
    BodyCacheStats s;
    s.hits = hits_;
    s.stale = stale_;
    s.misses = misses_;
    s.coalesced = coalesced_;
    s.loads = loads_;
    s.invalidated = invalidated_;
    s.backend_errors = errors_;
    return s;
  }
  std::string name() const override { return "redis"; }

 private:
  int64_t LockMs() const { return std::max<int64_t>(1000, ttl_ms_); }

  redisContext* Connect() const {
    const timeval tv{1, 0};
    redisContext* c = redisConnectWithTimeout(host_.c_str(), port_, tv);
    if (!c || c->err) {
      if (c) redisFree(c);
      return nullptr;
    }
    redisSetTimeout(c, timeval{2, 0});
    if (db_ != 0) {
      Reply r(static_cast<redisReply*>(redisCommand(c, "SELECT %d", db_)));
      if (!r || r->type == REDIS_REPLY_ERROR) {
        redisFree(c);
        return nullptr;
      }
    }
    return c;
  }

  redisContext* Acquire() {
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        redisContext* c = idle_.back();
        idle_.pop_back();
        return c;
      }
    }
    redisContext* c = Connect();
    if (!c) ++errors_;
    return c;
  }

  void Release(redisContext* c, bool healthy) {
    if (!c) return;
    if (!healthy || c->err) {
      redisFree(c);
      return;
    }
    std::lock_guard lock(pool_mu_);
    idle_.push_back(c);
  }

  // nullptr when the call failed (the connection is then broken: Release(c, false)).
  Reply Run(redisContext* c, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply r(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!r || r->type == REDIS_REPLY_ERROR) {
      ++errors_;
      return nullptr;
    }
    return r;
  }

  // Redis failed: the answer comes from the loader, uncached.
  void Bypass(redisContext* c, const Loader& load, Done done) {
    Release(c, false);
    load([done = std::move(done)](std::string body, std::vector<int64_t>, const std::string& error) {
      if (!error.empty()) return done(nullptr, error);
      done(std::make_shared<const std::string>(std::move(body)), "");
    });
  }

  // Files the key under its known tags first (an invalidation during the load must bump its
  // generation), reads the generation, loads, and stores if it did not change.
  void Load(const std::string& key, std::vector<int64_t> tags, const Loader& load, Done done) {
    ++loads_;
    std::string generation = "0";
    if (redisContext* c = Acquire()) {
      bool ok = true;
      for (int64_t t : tags) {
        ok = ok && Run(c, {"SADD", ns_ + "t:" + std::to_string(t), key}) &&
             Run(c, {"PEXPIRE", ns_ + "t:" + std::to_string(t), std::to_string(keep_ms_)});
      }
      Reply g = ok ? Run(c, {"GET", ns_ + "g:" + key}) : nullptr;
      if (g && g->type == REDIS_REPLY_STRING) generation.assign(g->str, g->len);
      Release(c, g != nullptr);
    }
    load([this, key, tags = std::move(tags), generation, done = std::move(done)](std::string body, std::vector<int64_t> more,
                                                                                  const std::string& error) {
      redisContext* c = Acquire();
      if (error.empty() && c) {
        std::vector<std::string> args = {"EVAL", kStore, "2", ns_ + "v:" + key, ns_ + "g:" + key, generation,
                                         std::to_string(NowMs() + ttl_ms_) + "\n" + body, std::to_string(keep_ms_), key};
        for (int64_t t : tags) args.push_back(ns_ + "t:" + std::to_string(t));
        for (int64_t t : more) args.push_back(ns_ + "t:" + std::to_string(t));
        Reply stored = Run(c, args);
        Reply unlocked = stored ? Run(c, {"DEL", ns_ + "l:" + key}) : nullptr;
        Release(c, unlocked != nullptr);
      } else {
        Reply unlocked = c ? Run(c, {"DEL", ns_ + "l:" + key}) : nullptr;
        Release(c, unlocked != nullptr);
      }
      if (done) done(error.empty() ? std::make_shared<const std::string>(std::move(body)) : nullptr, error);
    });
  }

  void Finish(const std::string& key, Value v, const std::string& error) {
    std::vector<Done> waiters;
    {
      std::lock_guard lock(mu_);
      auto it = inflight_.find(key);
      if (it == inflight_.end()) return;
      waiters = std::move(it->second);
      inflight_.erase(it);
    }
    for (auto& w : waiters) w(v, error);
  }

  const std::string host_;
  const int port_, db_;
  const queries::CacheOptions o_;
  const std::string ns_;
  int64_t ttl_ms_ = 1000, keep_ms_ = 6000;
  std::mutex pool_mu_;
  std::vector<redisContext*> idle_;
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<Done>> inflight_;
  std::atomic<int64_t> hits_{0}, stale_{0}, misses_{0}, coalesced_{0}, loads_{0}, invalidated_{0}, errors_{0};
};

}  // namespace

std::unique_ptr<BodyCache> MakeBodyCache(const std::string& spec, queries::CacheOptions o, const std::string& ns) {
  if (spec == "memory") return std::make_unique<MemoryCache>(std::move(o));
  if (spec.rfind("redis://", 0) != 0) throw std::invalid_argument("a cache is memory or redis://host:port[/db], not '" + spec + "'");
  std::string rest = spec.substr(8);
  if (rest.find('@') != std::string::npos) throw std::invalid_argument("a Redis URL with a password is not taken yet (redis://host:port[/db])");
  int db = 0;
  if (const size_t slash = rest.find('/'); slash != std::string::npos) {
    const std::string d = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!d.empty()) {
      if (d.size() > 2 || d.find_first_not_of("0123456789") != std::string::npos) throw std::invalid_argument("bad Redis database '" + d + "'");
      db = std::stoi(d);
    }
  }
  const size_t colon = rest.rfind(':');
  const std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  const std::string port = colon == std::string::npos ? "6379" : rest.substr(colon + 1);
  if (host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    throw std::invalid_argument("bad Redis URL '" + spec + "' (redis://host:port[/db])");
  }
  return std::make_unique<RedisCache>(host, std::stoi(port), db, std::move(o), ns);
}

}  // namespace pmbench::api
