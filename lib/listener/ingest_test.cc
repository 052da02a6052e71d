#include "lib/listener/ingest.h"

#include <atomic>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "lib/base/base58.h"
#include "lib/db/testing/test_schema.h"
#include "lib/db/migrate.h"
#include "lib/db/pg_session.h"
#include "lib/db/staging.h"
#include "lib/events/carrier.h"
#include "lib/events/gen.h"
#include "lib/events/notification.h"
#include "lib/listener/verify.h"
#include "lib/metrics/registry.h"

namespace pmbench::listener {

using events::BetPlaced;
using events::Carrier;
using events::DefaultProgram;
using events::GenerateNotifications;
using events::Event;
using events::MarketCreated;
using events::MarketResolved;
using events::MemoText;
using events::VoteCast;
using events::WinningsClaimed;
using events::Pubkey;

namespace {

using db::test::TestSchema;

std::function<bool(std::string&, Clock::time_point&)> FromLines(const std::vector<std::string>& lines,
                                                                std::function<void(size_t)> before = {}) {
  auto next = std::make_shared<size_t>(0);
  return [&lines, next, before](std::string& line, Clock::time_point& arrival) {
    if (*next >= lines.size()) return false;
    if (before) before(*next);
    line = lines[(*next)++];
    arrival = Clock::now();
    return true;
  };
}

std::vector<std::string> Messy(uint64_t seed, uint64_t count = 2000) {
  return GenerateNotifications({.count = count, .markets = 15, .seed = seed, .dup_ratio = 0.08,
                                .reorder_window = 32, .malformed_ratio = 0.02, .failed_tx_ratio = 0.03,
                                .foreign_ratio = 0.05});
}

// Everything the sinks write, as text, for comparing databases.
std::string State(const TestSchema& s) {
  db::PgSession session(s.url());
  const std::string S = "\"" + s.name() + "\".";
  std::string all;
  for (const std::string& q : std::vector<std::string>
       {"SELECT md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', id, title, category, status, creator, "
        "created_at, closes_at, outcome, yes_pool, no_pool, volume, bet_count, placeholder), ',' ORDER BY id)) FROM " + S + "markets",
        "SELECT md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', market_id, wallet, side, amount, tx_signature, slot, "
        "placed_at, event_index, event_yes_pool, event_no_pool), ',' ORDER BY tx_signature, event_index)) FROM " + S + "bets",
        "SELECT md5(string_agg(format('%s|%s|%s|%s|%s|%s', proposal_id, voter, choice, signature, event_index, weight), ',' "
        "ORDER BY signature, event_index)) FROM " + S + "votes",
        "SELECT md5(string_agg(format('%s|%s|%s|%s|%s', signature, event_index, market_id, bettor, payout), ',' ORDER BY "
        "signature, event_index)) FROM " + S + "claims",
        "SELECT md5(string_agg(format('%s|%s|%s', line_no, reason, raw), ',' ORDER BY line_no)) FROM " + S + "ingest_rejects"}) {
    all += session.QueryValue(q) + "/";
  }
  return all;
}

TEST(IngestTest, ThreeSinksLeaveIdenticalVerifiedState) {
  const auto lines = Messy(1);
  std::vector<std::string> states;
  for (SinkKind kind : {SinkKind::kInsert, SinkKind::kMultirow, SinkKind::kCopy}) {
    TestSchema schema(std::string("sink_") + std::string(SinkName(kind)));
    db::Migrate(schema.url(), schema.name());
    const IngestSummary sum =
        Ingest(FromLines(lines), {.url = schema.url(), .schema = schema.name(), .source = "test", .sink = kind,
                                  .batch_size = 97, .program = DefaultProgram()});
    EXPECT_EQ(sum.read, lines.size());
    EXPECT_GT(sum.rejected, 0u);
    EXPECT_GT(sum.failed_tx, 0u);
    EXPECT_GT(sum.foreign, 0u);
    EXPECT_GT(sum.duplicates, 0u);
    const VerifyReport r = Verify(lines, DefaultProgram(), schema.url(), schema.name());
    EXPECT_TRUE(r.ok()) << SinkName(kind) << ": " << r.ToJson();
    EXPECT_EQ(r.sync_accuracy, 1.0);
    db::PgSession s(schema.url());
    EXPECT_EQ(s.QueryValue("SELECT count(*) FROM \"" + schema.name() + "\".ingest_rejects"), std::to_string(sum.rejected));
    states.push_back(State(schema));
  }
  EXPECT_EQ(states[0], states[1]);
  EXPECT_EQ(states[1], states[2]);
  // One writer and three (the batch split by market over three connections) store the same.
  for (size_t writers : {1, 3}) {
    TestSchema schema("writers_" + std::to_string(writers));
    db::Migrate(schema.url(), schema.name());
    const IngestSummary sum = Ingest(FromLines(lines), {.url = schema.url(), .schema = schema.name(), .source = "test",
                                                        .batch_size = 97, .writers = writers, .split_min_events = 1,
                                                        .program = DefaultProgram()});
    EXPECT_EQ(sum.read, lines.size());
    EXPECT_TRUE(Verify(lines, DefaultProgram(), schema.url(), schema.name()).ok()) << writers;
    EXPECT_EQ(State(schema), states[2]) << writers << " writers";
    db::PgSession s(schema.url());
    EXPECT_EQ(s.QueryValue("SELECT events_applied FROM \"" + schema.name() + "\".ingest_checkpoints"),
              std::to_string(sum.applied));
  }
}

// Every event in exactly one part, a market's (a proposal's) events all in the same part,
// the rejects and the checkpoint's fields in part 0.
TEST(IngestTest, PartitionKeepsEachMarketInOnePart) {
  Pubkey k{};
  Batch batch;
  uint32_t i = 0;
  for (uint64_t m = 1; m <= 9; ++m) {
    batch.events.push_back({10, "s", i++, MarketCreated{m, k, 1, "t", "c"}});
    batch.events.push_back({11, "s", i++, BetPlaced{m, k, 1, 5, 5, 0}});
    batch.events.push_back({12, "s", i++, VoteCast{m + 100, k, 1, 1}});
    batch.events.push_back({13, "s", i++, WinningsClaimed{m, k, 7}});
    batch.events.push_back({14, "s", i++, MarketResolved{m, 1}});
  }
  batch.rejects.push_back({3, "bad", "x"});
  batch.lines_done = 42;
  batch.last_slot = 14;
  batch.last_signature = "last";
  const std::vector<Batch> parts = Partition(batch, 3);
  ASSERT_EQ(parts.size(), 3u);
  std::map<uint64_t, size_t> part_of;  // market or proposal -> part
  size_t events = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    EXPECT_FALSE(parts[p].events.empty()) << p;
    events += parts[p].events.size();
    for (const Delivered& d : parts[p].events) {
      // Event i was made for market i / 5 + 1; the vote (i % 5 == 2) for proposal market + 100.
      const uint64_t market = d.index / 5 + 1, key = d.index % 5 == 2 ? market + 100 : market;
      EXPECT_EQ(part_of.emplace(key, p).first->second, p) << key;
    }
  }
  EXPECT_EQ(events, batch.events.size());
  EXPECT_EQ(parts[0].rejects.size(), 1u);
  EXPECT_EQ(parts[0].lines_done, 42u);
  EXPECT_EQ(parts[0].last_signature, "last");
  EXPECT_EQ(parts[1].lines_done + parts[2].lines_done + parts[1].rejects.size() + parts[2].rejects.size(), 0u);
}

// Supabase users pass the pooler's URL first: every sink must work through transaction
// pooling (no session state across transactions; the COPY sink's temp tables are made in
// each batch's transaction) and leave the same state as a direct connection.
TEST(IngestTest, EverySinkWorksThroughTheTransactionPooler) {
  const auto lines = Messy(5, 600);
  TestSchema direct("pool_direct");
  db::Migrate(direct.url(), direct.name());
  Ingest(FromLines(lines), {.url = direct.url(), .schema = direct.name(), .source = "test", .batch_size = 23,
                            .program = DefaultProgram()});
  for (SinkKind kind : {SinkKind::kInsert, SinkKind::kMultirow, SinkKind::kCopy}) {
    TestSchema schema(std::string("pool_") + std::string(SinkName(kind)));
    db::Migrate(schema.url(), schema.name());
    Ingest(FromLines(lines), {.url = db::ResolveStaging().pooled_url, .schema = schema.name(), .source = "test",
                              .sink = kind, .batch_size = 23, .program = DefaultProgram()});
    const VerifyReport r = Verify(lines, DefaultProgram(), schema.url(), schema.name());
    EXPECT_TRUE(r.ok()) << SinkName(kind) << ": " << r.ToJson();
    EXPECT_EQ(State(schema), State(direct)) << SinkName(kind);
  }
}

// One multirow statement holds at most 65,535 parameters: a larger batch is cut, not lost.
TEST(IngestTest, AMultirowBatchPastTheParameterLimitIsCutAndComplete) {
  const auto lines = GenerateNotifications({.count = 9000, .markets = 20, .seed = 6});
  TestSchema schema("multirow_big");
  db::Migrate(schema.url(), schema.name());
  const IngestSummary sum = Ingest(FromLines(lines), {.url = schema.url(), .schema = schema.name(), .source = "big",
                                                      .sink = SinkKind::kMultirow, .batch_size = 100'000,
                                                      .linger_ms = 60'000, .program = DefaultProgram()});
  EXPECT_EQ(sum.batches, 1u);
  db::PgSession s(schema.url());
  // Bets have 10 columns: more than 6,553 of them needed a second statement.
  EXPECT_GT(std::stoull(s.QueryValue("SELECT count(*) FROM \"" + schema.name() + "\".bets")), 6553u);
  const VerifyReport r = Verify(lines, DefaultProgram(), schema.url(), schema.name());
  EXPECT_TRUE(r.ok()) << r.ToJson();
}

// A backlog (every line waiting from the start) grows its batches past batch_size up to
// max_batch and stores exactly what fixed batches store; max_batch = batch_size never grows.
TEST(IngestTest, ABacklogGrowsItsBatchesUpToMaxBatchAndStoresTheSame) {
  const auto lines = Messy(4, 3000);
  std::vector<uint64_t> batches;
  std::vector<size_t> largest;
  std::vector<std::string> states;
  for (size_t max_batch : {size_t{0}, size_t{50}, size_t{400}}) {
    TestSchema schema("grow_" + std::to_string(max_batch));
    db::Migrate(schema.url(), schema.name());
    size_t most_lines = 0;
    // A queue as large as the input: the reader runs ahead, so lines are waiting at every cut.
    IngestOptions options{.url = schema.url(), .schema = schema.name(), .source = "g", .batch_size = 50,
                          .max_batch = max_batch, .linger_ms = 60'000, .queue = lines.size(),
                          .program = DefaultProgram()};
    options.on_commit = [&](const std::vector<Clock::time_point>& a) { most_lines = std::max(most_lines, a.size()); };
    const IngestSummary sum = Ingest(FromLines(lines), options);
    EXPECT_EQ(sum.read, lines.size());
    const VerifyReport r = Verify(lines, DefaultProgram(), schema.url(), schema.name());
    EXPECT_TRUE(r.ok()) << max_batch << ": " << r.ToJson();
    batches.push_back(sum.batches);
    largest.push_back(most_lines);
    states.push_back(State(schema));
  }
  EXPECT_EQ(states[0], states[1]);
  EXPECT_EQ(states[0], states[2]);
  // Rows per line vary (events per transaction, failed and foreign lines): bounds, not counts.
  EXPECT_LE(largest[0], 60u);  // fixed at 50 rows
  EXPECT_LE(largest[1], 60u);  // max_batch = batch_size: no growth
  EXPECT_GT(largest[2], 200u);  // grown
  EXPECT_LE(largest[2], 460u);
  EXPECT_GE(batches[1], batches[0] * 9 / 10);
  EXPECT_LT(batches[2], batches[0] / 4);
}

// What a scrape of `ingest --metrics-listen` reads: the summary's counts, as counters.
TEST(IngestTest, MetricsCountWhatTheSummarySays) {
  const auto lines = Messy(3, 600);
  TestSchema schema("metrics");
  db::Migrate(schema.url(), schema.name());
  IngestOptions options{.url = schema.url(), .schema = schema.name(), .source = "m", .batch_size = 40, .program = DefaultProgram()};
  int commits = 0;
  options.on_commit = [&](const std::vector<Clock::time_point>&) { ++commits; };  // still called
  metrics::Registry reg;
  ExportMetrics(options, reg);
  const IngestSummary sum = Ingest(FromLines(lines), options);
  const std::string text = reg.Text();
  const auto has = [&](const std::string& line) { return text.find("\n" + line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("pmbench_ingest_lines_total " + std::to_string(sum.read))) << text;
  EXPECT_TRUE(has("pmbench_ingest_events_applied_total " + std::to_string(sum.applied)));
  EXPECT_TRUE(has("pmbench_ingest_duplicates_total " + std::to_string(sum.duplicates)));
  EXPECT_TRUE(has("pmbench_ingest_rejects_total " + std::to_string(sum.rejected)));
  EXPECT_TRUE(has("pmbench_ingest_batches_total " + std::to_string(sum.batches)));
  EXPECT_TRUE(has("pmbench_ingest_batch_lines_count " + std::to_string(sum.batches)));
  EXPECT_TRUE(has("pmbench_ingest_lag_seconds_count " + std::to_string(sum.read)));
  EXPECT_TRUE(has("pmbench_ingest_checkpoint_slot " + std::to_string(sum.last_slot)));
  EXPECT_GT(sum.rejected, 0u);
  EXPECT_GT(sum.duplicates, 0u);
  EXPECT_GT(sum.last_slot, 0u);
  EXPECT_EQ(static_cast<uint64_t>(commits), sum.batches);
}

TEST(IngestTest, ReingestingChangesNothingAndVerifyCatchesTampering) {
  const auto lines = Messy(2, 800);
  TestSchema schema("reingest");
  db::Migrate(schema.url(), schema.name());
  const IngestOptions options{.url = schema.url(), .schema = schema.name(), .source = "once",
                              .batch_size = 50, .program = DefaultProgram()};
  const IngestSummary first = Ingest(FromLines(lines), options);
  const std::string before = State(schema);
  const IngestSummary again = Ingest(FromLines(lines), options);
  EXPECT_EQ(again.applied, 0u);
  EXPECT_EQ(State(schema), before);
  EXPECT_GT(first.applied, 0u);

  db::PgSession s(schema.url());
  s.Exec("UPDATE \"" + schema.name() + "\".markets SET yes_pool = yes_pool + 1 WHERE id = 3");
  s.Exec("DELETE FROM \"" + schema.name() + "\".bets WHERE id = (SELECT min(id) FROM \"" + schema.name() + "\".bets)");
  const VerifyReport r = Verify(lines, DefaultProgram(), schema.url(), schema.name());
  EXPECT_FALSE(r.ok());
  EXPECT_LT(r.sync_accuracy, 1.0);
  EXPECT_NE(r.expected_digest, r.database_digest);
}

// A logsNotification as the local ledger sends it for a memo-carried event.
std::string MemoLine(const Event& e, int n) {
  const std::string memo = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr", text = MemoText(e);
  const std::string sig = base::Base58Encode(std::vector<uint8_t>(64, static_cast<uint8_t>(n)));
  const std::vector<std::string> logs = {"Program " + memo + " invoke [1]",
                                         "Program log: Memo (len " + std::to_string(text.size()) + ")",
                                         "Program log: " + text, "Program " + memo + " success"};
  std::string line = R"x({"jsonrpc":"2.0","method":"logsNotification","params":{"subscription":1,"result":{"context":{"slot":)x" +
                     std::to_string(100 + n) + R"x(},"value":{"signature":")x" + sig + R"x(","err":null,"logs":[)x";
  for (size_t i = 0; i < logs.size(); ++i) line += (i ? ",\"" : "\"") + logs[i] + "\"";
  return line + "]}}}}";
}

TEST(IngestTest, VerifyReadsTheCarrierTheInputWasIngestedWith) {
  Pubkey k{};
  k.fill(7);
  const std::vector<std::string> lines = {
      MemoLine(MarketCreated{5, k, 1'900'000'000, "m", "c"}, 1),
      MemoLine(BetPlaced{5, k, 1, 300, 300, 0}, 2),
      MemoLine(BetPlaced{5, k, 0, 100, 300, 100}, 3),
  };
  TestSchema schema("memo_verify");
  db::Migrate(schema.url(), schema.name());
  const IngestSummary sum = Ingest(FromLines(lines), {.url = schema.url(), .schema = schema.name(), .source = "memo",
                                                      .program = DefaultProgram(), .carrier = Carrier::kMemo});
  ASSERT_EQ(sum.applied, 3u) << sum.ToJson();
  const VerifyReport memo = Verify(lines, DefaultProgram(), schema.url(), schema.name(), Carrier::kMemo);
  EXPECT_TRUE(memo.ok()) << memo.ToJson();
  EXPECT_EQ(memo.expected, 4u);  // three event rows and the market's pools
  // Read as program data the input implies nothing, and the database holds "unexpected" rows.
  const VerifyReport data = Verify(lines, DefaultProgram(), schema.url(), schema.name());
  EXPECT_FALSE(data.ok());
  EXPECT_GT(data.unexpected, 0u);
}

TEST(IngestTest, ResumeStartsAtTheCheckpoint) {
  const auto lines = Messy(3, 600);
  TestSchema schema("resume");
  db::Migrate(schema.url(), schema.name());
  const std::vector<std::string> half(lines.begin(), lines.begin() + 300);
  IngestOptions options{.url = schema.url(), .schema = schema.name(), .source = "resumable",
                        .batch_size = 40, .program = DefaultProgram()};
  Ingest(FromLines(half), options);
  options.resume = true;
  const IngestSummary rest = Ingest(FromLines(lines), options);
  EXPECT_EQ(rest.skipped, 300u);
  EXPECT_EQ(rest.read, 300u);
  EXPECT_TRUE(Verify(lines, DefaultProgram(), schema.url(), schema.name()).ok());
}

TEST(IngestTest, KilledBackendMidStreamStillVerifiesExactly) {
  const auto lines = Messy(4, 3000);
  TestSchema schema("fault");
  db::Migrate(schema.url(), schema.name());
  db::PgSession admin(schema.url());
  std::atomic<int> kills{0};
  // Every 500 lines, terminate the listener's backend (identified by application_name).
  auto before = [&](size_t i) {
    if (i > 0 && i % 500 == 0) {
      const std::string n = admin.QueryValue(
          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = "
          "'pmbench_fault_test'");
      kills += std::stoi(n);
    }
  };
  const std::string url = schema.url() + (schema.url().find('?') == std::string::npos ? "?" : "&") +
                          "application_name=pmbench_fault_test";
  // Three writers: a kill lands in any part, before or after the others have committed.
  const IngestSummary sum = Ingest(FromLines(lines, before),
                                   {.url = url, .schema = schema.name(), .source = "fault", .sink = SinkKind::kCopy,
                                    .batch_size = 64, .writers = 3, .split_min_events = 1, .linger_ms = 5, .queue = 16,
                                    .program = DefaultProgram()});
  EXPECT_GE(kills.load(), 3);
  EXPECT_GE(sum.retries, 1u);
  const VerifyReport r = Verify(lines, DefaultProgram(), schema.url(), schema.name());
  EXPECT_TRUE(r.ok()) << r.ToJson();
}

TEST(IngestTest, UnreachableDatabaseGivesUpWithAClearError) {
  const auto lines = Messy(5, 50);
  try {
    Ingest(FromLines(lines), {.url = "postgresql://u:secret@127.0.0.1:1/x?connect_timeout=1", .schema = "t_none",
                              .source = "nowhere", .batch_size = 10, .give_up_after_s = 0.5,
                              .program = DefaultProgram()});
    FAIL() << "ingested into nothing";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unreachable"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace pmbench::listener
