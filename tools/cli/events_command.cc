// pmbench events gen | pmbench ingest [verify]
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include "lib/db/database_url.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"
#include "lib/events/gen.h"
#include "lib/listener/ingest.h"
#include "lib/chain/logs_source.h"
#include "lib/events/notification.h"
#include "lib/listener/sink.h"
#include "lib/listener/verify.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

std::string GenUsage() {
  return R"(Usage: pmbench events gen [options]

Writes deterministic logsNotification lines (one JSON-RPC message per line, as Solana's
logsSubscribe delivers them) for the platform program: markets created first, then bets
(most), votes, claims and resolutions; at the given ratios, re-deliveries, out-of-order
windows, malformed lines of each kind, failed transactions and foreign programs' data.

  --count N              lines (default 10000)
  --markets M            markets created (default 100)
  --seed S               random seed (default 1)
  --dup-ratio R          re-delivered lines (default 0)
  --reorder-window W     shuffle within windows of W lines (default 0: in slot order)
  --malformed-ratio R    bad lines (default 0)
  --failed-tx-ratio R    transactions with err != null (default 0)
  --foreign-ratio R      nested CPIs into another program that logs data (default 0)
  --program ID           the platform program id (default )" + events::DefaultProgramId() + R"()
  --output FILE          default: stdout
)";
}

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
  --linger-ms T          ... or T ms after the batch's first line (default 50)
  --queue N              lines buffered between reader and writer (default 10000)
  --give-up-after S      seconds of lost connection before exiting 1 (default 30)
  --resume               skip the lines the checkpoint says are done
  --source NAME          the checkpoint's name (default: the input path)
  --allow-remote-writes  permit writing to a server that is not on loopback
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

double Ratio(const Flags& flags, const std::string& name) {
  const double r = flags.GetDouble(name, 0);
  if (!(r >= 0 && r <= 1)) throw UsageError("--" + name + " is a ratio from 0 to 1");
  return r;
}

}  // namespace

int EventsCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, GenUsage().c_str())) return *status;
  if (args[0] != "gen") throw UsageError("unknown events command '" + args[0] + "' (see pmbench events --help)");
  const Flags flags({args.begin() + 1, args.end()},
                    {"count", "markets", "seed", "dup-ratio", "reorder-window", "malformed-ratio",
                     "failed-tx-ratio", "foreign-ratio", "program", "output"},
                    {"help"});
  if (flags.Has("help")) {
    std::cout << GenUsage();
    return 0;
  }
  events::EventGenSpec spec{.count = flags.GetUint("count", 10000),
                            .markets = flags.GetUint("markets", 100),
                            .seed = flags.GetUint("seed", 1),
                            .dup_ratio = Ratio(flags, "dup-ratio"),
                            .reorder_window = flags.GetUint("reorder-window", 0),
                            .malformed_ratio = Ratio(flags, "malformed-ratio"),
                            .failed_tx_ratio = Ratio(flags, "failed-tx-ratio"),
                            .foreign_ratio = Ratio(flags, "foreign-ratio"),
                            .program = flags.Get("program", "")};
  if (spec.markets == 0) throw UsageError("--markets must be at least 1");
  if (flags.Has("program")) ProgramFrom(flags);
  std::string text;
  for (const auto& line : events::GenerateNotifications(spec)) text += line + "\n";
  if (flags.Has("output")) {
    WriteFileAtomically(flags.Get("output", ""), text);
  } else {
    std::cout << text;
  }
  return 0;
}

int IngestCommand(const std::vector<std::string>& args) {
  const bool verify = !args.empty() && args[0] == "verify";
  const Flags flags({args.begin() + (verify ? 1 : 0), args.end()},
                    {"input", "database", "schema", "program", "sink", "batch-size", "linger-ms", "queue",
                     "give-up-after", "source", "carrier", "duration"},
                    {"resume", "allow-remote-writes", "help"});
  if (flags.Has("help") || (!args.empty() && (args[0] == "-h"))) {
    std::cout << kIngestUsage;
    return 0;
  }
  if (!flags.positional().empty()) {
    throw UsageError("unexpected argument '" + flags.positional()[0] + "' (see pmbench ingest --help)");
  }
  if (!flags.Has("input")) throw UsageError("ingest needs --input FILE|- (see pmbench ingest --help)");
  const std::string input = flags.Get("input", "");
  const std::string url = flags.Has("database") ? flags.Get("database", "") : db::ResolveStaging().direct_url;
  const db::DatabaseTarget target = db::ParseDatabaseUrl(url);
  const std::string schema = flags.Get("schema", "pmbench");
  db::CheckSchemaName(schema);
  const events::Pubkey program = ProgramFrom(flags);
  events::Carrier carrier;
  try {
    carrier = events::ParseCarrier(flags.Get("carrier", "program-data"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--carrier: ") + e.what());
  }
  const bool live = input.rfind("ws://", 0) == 0 || input.rfind("wss://", 0) == 0;
  if (live && verify) throw UsageError("verify reads a file; a live ws:// input cannot be read twice");
  if (live && flags.Has("resume")) throw UsageError("--resume is for files; a ws:// input always resumes from its checkpoint");
  if (!live && flags.Has("duration")) throw UsageError("--duration goes with a ws:// input");
  std::unique_ptr<chain::LogsSource> source;
  if (live) {
    try {
      source = std::make_unique<chain::LogsSource>(chain::LogsSourceOptions{.url = input, .mentions = program});
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--input: ") + e.what());
    }
  }
  auto in = live ? nullptr : OpenInput(input);

  if (verify) {
    std::vector<std::string> lines;
    for (std::string line; std::getline(*in, line);) lines.push_back(line);
    const listener::VerifyReport r = listener::Verify(lines, program, url, schema, carrier);
    std::cout << r.ToJson() << "\n";
    return r.ok() ? 0 : 1;
  }

  const auto sink = listener::ParseSinkKind(flags.Get("sink", "copy"));
  if (!sink) throw UsageError("--sink is insert, multirow or copy");
  const uint64_t batch = flags.GetUint("batch-size", 1000);
  if (batch == 0 || batch > 1'000'000) throw UsageError("--batch-size must be 1 to 1,000,000");
  const uint64_t linger = flags.GetUint("linger-ms", 50);
  if (linger > 60'000) throw UsageError("--linger-ms: at most 60000");
  db::CheckWritable(target, flags.Has("allow-remote-writes"));
  db::Migrate(url, schema);
  const bool tty = isatty(STDERR_FILENO);
  const std::string source_name = flags.Get("source", input);
  std::jthread stopper;
  if (live) {
    db::PgSession session(url);
    const std::string after = listener::EventSink(*sink, schema, source_name).LastSignature(session);
    source = std::make_unique<chain::LogsSource>(
        chain::LogsSourceOptions{.url = input, .mentions = program, .resume_after = after});
    std::cerr << "ingest: subscribing to " << input << (after.empty() ? " (no checkpoint: live only)" : " after the checkpoint") << "\n";
    const double duration = flags.Has("duration") ? ParseDuration("duration", flags.Get("duration", "")) : -1;
    // SIGINT/SIGTERM end the run cleanly: the batch in hand is committed with its checkpoint.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    stopper = std::jthread([&source, duration, set](std::stop_token st) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(duration * 1000));
      while (!st.stop_requested() && (duration < 0 || std::chrono::steady_clock::now() < until)) {
        timespec ts{0, 100'000'000};
        if (sigtimedwait(&set, nullptr, &ts) > 0) break;
      }
      source->Stop();
    });
  }
  const listener::IngestSummary sum = listener::Ingest(
      [&](std::string& line, listener::Clock::time_point& arrival) {
        if (source) return source->Next(line, arrival);
        if (!std::getline(*in, line)) return false;
        arrival = listener::Clock::now();
        return true;
      },
      {.url = url,
       .schema = schema,
       .source = source_name,
       .sink = *sink,
       .batch_size = batch,
       .linger_ms = static_cast<int>(linger),
       .queue = flags.GetUint("queue", 10000),
       .give_up_after_s = flags.GetDouble("give-up-after", 30),
       .resume = flags.Has("resume"),
       .continue_numbering = live,
       .program = program,
       .carrier = carrier,
       .on_progress =
           [&](const listener::IngestSummary& s) {
             if (tty) {
               std::fprintf(stderr, "\ringest: %llu lines, %llu applied, %.0f events/s   ",
                            static_cast<unsigned long long>(s.read), static_cast<unsigned long long>(s.applied),
                            s.elapsed_s > 0 ? static_cast<double>(s.events) / s.elapsed_s : 0.0);
             }
           }});
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

}  // namespace pmbench::cli
