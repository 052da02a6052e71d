#include "lib/events/gen.h"

#include <random>
#include <stdexcept>

#include "lib/base/base58.h"
#include "lib/base/base64.h"
#include "lib/events/anchor.h"
#include "lib/events/notification.h"

namespace pmbench::events {
namespace {

template <size_t N>
std::array<uint8_t, N> RandomBytes(std::mt19937_64& rng) {
  std::array<uint8_t, N> b;
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

constexpr const char* kForeign = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
constexpr std::array<const char*, 5> kCategories = {"politics", "sports", "crypto", "economy", "science"};

std::string Line(uint64_t slot, const std::string& signature, bool failed,
                 const std::vector<std::string>& logs) {
  std::string s = R"({"jsonrpc":"2.0","method":"logsNotification","params":{"subscription":1,"result":{"context":{"slot":)" +
                  std::to_string(slot) + R"(},"value":{"signature":")" + signature + R"(","err":)" +
                  (failed ? R"({"InstructionError":[0,{"Custom":6001}]})" : "null") + R"(,"logs":[)";
  for (size_t i = 0; i < logs.size(); ++i) s += (i ? ",\"" : "\"") + logs[i] + "\"";
  return s + "]}}}}";
}

}  // namespace

std::vector<std::string> GenerateNotifications(const EventGenSpec& spec) {
  for (double r : {spec.dup_ratio, spec.malformed_ratio, spec.failed_tx_ratio, spec.foreign_ratio}) {
    if (!(r >= 0 && r <= 1)) throw std::invalid_argument("ratios must be in [0, 1]");
  }
  if (spec.markets == 0) throw std::invalid_argument("--markets must be at least 1");
  const std::string program = spec.program.empty() ? DefaultProgramId() : spec.program;
  std::mt19937_64 rng(spec.seed);
  std::bernoulli_distribution dup(spec.dup_ratio), malformed(spec.malformed_ratio),
      failed(spec.failed_tx_ratio), foreign(spec.foreign_ratio);
  std::vector<Pubkey> wallets;
  for (int i = 0; i < 500; ++i) wallets.push_back(RandomBytes<32>(rng));
  std::vector<uint64_t> yes_pool(spec.markets + 1, 0), no_pool(spec.markets + 1, 0);
  std::vector<bool> resolved(spec.markets + 1, false);

  std::vector<std::string> lines;
  uint64_t slot = 380'000'000, created = 0, malformed_seen = 0;
  while (lines.size() < spec.count) {
    if (!lines.empty() && dup(rng)) {  // a reconnect re-delivers a recent line
      lines.push_back(lines[lines.size() - 1 - rng() % std::min<size_t>(lines.size(), 50)]);
      continue;
    }
    slot += 1 + rng() % 3;
    const std::string signature = base::Base58Encode(RandomBytes<64>(rng));
    std::vector<Event> events;
    const int n_events = rng() % 10 == 0 ? 2 + static_cast<int>(rng() % 2) : 1;
    for (int e = 0; e < n_events; ++e) {
      const uint64_t roll = rng() % 100;
      const uint64_t market = 1 + rng() % std::max<uint64_t>(created, 1);
      if (created < spec.markets) {  // markets first, in slot order
        ++created;
        events.push_back(MarketCreated{created, wallets[rng() % wallets.size()],
                                       static_cast<int64_t>(1767225600 + created * 3600),
                                       "Will market #" + std::to_string(created) + " resolve yes?",
                                       kCategories[rng() % kCategories.size()]});
      } else if (roll < 80) {
        const uint8_t side = static_cast<uint8_t>(rng() % 2);
        const uint64_t amount = 10'000'000 + rng() % 10'000'000'000ULL;
        (side ? yes_pool : no_pool)[market] += amount;
        events.push_back(BetPlaced{market, wallets[rng() % wallets.size()], side, amount,
                                   yes_pool[market], no_pool[market]});
      } else if (roll < 90) {
        events.push_back(VoteCast{1 + rng() % 20, wallets[rng() % wallets.size()],
                                  static_cast<uint8_t>(rng() % 3), 1 + rng() % 1'000'000});
      } else if (roll < 95 || resolved[market]) {
        events.push_back(WinningsClaimed{market, wallets[rng() % wallets.size()], rng() % 5'000'000'000ULL});
      } else {
        resolved[market] = true;
        events.push_back(MarketResolved{market, static_cast<uint8_t>(rng() % 3)});
      }
    }
    std::vector<std::string> logs = {"Program " + program + " invoke [1]", "Program log: Instruction: Process"};
    std::vector<std::string> data;
    for (const Event& e : events) data.push_back(base::Base64Encode(EncodeEvent(e)));
    if (malformed(rng)) {  // one kind of bad line after another
      switch (malformed_seen++ % 5) {
        case 0: lines.push_back(Line(slot, signature, false, logs).substr(0, 60)); continue;
        case 1: data[0] = "not*base64"; break;
        case 2: data[0] = base::Base64Encode(std::string(8, '\x7f') + "payload"); break;
        case 3: data[0] = base::Base64Encode(EncodeEvent(events[0]).substr(0, 12)); break;
        default: lines.push_back(R"({"jsonrpc":"2.0","result":1,"id":1})"); continue;
      }
    }
    for (size_t i = 0; i < data.size(); ++i) {
      logs.push_back("Program data: " + data[i]);
      if (i == 0 && foreign(rng)) {  // a CPI into another program that logs data too
        logs.push_back(std::string("Program ") + kForeign + " invoke [2]");
        logs.push_back("Program data: " + base::Base64Encode(std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8)));
        logs.push_back(std::string("Program ") + kForeign + " consumed 1200 of 190000 compute units");
        logs.push_back(std::string("Program ") + kForeign + " success");
      }
    }
    const bool fails = failed(rng);
    logs.push_back("Program " + program + " consumed 5231 of 200000 compute units");
    logs.push_back("Program " + program + (fails ? " failed: custom program error: 0x1771" : " success"));
    lines.push_back(Line(slot, signature, fails, logs));
  }
  // Out of order within windows of `reorder_window` lines, as several RPC nodes deliver.
  if (spec.reorder_window > 1) {
    for (size_t begin = 0; begin < lines.size(); begin += spec.reorder_window) {
      const size_t end = std::min(lines.size(), begin + spec.reorder_window);
      for (size_t i = end - 1; i > begin; --i) std::swap(lines[i], lines[begin + rng() % (i - begin + 1)]);
    }
  }
  return lines;
}

}  // namespace pmbench::events
