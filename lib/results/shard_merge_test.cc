#include "lib/results/shard_merge.h"

#include <algorithm>
#include <stdexcept>

#include <gtest/gtest.h>

#include "lib/results/gbench_json.h"

namespace pmbench::results {
namespace {

using nlohmann::json;

// A shard of a run whose requests took `ms_from`..`ms_to` ms (one each), `ok` of them.
struct FakeShard {
  stats::LatencyHistogram latency, service;
  int index, count;
  int64_t started_ns;
  double offset_ms;
  std::string plan = "load db --rate 100";

  std::string Text(double seconds = 10) {
    const double ok = static_cast<double>(latency.count());
    const std::vector<stats::Bar> bars = {stats::Bar::Sla("requests", "count<150"), stats::Bar::Sla("latency", "p(99)<1s")};
    const std::map<std::string, stats::Observed> observed = {{"latency", {.latency = &latency}},
                                                             {"requests", {.count = ok, .rate = ok / seconds}}};
    std::vector<RunEntry> entries = {{"load_db/markets", seconds,
                                      {{"p99_ms", latency.Percentile(99) / 1e6}, {"service_p50_ms", 0}, {"ok", ok},
                                       {"dropped", 1}, {"success_ratio", ok / (ok + 1)},
                                       {"achieved_requests_per_s", ok / seconds}, {"generator_cpu", 0.1 * (index + 1)},
                                       {"recovery_s", 3}}}};
    json doc = json::parse(WriteRunJson({{"executable", "pmbench load db"}}, entries, stats::EvaluateBars(bars, observed)));
    ShardRun run{.index = index, .count = count, .plan = plan, .start_at_ns = int64_t{1'000'000'000'000'000'000},
                 .schedule_ns = started_ns, .started_ns = started_ns + 100'000, .seconds = seconds, .clock_offset_ms = offset_ms, .clock_offset_error_ms = 0.25,
                 .clock_reference = "postgresql"};
    AddShard(doc, run, {{"latency", {.latency = &latency}}, {"requests", {.count = ok, .count_per_second = true}}},
             {{"load_db/markets", "latency", &latency}, {"load_db/markets", "service", &service}});
    return doc.dump();
  }
};

FakeShard Shard(int index, int count, int from_ms, int to_ms, double offset_ms = 0) {
  FakeShard s{.index = index, .count = count, .started_ns = int64_t{1'000'000'000'000'000'000} + index * 2'000'000,
              .offset_ms = offset_ms};
  for (int ms = from_ms; ms < to_ms; ++ms) {
    s.latency.Record(int64_t{ms} * 1'000'000);
    s.service.Record(int64_t{ms} * 500'000);
  }
  return s;
}

// A scenario's click to screen: shard 0 sent bet a, shard 1 sent b and c. Shard 0's
// subscribers had a at 500 and b at 900; shard 1's had a at 800, b at 300 and c never
// (a subscriber missed it). On the whole run's screens: a at 800, b at 900, c never.
TEST(ShardMergeTest, ActionsAreOnScreenWhenEveryShardsSubscribersHaveThem) {
  const auto shard = [](int index, json sent, json shown, int64_t local_incomplete, double lost) {
    FakeShard f = Shard(index, 2, 1, 11);
    json doc = json::parse(f.Text());
    doc["benchmarks"][0]["lost"] = lost;
    doc["benchmarks"][0]["click_complete"] = 0;
    for (const char* k : {"click_samples", "click_min_ms", "click_max_ms"}) doc["benchmarks"][0][k] = 0;  // the shard's own view
    doc["benchmarks"][0]["click_incomplete"] = static_cast<double>(local_incomplete);
    doc["pmbench_observed"]["delivery_lost"] = {{"count", lost}};
    doc["pmbench_bars"].push_back({{"kind", "threshold"}, {"metric", "delivery_lost"}, {"expression", "count<1"}});
    doc["pmbench_bars"].push_back({{"kind", "goal"}, {"metric", "click_to_screen"}, {"expression", "p(99)<=850ns"}});
    doc["pmbench_screens"] = json::array({{{"run_name", "load_db/markets"}, {"metric", "click"}, {"observed", "click_to_screen"},
                                           {"complete_counter", "click_complete"}, {"incomplete_counter", "click_incomplete"},
                                           {"lost_counter", "lost"}, {"lost_observed", "delivery_lost"},
                                           {"deadline_ns", 2'000 + index}, {"local_incomplete", local_incomplete},
                                           {"sent", sent}, {"shown", shown}}});
    return doc.dump();
  };
  // Shard 1 counted c as lost on its own; shard 0 lost one WebSocket update.
  const ShardMerge m = MergeShards({{"s0.json", shard(0, {{"a", 100}}, {{"a", 500}, {"b", 900}}, 0, 1)},
                                    {"s1.json", shard(1, {{"b", 200}, {"c", 250}}, {{"a", 800}, {"b", 300}, {"c", -1}}, 1, 1)}});
  const json e = json::parse(m.json)["benchmarks"][0];
  EXPECT_EQ(e["click_complete"].get<double>(), 2);
  EXPECT_EQ(e["click_incomplete"].get<double>(), 1);
  EXPECT_EQ(e["click_samples"].get<double>(), 3);
  EXPECT_EQ(e["click_max_ms"].get<double>(), (2'001 - 250) / 1e6);  // c, at the latest deadline
  EXPECT_EQ(e["click_min_ms"].get<double>(), 700 / 1e6);            // a: 800 - 100, not shard 0's 400
  EXPECT_EQ(e["lost"].get<double>(), 2);  // one update + c, counted once
  const auto bar = [&](const std::string& metric) {
    return *std::find_if(m.bars.begin(), m.bars.end(), [&](const auto& b) { return b.metric == metric; });
  };
  EXPECT_EQ(bar("delivery_lost").measured, 2);
  EXPECT_EQ(bar("click_to_screen").measured, 1'751);  // p99 of {700, 700, 1751}: c's
  EXPECT_FALSE(json::parse(m.json).contains("pmbench_screens"));
}

TEST(ShardMergeTest, TheUnionIsExactAndItsThresholdsAreTheWholesVerdict) {
  // Fast shard: 100 requests of 1..100 ms; slow shard: 100 of 901..1000 ms.
  FakeShard fast = Shard(0, 2, 1, 101, 0.5), slow = Shard(1, 2, 901, 1001, -1.5);
  stats::LatencyHistogram both = fast.latency;
  both.Merge(slow.latency);
  const ShardMerge m = MergeShards({{"s1.json", slow.Text()}, {"s0.json", fast.Text()}});
  const json doc = json::parse(m.json);
  const json& e = doc["benchmarks"][0];
  EXPECT_EQ(e["p99_ms"].get<double>(), both.Percentile(99) / 1e6);  // the union's, not a mean of the two
  EXPECT_NEAR(e["p99_ms"].get<double>(), 998, 8);  // rank 198 of 200
  EXPECT_EQ(e["ok"].get<double>(), 200);
  EXPECT_EQ(e["dropped"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(e["success_ratio"].get<double>(), 200.0 / 202);
  EXPECT_DOUBLE_EQ(e["generator_cpu"].get<double>(), 0.2);
  // Shard 1 started 2 ms later: the window is 10.002 s and the rate is over it.
  EXPECT_NEAR(m.window_s, 10.002, 1e-6);
  EXPECT_NEAR(e["achieved_requests_per_s"].get<double>(), 200 / 10.002, 1e-5);
  EXPECT_NEAR(e["real_time"].get<double>(), 10002, 1e-3);  // ms, as the shards wrote it
  EXPECT_FALSE(e.contains("recovery_s"));                  // no exact rule: left out, and said so
  EXPECT_EQ(m.not_merged, std::vector<std::string>{"recovery_s"});
  // Each shard's 100 requests pass count<150; the run's 200 do not.
  for (const auto& bars : m.shard_bars) EXPECT_TRUE(bars.at(0)["pass"].get<bool>());
  ASSERT_EQ(m.bars.size(), 2u);
  EXPECT_FALSE(m.bars[0].pass);
  EXPECT_EQ(m.bars[0].measured, 200);
  EXPECT_TRUE(m.bars[1].pass);
  EXPECT_FALSE(m.pass);
  EXPECT_NEAR(m.start_spread_ms, 2, 1e-6);
  ASSERT_TRUE(m.clock_skew_ms.has_value());
  EXPECT_DOUBLE_EQ(*m.clock_skew_ms, 2.0);
  EXPECT_DOUBLE_EQ(*m.clock_skew_error_ms, 0.5);
  EXPECT_EQ(doc["context"]["pmbench_merge"]["shards"], 2);
  EXPECT_FALSE(doc["context"].contains("pmbench_shard"));
  // The merged histograms are in the result for another tool to read.
  EXPECT_EQ(stats::LatencyHistogram::FromJson(doc["pmbench_histograms"][0]["histogram"].dump()), both);
}

TEST(ShardMergeTest, APartOfARunOrAnotherRunIsRefused) {
  FakeShard a = Shard(0, 3, 1, 10), b = Shard(1, 3, 1, 10), c = Shard(2, 3, 1, 10);
  EXPECT_THROW(MergeShards({{"a", a.Text()}, {"b", b.Text()}}), std::invalid_argument);  // shard 2 missing
  EXPECT_THROW(MergeShards({{"a", a.Text()}, {"a2", a.Text()}, {"b", b.Text()}}), std::invalid_argument);  // twice
  FakeShard other = c;
  other.plan = "load db --rate 200";
  EXPECT_THROW(MergeShards({{"a", a.Text()}, {"b", b.Text()}, {"c", other.Text()}}), std::invalid_argument);
  try {
    MergeShards({{"plain.json", R"({"context":{},"benchmarks":[]})"}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("plain.json: not a shard's result"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(MergeShards({{"c", c.Text()}, {"a", a.Text()}, {"b", b.Text()}}));
}

}  // namespace
}  // namespace pmbench::results
