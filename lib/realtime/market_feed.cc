#include "lib/realtime/market_feed.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/db/change_stream.h"
#include "lib/stats/wall_clock.h"

namespace pmbench::realtime {

namespace {

constexpr std::string_view kBulkLoadMessage = "message: transactional: 1 prefix: pmbench.bulk_load,";

bool Eat(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

}  // namespace

std::optional<MarketChange> ParseMarketChange(std::string_view line, std::string_view schema) {
  // test_decoding: table <schema>.markets: INSERT|UPDATE: [old-key: … new-tuple: ]
  // name[type]:value …, a text value in single quotes with '' for a quote.
  if (!Eat(line, "table ")) return std::nullopt;
  if (!Eat(line, std::string(schema) + ".markets: ") && !Eat(line, "\"" + std::string(schema) + "\".markets: ")) {
    return std::nullopt;
  }
  if (!Eat(line, "INSERT: ") && !Eat(line, "UPDATE: ")) return std::nullopt;
  if (const size_t at = line.find("new-tuple: "); at != std::string_view::npos) line.remove_prefix(at + 11);
  std::optional<int64_t> id, yes, no, volume;
  std::optional<std::string> status;
  while (!line.empty()) {
    const size_t open = line.find('[');
    const size_t close = line.find("]:", open);
    if (open == std::string_view::npos || close == std::string_view::npos) return std::nullopt;
    const std::string_view name = line.substr(0, open);
    line.remove_prefix(close + 2);
    std::string value;
    if (Eat(line, "'")) {
      for (;;) {
        if (line.empty()) return std::nullopt;  // unterminated
        if (Eat(line, "''")) {
          value += '\'';
        } else if (Eat(line, "'")) {
          break;
        } else {
          value += line.front();
          line.remove_prefix(1);
        }
      }
    } else {
      const size_t end = std::min(line.find(' '), line.size());
      value = line.substr(0, end);
      line.remove_prefix(end);
    }
    Eat(line, " ");
    const auto number = [&](std::optional<int64_t>& out) {
      int64_t v = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec == std::errc() && p == value.data() + value.size()) out = v;
    };
    if (name == "id") number(id);
    if (name == "yes_pool") number(yes);
    if (name == "no_pool") number(no);
    if (name == "volume") number(volume);
    if (name == "status") status = value;
  }
  if (!id || !yes || !no || !volume) return std::nullopt;
  const double odds = *yes + *no == 0 ? 0.5 : static_cast<double>(*yes) / static_cast<double>(*yes + *no);
  char buf[200];
  std::snprintf(buf, sizeof buf, R"({"id":%lld,"yes_pool":%lld,"no_pool":%lld,"odds_yes":%.6f,"volume":%lld)",
                static_cast<long long>(*id), static_cast<long long>(*yes), static_cast<long long>(*no), odds,
                static_cast<long long>(*volume));
  std::string data = buf;
  if (status) data += ",\"status\":" + nlohmann::json(*status).dump();
  return MarketChange{*id, data + "}"};
}

void MarketFeed::Start() {
  if (thread_.joinable()) return;
  std::unique_ptr<db::ChangeStream> first;
  try {
    first = std::make_unique<db::ChangeStream>(url_);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot follow market changes: ") + e.what());
  }
  stop_ = false;
  connected_ = true;
  thread_ = std::thread([this, c = std::move(first)]() mutable { Loop(std::move(c)); });
}

void MarketFeed::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void MarketFeed::Loop(std::unique_ptr<db::ChangeStream> c) {
  auto backoff = std::chrono::milliseconds(50);
  bool bulk = false;  // in a transaction that said it is a bulk load (the seed): nobody watches it row by row
  const auto publish = [&](std::string_view line) {
    // test_decoding writes a transactional message before its transaction's BEGIN.
    if (line == "COMMIT") {
      bulk = false;
      return;
    }
    if (line.starts_with(kBulkLoadMessage)) {
      bulk = true;
      return;
    }
    if (bulk) return;
    if (const auto change = ParseMarketChange(line, schema_)) {
      ++notifications_;
      const int64_t ts = stats::WallClockNs();
      hub_.Publish("market:" + std::to_string(change->id), change->data, ts);
      hub_.Publish("markets", change->data, ts);
    }
  };
  while (!stop_) {
    if (!c) {
      try {
        c = std::make_unique<db::ChangeStream>(url_);
      } catch (const std::exception&) {
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      backoff = std::chrono::milliseconds(50);
      ++reconnects_;
      connected_ = true;
      bulk = false;
      hub_.ResetAll();  // whatever changed while we were away was not published
    }
    if (!c->Poll(100, publish)) {  // wakes every 100 ms to notice Stop()
      connected_ = false;
      c.reset();
    }
  }
  connected_ = false;
}

}  // namespace pmbench::realtime
