#include "lib/chain/sender.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "lib/chain/testing/local_ledger.h"
#include "lib/chain/keypair.h"
#include "lib/chain/programs.h"

namespace pmbench::chain {
namespace {

using test::LocalLedger;

RpcOptions Unlimited(std::vector<std::string> urls) {
  return {.endpoints = std::move(urls), .requests_per_10s = 0, .sends_per_10s = 0, .backoff_base_ms = 10};
}

nlohmann::json LedgerStats(RpcClient& rpc) { return nlohmann::json::parse(rpc.Call("pmbench_stats", "[]")); }

struct Funded {
  Keypair payer = Keypair::Generate();
  explicit Funded(RpcClient& rpc) {
    if (!WaitForCommitment(rpc, rpc.RequestAirdrop(payer.public_key(), 10'000'000'000), "confirmed", 10)) {
      throw std::runtime_error("airdrop did not land");
    }
  }
};

// Submits `n` transfers to fresh accounts and waits for every outcome; records every
// signature each build made.
struct Batch {
  std::mutex mu;
  std::vector<TxOutcome> outcomes;
  std::vector<std::vector<std::string>> built;

  void Run(TxSender& sender, const Keypair& payer, int n, uint64_t lamports = 1'000'000) {
    built.resize(n);
    std::vector<std::promise<void>> done(n);
    for (int i = 0; i < n; ++i) {
      const PublicKey to = Keypair::Generate().public_key();
      sender.Submit(
          [&, i, to](const Hash& bh) {
            Transaction tx = Sign(CompileMessage(payer.public_key(), {SystemTransfer(payer.public_key(), to, lamports)}, bh),
                                  {&payer.key()});
            std::lock_guard lock(mu);
            built[i].push_back(tx.Id());
            return tx;
          },
          [&, i](const TxOutcome& o) {
            {
              std::lock_guard lock(mu);
              outcomes.push_back(o);
            }
            done[i].set_value();
          });
    }
    for (auto& d : done) {
      ASSERT_EQ(d.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
    }
  }
};

TEST(Sender, ConfirmsEachTransactionOnce) {
  LocalLedger ledger({"--slot-ms", "50"});
  RpcClient rpc(Unlimited(ledger.urls()));
  Funded f(rpc);
  TxSender sender(rpc, {.commitment = "confirmed", .poll_s = 0.05});
  Batch b;
  b.Run(sender, f.payer, 30);
  std::set<std::string> sigs;
  for (const auto& o : b.outcomes) {
    EXPECT_TRUE(o.ok) << o.error;
    EXPECT_GE(o.processed_s, 0);
    EXPECT_GE(o.confirmed_s, o.processed_s);
    EXPECT_LT(o.finalized_s, 0);  // not waited for
    sigs.insert(o.signature);
  }
  EXPECT_EQ(sigs.size(), 30u);
  EXPECT_EQ(LedgerStats(rpc)["landed"], 30);
  EXPECT_EQ(sender.Stats().confirmed, 30u);
  EXPECT_EQ(sender.in_flight(), 0u);
}

TEST(Sender, ResendsDroppedTransactionsUntilTheyLandWithoutDoubleCounting) {
  LocalLedger ledger({"--slot-ms", "50", "--drop", "0.5", "--seed", "7"});
  RpcClient rpc(Unlimited(ledger.urls()));
  Funded f(rpc);
  TxSender sender(rpc, {.commitment = "confirmed", .poll_s = 0.05, .resend_s = 0.1});
  Batch b;
  b.Run(sender, f.payer, 30);
  int resends = 0;
  for (const auto& o : b.outcomes) {
    EXPECT_TRUE(o.ok) << o.error;
    EXPECT_EQ(o.resigns, 0);
    resends += o.resends;
  }
  EXPECT_GT(resends, 5);
  const auto s = LedgerStats(rpc);
  EXPECT_EQ(s["landed"], 30);        // each once, though sent more often
  EXPECT_GT(s["dropped"], 5);
  EXPECT_EQ(rpc.GetBalance(f.payer.public_key()), 10'000'000'000u - 30 * (1'000'000 + 5'000));
}

TEST(Sender, ResignsWithAFreshBlockhashOnlyAfterExpiry) {
  // Every send is dropped until the test lifts it; blockhashes live 10 slots (0.5 s).
  LocalLedger ledger({"--slot-ms", "50", "--blockhash-expiry", "10", "--drop", "1"});
  RpcClient rpc(Unlimited(ledger.urls()));
  Funded f(rpc);
  TxSender sender(rpc, {.commitment = "confirmed", .poll_s = 0.05, .resend_s = 0.1, .max_resigns = 20});
  std::thread lift([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // let some blockhashes expire
    rpc.Call("pmbench_configure", R"([{"drop":0}])");
  });
  Batch b;
  b.Run(sender, f.payer, 3);
  lift.join();
  for (size_t i = 0; i < b.outcomes.size(); ++i) {
    const TxOutcome& o = b.outcomes[i];
    EXPECT_TRUE(o.ok) << o.error;
    EXPECT_GE(o.resigns, 1);
  }
  for (const auto& sigs : b.built) {
    ASSERT_GE(sigs.size(), 2u);
    // Only the last signature landed; the expired ones never can.
    const auto st = rpc.GetSignatureStatuses(sigs);
    for (size_t j = 0; j + 1 < sigs.size(); ++j) EXPECT_FALSE(st[j]) << "expired signature " << j << " landed";
    EXPECT_TRUE(st.back());
  }
  EXPECT_EQ(LedgerStats(rpc)["landed"], 3);
}

std::string WsUrl(const std::string& http) { return "ws://" + http.substr(7); }

TEST(Sender, ConfirmsBySignatureSubscribeWithoutWaitingForThePoll) {
  LocalLedger ledger({"--slot-ms", "50"});
  RpcClient rpc(Unlimited(ledger.urls()));
  Funded f(rpc);
  // The first poll comes after 5 s: anything confirmed sooner was told by the subscription.
  TxSender sender(rpc, {.commitment = "confirmed", .poll_s = 5, .subscribe_url = WsUrl(ledger.url())});
  Batch b;
  b.Run(sender, f.payer, 10);
  for (const auto& o : b.outcomes) {
    EXPECT_TRUE(o.ok) << o.error;
    EXPECT_GT(o.confirmed_s, 0);
    EXPECT_LT(o.confirmed_s, 2.0);
  }
  EXPECT_EQ(sender.Stats().notified, 10u);
  EXPECT_EQ(LedgerStats(rpc)["landed"], 10);
}

TEST(Sender, SubscribesAgainAfterALostSocket) {
  LocalLedger ledger({"--slot-ms", "50"});
  RpcClient rpc(Unlimited(ledger.urls()));
  Funded f(rpc);
  TxSender sender(rpc, {.commitment = "confirmed", .poll_s = 5, .subscribe_url = WsUrl(ledger.url())});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // connected
  // Sockets dropped and refused for 0.5 s while the transactions land: the watcher must
  // reconnect, subscribe again, and be told of what already happened.
  rpc.Call("pmbench_disconnect", R"([{"refuseMs":500}])");
  Batch b;
  b.Run(sender, f.payer, 5);
  for (const auto& o : b.outcomes) {
    EXPECT_TRUE(o.ok) << o.error;
    EXPECT_LT(o.confirmed_s, 4.0);
  }
  EXPECT_EQ(sender.Stats().notified, 5u);
}

TEST(Sender, ReportsTheChainsReasonForARejectedTransaction) {
  LocalLedger ledger({"--slot-ms", "50"});
  RpcClient rpc(Unlimited(ledger.urls()));
  Funded f(rpc);
  TxSender sender(rpc, {.commitment = "confirmed", .poll_s = 0.05});
  Batch b;
  b.Run(sender, f.payer, 1, 50'000'000'000);  // more than the payer has
  ASSERT_EQ(b.outcomes.size(), 1u);
  EXPECT_FALSE(b.outcomes[0].ok);
  EXPECT_EQ(b.outcomes[0].error, "InstructionError");
  EXPECT_EQ(sender.Stats().failed, 1u);
}

TEST(Sender, AnUnreachableClusterFailsTransactionsInsteadOfHanging) {
  const std::string dead = test::UnusedLoopbackUrl();
  RpcOptions o = Unlimited({dead});
  o.max_attempts = 2;
  RpcClient rpc(o);
  TxSender sender(rpc, {});
  const Keypair payer = Keypair::Generate();
  Batch b;
  b.Run(sender, payer, 2);
  ASSERT_EQ(b.outcomes.size(), 2u);
  for (const auto& out : b.outcomes) EXPECT_EQ(out.error, "rpc_unavailable");
}

}  // namespace
}  // namespace pmbench::chain
