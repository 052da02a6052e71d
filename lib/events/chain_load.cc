#include "lib/events/chain_load.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <mutex>
#include <optional>
#include <string_view>
#include <random>
#include <stdexcept>
#include <thread>

#include "lib/chain/keypair.h"
#include "lib/chain/programs.h"
#include "lib/events/carrier.h"
#include "lib/events/notification.h"
#include "lib/stats/wall_clock.h"

namespace pmbench::events {

namespace {

enum class Action { kBet, kMarket, kVote, kApprove, kResolve, kClaim };

constexpr std::pair<std::string_view, Action> kActions[] = {
    {"bets", Action::kBet},         {"markets", Action::kMarket},         {"votes", Action::kVote},
    {"approvals", Action::kApprove}, {"resolutions", Action::kResolve}, {"claims", Action::kClaim}};

std::optional<Action> ActionNamed(std::string_view name) {
  for (const auto& [n, a] : kActions) {
    if (n == name) return a;
  }
  return std::nullopt;
}

constexpr uint64_t kLamportsPerSol = 1'000'000'000;
// The treasury is a System account: it must hold the rent-exempt minimum (890,880
// lamports for 0 bytes) before transfers smaller than that can reach it.
constexpr uint64_t kTreasuryFloor = 1'000'000;

int64_t Ns(double s) { return static_cast<int64_t>(s * 1e9); }

}  // namespace

const stats::LatencyHistogram& ChainKindReport::AtCommitment(const std::string& commitment) const {
  return commitment == "processed" ? processed : commitment == "confirmed" ? confirmed_at : finalized;
}

stats::LatencyHistogram ToCommitmentWithLosses(const ChainKindReport& k, const std::string& commitment,
                                               const load::KindResult& engine, std::chrono::steady_clock::time_point deadline) {
  stats::LatencyHistogram h = k.AtCommitment(commitment);
  h.Merge(engine.unanswered);
  for (const auto started : k.failed_starts) {
    h.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - started).count());
  }
  return h;
}

std::vector<std::pair<std::string, double>> ParseChainMix(const std::string& text) {
  std::vector<std::pair<std::string, double>> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const size_t colon = item.find(':');
    const std::string name = item.substr(0, colon);
    if (!ActionNamed(name)) {
      throw std::invalid_argument("mix: unknown kind '" + name + "' (bets, markets, votes, approvals, resolutions, claims)");
    }
    double w = 1;
    if (colon != std::string::npos) {
      size_t used = 0;
      try {
        w = std::stod(item.substr(colon + 1), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != item.size() - colon - 1 || !(w >= 0)) {
        throw std::invalid_argument("mix: bad weight in '" + item + "'");
      }
    }
    out.emplace_back(name, w);
    start = end + 1;
  }
  if (out.empty()) throw std::invalid_argument("mix is empty");
  return out;
}

struct ChainWorkload::Impl {
  ChainLoadOptions options;
  std::unique_ptr<chain::RpcClient> rpc;
  std::unique_ptr<chain::TxSender> sender;
  std::vector<chain::Keypair> wallets;
  std::unique_ptr<MemoCarrier> carrier;
  std::vector<Action> actions;  // by mix index

  mutable std::mutex mu;
  std::vector<ChainKindReport> reports;
  std::vector<std::string> confirmed_bets;
  std::vector<uint64_t> yes_pool, no_pool;
  uint64_t market_base = 0;
  std::atomic<int64_t> outstanding{0};

  void Say(const std::string& s) const {
    if (options.say) options.say(s);
  }

  // The instructions of mix entry `kind`, request `seq`, signed by wallet `w`; what they do
  // goes into `tx`.
  std::vector<chain::Instruction> Instructions(int kind, uint64_t seq, const chain::Keypair& w, ChainTxRecord& tx) {
    std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ULL + seq);
    const uint64_t market = options.first_market + rng() % options.markets;
    switch (actions[kind]) {
      case Action::kBet: {
        const size_t m = market - options.first_market;
        const uint8_t side = static_cast<uint8_t>(rng() % 2);
        const uint64_t amount = 10'000 + rng() % 990'000;
        BetPlaced e{market, w.public_key(), side, amount, 0, 0};
        {
          std::lock_guard lock(mu);  // the pools the program would report, as this run sees them
          (side ? yes_pool[m] : no_pool[m]) += amount;
          e.yes_pool = yes_pool[m];
          e.no_pool = no_pool[m];
        }
        tx.market_id = market, tx.side = side, tx.amount = amount;
        return carrier->PlaceBet(w.public_key(), e);
      }
      case Action::kMarket: {
        const MarketCreated e{market_base + seq, w.public_key(), static_cast<int64_t>(std::time(nullptr)) + 7 * 86400,
                              "Load market " + std::to_string(seq), "load"};
        tx.market_id = e.market_id;
        return carrier->CreateMarket(w.public_key(), e);
      }
      case Action::kVote:
      case Action::kApprove: {
        // The weight differs per request: two equal votes signed against one blockhash would
        // be one transaction.
        const uint8_t choice = actions[kind] == Action::kApprove ? 1 : static_cast<uint8_t>(rng() % 3);
        const VoteCast e{1 + rng() % options.proposals, w.public_key(), choice, 1 + seq};
        return carrier->CastVote(w.public_key(), e);
      }
      case Action::kResolve: {
        tx.market_id = options.first_market + seq % options.markets;  // each market in turn
        return carrier->ResolveMarket(w.public_key(), MarketResolved{tx.market_id, 1});
      }
      case Action::kClaim: {
        tx.market_id = market;
        return carrier->ClaimWinnings(w.public_key(), WinningsClaimed{market, w.public_key(), 1 + seq});
      }
    }
    return {};
  }

  void Record(int kind, const chain::TxOutcome& o, std::chrono::steady_clock::time_point started, ChainTxRecord& tx) {
    if (options.on_outcome) {
      tx.signature = o.signature;
      tx.ok = o.ok;
      // The outcome arrives as the sender sees the commitment: now is when it was reached
      // (confirmed_s counts from the first accepted send, not from the hand-over).
      tx.confirmed_ns = o.confirmed_s >= 0 ? stats::WallClockNs() : 0;
      options.on_outcome(tx);
    }
    std::lock_guard lock(mu);
    ChainKindReport& r = reports[kind];
    r.resends += o.resends;
    r.resigns += o.resigns;
    if (o.processed_s >= 0) r.processed.Record(Ns(o.processed_s));
    if (o.confirmed_s >= 0) r.confirmed_at.Record(Ns(o.confirmed_s));
    if (o.finalized_s >= 0) r.finalized.Record(Ns(o.finalized_s));
    if (o.ok) {
      ++r.confirmed;
      if (actions[kind] == Action::kBet) confirmed_bets.push_back(o.signature);
    } else {
      ++r.failed;
      ++r.reasons[o.error];
      // Landed with an on-chain error: its time to the commitment is already recorded.
      const std::string& level = options.sender.commitment;
      const double reached = level == "processed" ? o.processed_s : level == "confirmed" ? o.confirmed_s : o.finalized_s;
      if (reached < 0) r.failed_starts.push_back(started);
    }
  }

  void Fund() {
    const uint64_t lamports = static_cast<uint64_t>(options.airdrop_sol * kLamportsPerSol);
    std::vector<std::string> pending;
    if (!options.keypair_path.empty()) {
      wallets.push_back(chain::LoadKeypair(options.keypair_path));
      const uint64_t have = rpc->GetBalance(wallets[0].public_key());
      Say("wallet " + chain::ToBase58(wallets[0].public_key()) + " holds " + std::to_string(have / 1e9) + " SOL");
      if (have < kLamportsPerSol / 10) {
        try {
          pending.push_back(rpc->RequestAirdrop(wallets[0].public_key(), lamports));
        } catch (const chain::RpcError& e) {
          throw std::runtime_error("wallet " + chain::ToBase58(wallets[0].public_key()) + " holds " + std::to_string(have) +
                                   " lamports and the airdrop failed (" + e.what() + "): fund it first");
        }
      }
    } else {
      Say("funding " + std::to_string(options.wallets) + " fresh wallets with " + std::to_string(options.airdrop_sol) +
          " SOL each (airdrop)");
      for (int i = 0; i < options.wallets; ++i) {
        wallets.push_back(chain::Keypair::Generate());
        try {
          pending.push_back(rpc->RequestAirdrop(wallets.back().public_key(), lamports));
        } catch (const chain::RpcError& e) {
          throw std::runtime_error(std::string("airdrop refused (") + e.what() +
                                   "): on a public cluster pass --keypair with a funded wallet");
        }
      }
    }
    for (const auto& sig : pending) {
      if (!chain::WaitForCommitment(*rpc, sig, "confirmed", 60)) throw std::runtime_error("airdrop " + sig + " did not confirm in 60 s");
    }
    if (rpc->GetBalance(carrier->address()) < kTreasuryFloor) {
      Say("funding the treasury " + chain::ToBase58(carrier->address()));
      const auto bh = rpc->GetLatestBlockhash("confirmed");
      const chain::Transaction tx = chain::Sign(
          chain::CompileMessage(wallets[0].public_key(),
                                {chain::SystemTransfer(wallets[0].public_key(), carrier->address(), kTreasuryFloor)}, bh.blockhash),
          {&wallets[0].key()});
      rpc->SendTransaction(tx.Wire());
      if (!chain::WaitForCommitment(*rpc, tx.Id(), "confirmed", 60)) throw std::runtime_error("funding the treasury failed");
    }
  }
};

class ChainClient final : public load::Client {
 public:
  ChainClient(ChainWorkload::Impl& w, int index, std::shared_ptr<std::mutex> guard, std::shared_ptr<bool> alive)
      : w_(w), index_(index), guard_(std::move(guard)), alive_(std::move(alive)) {}
  ~ChainClient() override {
    std::lock_guard lock(*guard_);
    *alive_ = false;
  }
  void Open(std::function<void(std::string)> done) override { done(""); }
  void Start(int kind, uint64_t seq, load::Completion done) override {
    ChainWorkload::Impl& w = w_;
    const uint64_t who = w.options.wallet_per_client ? static_cast<uint64_t>(index_) : seq;
    const chain::Keypair& wallet = w.wallets[who % w.wallets.size()];
    {
      std::lock_guard lock(w.mu);
      ++w.reports[kind].submitted;
    }
    ++w.outstanding;
    const auto started = std::chrono::steady_clock::now();
    auto tx = std::make_shared<ChainTxRecord>();
    tx->kind = w.reports[kind].name;
    tx->sent_ns = stats::WallClockNs();
    auto ixs = std::make_shared<std::vector<chain::Instruction>>(w.Instructions(kind, seq, wallet, *tx));
    w.sender->Submit(
        [&wallet, ixs](const chain::Hash& bh) {
          return chain::Sign(chain::CompileMessage(wallet.public_key(), *ixs, bh), {&wallet.key()});
        },
        [&w, kind, started, tx, done = std::move(done), guard = guard_, alive = alive_](const chain::TxOutcome& o) {
          w.Record(kind, o, started, *tx);
          --w.outstanding;
          std::lock_guard lock(*guard);
          if (*alive) done(load::Outcome{o.ok, o.error});  // the engine may have finished
        });
  }

 private:
  ChainWorkload::Impl& w_;
  const int index_;
  std::shared_ptr<std::mutex> guard_;
  std::shared_ptr<bool> alive_;
};

ChainWorkload::ChainWorkload() : impl_(std::make_unique<Impl>()) {}
ChainWorkload::~ChainWorkload() { impl_->sender.reset(); }  // outcomes first, then the rest

std::unique_ptr<ChainWorkload> ChainWorkload::Prepare(ChainLoadOptions options) {
  if (options.markets == 0 || options.proposals == 0) throw std::invalid_argument("markets and proposals must be > 0");
  if (options.keypair_path.empty() && options.wallets < 1) throw std::invalid_argument("wallets must be >= 1");
  std::unique_ptr<ChainWorkload> w(new ChainWorkload());
  Impl& i = *w->impl_;
  if (options.treasury == Pubkey{}) options.treasury = DefaultProgram();
  i.options = std::move(options);
  i.rpc = std::make_unique<chain::RpcClient>(i.options.rpc);
  i.carrier = std::make_unique<MemoCarrier>(i.options.treasury);
  i.yes_pool.assign(i.options.markets, 0);
  i.no_pool.assign(i.options.markets, 0);
  // Market ids of this run's creations: apart from other runs' and from 1..markets.
  i.market_base = (static_cast<uint64_t>(std::time(nullptr)) % 1'000'000) * 1'000'000 + 1'000'000'000'000ULL;
  try {
    i.Say("slot " + std::to_string(i.rpc->GetSlot("processed")) + " on " + i.rpc->endpoints()[0].Display());
  } catch (const chain::RpcError& e) {
    throw std::runtime_error(std::string("RPC unreachable: ") + e.what());
  }
  i.Fund();
  i.sender = std::make_unique<chain::TxSender>(*i.rpc, i.options.sender);
  return w;
}

std::vector<load::RequestKind> ChainWorkload::Mix(const std::vector<std::pair<std::string, double>>& weights) {
  std::vector<load::RequestKind> mix;
  impl_->actions.clear();
  impl_->reports.clear();
  for (const auto& [name, weight] : weights) {
    const auto action = ActionNamed(name);
    if (!action) throw std::invalid_argument("unknown chain request kind '" + name + "'");
    impl_->actions.push_back(*action);
    mix.push_back({name, weight});
    impl_->reports.push_back({});
    impl_->reports.back().name = name;
  }
  return mix;
}

load::ClientFactory ChainWorkload::Clients() {
  return [this](boost::asio::io_context&, int index) {
    return std::make_unique<ChainClient>(*impl_, index, std::make_shared<std::mutex>(), std::make_shared<bool>(true));
  };
}

void ChainWorkload::Drain(double timeout_s) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                            std::chrono::duration<double>(timeout_s));
  while (impl_->outstanding > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // outcomes arrive from the sender's threads
  }
}

std::vector<ChainKindReport> ChainWorkload::Reports() const {
  std::lock_guard lock(impl_->mu);
  return impl_->reports;
}

chain::RpcStats ChainWorkload::RpcStats() const { return impl_->rpc->Stats(); }
chain::SenderStats ChainWorkload::SenderStats() const { return impl_->sender->Stats(); }
const Pubkey& ChainWorkload::treasury() const { return impl_->carrier->address(); }
chain::RpcClient& ChainWorkload::rpc() { return *impl_->rpc; }

std::vector<std::string> ChainWorkload::ConfirmedBetSignatures() const {
  std::lock_guard lock(impl_->mu);
  return impl_->confirmed_bets;
}

}  // namespace pmbench::events
