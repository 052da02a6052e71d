#include "lib/chain/rpc.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "lib/chain/testing/local_ledger.h"
#include "lib/chain/keypair.h"
#include "lib/chain/programs.h"
#include "lib/chain/signature_watcher.h"

namespace pmbench::chain {
namespace {

using test::LocalLedger;
using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point t) { return std::chrono::duration<double>(SteadyClock::now() - t).count(); }

RpcOptions Unlimited(std::vector<std::string> urls) {
  return {.endpoints = std::move(urls), .requests_per_10s = 0, .sends_per_10s = 0, .backoff_base_ms = 10};
}

nlohmann::json LedgerStats(RpcClient& rpc) { return nlohmann::json::parse(rpc.Call("pmbench_stats", "[]")); }

TEST(Endpoint, ParsesAndNeverShowsPathsOrKeys) {
  const Endpoint e = ParseEndpoint("https://devnet.example.com/v1/?api-key=SECRET");
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.port, "443");
  EXPECT_EQ(e.target, "/v1/?api-key=SECRET");
  EXPECT_EQ(e.Display(), "https://devnet.example.com:443");
  EXPECT_EQ(ParseEndpoint("http://127.0.0.1:8899").target, "/");
  EXPECT_EQ(ParseEndpoint("http://[::1]:8899").host, "::1");
  EXPECT_THROW(ParseEndpoint("ftp://x"), std::invalid_argument);
  EXPECT_THROW(ParseEndpoint("http://127.0.0.1:99999"), std::invalid_argument);
  EXPECT_THROW(ParseEndpoint("http://user:pw@host"), std::invalid_argument);
  EXPECT_THROW(ParseEndpoint("http://:80"), std::invalid_argument);
  const Endpoint w = ParseWsEndpoint("wss://devnet.example.com/?api-key=SECRET");
  EXPECT_TRUE(w.tls);
  EXPECT_EQ(w.port, "443");
  EXPECT_EQ(w.target, "/?api-key=SECRET");
  EXPECT_FALSE(ParseWsEndpoint("ws://127.0.0.1:8900").tls);
  EXPECT_EQ(ParseWsEndpoint("ws://127.0.0.1:8900").port, "8900");
  try {
    ParseWsEndpoint("https://devnet.example.com/?api-key=SECRET");
    ADD_FAILURE();
  } catch (const std::invalid_argument& x) {
    EXPECT_EQ(std::string(x.what()).find("SECRET"), std::string::npos) << x.what();
  }
  EXPECT_THROW(ParseWsEndpoint("ws://127.0.0.1:0"), std::invalid_argument);
}

TEST(Rpc, TransferLandsAndMovesLamports) {
  LocalLedger ledger({"--slot-ms", "50"});
  RpcClient rpc(Unlimited(ledger.urls()));
  const Keypair payer = Keypair::Generate(), to = Keypair::Generate();
  ASSERT_TRUE(WaitForCommitment(rpc, rpc.RequestAirdrop(payer.public_key(), 2'000'000'000), "confirmed", 10));
  EXPECT_EQ(rpc.GetBalance(payer.public_key()), 2'000'000'000u);
  const LatestBlockhash bh = rpc.GetLatestBlockhash("confirmed");
  EXPECT_GT(bh.last_valid_block_height, bh.slot);
  const Transaction tx =
      Sign(CompileMessage(payer.public_key(), {SystemTransfer(payer.public_key(), to.public_key(), 1'000'000), Memo("pmbench test")},
                          bh.blockhash),
           {&payer.key()});
  EXPECT_EQ(rpc.SendTransaction(tx.Wire()), tx.Id());
  ASSERT_TRUE(WaitForCommitment(rpc, tx.Id(), "confirmed", 10));
  EXPECT_EQ(rpc.GetBalance(to.public_key()), 1'000'000u);
  EXPECT_EQ(rpc.GetBalance(payer.public_key()), 2'000'000'000u - 1'000'000 - 5'000);  // one signature's fee
  const auto logs = rpc.GetTransaction(tx.Id());
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->err_json, "null");
  EXPECT_NE(std::find(logs->logs.begin(), logs->logs.end(), "Program log: pmbench test"), logs->logs.end());
  const auto history = rpc.GetSignaturesForAddress(to.public_key(), "", "");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].signature, tx.Id());
  // Re-sending the same bytes is harmless: the signature is the transaction's identity.
  EXPECT_EQ(rpc.SendTransaction(tx.Wire()), tx.Id());
  EXPECT_EQ(LedgerStats(rpc)["landed"], 1);
}

TEST(Rpc, LedgerRejectsABadSignatureAndMovesNothing) {
  LocalLedger ledger({"--slot-ms", "50"});
  RpcClient rpc(Unlimited(ledger.urls()));
  const Keypair payer = Keypair::Generate(), to = Keypair::Generate();
  ASSERT_TRUE(WaitForCommitment(rpc, rpc.RequestAirdrop(payer.public_key(), 1'000'000'000), "confirmed", 10));
  const Transaction tx = Sign(
      CompileMessage(payer.public_key(), {SystemTransfer(payer.public_key(), to.public_key(), 5'000'000)},
                     rpc.GetLatestBlockhash("confirmed").blockhash),
      {&payer.key()});
  for (size_t flip : {size_t{1 + 10}, size_t{1 + 64 + 40}}) {  // in the signature; in the message
    std::string wire = tx.Wire();
    wire[flip] = static_cast<char>(wire[flip] ^ 0x01);
    try {
      rpc.SendTransaction(wire);
      ADD_FAILURE() << "a tampered transaction was accepted (byte " << flip << ")";
    } catch (const RpcError& e) {
      EXPECT_EQ(e.err, "SignatureFailure") << e.what();
      EXPECT_EQ(e.code, -32003);
    }
  }
  EXPECT_EQ(rpc.GetBalance(to.public_key()), 0u);
  EXPECT_EQ(rpc.GetBalance(payer.public_key()), 1'000'000'000u);
  // A stale blockhash is refused too.
  Hash unknown{};
  unknown[0] = 7;
  const Transaction stale = Sign(CompileMessage(payer.public_key(), {Memo("x")}, unknown), {&payer.key()});
  try {
    rpc.SendTransaction(stale.Wire());
    ADD_FAILURE() << "unknown blockhash accepted";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.err, "BlockhashNotFound");
  }
}

TEST(Rpc, Absorbs429sWithRetries) {
  LocalLedger ledger({"--slot-ms", "50", "--fault-429", "0.3", "--retry-after", "0"});
  RpcClient rpc(Unlimited(ledger.urls()));
  for (int i = 0; i < 60; ++i) EXPECT_NO_THROW(rpc.GetSlot("processed"));
  const RpcStats s = rpc.Stats();
  EXPECT_GT(s.http_429, 5u);
  EXPECT_EQ(s.retries, s.http_429);  // each 429 answered by exactly one more attempt
  EXPECT_EQ(s.methods.at("getSlot").calls, 60u);
  EXPECT_EQ(s.methods.at("getSlot").errors, 0u);
  EXPECT_EQ(LedgerStats(rpc)["http429"].get<uint64_t>(), s.http_429);
}

TEST(Rpc, HonoursRetryAfterThenGivesUp) {
  LocalLedger ledger({"--fault-429", "1", "--retry-after", "1"});
  RpcOptions o = Unlimited(ledger.urls());
  o.max_attempts = 3;
  RpcClient rpc(o);
  const auto t0 = SteadyClock::now();
  try {
    rpc.GetSlot("processed");
    ADD_FAILURE() << "no error after 3 answers of 429";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code, RpcError::kUnavailable);
    EXPECT_NE(std::string(e.what()).find("HTTP 429"), std::string::npos) << e.what();
  }
  EXPECT_GE(Seconds(t0), 1.9);  // two waits of Retry-After: 1, not the 10 ms backoff
  EXPECT_EQ(rpc.Stats().http_429, 3u);
}

TEST(Rpc, FailsOverFromADeadEndpointAndSetsItAside) {
  LocalLedger ledger({"--slot-ms", "50"});
  // A port nothing listens on: bind, read the port, close.
  const std::string dead = test::UnusedLoopbackUrl();
  RpcClient rpc(Unlimited({dead, ledger.url()}));
  for (int i = 0; i < 20; ++i) EXPECT_NO_THROW(rpc.GetSlot("processed"));
  const RpcStats s = rpc.Stats();
  EXPECT_EQ(s.transport_errors, 1u);  // then skipped for down_s
  EXPECT_EQ(s.failovers, 1u);
  EXPECT_EQ(s.methods.at("getSlot").errors, 0u);
}

TEST(Rpc, AllEndpointsDownIsOneClearError) {
  const std::string dead = test::UnusedLoopbackUrl();
  RpcOptions o = Unlimited({dead});
  o.max_attempts = 2;
  RpcClient rpc(o);
  try {
    rpc.GetSlot("processed");
    ADD_FAILURE();
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code, RpcError::kUnavailable);
    EXPECT_NE(std::string(e.what()).find("connect"), std::string::npos) << e.what();
  }
}

TEST(Rpc, SpeaksTlsAndRefusesACertificateItCannotVerify) {
  test::SelfSignedCert tls;
  LocalLedger ledger({"--slot-ms", "50", "--tls-cert", tls.cert, "--tls-key", tls.key});
  ASSERT_EQ(ledger.url().rfind("https://", 0), 0u) << ledger.url();
  RpcOptions o = Unlimited(ledger.urls());
  o.max_attempts = 1;
  const std::string wss = "wss://" + ledger.url().substr(8);
  std::atomic<int> doubted{0};
  SignatureWatcher doubting(wss, "confirmed", [&](const std::string&, const std::string&) { ++doubted; });
  {
    RpcClient untrusted(o);  // the system's CAs do not know this certificate
    try {
      untrusted.GetSlot("processed");
      ADD_FAILURE() << "an unverifiable certificate was accepted";
    } catch (const RpcError& e) {
      EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
    }
  }
  const test::TrustOnly trust(tls.cert);
  RpcClient trusted(o);
  for (int i = 0; i < 3; ++i) EXPECT_NO_THROW(trusted.GetSlot("processed"));  // one TLS connection, kept alive
  const Keypair payer = Keypair::Generate();
  EXPECT_TRUE(WaitForCommitment(trusted, trusted.RequestAirdrop(payer.public_key(), 1'000'000'000), "confirmed", 10));
  EXPECT_EQ(trusted.GetBalance(payer.public_key()), 1'000'000'000u);

  // Subscriptions over wss://: a watcher trusting the certificate is told of a signature; the
  // one made before it was trusted never connects (the first bounds the wait).
  std::mutex mu;
  std::map<std::string, std::string> told;  // signature -> err
  SignatureWatcher secure(wss, "confirmed", [&](const std::string& sig, const std::string& err) {
    std::lock_guard lock(mu);
    told[sig] = err;
  });
  auto told_of = [&](const std::string& sig) {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mu);
        if (told.count(sig)) return told[sig] == "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  const std::string first = trusted.RequestAirdrop(payer.public_key(), 1'000'000);
  secure.Watch(first);
  doubting.Watch(first);
  ASSERT_TRUE(told_of(first)) << "no signatureNotification over wss://";
  EXPECT_EQ(doubted, 0);
  EXPECT_EQ(doubting.notifications(), 0u);

  // The secure socket dropped while its read was pending: a new TLS connection, subscribed
  // again to what is watched.
  trusted.Call("pmbench_disconnect", R"([{"refuseMs":300}])");
  const std::string second = trusted.RequestAirdrop(payer.public_key(), 2'000'000);
  secure.Watch(second);
  ASSERT_TRUE(told_of(second)) << "no notification after the drop";
  EXPECT_GE(secure.reconnects(), 1u);
}

TEST(Rpc, TokenBucketsThrottleAndSecondEndpointAddsCapacity) {
  LocalLedger ledger({"--slot-ms", "50"}, 2);
  RpcOptions one = Unlimited({ledger.urls()[0]});
  one.requests_per_10s = 20;  // a burst of 20, then 2 per second
  RpcClient single(one);
  auto t0 = SteadyClock::now();
  for (int i = 0; i < 24; ++i) single.GetSlot("processed");
  EXPECT_GE(Seconds(t0), 1.8);  // 4 calls past the burst at 2/s
  EXPECT_GT(single.Stats().throttle_waits, 0u);

  RpcOptions two = one;
  two.endpoints = ledger.urls();
  RpcClient both(two);
  t0 = SteadyClock::now();
  for (int i = 0; i < 40; ++i) both.GetSlot("processed");
  EXPECT_LT(Seconds(t0), 1.5);  // 20 tokens on each endpoint: no wait
  EXPECT_EQ(both.Stats().throttle_waits, 0u);
}

}  // namespace
}  // namespace pmbench::chain
