#include "lib/realtime/hub.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace pmbench::realtime {
namespace {

// Channel names and reasons come from IsValidChannel or from us: no JSON escaping needed
// beyond quotes and backslashes, which reasons may hold.
void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  out += '"';
}

std::string Head(std::string_view op, std::string_view channel) {
  std::string s = R"({"op":")";
  s += op;
  s += R"(","channel":)";
  AppendQuoted(s, channel);
  return s;
}

}  // namespace

bool IsValidChannel(std::string_view channel) {
  if (channel == "markets") return true;
  constexpr std::string_view kMarket = "market:";
  if (!channel.starts_with(kMarket) || channel.size() == kMarket.size() || channel.size() > kMarket.size() + 18) {
    return false;
  }
  const std::string_view id = channel.substr(kMarket.size());
  if (id[0] == '0') return false;
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  return ec == std::errc() && p == id.data() + id.size() && v > 0;
}

std::string SubscribedFrame(std::string_view channel, uint64_t seq) {
  return Head("subscribed", channel) + R"(,"seq":)" + std::to_string(seq) + "}";
}

std::string UpdateFrame(std::string_view channel, uint64_t seq, int64_t ts_ns, std::string_view data) {
  std::string s = Head("update", channel);
  s += R"(,"seq":)";
  s += std::to_string(seq);
  s += R"(,"ts_ns":)";
  s += std::to_string(ts_ns);
  s += R"(,"data":)";
  s += data;
  s += '}';
  return s;
}

std::string ResetFrame(std::string_view channel, uint64_t seq) {
  return Head("reset", channel) + R"(,"seq":)" + std::to_string(seq) + "}";
}

std::string ErrorFrame(std::string_view reason) {
  std::string s = R"({"op":"error","reason":)";
  AppendQuoted(s, reason);
  return s + "}";
}

Hub::Channel& Hub::Get(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& c = channels_[name];
  if (!c) c = std::make_unique<Channel>();
  return *c;
}

Hub::Subscribed Hub::Subscribe(const std::string& channel, std::optional<uint64_t> since,
                               const std::shared_ptr<Subscriber>& s) {
  if (!IsValidChannel(channel)) throw std::invalid_argument("unknown channel");
  Channel& c = Get(channel);
  Subscribed out;
  std::lock_guard lock(c.mu);
  // Registered and answered under the channel's lock: an update published meanwhile is
  // either in the replay or sent after it, never both and never neither.
  if (std::none_of(c.subscribers.begin(), c.subscribers.end(), [&](const auto& x) { return x.first == s.get(); })) {
    c.subscribers.emplace_back(s.get(), s);
  }
  out.frames.push_back(std::make_shared<const Message>(Message{SubscribedFrame(channel, c.seq)}));
  if (since && *since > c.seq) {  // a seq from another life of the server: start over
    out.frames.push_back(std::make_shared<const Message>(Message{ResetFrame(channel, c.seq)}));
  } else if (since && *since < c.seq) {
    const uint64_t oldest = c.ring.empty() ? c.seq + 1 : c.ring.front().first;
    if (*since + 1 < oldest) {
      out.frames.push_back(std::make_shared<const Message>(Message{ResetFrame(channel, c.seq)}));
    } else {
      for (const auto& [seq, frame] : c.ring) {
        if (seq > *since) out.frames.push_back(frame);
      }
    }
  }
  return out;
}

bool Hub::Unsubscribe(const std::string& channel, const Subscriber* s) {
  Channel* c = nullptr;
  {
    std::lock_guard lock(mu_);
    const auto it = channels_.find(channel);
    if (it == channels_.end()) return false;
    c = it->second.get();  // channels are never removed: the pointer outlives the lock
  }
  std::lock_guard lock(c->mu);
  return std::erase_if(c->subscribers, [&](const auto& x) { return x.first == s; }) > 0;
}

void Hub::Leave(const Subscriber* s) {
  std::vector<Channel*> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, c] : channels_) all.push_back(c.get());
  }
  for (Channel* c : all) {
    std::lock_guard lock(c->mu);
    std::erase_if(c->subscribers, [&](const auto& x) { return x.first == s; });
  }
}

size_t Hub::Publish(const std::string& channel, std::string_view data, int64_t ts_ns) {
  Channel& c = Get(channel);
  std::vector<std::shared_ptr<Subscriber>> targets;
  Frame frame;
  {
    std::lock_guard lock(c.mu);
    const uint64_t seq = ++c.seq;
    frame = std::make_shared<const Message>(Message{UpdateFrame(channel, seq, ts_ns, data), ts_ns});
    c.ring.emplace_back(seq, frame);
    if (c.ring.size() > o_.replay) c.ring.pop_front();
    targets.reserve(c.subscribers.size());
    for (const auto& [raw, weak] : c.subscribers) {
      if (auto s = weak.lock()) targets.push_back(std::move(s));
    }
    // Sent under the lock too: Send only queues, and a subscribe answered concurrently
    // must not see this update overtake its replay.
    for (const auto& s : targets) s->Send(frame);
  }
  ++published_;
  delivered_ += static_cast<int64_t>(targets.size());
  return targets.size();
}

void Hub::ResetAll() {
  std::vector<std::pair<std::string, Channel*>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, c] : channels_) all.emplace_back(name, c.get());
  }
  for (auto& [name, c] : all) {
    std::lock_guard lock(c->mu);
    const Frame frame = std::make_shared<const Message>(Message{ResetFrame(name, c->seq)});
    c->ring.clear();  // what it held may be older than what was missed
    for (const auto& [raw, weak] : c->subscribers) {
      if (auto s = weak.lock()) s->Send(frame);
    }
  }
}

HubStats Hub::stats() const {
  HubStats st;
  std::lock_guard lock(mu_);
  for (const auto& [name, c] : channels_) {
    std::lock_guard clock(c->mu);
    st.subscriptions += static_cast<int64_t>(c->subscribers.size());
    ++st.channels;
  }
  st.published = published_.load();
  st.delivered = delivered_.load();
  return st;
}

}  // namespace pmbench::realtime
