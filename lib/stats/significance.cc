#include "lib/stats/significance.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace pmbench::stats {
namespace {

// The exact null distribution of twice the first sample's rank sum: the number of ways to
// pick n1 of the pooled items (each weighing twice its mid-rank, an integer) with each
// total. Ties are handled as they are, so this is the exact permutation test for any data.
std::vector<double> RankSumCounts(const std::vector<int>& weights, int n1) {
  int most = 0;
  std::vector<int> sorted = weights;
  std::sort(sorted.rbegin(), sorted.rend());
  for (int k = 0; k < n1; ++k) most += sorted[static_cast<size_t>(k)];
  std::vector<std::vector<double>> dp(static_cast<size_t>(n1 + 1), std::vector<double>(static_cast<size_t>(most + 1), 0.0));
  dp[0][0] = 1;
  int taken = 0;
  for (const int w : weights) {
    taken = std::min(taken + 1, n1);
    for (int k = taken; k >= 1; --k) {
      auto& row = dp[static_cast<size_t>(k)];
      const auto& prev = dp[static_cast<size_t>(k - 1)];
      for (int s = most; s >= w; --s) row[static_cast<size_t>(s)] += prev[static_cast<size_t>(s - w)];
    }
  }
  return dp[static_cast<size_t>(n1)];
}

double NormalSf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

double BetaContinuedFraction(double a, double b, double x) {
  constexpr int kMaxIterations = 300;
  constexpr double kEps = 1e-15, kTiny = 1e-300;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) break;
  }
  return h;
}

}  // namespace

double IncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
}

double SmallestP(size_t n1, size_t n2, Alternative alternative) {
  if (n1 == 0 || n2 == 0) return 1;
  double arrangements = 1;  // C(n1 + n2, n1)
  for (size_t k = 1; k <= n1; ++k) arrangements = arrangements * static_cast<double>(n2 + k) / static_cast<double>(k);
  return std::min(1.0, (alternative == Alternative::kTwoSided ? 2 : 1) / arrangements);
}

TestResult MannWhitneyU(std::span<const double> a, std::span<const double> b, Alternative alternative) {
  TestResult r;
  const size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 || n2 == 0) return r;
  // Ranks of the pooled sample, ties sharing their mean rank (kept doubled: integers).
  std::vector<std::pair<double, int>> pooled;
  for (double v : a) pooled.emplace_back(v, 0);
  for (double v : b) pooled.emplace_back(v, 1);
  std::sort(pooled.begin(), pooled.end());
  const size_t n = pooled.size();
  std::vector<int> weights(n);
  int64_t rank_sum_a2 = 0;
  double tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    const auto doubled_rank = static_cast<int>(i + 1 + j);  // 2 x the mean of ranks i+1 .. j
    const auto t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    for (size_t k = i; k < j; ++k) {
      weights[k] = doubled_rank;
      if (pooled[k].second == 0) rank_sum_a2 += doubled_rank;
    }
    i = j;
  }
  const double base2 = static_cast<double>(n1 * (n1 + 1));  // 2 x the smallest rank sum
  r.statistic = (static_cast<double>(rank_sum_a2) - base2) / 2;
  if (tie_term == static_cast<double>(n * n * n - n)) return r;  // every value tied: nothing to tell

  // b larger than a <=> a's ranks small: the lower tail of a's rank sum.
  double lower = 0, upper = 0;
  if (n <= 100 && n1 * n2 <= 2500) {
    const auto counts = RankSumCounts(weights, static_cast<int>(n1));
    double total = 0;
    for (size_t s = 0; s < counts.size(); ++s) {
      total += counts[s];
      if (static_cast<int64_t>(s) <= rank_sum_a2) lower += counts[s];
      if (static_cast<int64_t>(s) >= rank_sum_a2) upper += counts[s];
    }
    lower /= total;
    upper /= total;
    r.exact = true;
  } else {
    const double nn = static_cast<double>(n);
    const double variance = static_cast<double>(n1 * n2) / 12 * ((nn + 1) - tie_term / (nn * (nn - 1)));
    const double mean_u = static_cast<double>(n1 * n2) / 2;
    const double sd = std::sqrt(variance);
    lower = 1 - NormalSf((r.statistic + 0.5 - mean_u) / sd);  // continuity-corrected
    upper = NormalSf((r.statistic - 0.5 - mean_u) / sd);
  }
  switch (alternative) {
    case Alternative::kGreater: r.p_value = lower; break;
    case Alternative::kLess: r.p_value = upper; break;
    case Alternative::kTwoSided: r.p_value = 2 * std::min(lower, upper); break;
  }
  r.p_value = std::clamp(r.p_value, 0.0, 1.0);
  return r;
}

TestResult WelchT(const Summary& a, const Summary& b, Alternative alternative) {
  TestResult r;
  if (a.n < 2 || b.n < 2) return r;
  const double va = a.stddev * a.stddev / a.n, vb = b.stddev * b.stddev / b.n;
  if (va + vb == 0) {
    const bool differs = alternative == Alternative::kGreater   ? b.mean > a.mean
                         : alternative == Alternative::kLess    ? b.mean < a.mean
                                                                : a.mean != b.mean;
    r.p_value = differs ? 0 : 1;
    return r;
  }
  const double t = (a.mean - b.mean) / std::sqrt(va + vb);
  const double df = (va + vb) * (va + vb) / (va * va / (a.n - 1) + vb * vb / (b.n - 1));
  r.statistic = t;
  const double two_sided = IncompleteBeta(df / 2, 0.5, df / (df + t * t));
  // b larger than a makes t negative.
  switch (alternative) {
    case Alternative::kTwoSided: r.p_value = two_sided; break;
    case Alternative::kGreater: r.p_value = t < 0 ? two_sided / 2 : 1 - two_sided / 2; break;
    case Alternative::kLess: r.p_value = t > 0 ? two_sided / 2 : 1 - two_sided / 2; break;
  }
  return r;
}

}  // namespace pmbench::stats
