// File: wall_clock.h
//
// Nanoseconds since the Unix epoch (CLOCK_REALTIME): the clock a timestamp must use when it
// crosses a process, like an update's publish time read by its subscribers.
//
//   const int64_t ts = stats::WallClockNs();
#ifndef PMBENCH_STATS_WALL_CLOCK_H_
#define PMBENCH_STATS_WALL_CLOCK_H_

#include <time.h>

#include <chrono>
#include <cstdint>

namespace pmbench::stats {

inline int64_t WallClockNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A system_clock instant on the same scale, as results record it.
inline int64_t UnixNs(std::chrono::system_clock::time_point t) {
  return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

}  // namespace pmbench::stats

#endif  // PMBENCH_STATS_WALL_CLOCK_H_
