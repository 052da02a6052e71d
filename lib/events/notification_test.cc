#include "lib/events/notification.h"

#include <map>

#include <gtest/gtest.h>

#include "lib/base/base58.h"
#include "lib/base/base64.h"
#include "lib/events/carrier.h"
#include "lib/events/gen.h"

namespace pmbench::events {
namespace {

const std::string kSig = base::Base58Encode(std::vector<uint8_t>(64, 9));

Pubkey Program() {
  Pubkey p{};
  p.fill(5);
  return p;
}

std::string Notify(const std::vector<std::string>& logs, const std::string& err = "null",
                   const std::string& sig = kSig) {
  std::string s = R"({"jsonrpc":"2.0","method":"logsNotification","params":{"subscription":1,"result":{"context":{"slot":77},"value":{"signature":")" +
                  sig + R"(","err":)" + err + R"(,"logs":[)";
  for (size_t i = 0; i < logs.size(); ++i) s += (i ? ",\"" : "\"") + logs[i] + "\"";
  return s + "]}}}}";
}

std::string Data(const Event& e) { return "Program data: " + base::Base64Encode(EncodeEvent(e)); }

TEST(NotificationTest, MemoCarrierReadsOnlyTheMemoProgramsPmevtLogs) {
  const std::string M = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr", S = "11111111111111111111111111111111";
  const std::string P = base::Base58Encode(Program());
  Pubkey k{};
  k.fill(3);
  const BetPlaced bet{12, k, 1, 5000, 5000, 0};
  const std::string text = MemoText(bet);
  // As litesvm's runtime logs a transfer plus a memo.
  const std::vector<std::string> logs = {
      "Program " + S + " invoke [1]", "Program " + S + " success",
      "Program " + P + " invoke [1]", "Program log: " + text, Data(VoteCast{1, k, 0, 1}),  // not the memo program
      "Program " + P + " success",
      "Program " + M + " invoke [1]", "Program log: Memo (len " + std::to_string(text.size()) + ")",
      "Program log: " + text, "Program log: pmevtnot-an-event",
      "Program " + M + " consumed 287 of 202850 compute units", "Program " + M + " success",
  };
  NotificationParser memo(Program(), Carrier::kMemo);
  const ParsedLine p = memo.Parse(Notify(logs));
  ASSERT_TRUE(p.notification) << p.reject;
  ASSERT_EQ(p.notification->events.size(), 1u);
  EXPECT_EQ(std::get<BetPlaced>(p.notification->events[0]), bet);
  EXPECT_EQ(p.notification->foreign, 1u);  // the Program data line is not this carrier's
  // The default carrier ignores memos and takes the program's data.
  NotificationParser data(Program());
  const ParsedLine q = data.Parse(Notify(logs));
  ASSERT_TRUE(q.notification) << q.reject;
  ASSERT_EQ(q.notification->events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<VoteCast>(q.notification->events[0]));
  // A broken carrier is rejected, not skipped.
  const ParsedLine bad = memo.Parse(Notify({"Program " + M + " invoke [1]", "Program log: pmevt:%%%", "Program " + M + " success"}));
  EXPECT_EQ(bad.reject, "bad_base64");
  EXPECT_THROW(ParseCarrier("smoke-signals"), std::invalid_argument);
  EXPECT_EQ(ParseCarrier("memo"), Carrier::kMemo);
}

TEST(NotificationTest, InvokeStackDecidesWhoseDataItIs) {
  const std::string P = base::Base58Encode(Program()), F = "OtherProgram1111111111111111111111111111111";
  Pubkey k{};
  const std::vector<std::string> logs = {
      "Program " + P + " invoke [1]",
      Data(BetPlaced{1, k, 1, 10, 10, 0}),                 // platform, index 0
      "Program " + F + " invoke [2]",
      Data(BetPlaced{2, k, 1, 20, 20, 0}),                 // foreign: F is innermost
      "Program " + P + " invoke [3]",                      // F calls back into the platform
      Data(VoteCast{3, k, 0, 1}),                          // platform again, index 1
      "Program " + P + " consumed 100 of 1000 compute units",
      "Program " + P + " success",
      "Program data: AQID",                                // F again after the inner return
      "Program " + F + " success",
      "Program log: done",
      Data(MarketResolved{1, 1}),                          // platform, index 2
      "Program " + P + " success",
      Data(MarketResolved{9, 1}),                          // nobody running: foreign
  };
  NotificationParser parser(Program());
  const ParsedLine p = parser.Parse(Notify(logs));
  ASSERT_TRUE(p.notification.has_value()) << p.reject;
  const Notification& n = *p.notification;
  EXPECT_EQ(n.slot, 77u);
  EXPECT_EQ(n.signature, kSig);
  EXPECT_FALSE(n.failed);
  ASSERT_EQ(n.events.size(), 3u);
  EXPECT_EQ(std::get<BetPlaced>(n.events[0]).market_id, 1u);
  EXPECT_EQ(std::get<VoteCast>(n.events[1]).proposal_id, 3u);
  EXPECT_EQ(std::get<MarketResolved>(n.events[2]).market_id, 1u);
  EXPECT_EQ(n.foreign, 3u);
}

TEST(NotificationTest, FailedTransactionHasNoEvents) {
  const std::string P = base::Base58Encode(Program());
  Pubkey k{};
  NotificationParser parser(Program());
  const ParsedLine p = parser.Parse(Notify({"Program " + P + " invoke [1]", Data(BetPlaced{1, k, 1, 1, 1, 0}),
                                            "Program " + P + " failed: custom program error: 0x1"},
                                           R"({"InstructionError":[0,{"Custom":1}]})"));
  ASSERT_TRUE(p.notification.has_value());
  EXPECT_TRUE(p.notification->failed);
  EXPECT_TRUE(p.notification->events.empty());
}

TEST(NotificationTest, EveryRejectReason) {
  const std::string P = base::Base58Encode(Program());
  Pubkey k{};
  const std::string invoke = "Program " + P + " invoke [1]";
  NotificationParser parser(Program());
  auto reject = [&](const std::string& line) { return parser.Parse(line).reject; };
  EXPECT_EQ(reject("{not json"), "malformed_json");
  EXPECT_EQ(reject(R"({"jsonrpc":"2.0","result":1,"id":1})"), "not_notification");
  EXPECT_EQ(reject(Notify({}, "null", "abc0")), "bad_signature");
  EXPECT_EQ(reject(Notify({}, "null", base::Base58Encode(std::vector<uint8_t>(32, 1)))), "bad_signature");
  EXPECT_EQ(reject(Notify({invoke, "Program data: !!!!"})), "bad_base64");
  EXPECT_EQ(reject(Notify({invoke, "Program data: " + base::Base64Encode(std::string(8, 'z') + "x")})), "unknown_event");
  EXPECT_EQ(reject(Notify({invoke, "Program data: " + base::Base64Encode(EncodeEvent(BetPlaced{1, k, 1, 1, 1, 0}).substr(0, 9))})),
            "truncated_event");
  EXPECT_EQ(reject(Notify({invoke, Data(BetPlaced{1, k, 1, 1ULL << 63, 1, 0})})), "out_of_range");
}

TEST(NotificationTest, GeneratorLinesParseWithTheExpectedMix) {
  const auto lines = GenerateNotifications({.count = 3000, .markets = 20, .seed = 4, .dup_ratio = 0.05,
                                            .reorder_window = 16, .malformed_ratio = 0.02,
                                            .failed_tx_ratio = 0.03, .foreign_ratio = 0.05});
  ASSERT_EQ(lines.size(), 3000u);
  NotificationParser parser(DefaultProgram());
  std::map<std::string, int> rejects;
  int failed = 0, foreign = 0, bets = 0, created = 0;
  for (const auto& l : lines) {
    const ParsedLine p = parser.Parse(l);
    if (!p.notification) {
      ++rejects[p.reject];
      continue;
    }
    failed += p.notification->failed;
    foreign += static_cast<int>(p.notification->foreign);
    for (const auto& e : p.notification->events) {
      bets += std::holds_alternative<BetPlaced>(e);
      created += std::holds_alternative<MarketCreated>(e);
    }
  }
  EXPECT_GE(rejects.size(), 4u);
  EXPECT_GT(failed, 0);
  EXPECT_GT(foreign, 0);
  EXPECT_GT(bets, 1500);  // bets dominate
  EXPECT_GT(created, 10);
}

}  // namespace
}  // namespace pmbench::events
