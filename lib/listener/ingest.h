// File: ingest.h
//
// The event listener: a reader thread decodes lines into a bounded queue (backpressure,
// nothing dropped), the calling thread cuts batches — at `batch_size` rows or `linger_ms`
// after the batch's first line — and applies each with its checkpoint in one transaction.
// A batch that reaches `batch_size` while more lines are already waiting (a backlog, a
// catch-up, a stream faster than the writer) keeps taking them up to `max_batch` rows: a
// batch's fixed costs — a statement per table, the update of every market it touches, the
// commit — then spread over more events, while a live stream's batches stay small.
// A lost connection is retried with capped exponential backoff and the batch re-applied
// (idempotently); past `give_up_after_s` Ingest throws, leaving the checkpoint intact.
// With `writers` > 1 a batch of at least `split_min_events` per writer is split by market and its
// parts written on that many connections at once (the server's work per batch is one
// backend's otherwise); smaller batches go whole on one, where a split's extra transaction
// would cost more than it saves.
//
//   IngestSummary s = Ingest(next_line, {.url = url, .source = "events.jsonl"});
#ifndef PMBENCH_LISTENER_INGEST_H_
#define PMBENCH_LISTENER_INGEST_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lib/events/anchor.h"
#include "lib/events/notification.h"
#include "lib/listener/sink.h"

namespace pmbench::metrics {
class Registry;
}

namespace pmbench::listener {

using Clock = std::chrono::steady_clock;

struct IngestSummary {
  uint64_t read = 0;        // lines
  uint64_t events = 0;      // platform events of successful transactions, copies included
  uint64_t applied = 0;     // events that changed the database
  uint64_t duplicates = 0;  // events = applied + duplicates
  uint64_t rejected = 0;    // lines stored in ingest_rejects
  uint64_t failed_tx = 0;
  uint64_t foreign = 0;     // other programs' data lines
  uint64_t batches = 0;
  uint64_t retries = 0;     // batches re-applied after a lost connection
  uint64_t skipped = 0;     // lines before the checkpoint, with --resume
  uint64_t last_slot = 0;   // the checkpoint's slot after the last commit (0: none yet)
  double elapsed_s = 0;
  std::string ToJson() const;
};

// What `pmbench ingest` lets a batch grow to by default (--max-batch).
inline constexpr size_t kDefaultMaxBatch = 10'000;

struct IngestOptions {
  std::string url;
  std::string schema = "pmbench";
  std::string source = "-";  // names the checkpoint
  SinkKind sink = SinkKind::kCopy;
  size_t batch_size = 1000;
  size_t max_batch = 0;  // rows a batch may grow to while lines wait; 0 or <= batch_size: no growth
  size_t writers = 2;  // connections a batch's parts are written on at once
  size_t split_min_events = 256;  // events each part needs before a batch is split
  int linger_ms = 50;
  size_t queue = 10000;
  double give_up_after_s = 30;
  bool resume = false;     // skip the lines the checkpoint counts (a file read again)
  bool continue_numbering = false;  // number lines after the checkpoint's, skip none (a live source)
  events::Pubkey program{};
  events::Carrier carrier = events::Carrier::kProgramData;
  // After each commit: when each line of the batch arrived (for latency).
  std::function<void(const std::vector<Clock::time_point>&)> on_commit;
  // After each batch, with the totals so far.
  std::function<void(const IngestSummary&)> on_progress;
};

// `next_line` fills the next line and its arrival time; false at the end of input.
// Throws std::runtime_error when the database stays unreachable past give_up_after_s or
// fails otherwise.
IngestSummary Ingest(const std::function<bool(std::string&, Clock::time_point&)>& next_line,
                     const IngestOptions& options);

// The listener's Prometheus series (pmbench_ingest_*), fed by the options' callbacks:
// lines, events in and committed, duplicates, rejects, failed transactions, batches and
// their sizes, retries, the checkpoint's slot, and each line's lag from its arrival to
// its batch's commit. Chains to callbacks already set; `registry` must outlive the run.
void ExportMetrics(IngestOptions& options, metrics::Registry& registry);

}  // namespace pmbench::listener

#endif  // PMBENCH_LISTENER_INGEST_H_
