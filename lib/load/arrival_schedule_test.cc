#include "lib/load/arrival_schedule.h"

#include <gtest/gtest.h>

namespace pmbench::load {
namespace {

TEST(ArrivalScheduleTest, ConstantRateIsEvenlySpaced) {
  const ArrivalSchedule s(200, {{3, 200}});
  EXPECT_EQ(s.total(), 600u);
  EXPECT_DOUBLE_EQ(*s.TimeOf(0), 0);
  EXPECT_NEAR(*s.TimeOf(1), 0.005, 1e-12);
  EXPECT_NEAR(*s.TimeOf(599), 2.995, 1e-9);
  EXPECT_FALSE(s.TimeOf(600).has_value());
}

TEST(ArrivalScheduleTest, RampsFollowTheIntegralOfTheRate) {
  // 0 -> 100/s over 10 s (500 arrivals), then 100/s for 5 s (500), then down to 0 over 2 s (100).
  const ArrivalSchedule s(0, {{10, 100}, {5, 100}, {2, 0}});
  EXPECT_EQ(s.total(), 1100u);
  // n(t) = 5 t^2 on the ramp: arrival 125 is due at t = 5.
  EXPECT_NEAR(*s.TimeOf(125), 5, 1e-9);
  EXPECT_NEAR(*s.TimeOf(500), 10, 1e-9);
  EXPECT_NEAR(*s.TimeOf(750), 12.5, 1e-9);
  // Ramp down: n(t) = 1000 + 100 t - 25 t^2; 1075 at t = 1.
  EXPECT_NEAR(*s.TimeOf(1075), 16, 1e-9);
  double last = -1;
  for (uint64_t i = 0; i < s.total(); ++i) {
    const double t = *s.TimeOf(i);
    ASSERT_GE(t, last) << i;
    last = t;
  }
  EXPECT_LE(last, 17);
  EXPECT_DOUBLE_EQ(s.LevelAt(5), 50);
  EXPECT_DOUBLE_EQ(s.LevelAt(16), 50);
}

TEST(ArrivalScheduleTest, BadStagesAreRejected) {
  EXPECT_THROW(ArrivalSchedule(1, {}), std::invalid_argument);
  EXPECT_THROW(ArrivalSchedule(-1, {{1, 1}}), std::invalid_argument);
  EXPECT_THROW(ArrivalSchedule(1, {{-1, 1}}), std::invalid_argument);
  EXPECT_EQ(ArrivalSchedule(0, {{5, 0}}).total(), 0u);
}

}  // namespace
}  // namespace pmbench::load
