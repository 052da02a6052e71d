#include "lib/scenario/screen.h"

#include <algorithm>
#include <tuple>

#include "lib/realtime/ws_load.h"

namespace pmbench::scenario {
namespace {

std::string StringField(std::string_view data, std::string_view key) {
  std::string k = "\"";
  k += key;
  k += "\":\"";
  const auto at = data.find(k);
  if (at == std::string_view::npos) return "";
  const auto from = at + k.size();
  const auto to = data.find('"', from);
  return std::string(data.substr(from, to == std::string_view::npos ? 0 : to - from));
}

}  // namespace

ScreenRecorder::ScreenRecorder(std::map<std::string, int> subscribers) : subscribers_(std::move(subscribers)) {}

int ScreenRecorder::Subscribers(const std::string& channel) const {
  const auto it = subscribers_.find(channel);
  return it == subscribers_.end() ? 0 : it->second;
}

void ScreenRecorder::Receipt(std::string_view channel, std::string_view data, int64_t wall_ns) {
  const int64_t id = realtime::UpdateIntField(data, "id");
  const int64_t yes = realtime::UpdateIntField(data, "yes_pool"), no = realtime::UpdateIntField(data, "no_pool");
  std::string status = StringField(data, "status");
  const bool all = channel == "markets";
  std::lock_guard lock(mu_);
  ++receipts_;
  Update& u = updates_[{all, id}][{yes, no, std::move(status)}];
  u.yes = yes;
  u.no = no;
  u.first_ns = u.receipts ? std::min(u.first_ns, wall_ns) : wall_ns;
  u.last_ns = std::max(u.last_ns, wall_ns);
  ++u.receipts;
}

int64_t ScreenRecorder::receipts() const {
  std::lock_guard lock(mu_);
  return receipts_;
}

std::unordered_map<std::string, int64_t> ScreenRecorder::BetScreens(
    const std::vector<CommittedBet>& committed, const std::map<int64_t, std::pair<int64_t, int64_t>>& pools_before) const {
  std::lock_guard lock(mu_);
  // Each market's updates in the order they showed pools: by size, then by time (a status
  // change repeats the pools after them).
  std::map<int64_t, std::vector<const Update*>> shown;
  for (const auto& [key, updates] : updates_) {
    if (key.first) continue;  // "markets" carries every market: the market's own channel decides
    auto& v = shown[key.second];
    for (const auto& [_, u] : updates) v.push_back(&u);
    std::sort(v.begin(), v.end(), [](const Update* a, const Update* b) {
      return std::tie(a->yes, a->no, a->first_ns) < std::tie(b->yes, b->no, b->first_ns);
    });
  }
  std::map<int64_t, std::pair<int64_t, int64_t>> sums = pools_before;
  std::unordered_map<std::string, int64_t> out;
  for (const CommittedBet& b : committed) {
    auto& [yes, no] = sums[b.market];
    (b.yes ? yes : no) += b.amount;
    const int watchers = Subscribers("market:" + std::to_string(b.market));
    if (watchers == 0) continue;
    const Update* first = nullptr;
    for (const Update* u : shown[b.market]) {
      if (u->yes >= yes && u->no >= no) {
        first = u;
        break;
      }
    }
    out[b.signature] = first && first->receipts >= watchers ? first->last_ns : kNever;
  }
  return out;
}

std::map<int64_t, int64_t> ScreenRecorder::MarketScreens(const std::vector<int64_t>& ids) const {
  std::lock_guard lock(mu_);
  std::map<int64_t, int64_t> out;
  const int watchers = Subscribers("markets");
  if (watchers == 0) return out;
  for (const int64_t id : ids) {
    const Update* first = nullptr;
    if (const auto it = updates_.find({true, id}); it != updates_.end()) {
      for (const auto& [_, u] : it->second) {
        if (!first || u.first_ns < first->first_ns) first = &u;
      }
    }
    out[id] = first && first->receipts >= watchers ? first->last_ns : kNever;
  }
  return out;
}

void ScreenLatency::Add(std::optional<int64_t> screen_ns, int64_t sent_ns, int64_t deadline_ns) {
  if (!screen_ns) {
    ++unwatched;
  } else if (*screen_ns == ScreenRecorder::kNever) {
    ++incomplete;
    latency.Record(deadline_ns - sent_ns);
  } else {
    ++complete;
    latency.Record(*screen_ns - sent_ns);
  }
}

ScreenLatency ScreenRecorder::Bets(const std::vector<CommittedBet>& committed,
                                   const std::map<int64_t, std::pair<int64_t, int64_t>>& pools_before,
                                   const std::unordered_map<std::string, int64_t>& sent_ns, int64_t deadline_ns) const {
  const auto screens = BetScreens(committed, pools_before);
  ScreenLatency out;
  for (const CommittedBet& b : committed) {
    const auto sent = sent_ns.find(b.signature);
    if (sent == sent_ns.end()) continue;
    const auto shown = screens.find(b.signature);
    out.Add(shown == screens.end() ? std::nullopt : std::optional<int64_t>(shown->second), sent->second, deadline_ns);
  }
  return out;
}

ScreenLatency ScreenRecorder::NewMarkets(const std::vector<std::pair<int64_t, int64_t>>& created, int64_t deadline_ns) const {
  std::vector<int64_t> ids;
  for (const auto& [id, _] : created) ids.push_back(id);
  const auto screens = MarketScreens(ids);
  ScreenLatency out;
  for (const auto& [id, sent] : created) {
    const auto shown = screens.find(id);
    out.Add(shown == screens.end() ? std::nullopt : std::optional<int64_t>(shown->second), sent, deadline_ns);
  }
  return out;
}

}  // namespace pmbench::scenario
