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

ScreenLatency ScreenRecorder::Bets(const std::vector<CommittedBet>& committed,
                                   const std::map<int64_t, std::pair<int64_t, int64_t>>& pools_before,
                                   const std::unordered_map<std::string, int64_t>& sent_ns, int64_t deadline_ns) const {
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
  ScreenLatency out;
  for (const CommittedBet& b : committed) {
    auto& [yes, no] = sums[b.market];
    (b.yes ? yes : no) += b.amount;
    const auto sent = sent_ns.find(b.signature);
    if (sent == sent_ns.end()) continue;
    const int watchers = Subscribers("market:" + std::to_string(b.market));
    if (watchers == 0) {
      ++out.unwatched;
      continue;
    }
    const Update* first = nullptr;
    for (const Update* u : shown[b.market]) {
      if (u->yes >= yes && u->no >= no) {
        first = u;
        break;
      }
    }
    if (first && first->receipts >= watchers) {
      ++out.complete;
      out.latency.Record(first->last_ns - sent->second);
    } else {
      ++out.incomplete;
      out.latency.Record(deadline_ns - sent->second);
    }
  }
  return out;
}

ScreenLatency ScreenRecorder::NewMarkets(const std::vector<std::pair<int64_t, int64_t>>& created, int64_t deadline_ns) const {
  std::lock_guard lock(mu_);
  ScreenLatency out;
  const int watchers = Subscribers("markets");
  for (const auto& [id, sent] : created) {
    if (watchers == 0) {
      ++out.unwatched;
      continue;
    }
    const Update* first = nullptr;
    if (const auto it = updates_.find({true, id}); it != updates_.end()) {
      for (const auto& [_, u] : it->second) {
        if (!first || u.first_ns < first->first_ns) first = &u;
      }
    }
    if (first && first->receipts >= watchers) {
      ++out.complete;
      out.latency.Record(first->last_ns - sent);
    } else {
      ++out.incomplete;
      out.latency.Record(deadline_ns - sent);
    }
  }
  return out;
}

}  // namespace pmbench::scenario
