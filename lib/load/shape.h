// File: shape.h
//
// Load shapes over time, for every load command and scenario: constant (with an optional
// ramp up), k6-style stages ("30s:100,1m:1000,30s:0": each stage moves linearly to its
// target over its duration) and a spike (the level jumps to x10, holds, drops back), which
// remembers where its spike was so the run can measure its recovery time.
//
//   Shape s = ParseStages("30s:100,1m:1000,30s:0");
//   Shape k = SpikeShape(/*level=*/100, /*seconds=*/60);   // 18 s at 100, 12 s at 1,000, 30 s at 100
//   LoadSpec spec{.start = s.start, .stages = s.stages};
#ifndef PMBENCH_LOAD_SHAPE_H_
#define PMBENCH_LOAD_SHAPE_H_

#include <optional>
#include <string>
#include <vector>

#include "lib/load/arrival_schedule.h"

namespace pmbench::load {

struct Shape {
  double start = 0;
  std::vector<Stage> stages;
  // A spike shape's spike: from `spike_start_s` to `spike_end_s` after the start.
  std::optional<double> spike_start_s, spike_end_s;
  double seconds() const;
  double peak() const;  // the highest level of the shape
};

// The whole of `text` as a finite number; nullopt otherwise.
std::optional<double> ParseFinite(const std::string& text);

// "30", "30s", "250ms", "2m", "1h" -> seconds; throws std::invalid_argument otherwise.
double ParseSeconds(const std::string& text);

// k6 stages "DURATION:TARGET,..." starting from 0; throws std::invalid_argument naming the
// bad stage.
Shape ParseStages(const std::string& text);

// `level` for `seconds`, reached linearly over `ramp_s` first (from 0) when ramp_s > 0.
Shape ConstantShape(double level, double seconds, double ramp_s = 0);

// `seconds` in all: 30% at `level`, 20% at `factor` x level (a jump, not a ramp), the rest
// back at `level` to recover in.
Shape SpikeShape(double level, double seconds, double factor = 10);

// The shape with every level multiplied by `factor` (a role's share of a scenario's users).
Shape Scaled(const Shape& s, double factor);

}  // namespace pmbench::load

#endif  // PMBENCH_LOAD_SHAPE_H_
