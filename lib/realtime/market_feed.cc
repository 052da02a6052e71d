#include "lib/realtime/market_feed.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lib/db/channel_listener.h"
#include "lib/stats/wall_clock.h"

namespace pmbench::realtime {

std::optional<MarketChange> ParseMarketChange(std::string_view payload, std::string_view schema) {
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || j.value("schema", "") != schema) return std::nullopt;
  const auto id = j.find("id"), yes = j.find("yes_pool"), no = j.find("no_pool"), volume = j.find("volume");
  if (id == j.end() || yes == j.end() || no == j.end() || volume == j.end() || !id->is_number_integer() ||
      !yes->is_number_integer() || !no->is_number_integer() || !volume->is_number_integer()) {
    return std::nullopt;
  }
  const int64_t y = yes->get<int64_t>(), n = no->get<int64_t>();
  const double odds = y + n == 0 ? 0.5 : static_cast<double>(y) / static_cast<double>(y + n);
  char buf[200];
  std::snprintf(buf, sizeof buf, R"({"id":%lld,"yes_pool":%lld,"no_pool":%lld,"odds_yes":%.6f,"volume":%lld)",
                static_cast<long long>(id->get<int64_t>()), static_cast<long long>(y), static_cast<long long>(n), odds,
                static_cast<long long>(volume->get<int64_t>()));
  std::string data = buf;
  // Since migration 006: new and settled markets notify too, and say their status.
  if (const auto status = j.find("status"); status != j.end() && status->is_string()) {
    data += ",\"status\":" + status->dump();
  }
  return MarketChange{id->get<int64_t>(), data + "}"};
}

void MarketFeed::Start() {
  if (thread_.joinable()) return;
  std::unique_ptr<db::ChannelListener> first;
  try {
    first = std::make_unique<db::ChannelListener>(url_, std::string(kMarketNotifyChannel));
    first->ProveHeard();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot LISTEN for market changes: ") + e.what());
  }
  stop_ = false;
  connected_ = true;
  thread_ = std::thread([this, c = std::move(first)]() mutable { Loop(std::move(c)); });
}

void MarketFeed::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void MarketFeed::Loop(std::unique_ptr<db::ChannelListener> c) {
  auto backoff = std::chrono::milliseconds(50);
  const auto publish = [this](const char* payload) {
    ++notifications_;
    if (const auto change = ParseMarketChange(payload, schema_)) {
      const int64_t ts = stats::WallClockNs();
      hub_.Publish("market:" + std::to_string(change->id), change->data, ts);
      hub_.Publish("markets", change->data, ts);
    }
  };
  while (!stop_) {
    if (!c) {
      try {
        c = std::make_unique<db::ChannelListener>(url_, std::string(kMarketNotifyChannel));
      } catch (const std::exception&) {
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      backoff = std::chrono::milliseconds(50);
      ++reconnects_;
      connected_ = true;
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
