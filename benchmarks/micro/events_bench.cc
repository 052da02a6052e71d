// Decoding the platform's events alone: logsNotification JSON -> invoke stack -> base64 ->
// Anchor/Borsh, on generated lines with the realistic mix.
#include <benchmark/benchmark.h>

#include "benchmarks/common/profile.h"
#include "benchmarks/common/report.h"
#include "lib/events/gen.h"
#include "lib/events/notification.h"

namespace pmbench::bench {
namespace {


void BM_DecodeLines(benchmark::State& state) {
  const auto lines = events::GenerateNotifications(
      {.count = static_cast<uint64_t>(CurrentProfile().events), .markets = 100, .seed = 9,
       .malformed_ratio = 0.01, .failed_tx_ratio = 0.02, .foreign_ratio = 0.05});
  int64_t bytes = 0;
  for (const auto& l : lines) bytes += static_cast<int64_t>(l.size()) + 1;
  events::NotificationParser parser(events::DefaultProgram());
  auto decode_all = [&] {
    int64_t n = 0;
    for (const auto& l : lines) {
      const auto p = parser.Parse(l);
      if (p.notification) n += static_cast<int64_t>(p.notification->events.size());
    }
    return n;
  };
  const int64_t expected = decode_all();  // checked against every timed pass
  int64_t decoded = 0;
  for (auto _ : state) {
    decoded = decode_all();
    if (!Check(state, decoded == expected && expected > 0, "decoded a different number of events")) break;
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.SetItemsProcessed(state.iterations() * expected);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * expected), benchmark::Counter::kIsRate);
  state.counters["lines"] = static_cast<double>(lines.size());
}
BENCHMARK(BM_DecodeLines)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pmbench::bench
