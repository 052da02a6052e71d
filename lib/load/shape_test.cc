#include "lib/load/shape.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace pmbench::load {
namespace {

TEST(ShapeTest, StagesParseAsK6Writes) {
  const Shape s = ParseStages("30s:100,1m:1000,500ms:0");
  ASSERT_EQ(s.stages.size(), 3u);
  EXPECT_EQ(s.start, 0);
  EXPECT_DOUBLE_EQ(s.stages[1].seconds, 60);
  EXPECT_DOUBLE_EQ(s.stages[1].target, 1000);
  EXPECT_DOUBLE_EQ(s.stages[2].seconds, 0.5);
  EXPECT_DOUBLE_EQ(s.seconds(), 90.5);
  EXPECT_DOUBLE_EQ(s.peak(), 1000);
  const ArrivalSchedule a(s.start, s.stages);
  EXPECT_DOUBLE_EQ(a.LevelAt(15), 50);  // halfway up the first ramp
}

TEST(ShapeTest, BadStagesAreNamed) {
  for (const char* bad : {"", "30s", "30s:", "x:10", "30s:-1", "10s:5,,", "0s:10", "1m:ten"}) {
    EXPECT_THROW(ParseStages(bad), std::invalid_argument) << bad;
  }
  try {
    ParseStages("30s:100,2q:5");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2q:5"), std::string::npos) << e.what();
  }
}

TEST(ShapeTest, ASpikeJumpsTenfoldAndComesBack) {
  const Shape s = SpikeShape(100, 60);
  ASSERT_TRUE(s.spike_start_s && s.spike_end_s);
  EXPECT_DOUBLE_EQ(*s.spike_start_s, 18);
  EXPECT_DOUBLE_EQ(*s.spike_end_s, 30);
  EXPECT_DOUBLE_EQ(s.seconds(), 60);
  const ArrivalSchedule a(s.start, s.stages);
  EXPECT_DOUBLE_EQ(a.LevelAt(10), 100);
  EXPECT_DOUBLE_EQ(a.LevelAt(18.01), 1000);  // a jump: no ramp between
  EXPECT_DOUBLE_EQ(a.LevelAt(29.99), 1000);
  EXPECT_DOUBLE_EQ(a.LevelAt(30.01), 100);
  // 18 s x 100 + 12 s x 1,000 + 30 s x 100 arrivals.
  EXPECT_EQ(a.total(), 1800u + 12000u + 3000u);
}

TEST(ShapeTest, ConstantAndScaled) {
  const Shape c = ConstantShape(50, 20, 5);
  EXPECT_EQ(c.start, 0);
  EXPECT_DOUBLE_EQ(c.seconds(), 25);
  const Shape half = Scaled(ParseStages("10s:100,10s:40"), 0.5);
  EXPECT_DOUBLE_EQ(half.stages[0].target, 50);
  EXPECT_DOUBLE_EQ(half.stages[1].target, 20);
  EXPECT_DOUBLE_EQ(ParseSeconds("250ms"), 0.25);
  EXPECT_DOUBLE_EQ(ParseSeconds("1h"), 3600);
  EXPECT_THROW(ParseSeconds("1d"), std::invalid_argument);
}

}  // namespace
}  // namespace pmbench::load
