#include "lib/chain/sender.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "lib/chain/signature_watcher.h"

namespace pmbench::chain {

using SteadyClock = std::chrono::steady_clock;

namespace {

double Since(SteadyClock::time_point t) { return std::chrono::duration<double>(SteadyClock::now() - t).count(); }

struct Entry {
  TxSender::Build build;
  TxSender::Done done;
  std::string wire, signature;
  uint64_t last_valid = 0;
  SteadyClock::time_point first_sent{}, last_sent{};
  bool sent_once = false;
  TxOutcome outcome;
};

}  // namespace

struct TxSender::Impl {
  RpcClient& rpc;
  SenderOptions options;
  int target_rank;

  mutable std::mutex mu;
  std::condition_variable work_cv, poll_cv;
  std::deque<std::function<void()>> jobs;
  std::map<std::string, std::shared_ptr<Entry>> pending;  // by signature
  size_t building = 0;                                    // submitted, not yet pending
  bool stopping = false;
  SenderStats stats;
  std::vector<std::thread> workers;
  std::thread poller;
  std::unique_ptr<SignatureWatcher> watcher;

  std::mutex bh_mu;
  LatestBlockhash blockhash;
  SteadyClock::time_point blockhash_at{};
  bool have_blockhash = false;

  Impl(RpcClient& r, SenderOptions o) : rpc(r), options(std::move(o)), target_rank(CommitmentRank(options.commitment)) {
    if (target_rank < 0) throw std::invalid_argument("commitment must be processed, confirmed or finalized");
    if (!options.subscribe_url.empty()) {
      watcher = std::make_unique<SignatureWatcher>(options.subscribe_url, options.commitment,
                                                   [this](const std::string& sig, const std::string& err) { OnNotified(sig, err); });
    }
    for (int i = 0; i < std::max(1, options.workers); ++i) workers.emplace_back([this] { Work(); });
    poller = std::thread([this] { Poll(); });
  }

  void Post(std::function<void()> job) {
    {
      std::lock_guard lock(mu);
      jobs.push_back(std::move(job));
    }
    work_cv.notify_one();
  }

  void Work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu);
        work_cv.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job();
    }
  }

  LatestBlockhash Blockhash(bool force) {
    std::lock_guard lock(bh_mu);
    if (force || !have_blockhash || Since(blockhash_at) > options.blockhash_refresh_s) {
      blockhash = rpc.GetLatestBlockhash("confirmed");
      blockhash_at = SteadyClock::now();
      have_blockhash = true;
    }
    return blockhash;
  }

  void Finish(const std::shared_ptr<Entry>& e, bool ok, std::string error) {
    e->outcome.ok = ok;
    e->outcome.error = std::move(error);
    e->outcome.signature = e->signature;
    {
      std::lock_guard lock(mu);
      ok ? ++stats.confirmed : ++stats.failed;
    }
    e->done(e->outcome);
  }

  // Builds against a (fresh, when `force`) blockhash and sends; on success the entry is pending.
  void SendNew(const std::shared_ptr<Entry>& e, bool force) {
    for (;;) {
      try {
        const LatestBlockhash bh = Blockhash(force);
        const Transaction tx = e->build(bh.blockhash);
        e->wire = tx.Wire();
        e->signature = tx.Id();
        e->last_valid = bh.last_valid_block_height;
        bool duplicate;
        {
          std::lock_guard lock(mu);
          duplicate = pending.count(e->signature) > 0;
        }
        if (duplicate) {  // the same bytes twice are one transaction: it would be counted twice
          Abort(e, "duplicate_transaction");
          return;
        }
        const std::string sig = rpc.SendTransaction(e->wire);
        if (sig != e->signature) {
          Abort(e, "signature_mismatch");
          return;
        }
        const auto now = SteadyClock::now();
        if (!e->sent_once) e->first_sent = now;
        e->sent_once = true;
        e->last_sent = now;
        {
          std::lock_guard lock(mu);
          --building;
          ++stats.sent;
          pending[e->signature] = e;
        }
        if (watcher) watcher->Watch(e->signature);
        return;
      } catch (const RpcError& err) {
        if (err.err == "BlockhashNotFound" && e->outcome.resigns < options.max_resigns) {
          ++e->outcome.resigns;  // our cached blockhash was too old for this node
          std::lock_guard lock(mu);
          ++stats.resigns;
          force = true;
          continue;
        }
        Abort(e, !err.err.empty() ? err.err : err.code == RpcError::kUnavailable ? "rpc_unavailable" : "rpc_error");
        return;
      } catch (const std::exception& ex) {
        Abort(e, std::string("build_failed: ") + ex.what());
        return;
      }
    }
  }

  void Abort(const std::shared_ptr<Entry>& e, std::string error) {
    {
      std::lock_guard lock(mu);
      --building;
    }
    Finish(e, false, std::move(error));
  }

  void Resend(const std::string& wire) {
    try {
      rpc.SendTransaction(wire);
    } catch (const RpcError&) {
      // The poller decides: the status, or the block height past the blockhash's validity.
    }
  }

  void Poll() {
    const auto period = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(options.poll_s));
    for (;;) {
      std::vector<std::shared_ptr<Entry>> batch;
      {
        std::unique_lock lock(mu);
        poll_cv.wait_for(lock, period, [&] { return stopping; });
        if (stopping) return;
        for (auto& [sig, e] : pending) batch.push_back(e);
        if (!batch.empty()) ++stats.status_polls;
      }
      if (batch.empty()) continue;
      try {
        PollOnce(batch);
      } catch (const std::exception&) {
        // The RPC is unavailable for now (retries spent): try again next period.
      }
    }
  }

  void PollOnce(const std::vector<std::shared_ptr<Entry>>& batch) {
    // Height first: a signature still unknown after the height passed its blockhash's last
    // valid height can never land.
    const uint64_t height = rpc.GetBlockHeight("confirmed");
    std::vector<std::string> sigs;
    for (const auto& e : batch) sigs.push_back(e->signature);
    const auto statuses = rpc.GetSignatureStatuses(sigs);
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto& e = batch[i];
      const auto& s = statuses[i];
      enum { kWait, kOk, kFail, kResign, kResend } action = kWait;
      std::string err, wire;
      {
        // An entry is changed only while it is pending and under the lock: the signature
        // watcher may have finished it since the batch was taken.
        std::lock_guard lock(mu);
        const auto it = pending.find(e->signature);
        if (it == pending.end() || it->second != e) continue;
        if (s) {
          const int rank = CommitmentRank(s->confirmation_status);
          const double t = Since(e->first_sent);
          if (rank >= 0 && e->outcome.processed_s < 0) e->outcome.processed_s = t;
          if (rank >= 1 && e->outcome.confirmed_s < 0) e->outcome.confirmed_s = t;
          if (rank >= 2 && e->outcome.finalized_s < 0) e->outcome.finalized_s = t;
          if (!s->err.empty()) {
            action = kFail;
            err = s->err;
          } else if (rank >= target_rank) {
            action = kOk;
          }
        } else if (height > e->last_valid) {
          if (e->outcome.resigns >= options.max_resigns) {
            action = kFail;
            err = "expired";
          } else {
            action = kResign;
            ++e->outcome.resigns;
            ++stats.resigns;
            ++building;
          }
        } else if (Since(e->last_sent) >= options.resend_s) {
          action = kResend;
          e->last_sent = SteadyClock::now();
          ++e->outcome.resends;
          ++stats.resends;
          wire = e->wire;
        }
        if (action == kOk || action == kFail || action == kResign) pending.erase(it);
      }
      switch (action) {
        case kOk: Finish(e, true, ""); break;
        case kFail: Finish(e, false, err); break;
        case kResign: Post([this, e] { SendNew(e, true); }); break;
        case kResend: Post([this, wire = std::move(wire)] { Resend(wire); }); break;
        case kWait: break;
      }
    }
  }

  // signatureSubscribe said `sig` reached the commitment (with `err` if it failed).
  void OnNotified(const std::string& sig, const std::string& err) {
    std::shared_ptr<Entry> e;
    {
      std::lock_guard lock(mu);
      const auto it = pending.find(sig);
      if (it == pending.end()) return;  // polling was first
      e = it->second;
      pending.erase(it);
      ++stats.notified;
      const double t = Since(e->first_sent);
      double* level[] = {&e->outcome.processed_s, &e->outcome.confirmed_s, &e->outcome.finalized_s};
      if (*level[target_rank] < 0) *level[target_rank] = t;
    }
    Finish(e, err.empty(), err);
  }

  void Stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    poll_cv.notify_all();
    work_cv.notify_all();
    if (poller.joinable()) poller.join();
    for (auto& w : workers) w.join();
    watcher.reset();  // its thread calls OnNotified: gone before what that uses
    std::map<std::string, std::shared_ptr<Entry>> left;
    {
      std::lock_guard lock(mu);
      left.swap(pending);
    }
    for (auto& [sig, e] : left) Finish(e, false, "stopped");
  }
};

TxSender::TxSender(RpcClient& rpc, SenderOptions options) : impl_(std::make_unique<Impl>(rpc, std::move(options))) {}

TxSender::~TxSender() { impl_->Stop(); }

void TxSender::Submit(Build build, Done done) {
  auto e = std::make_shared<Entry>();
  e->build = std::move(build);
  e->done = std::move(done);
  {
    std::lock_guard lock(impl_->mu);
    ++impl_->stats.submitted;
    ++impl_->building;
  }
  impl_->Post([impl = impl_.get(), e] { impl->SendNew(e, false); });
}

size_t TxSender::in_flight() const {
  std::lock_guard lock(impl_->mu);
  return impl_->pending.size() + impl_->building;
}

SenderStats TxSender::Stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace pmbench::chain
