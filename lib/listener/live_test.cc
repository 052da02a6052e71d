#include "lib/chain/logs_source.h"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "lib/chain/testing/local_ledger.h"
#include "lib/chain/keypair.h"
#include "lib/chain/sender.h"
#include "lib/db/testing/test_schema.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/events/carrier.h"
#include "lib/listener/ingest.h"
#include "lib/listener/sink.h"

namespace pmbench::listener {

using events::BetPlaced;
using events::Carrier;
using events::MemoCarrier;
using chain::LogsSource;

namespace {

using chain::test::LocalLedger;
using db::test::TestSchema;

// Bets sent through the memo carrier and confirmed; returns their signatures.
class Bettor {
 public:
  explicit Bettor(const std::string& url)
      : rpc_({.endpoints = {url}, .requests_per_10s = 0, .sends_per_10s = 0}),
        sender_(rpc_, {.commitment = "confirmed", .poll_s = 0.05}),
        carrier_(treasury_.public_key()) {
    for (const auto* k : {&payer_, &treasury_}) {
      if (!chain::WaitForCommitment(rpc_, rpc_.RequestAirdrop(k->public_key(), 10'000'000'000), "confirmed", 10)) {
        throw std::runtime_error("airdrop did not land");
      }
    }
  }
  std::vector<std::string> Bet(int n) {
    std::vector<std::promise<std::string>> done(n);
    for (int i = 0; i < n; ++i) {
      const BetPlaced e{static_cast<uint64_t>(1 + next_ % 3), payer_.public_key(), static_cast<uint8_t>(next_ % 2),
                        1000 + next_, 0, 0};
      ++next_;
      sender_.Submit(
          [this, e](const chain::Hash& bh) {
            return chain::Sign(chain::CompileMessage(payer_.public_key(), carrier_.PlaceBet(payer_.public_key(), e), bh),
                               {&payer_.key()});
          },
          [&done, i](const chain::TxOutcome& o) { done[i].set_value(o.ok ? o.signature : "failed: " + o.error); });
    }
    std::vector<std::string> sigs;
    for (auto& d : done) sigs.push_back(d.get_future().get());
    return sigs;
  }
  chain::RpcClient& rpc() { return rpc_; }
  const chain::PublicKey& treasury() const { return treasury_.public_key(); }

 private:
  chain::Keypair payer_ = chain::Keypair::Generate(), treasury_ = chain::Keypair::Generate();
  chain::RpcClient rpc_;
  chain::TxSender sender_;
  MemoCarrier carrier_;
  uint64_t next_ = 0;
};

std::set<std::string> Stored(const TestSchema& schema) {
  db::PgSession s(schema.url());
  const std::string all = s.QueryValue("SELECT coalesce(string_agg(tx_signature, ',' ORDER BY tx_signature), '') FROM \"" +
                                       schema.name() + "\".bets");
  std::set<std::string> out;
  for (size_t p = 0; p < all.size();) {
    const size_t c = all.find(',', p);
    out.insert(all.substr(p, c - p));
    p = c == std::string::npos ? all.size() : c + 1;
  }
  return out;
}

void WaitStored(const TestSchema& schema, size_t n) {
  for (int i = 0; i < 200 && Stored(schema).size() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

struct Listener {
  LogsSource source;
  IngestSummary summary;
  std::thread thread;
  Listener(const TestSchema& schema, const std::string& ws, const chain::PublicKey& treasury, const std::string& resume_after)
      : source({.url = ws, .mentions = treasury, .resume_after = resume_after}) {
    thread = std::thread([this, &schema, treasury] {
      summary = Ingest([this](std::string& l, Clock::time_point& t) { return source.Next(l, t); },
                       {.url = schema.url(), .schema = schema.name(), .source = "live", .batch_size = 100, .linger_ms = 20,
                        .continue_numbering = true, .program = treasury, .carrier = Carrier::kMemo});
    });
  }
  ~Listener() {
    source.Stop();
    thread.join();
  }
};

std::string WsUrl(const std::string& http) { return "ws://" + http.substr(7); }

TEST(LogsSourceTest, LiveBetsReachTheDatabaseAndNothingIsLostAcrossADisconnect) {
  TestSchema schema("live");
  db::Migrate(schema.url(), schema.name());
  LocalLedger ledger({"--slot-ms", "50"});
  Bettor bettor(ledger.url());
  std::vector<std::string> sent;
  {
    Listener listener(schema, WsUrl(ledger.url()), bettor.treasury(), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscribed
    for (auto& s : bettor.Bet(10)) sent.push_back(s);
    // The socket drops and stays refused while 10 more bets land.
    bettor.rpc().Call("pmbench_disconnect", R"([{"refuseMs":1500}])");
    for (auto& s : bettor.Bet(10)) sent.push_back(s);
    for (auto& s : bettor.Bet(5)) sent.push_back(s);
    WaitStored(schema, sent.size());
    const auto st = listener.source.Stats();
    EXPECT_GE(st.reconnects, 1u);
    EXPECT_GT(st.caught_up, 0u);
  }
  const std::set<std::string> want(sent.begin(), sent.end());
  ASSERT_EQ(want.size(), 25u);
  for (const auto& s : sent) ASSERT_EQ(s.rfind("failed", 0), std::string::npos) << s;
  EXPECT_EQ(Stored(schema), want);

  // A later run resumes from the checkpoint: bets made while no listener ran are caught up.
  for (auto& s : bettor.Bet(5)) sent.push_back(s);
  {
    db::PgSession session(schema.url());
    const std::string last = EventSink(SinkKind::kCopy, schema.name(), "live").LastSignature(session);
    ASSERT_FALSE(last.empty());
    Listener listener(schema, WsUrl(ledger.url()), bettor.treasury(), last);
    WaitStored(schema, sent.size());
  }
  EXPECT_EQ(Stored(schema), std::set<std::string>(sent.begin(), sent.end()));
  db::PgSession s(schema.url());
  EXPECT_EQ(s.QueryValue("SELECT sum(amount) FROM \"" + schema.name() + "\".bets"),
            std::to_string(30 * 1000 + 29 * 30 / 2));  // amounts 1000 + 0..29: each bet once
}

TEST(LogsSourceTest, ListensOverWssAndCatchesUpOverHttps) {
  TestSchema schema("live_tls");
  db::Migrate(schema.url(), schema.name());
  chain::test::SelfSignedCert tls;
  LocalLedger ledger({"--slot-ms", "50", "--tls-cert", tls.cert, "--tls-key", tls.key});
  const chain::test::TrustOnly trust(tls.cert);
  Bettor bettor(ledger.url());
  std::vector<std::string> sent;
  {
    Listener listener(schema, "wss://" + ledger.url().substr(8), bettor.treasury(), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscribed
    for (auto& s : bettor.Bet(5)) sent.push_back(s);
    bettor.rpc().Call("pmbench_disconnect", R"([{"refuseMs":1000}])");
    for (auto& s : bettor.Bet(5)) sent.push_back(s);  // while refused: caught up over https://
    WaitStored(schema, sent.size());
    const auto st = listener.source.Stats();
    EXPECT_GE(st.reconnects, 1u);
    EXPECT_GT(st.caught_up, 0u);
  }
  for (const auto& s : sent) ASSERT_EQ(s.rfind("failed", 0), std::string::npos) << s;
  EXPECT_EQ(Stored(schema), std::set<std::string>(sent.begin(), sent.end()));
}

TEST(LogsSourceTest, RefusesBadUrlsAndGivesUpOnADeadNode) {
  EXPECT_THROW(LogsSource({.url = "http://127.0.0.1:1"}), std::invalid_argument);
  EXPECT_THROW(LogsSource({.url = "ws://127.0.0.1:99999"}), std::invalid_argument);
  const std::string dead = WsUrl(chain::test::UnusedLoopbackUrl());
  LogsSource src({.url = dead, .give_up_after_s = 0.5});
  std::string line;
  Clock::time_point t;
  EXPECT_THROW(src.Next(line, t), std::runtime_error);
}

}  // namespace
}  // namespace pmbench::listener
