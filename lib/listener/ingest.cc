#include "lib/listener/ingest.h"

#include "lib/metrics/registry.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "lib/base/bounded_queue.h"
#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"
#include "lib/events/notification.h"

namespace pmbench::listener {

using events::Notification;
using events::NotificationParser;
using events::ParsedLine;

namespace {

struct Item {
  uint64_t line_no;
  Clock::time_point arrival;
  ParsedLine parsed;
  std::string raw;  // kept for rejects only
};

}  // namespace

std::string IngestSummary::ToJson() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"read":%llu,"events":%llu,"applied":%llu,"duplicates":%llu,"rejected":%llu,)"
                R"("failed_tx":%llu,"foreign":%llu,"batches":%llu,"retries":%llu,"skipped":%llu,)"
                R"("elapsed_s":%.3f,"events_per_s":%.1f})",
                static_cast<unsigned long long>(read), static_cast<unsigned long long>(events),
                static_cast<unsigned long long>(applied), static_cast<unsigned long long>(duplicates),
                static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(failed_tx),
                static_cast<unsigned long long>(foreign), static_cast<unsigned long long>(batches),
                static_cast<unsigned long long>(retries), static_cast<unsigned long long>(skipped),
                elapsed_s, elapsed_s > 0 ? static_cast<double>(events) / elapsed_s : 0.0);
  return buf;
}

IngestSummary Ingest(const std::function<bool(std::string&, Clock::time_point&)>& next_line,
                     const IngestOptions& options) {
  const auto start = Clock::now();
  // One sink and connection per writer: writer k always gets partition k's markets.
  const size_t writers = std::max<size_t>(1, options.writers);
  std::vector<EventSink> sinks(writers, EventSink(options.sink, options.schema, options.source));
  EventSink& sink = sinks[0];
  IngestSummary sum;
  std::vector<std::unique_ptr<db::PgSession>> sessions(writers);
  std::unique_ptr<db::PgSession>& session = sessions[0];

  // The checkpoint decides where a resumed run starts; everything before it is committed.
  uint64_t skip = 0, first_line = 1;
  if (options.resume || options.continue_numbering) {
    session = std::make_unique<db::PgSession>(options.url);
    (options.resume ? skip : first_line) = sink.LinesDone(*session) + (options.resume ? 0 : 1);
  }

  base::BoundedQueue<Item> queue(std::max<size_t>(1, options.queue));
  std::exception_ptr reader_error;
  std::jthread reader([&] {
    try {
      NotificationParser parser(options.program, options.carrier);
      std::string line;
      Clock::time_point arrival;
      for (uint64_t line_no = first_line; next_line(line, arrival); ++line_no) {
        if (line_no <= skip) continue;
        Item item{line_no, arrival, parser.Parse(line), {}};
        if (!item.parsed.notification) item.raw = line;
        if (!queue.Push(std::move(item))) return;
      }
    } catch (...) {
      reader_error = std::current_exception();
    }
    queue.Finish();
  });
  const auto close_on_exit = queue.CloseOnExit();  // unblocks the reader if the writer fails

  Batch batch;
  std::vector<Clock::time_point> arrivals;
  size_t rows = 0;
  uint64_t batch_events = 0;
  Clock::time_point deadline;

  auto flush = [&] {
    if (arrivals.empty()) return;
    std::optional<Clock::time_point> failing_since;
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      try {
        for (auto& s : sessions) {
          if (!s || !s->ok()) s = std::make_unique<db::PgSession>(options.url);
        }
        // A part is worth its own transaction (and fsync) only with enough events in it:
        // small batches — a live stream's, the story's rate — stay on one connection.
        const size_t per_part = std::max<size_t>(1, options.split_min_events);
        const size_t parts_wanted = std::clamp<size_t>(batch.events.size() / per_part, 1, writers);
        if (parts_wanted == 1) {
          sum.applied += sink.Apply(*session, batch);
        } else {
          const std::vector<Batch> parts = Partition(batch, parts_wanted);
          std::vector<std::future<uint64_t>> others;
          for (size_t k = 1; k < parts_wanted; ++k) {
            others.push_back(std::async(std::launch::async, [&, k] { return sinks[k].ApplyPart(*sessions[k], parts[k]); }));
          }
          // Part 0 commits the checkpoint only once every other part has committed.
          sum.applied += sink.Apply(*session, parts[0], [&] {
            uint64_t applied = 0;
            std::exception_ptr failed;
            for (auto& f : others) {
              try {
                applied += f.get();
              } catch (...) {
                if (!failed) failed = std::current_exception();
              }
            }
            if (failed) std::rethrow_exception(failed);
            return applied;
          });
        }
        break;
      } catch (const std::exception& e) {
        const bool connected = std::all_of(sessions.begin(), sessions.end(), [](const auto& s) { return s && s->ok(); });
        if (connected) throw;  // the database said no: a retry would too
        const auto now = Clock::now();
        if (!failing_since) failing_since = now;
        if (std::chrono::duration<double>(now - *failing_since).count() > options.give_up_after_s) {
          throw std::runtime_error("database unreachable for " + std::to_string(options.give_up_after_s) +
                                   " s (" + db::RedactSecrets(e.what()) +
                                   "); the checkpoint keeps every committed batch, rerun with --resume");
        }
        ++sum.retries;
        for (auto& s : sessions) {
          if (s && !s->ok()) s.reset();
        }
        std::this_thread::sleep_for(backoff);  // capped exponential backoff before reconnecting
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      }
    }
    ++sum.batches;
    if (batch.last_slot) sum.last_slot = batch.last_slot;
    sum.events += batch_events;
    sum.duplicates = sum.events - sum.applied;
    if (options.on_commit) options.on_commit(arrivals);
    sum.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
    if (options.on_progress) options.on_progress(sum);
    batch = Batch{};
    arrivals.clear();
    rows = 0;
    batch_events = 0;
  };

  for (;;) {
    bool timed_out = false;
    std::optional<Item> item = arrivals.empty() ? queue.Pop() : queue.PopUntil(deadline, timed_out);
    if (!item) {
      if (timed_out) {
        flush();
        continue;
      }
      break;  // end of input
    }
    if (arrivals.empty()) deadline = item->arrival + std::chrono::milliseconds(options.linger_ms);
    arrivals.push_back(item->arrival);
    ++sum.read;
    batch.lines_done = item->line_no;
    if (!item->parsed.notification) {
      batch.rejects.push_back({item->line_no, item->parsed.reject, std::move(item->raw)});
      ++sum.rejected;
      ++rows;
    } else {
      Notification& n = *item->parsed.notification;
      sum.foreign += n.foreign;
      batch.last_slot = n.slot;
      batch.last_signature = n.signature;
      if (n.failed) {
        ++sum.failed_tx;
      } else {
        for (uint32_t i = 0; i < n.events.size(); ++i) {
          batch.events.push_back({n.slot, n.signature, i, std::move(n.events[i])});
        }
        batch_events += n.events.size();
        rows += n.events.size();
      }
    }
    if (rows >= options.batch_size && (rows >= options.max_batch || queue.Size() == 0)) flush();
  }
  flush();
  reader.join();
  if (reader_error) std::rethrow_exception(reader_error);
  sum.skipped = skip;
  sum.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  return sum;
}

void ExportMetrics(IngestOptions& options, metrics::Registry& r) {
  struct Series {
    metrics::Counter &lines, &events, &applied, &duplicates, &rejected, &failed_tx, &batches, &retries;
    metrics::Gauge& slot;
    metrics::Histogram &batch_lines, &lag;
    IngestSummary last;  // what the counters hold, so each batch adds its difference
  };
  auto s = std::make_shared<Series>(Series{
      r.AddCounter("pmbench_ingest_lines_total", "Lines read from the source."),
      r.AddCounter("pmbench_ingest_events_total", "Platform events in committed batches, copies included."),
      r.AddCounter("pmbench_ingest_events_applied_total", "Events that changed the database."),
      r.AddCounter("pmbench_ingest_duplicates_total", "Events already stored (a copy, or a re-applied batch)."),
      r.AddCounter("pmbench_ingest_rejects_total", "Lines stored in ingest_rejects (malformed)."),
      r.AddCounter("pmbench_ingest_failed_transactions_total", "Failed transactions read (their events are not applied)."),
      r.AddCounter("pmbench_ingest_batches_total", "Batches committed with their checkpoint."),
      r.AddCounter("pmbench_ingest_retries_total", "Batches re-applied after a lost database connection."),
      r.AddGauge("pmbench_ingest_checkpoint_slot", "The checkpoint's slot: the last committed batch's last slot."),
      r.AddHistogram("pmbench_ingest_batch_lines", "Lines per committed batch.", {},
                     {1, 10, 50, 100, 250, 500, 1000, 5000, 10000}),
      r.AddHistogram("pmbench_ingest_lag_seconds", "From a line's arrival at the listener to its batch's commit."),
      IngestSummary{}});
  auto commit = std::move(options.on_commit);
  options.on_commit = [s, commit](const std::vector<Clock::time_point>& arrivals) {
    const auto now = Clock::now();
    for (const auto& a : arrivals) s->lag.Observe(std::chrono::duration<double>(now - a).count());
    s->batch_lines.Observe(static_cast<double>(arrivals.size()));
    if (commit) commit(arrivals);
  };
  auto progress = std::move(options.on_progress);
  options.on_progress = [s, progress](const IngestSummary& sum) {
    const auto add = [](metrics::Counter& c, uint64_t now, uint64_t before) { c.Inc(static_cast<double>(now - before)); };
    add(s->lines, sum.read, s->last.read);
    add(s->events, sum.events, s->last.events);
    add(s->applied, sum.applied, s->last.applied);
    add(s->duplicates, sum.duplicates, s->last.duplicates);
    add(s->rejected, sum.rejected, s->last.rejected);
    add(s->failed_tx, sum.failed_tx, s->last.failed_tx);
    add(s->batches, sum.batches, s->last.batches);
    add(s->retries, sum.retries, s->last.retries);
    if (sum.last_slot) s->slot.Set(static_cast<double>(sum.last_slot));
    s->last = sum;
    if (progress) progress(sum);
  };
}

}  // namespace pmbench::listener
