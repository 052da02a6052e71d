#include "lib/stats/significance.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// The naive reference: every way of splitting the pooled values into groups of n1 and n2,
// each equally likely under the null; the share at least as extreme (U of a) as observed.
double BruteForceLowerTail(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> pooled = a;
  pooled.insert(pooled.end(), b.begin(), b.end());
  auto u_of = [](const std::vector<double>& x, const std::vector<double>& y) {
    double u = 0;
    for (double p : x) {
      for (double q : y) u += p > q ? 1 : p == q ? 0.5 : 0;
    }
    return u;
  };
  const double observed = u_of(a, b);
  const size_t n = pooled.size(), n1 = a.size();
  int64_t total = 0, extreme = 0;
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<size_t>(__builtin_popcount(mask)) != n1) continue;
    std::vector<double> x, y;
    for (size_t i = 0; i < n; ++i) ((mask >> i) & 1 ? x : y).push_back(pooled[i]);
    ++total;
    extreme += u_of(x, y) <= observed + 1e-9;
  }
  return static_cast<double>(extreme) / static_cast<double>(total);
}

TEST(SignificanceTest, OneSidedAsksWhichWay) {
  // 3 and 3 separated: one-sided 1/C(6,3) = 0.05 — the smallest p these sizes allow.
  const std::vector<double> base = {100, 101, 102}, slower = {120, 121, 122};
  EXPECT_NEAR(MannWhitneyU(base, slower, Alternative::kGreater).p_value, 0.05, 1e-12);
  EXPECT_NEAR(MannWhitneyU(base, slower, Alternative::kLess).p_value, 1.0, 1e-12);
  EXPECT_NEAR(MannWhitneyU(slower, base, Alternative::kLess).p_value, 0.05, 1e-12);
  EXPECT_NEAR(SmallestP(3, 3, Alternative::kGreater), 0.05, 1e-12);
  EXPECT_NEAR(SmallestP(3, 3, Alternative::kTwoSided), 0.1, 1e-12);
  EXPECT_NEAR(SmallestP(2, 2, Alternative::kGreater), 1.0 / 6, 1e-12);
  EXPECT_NEAR(SmallestP(9, 9, Alternative::kGreater), 1.0 / 48620, 1e-15);
  // One overlap of 3 and 3: U = 1 -> P(U <= 1) = 2/20.
  const std::vector<double> overlap = {101.5, 120, 121};
  EXPECT_NEAR(MannWhitneyU(base, overlap, Alternative::kGreater).p_value, 0.1, 1e-12);
}

TEST(SignificanceTest, TiesGetTheExactPermutationDistribution) {
  const std::vector<double> a = {1, 2, 2, 3, 4, 4}, b = {5, 5, 6, 7, 7, 3};
  const auto r = MannWhitneyU(a, b, Alternative::kGreater);
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.statistic, 2.5);
  EXPECT_NEAR(r.p_value, BruteForceLowerTail(a, b), 1e-12);
  // Counters that are whole numbers tie a lot: 0 lost in most runs.
  const std::vector<double> c = {0, 0, 0, 1}, d = {0, 2, 3, 3};
  EXPECT_NEAR(MannWhitneyU(c, d, Alternative::kGreater).p_value, BruteForceLowerTail(c, d), 1e-12);
  EXPECT_NEAR(MannWhitneyU(c, d).p_value, std::min(1.0, 2 * BruteForceLowerTail(c, d)), 1e-12);
  // All equal: nothing to tell.
  const std::vector<double> same = {5, 5, 5};
  EXPECT_EQ(MannWhitneyU(same, same).p_value, 1);
  EXPECT_EQ(MannWhitneyU({}, same).p_value, 1);
}

TEST(SignificanceTest, ManySamplesUseTheNormalApproximation) {
  // 60 a side: beyond the exact table. Shifted by one standard deviation: p tiny; the same
  // values: p = 1 one-sided against.
  std::vector<double> a, b;
  for (int i = 0; i < 60; ++i) {
    a.push_back(i);
    b.push_back(i + 30);
  }
  const auto r = MannWhitneyU(a, b, Alternative::kGreater);
  EXPECT_FALSE(r.exact);
  EXPECT_LT(r.p_value, 1e-6);
  EXPECT_GT(MannWhitneyU(a, b, Alternative::kLess).p_value, 0.999);
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
  // One-sided: half the two-sided p in the direction asked, the rest against it.
  EXPECT_NEAR(WelchT(summary(a1), summary(a2), Alternative::kGreater).p_value, r.p_value / 2, 1e-12);
  EXPECT_NEAR(WelchT(summary(a1), summary(a2), Alternative::kLess).p_value, 1 - r.p_value / 2, 1e-12);
  EXPECT_EQ(WelchT({1, 0, 5}, {2, 0, 5}, Alternative::kGreater).p_value, 0);
  EXPECT_EQ(WelchT({1, 0, 5}, {2, 0, 5}, Alternative::kLess).p_value, 1);
}

}  // namespace
}  // namespace pmbench::stats
