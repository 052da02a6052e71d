#include "lib/load/arrival_schedule.h"

#include <cmath>
#include <stdexcept>

namespace pmbench::load {

ArrivalSchedule::ArrivalSchedule(double start, std::vector<Stage> stages) {
  if (stages.empty()) throw std::invalid_argument("a load needs at least one stage");
  if (!(start >= 0)) throw std::invalid_argument("the starting rate must be >= 0");
  double t = 0, n = 0, r = start;
  for (const Stage& s : stages) {
    if (!(s.seconds >= 0) || !(s.target >= 0) || !std::isfinite(s.seconds) || !std::isfinite(s.target)) {
      throw std::invalid_argument("a stage needs a duration and a target >= 0");
    }
    segments_.push_back({t, s.seconds, r, s.target, n});
    n += (r + s.target) / 2 * s.seconds;
    t += s.seconds;
    r = s.target;
  }
  seconds_ = t;
  // Arrivals are due at integrals 0, 1, 2, ... strictly inside the run: floor(n) + 1 of them
  // when n is not whole, n when it is (the one at the very end is not started).
  const double whole = std::floor(n + 1e-9);
  total_ = static_cast<uint64_t>(std::abs(n - whole) < 1e-9 ? whole : std::floor(n) + 1);
  if (n == 0) total_ = 0;
}

std::optional<double> ArrivalSchedule::TimeOf(uint64_t i) const {
  if (i >= total_) return std::nullopt;
  const double target = static_cast<double>(i);
  for (const Segment& s : segments_) {
    const double n = (s.r0 + s.r1) / 2 * s.seconds;
    if (target >= s.n0 + n && &s != &segments_.back()) continue;
    const double k = target - s.n0;  // arrivals into this segment
    if (s.seconds == 0 || k <= 0) return s.t0;
    const double a = (s.r1 - s.r0) / s.seconds / 2;  // n(t) = a t^2 + r0 t
    double dt;
    if (std::abs(a) < 1e-12) {
      dt = s.r0 > 0 ? k / s.r0 : 0;
    } else {
      // The root of a t^2 + r0 t - k = 0 in [0, seconds]; this form avoids cancellation.
      dt = 2 * k / (s.r0 + std::sqrt(std::max(0.0, s.r0 * s.r0 + 4 * a * k)));
    }
    return s.t0 + std::min(dt, s.seconds);
  }
  return std::nullopt;
}

double ArrivalSchedule::LevelAt(double t) const {
  for (const Segment& s : segments_) {
    if (t <= s.t0 + s.seconds) return s.seconds == 0 ? s.r1 : s.r0 + (s.r1 - s.r0) * std::max(0.0, t - s.t0) / s.seconds;
  }
  return segments_.back().r1;
}

}  // namespace pmbench::load
