// File: arrival_schedule.h
//
// When the i-th request of an open-model run is due: k6's constant- and
// ramping-arrival-rate. The rate starts at `start` and moves linearly to each stage's
// target over the stage; arrival i is due when the integral of the rate reaches i.
//
//   ArrivalSchedule s(0, {{10, 1000}, {60, 1000}});   // ramp to 1,000/s in 10 s, hold 60 s
//   for (uint64_t i = 0; auto t = s.TimeOf(i); ++i) { ... *t seconds after the start ... }
#ifndef PMBENCH_LOAD_ARRIVAL_SCHEDULE_H_
#define PMBENCH_LOAD_ARRIVAL_SCHEDULE_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace pmbench::load {

// A stage: over `seconds`, the rate (open model) or the number of virtual users (closed)
// moves linearly from where the previous stage ended to `target`.
struct Stage {
  double seconds = 0;
  double target = 0;
};

class ArrivalSchedule {
 public:
  // Throws std::invalid_argument for negative rates or durations, or no stage.
  ArrivalSchedule(double start, std::vector<Stage> stages);

  // Seconds from the start at which arrival `i` (0-based) is due; nullopt past the end.
  std::optional<double> TimeOf(uint64_t i) const;
  // The level (rate or users) at `t` seconds.
  double LevelAt(double t) const;
  // Arrivals due in the whole run.
  uint64_t total() const { return total_; }
  double seconds() const { return seconds_; }

 private:
  struct Segment {
    double t0, seconds, r0, r1;
    double n0;  // arrivals due before the segment
  };
  std::vector<Segment> segments_;
  double seconds_ = 0;
  uint64_t total_ = 0;
};

}  // namespace pmbench::load

#endif  // PMBENCH_LOAD_ARRIVAL_SCHEDULE_H_
