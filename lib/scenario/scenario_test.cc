#include "lib/scenario/scenario.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace pmbench::scenario {
namespace {

const Role& Named(const ScenarioSpec& s, const std::string& name) {
  for (const Role& r : s.roles) {
    if (r.name == name) return r;
  }
  throw std::out_of_range(name);
}

TEST(ScenarioTest, BuiltinsAreTheStorysNumbers) {
  const ScenarioSpec peak = Builtin("peak", "default");
  EXPECT_EQ(peak.users(), 1000);
  EXPECT_EQ(Named(peak, "browse").users, 500);
  EXPECT_EQ(Named(peak, "bet").users, 300);
  EXPECT_EQ(Named(peak, "vote").users, 150);
  EXPECT_EQ(Named(peak, "create").users, 50);
  EXPECT_EQ(Named(peak, "bet").action, "bets");

  const ScenarioSpec flood = Builtin("flood", "soak");
  EXPECT_DOUBLE_EQ(Named(flood, "vote").rate_per_s * Named(flood, "vote").seconds, 10'000);  // in the 10-minute window
  EXPECT_DOUBLE_EQ(Named(flood, "claim").rate_per_s * Named(flood, "claim").seconds, 5'000);
  EXPECT_GE(Named(flood, "claim").start_s, Named(flood, "resolve").start_s + Named(flood, "resolve").seconds);

  const ScenarioSpec creation = Builtin("creation", "soak");
  EXPECT_EQ(Named(creation, "approve").users, 50);
  EXPECT_DOUBLE_EQ(Named(creation, "create").rate_per_s * creation.seconds, 50);
  EXPECT_DOUBLE_EQ(creation.seconds, 300);
  EXPECT_TRUE(creation.watch_new_markets);

  const ScenarioSpec day = Builtin("sustained", "soak");
  EXPECT_DOUBLE_EQ(day.seconds, 3600);
  EXPECT_EQ(day.users(), 100);
  EXPECT_DOUBLE_EQ(Named(day, "bet").rate_per_s * 60, 50);
  EXPECT_DOUBLE_EQ(Named(day, "vote").rate_per_s * 60, 20);
  EXPECT_DOUBLE_EQ(Named(day, "create").rate_per_s * 3600, 5);
  EXPECT_TRUE(day.soak);

  EXPECT_EQ(Builtin("peak", "smoke").users(), 100);
  EXPECT_LT(Builtin("flood", "smoke").seconds, 30);
}

TEST(ScenarioTest, UnknownNamesAreRefused) {
  EXPECT_THROW(Builtin("rush", "default"), std::invalid_argument);
  EXPECT_THROW(Builtin("peak", "huge"), std::invalid_argument);
}

TEST(ScenarioTest, AFileParsesIntoRoles) {
  const ScenarioSpec s = ParseScenario(R"({"name": "mine", "stages": "10s:20,20s:40", "hot_markets": 5,
      "roles": [{"name": "b", "users": 30, "think_s": 1}, {"name": "x", "action": "bets", "rate_per_min": 120}]})");
  EXPECT_EQ(s.name, "mine");
  EXPECT_DOUBLE_EQ(s.seconds, 30);
  EXPECT_EQ(s.hot_markets, 5);
  ASSERT_EQ(s.roles.size(), 2u);
  EXPECT_TRUE(s.roles[0].browses());
  EXPECT_DOUBLE_EQ(s.roles[1].rate_per_s, 2);
  EXPECT_EQ(s.users(), 30);
}

TEST(ScenarioTest, BadFilesNameTheProblem) {
  const auto message = [](const std::string& text) {
    try {
      ParseScenario(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("{").find("not JSON"), std::string::npos);
  EXPECT_NE(message(R"({"name":"a","seconds":5,"roles":[],"colour":1})").find("colour"), std::string::npos);
  EXPECT_NE(message(R"({"name":"a","seconds":5,"roles":[]})").find("no roles"), std::string::npos);
  EXPECT_NE(message(R"({"name":"a","seconds":5,"roles":[{"name":"r","action":"dance","users":1}]})").find("dance"),
            std::string::npos);
  EXPECT_NE(message(R"({"name":"a","seconds":5,"roles":[{"name":"r","action":"bets","users":1,"rate_per_min":6}]})")
                .find("one of them"),
            std::string::npos);
  EXPECT_NE(message(R"({"name":"a","seconds":5,"roles":[{"name":"r","rate_per_min":6}]})").find("browsing"), std::string::npos);
  EXPECT_NE(message(R"({"name":"a","seconds":5,"roles":[{"name":"r","users":1,"start_s":9}]})").find("after the run"),
            std::string::npos);
  EXPECT_NE(message(R"({"name":"a","roles":[{"name":"r","users":1}]})").find("seconds"), std::string::npos);
}

}  // namespace
}  // namespace pmbench::scenario
