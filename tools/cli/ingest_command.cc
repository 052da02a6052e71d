// pmbench ingest [verify]: the event listener, from a file or a live node, and its check.
#include <pthread.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "lib/chain/logs_source.h"
#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"
#include "lib/events/notification.h"
#include "lib/listener/ingest.h"
#include "lib/listener/sink.h"
#include "lib/listener/verify.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

constexpr const char* kIngestUsage = R"(Usage: pmbench ingest --input FILE|-|ws[s]://HOST:PORT [options]
       pmbench ingest verify --input FILE [options]

ingest   decodes the lines' platform events and writes them to the database in batches,
         exactly once: each event's identity (signature, event_index) is a unique key,
         and a checkpoint is written in each batch's transaction. Progress on stderr when
         it is a terminal; a JSON summary on stdout.
verify   recomputes from the input what the database must hold and compares; prints a
         JSON report with sync_accuracy and exits 1 on any difference.

A ws:// or wss:// input is a Solana node's WebSocket (wss: certificate and host name
checked against the system's trust store): the listener subscribes with logsSubscribe
(mentions = --program) at confirmed commitment and ingests live until --duration passes
or it is interrupted (Ctrl-C, SIGTERM: the open batch is committed first). It starts
after the checkpoint's last signature, catching up what it missed with
getSignaturesForAddress + getTransaction; a dropped socket is reconnected and caught up
the same way, so nothing is lost. The catch-up asks the same host, port and path over
http:// (https:// for wss://).

  --database URL         default: staging's direct URL
  --schema NAME          the suite's schema (default: pmbench)
  --program ID           the platform program id (default: pmbench events gen's); with
                         --carrier memo, the treasury the transactions pay
  --carrier KIND         program-data (Anchor's "Program data:") or memo (the local
                         stand-in: "Program log: pmevt:<base64>" of the Memo program)
                         (default program-data)
  --duration D           ws:// input: stop after D (30, 30s, 2m; default: until interrupted)
  --sink insert|multirow|copy   (default copy)
  --batch-size N         flush at N rows (default 1000)
  --max-batch N          ... unless more lines are already waiting (a backlog, a
                         catch-up): then grow up to N rows, spreading each batch's fixed
                         costs over more events (default 10000, or --batch-size if larger;
                         = --batch-size: never grow)
  --writers N            connections a batch is written on at once: a batch with 256+
                         events per writer is split by market (default 2; 1: every
                         batch whole on one connection)
  --linger-ms T          ... or T ms after the batch's first line (default 50)
  --queue N              lines buffered between reader and writer (default 10000)
  --give-up-after S      seconds of lost connection before exiting 1 (default 30)
  --resume               skip the lines the checkpoint says are done
  --source NAME          the checkpoint's name (default: the input path)
  --allow-remote-writes  permit writing to a server that is not on loopback
  --metrics-listen H:P   serve Prometheus metrics at http://H:P/metrics while it runs:
                         lines, events in and committed, batch sizes, lag from arrival to
                         commit, rejects, retries, the checkpoint's slot
)";

std::unique_ptr<std::istream> OpenInput(const std::string& path) {
  if (path == "-") return std::make_unique<std::istream>(std::cin.rdbuf());
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) throw UsageError("cannot read " + path);
  return in;
}

events::Pubkey ProgramFrom(const Flags& flags) {
  if (!flags.Has("program")) return events::DefaultProgram();
  const auto p = events::ParseProgramId(flags.Get("program", ""));
  if (!p) throw UsageError("--program must be a base58 32-byte id");
  return *p;
}

// What every ingest and verify run reads: the input, the database and the program.
struct IngestTarget {
  std::string input, url, schema;
  db::DatabaseTarget target;
  events::Pubkey program;
  events::Carrier carrier;
  bool live;  // a node's WebSocket, not a file
};

IngestTarget ParseIngestTarget(const Flags& flags, bool verify) {
  if (!flags.Has("input")) throw UsageError("ingest needs --input FILE|- (see pmbench ingest --help)");
  IngestTarget t{.input = flags.Get("input", ""),
                 .url = flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().direct_url,
                 .schema = flags.Get("schema", "pmbench")};
  t.target = db::ParseDatabaseUrl(t.url);
  db::CheckSchemaName(t.schema);
  t.program = ProgramFrom(flags);
  try {
    t.carrier = events::ParseCarrier(flags.Get("carrier", "program-data"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--carrier: ") + e.what());
  }
  t.live = t.input.rfind("ws://", 0) == 0 || t.input.rfind("wss://", 0) == 0;
  if (verify && flags.Has("metrics-listen")) throw UsageError("--metrics-listen goes with ingest, not ingest verify");
  if (t.live && verify) throw UsageError("verify reads a file; a live ws:// input cannot be read twice");
  if (t.live && flags.Has("resume")) throw UsageError("--resume is for files; a ws:// input always resumes from its checkpoint");
  if (!t.live && flags.Has("duration")) throw UsageError("--duration goes with a ws:// input");
  if (t.live) {
    try {  // the URL is checked before anything is written
      chain::LogsSource({.url = t.input, .mentions = t.program});
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--input: ") + e.what());
    }
  }
  return t;
}

int VerifyIngested(const IngestTarget& t) {
  auto in = OpenInput(t.input);
  std::vector<std::string> lines;
  for (std::string line; std::getline(*in, line);) lines.push_back(line);
  const listener::VerifyReport r = listener::Verify(lines, t.program, t.url, t.schema, t.carrier);
  std::cout << r.ToJson() << "\n";
  return r.ok() ? 0 : 1;
}

listener::IngestOptions ParseIngestOptions(const Flags& flags, const IngestTarget& t) {
  const auto sink = listener::ParseSinkKind(flags.Get("sink", "copy"));
  if (!sink) throw UsageError("--sink is insert, multirow or copy");
  const uint64_t batch = flags.GetUint("batch-size", 1000);
  if (batch == 0 || batch > 1'000'000) throw UsageError("--batch-size must be 1 to 1,000,000");
  const uint64_t max_batch = flags.GetUint("max-batch", std::max<uint64_t>(batch, listener::kDefaultMaxBatch));
  if (max_batch < batch || max_batch > 1'000'000) throw UsageError("--max-batch must be --batch-size to 1,000,000");
  const uint64_t writers = flags.GetUint("writers", 2);
  if (writers == 0 || writers > 16) throw UsageError("--writers must be 1 to 16");
  const uint64_t linger = flags.GetUint("linger-ms", 50);
  if (linger > 60'000) throw UsageError("--linger-ms: at most 60000");
  return {.url = t.url,
          .schema = t.schema,
          .source = flags.Get("source", t.input),
          .sink = *sink,
          .batch_size = batch,
          .max_batch = max_batch,
          .writers = writers,
          .linger_ms = static_cast<int>(linger),
          .queue = flags.GetUint("queue", 10000),
          .give_up_after_s = flags.GetDouble("give-up-after", 30),
          .resume = flags.Has("resume"),
          .continue_numbering = t.live,
          .program = t.program,
          .carrier = t.carrier};
}

// Stops `source` at SIGINT/SIGTERM or after `duration_s` (< 0: never), so the run ends
// cleanly: the batch in hand is committed with its checkpoint.
std::jthread StopOnSignalOrDeadline(chain::LogsSource& source, double duration_s) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return std::jthread([&source, duration_s, set](std::stop_token st) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
    while (!st.stop_requested() && (duration_s < 0 || std::chrono::steady_clock::now() < until)) {
      timespec ts{0, 100'000'000};
      if (sigtimedwait(&set, nullptr, &ts) > 0) break;
    }
    source.Stop();
  });
}

int RunIngest(const Flags& flags, const IngestTarget& t) {
  listener::IngestOptions options = ParseIngestOptions(flags, t);
  db::CheckWritable(t.target, flags.Has("allow-remote-writes"));
  db::Migrate(t.url, t.schema);
  std::unique_ptr<std::istream> in;
  std::unique_ptr<chain::LogsSource> source;
  std::jthread stopper;
  if (t.live) {
    db::PgSession session(t.url);
    const std::string after = listener::EventSink(options.sink, t.schema, options.source).LastSignature(session);
    source = std::make_unique<chain::LogsSource>(
        chain::LogsSourceOptions{.url = t.input, .mentions = t.program, .resume_after = after});
    std::cerr << "ingest: subscribing to " << t.input << (after.empty() ? " (no checkpoint: live only)" : " after the checkpoint") << "\n";
    stopper = StopOnSignalOrDeadline(*source, flags.Has("duration") ? ParseDuration("duration", flags.Get("duration", "")) : -1);
  } else {
    in = OpenInput(t.input);
  }
  const bool tty = isatty(STDERR_FILENO);
  options.on_progress = [tty](const listener::IngestSummary& s) {
    if (!tty) return;
    std::fprintf(stderr, "\ringest: %llu lines, %llu applied, %.0f events/s   ", static_cast<unsigned long long>(s.read),
                 static_cast<unsigned long long>(s.applied), s.elapsed_s > 0 ? static_cast<double>(s.events) / s.elapsed_s : 0.0);
  };
  const auto served = ServeMetrics(flags, "pmbench ingest");
  if (served) listener::ExportMetrics(options, served->registry);
  const listener::IngestSummary sum = listener::Ingest(
      [&](std::string& line, listener::Clock::time_point& arrival) {
        if (source) return source->Next(line, arrival);
        if (!std::getline(*in, line)) return false;
        arrival = listener::Clock::now();
        return true;
      },
      options);
  if (tty) std::fprintf(stderr, "\n");
  if (source) {
    const auto st = source->Stats();
    std::fprintf(stderr, "ingest: %llu live, %llu caught up, %llu duplicates dropped, %llu reconnects\n",
                 static_cast<unsigned long long>(st.live), static_cast<unsigned long long>(st.caught_up),
                 static_cast<unsigned long long>(st.duplicates), static_cast<unsigned long long>(st.reconnects));
  }
  std::cout << sum.ToJson() << "\n";
  return 0;
}

}  // namespace

int IngestCommand(const std::vector<std::string>& args) {
  const bool verify = !args.empty() && args[0] == "verify";
  const Flags flags({args.begin() + (verify ? 1 : 0), args.end()},
                    {"input", "database", "schema", "program", "sink", "batch-size", "max-batch", "writers", "linger-ms", "queue",
                     "give-up-after", "source", "carrier", "duration", "metrics-listen"},
                    {"resume", "allow-remote-writes", "help"});
  if (PrintedHelpOrRejectedArguments(flags, kIngestUsage, "pmbench ingest")) return 0;
  const IngestTarget target = ParseIngestTarget(flags, verify);
  return verify ? VerifyIngested(target) : RunIngest(flags, target);
}

}  // namespace pmbench::cli
