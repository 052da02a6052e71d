#include "lib/stats/significance.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace pmbench::stats {
namespace {

TEST(SignificanceTest, MannWhitneyExactSmallSamples) {
  // Every arrangement equally likely: separated samples of 3 and 3 -> 2/C(6,3) = 0.1.
  const std::vector<double> a = {1, 2, 3}, b = {4, 5, 6};
  auto r = MannWhitneyU(a, b);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.statistic, 0);
  EXPECT_NEAR(r.p_value, 0.1, 1e-12);
  // 5 and 5 separated: 2/C(10,5) = 2/252.
  const std::vector<double> c = {1, 2, 3, 4, 5}, d = {6, 7, 8, 9, 10};
  EXPECT_NEAR(MannWhitneyU(c, d).p_value, 2.0 / 252, 1e-12);
  EXPECT_NEAR(MannWhitneyU(d, c).p_value, 2.0 / 252, 1e-12);
  EXPECT_EQ(MannWhitneyU(d, c).statistic, 25);
  // Interleaved halves: U = 12 of 25, the middle: p = 1.
  const std::vector<double> e = {1, 3, 5, 7, 9}, f = {2, 4, 6, 8, 10};
  EXPECT_EQ(MannWhitneyU(e, f).statistic, 10);
  // Published (Mann & Whitney 1947 tables; scipy exact): n1 = n2 = 4, U = 1 -> p = 2*2/70.
  const std::vector<double> g = {1, 2, 3, 5}, h = {4, 6, 7, 8};
  EXPECT_NEAR(MannWhitneyU(g, h).p_value, 4.0 / 70, 1e-12);
}

TEST(SignificanceTest, MannWhitneyNormalApproximationWithTies) {
  // With ties the exact table does not apply. By hand: n1 = n2 = 6; pooled ranks
  // 1 | 2.5 2.5 | 4.5 4.5 | 6.5 6.5 | 8.5 8.5 | 10 | 11.5 11.5 give R_a = 23.5, U = 2.5;
  // five pairs of ties -> sum(t^3 - t) = 30; var = 36/12 * (13 - 30/132);
  // z = (|2.5 - 18| - 0.5) / sqrt(var) = 2.4232; p = erfc(z / sqrt 2) = 0.015385.
  const std::vector<double> a = {1, 2, 2, 3, 4, 4}, b = {5, 5, 6, 7, 7, 3};
  const auto r = MannWhitneyU(a, b);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.statistic, 2.5);
  const double var = 36.0 / 12 * (13 - 30.0 / 132);
  EXPECT_NEAR(r.p_value, std::erfc((std::fabs(2.5 - 18) - 0.5) / std::sqrt(var) / std::sqrt(2.0)), 1e-12);
  EXPECT_NEAR(r.p_value, 0.015385, 5e-6);
  // All equal: nothing to tell.
  const std::vector<double> same = {5, 5, 5};
  EXPECT_EQ(MannWhitneyU(same, same).p_value, 1);
  EXPECT_EQ(MannWhitneyU({}, same).p_value, 1);
}

TEST(SignificanceTest, StudentTailFromIncompleteBeta) {
  EXPECT_NEAR(IncompleteBeta(1, 1, 0.3), 0.3, 1e-12);
  EXPECT_NEAR(IncompleteBeta(2, 3, 0.4), 0.5248, 1e-12);  // 1 - (1-x)^4 - 4x(1-x)^3
  // Two-sided p of t = 2.0 with 10 degrees of freedom (statistical tables): 0.07339.
  const double df = 10, t = 2.0;
  EXPECT_NEAR(IncompleteBeta(df / 2, 0.5, df / (df + t * t)), 0.07339, 5e-5);
  // t = 2.228, df = 10 is the 5% critical value.
  EXPECT_NEAR(IncompleteBeta(5, 0.5, 10 / (10 + 2.228 * 2.228)), 0.05, 2e-4);
}

TEST(SignificanceTest, WelchMatchesThePublishedExample) {
  // Wikipedia, "Welch's t-test", example 1: t = -2.46, df = 24.9, p = 0.021.
  const std::vector<double> a1 = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
                                  21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
  const std::vector<double> a2 = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
                                  24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
  auto summary = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    return Summary{m, std::sqrt(ss / static_cast<double>(v.size() - 1)), static_cast<double>(v.size())};
  };
  const auto r = WelchT(summary(a1), summary(a2));
  EXPECT_NEAR(r.statistic, -2.46, 0.005);
  EXPECT_NEAR(r.p_value, 0.021, 0.0005);
  EXPECT_EQ(WelchT({1, 0, 5}, {1, 0, 5}).p_value, 1);
  EXPECT_EQ(WelchT({1, 0, 5}, {2, 0, 5}).p_value, 0);
  EXPECT_EQ(WelchT({1, 1, 1}, {2, 1, 5}).p_value, 1);  // n < 2: cannot tell
}

}  // namespace
}  // namespace pmbench::stats
