#include "lib/stats/significance.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace pmbench::stats {
namespace {

// Number of arrangements giving each U, for samples of n1 and n2 without ties:
// f(n1, n2, u) = f(n1 - 1, n2, u - n2) + f(n1, n2 - 1, u).
std::vector<double> ExactUCounts(int n1, int n2) {
  // dp[i][j] is the distribution for sizes (i, j); keep rows for i-1 and i.
  std::vector<std::vector<std::vector<double>>> dp(
      static_cast<size_t>(n1 + 1), std::vector<std::vector<double>>(static_cast<size_t>(n2 + 1)));
  for (int i = 0; i <= n1; ++i) {
    for (int j = 0; j <= n2; ++j) {
      auto& cell = dp[static_cast<size_t>(i)][static_cast<size_t>(j)];
      cell.assign(static_cast<size_t>(i * j + 1), 0.0);
      if (i == 0 || j == 0) {
        cell[0] = 1;
        continue;
      }
      const auto& left = dp[static_cast<size_t>(i - 1)][static_cast<size_t>(j)];  // the largest is from a
      const auto& up = dp[static_cast<size_t>(i)][static_cast<size_t>(j - 1)];    // the largest is from b
      for (int u = 0; u <= i * j; ++u) {
        double c = 0;
        if (u - j >= 0 && u - j < static_cast<int>(left.size())) c += left[static_cast<size_t>(u - j)];
        if (u < static_cast<int>(up.size())) c += up[static_cast<size_t>(u)];
        cell[static_cast<size_t>(u)] = c;
      }
    }
  }
  return dp[static_cast<size_t>(n1)][static_cast<size_t>(n2)];
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

TestResult MannWhitneyU(std::span<const double> a, std::span<const double> b) {
  TestResult r;
  const size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 || n2 == 0) return r;
  // Ranks of the pooled sample, ties sharing their mean rank.
  std::vector<std::pair<double, int>> pooled;
  for (double v : a) pooled.emplace_back(v, 0);
  for (double v : b) pooled.emplace_back(v, 1);
  std::sort(pooled.begin(), pooled.end());
  const size_t n = pooled.size();
  double rank_sum_a = 0, tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    const auto t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    for (size_t k = i; k < j; ++k) {
      if (pooled[k].second == 0) rank_sum_a += mean_rank;
    }
    i = j;
  }
  const double u = rank_sum_a - static_cast<double>(n1 * (n1 + 1)) / 2;
  r.statistic = u;
  const double mean_u = static_cast<double>(n1 * n2) / 2;
  if (tie_term == 0 && n1 * n2 <= 400 && n1 <= 50 && n2 <= 50) {
    const auto counts = ExactUCounts(static_cast<int>(n1), static_cast<int>(n2));
    double total = 0, at_most = 0, at_least = 0;
    for (size_t k = 0; k < counts.size(); ++k) {
      total += counts[k];
      if (static_cast<double>(k) <= u) at_most += counts[k];
      if (static_cast<double>(k) >= u) at_least += counts[k];
    }
    r.p_value = std::min(1.0, 2 * std::min(at_most, at_least) / total);
    r.exact = true;
    return r;
  }
  const double nn = static_cast<double>(n);
  const double variance = static_cast<double>(n1 * n2) / 12 * ((nn + 1) - tie_term / (nn * (nn - 1)));
  if (variance <= 0) return r;  // every value tied: nothing to tell
  const double z = (std::fabs(u - mean_u) - 0.5) / std::sqrt(variance);  // continuity-corrected
  r.p_value = std::min(1.0, 2 * NormalSf(std::max(0.0, z)));
  return r;
}

TestResult WelchT(const Summary& a, const Summary& b) {
  TestResult r;
  if (a.n < 2 || b.n < 2) return r;
  const double va = a.stddev * a.stddev / a.n, vb = b.stddev * b.stddev / b.n;
  if (va + vb == 0) {
    r.p_value = a.mean == b.mean ? 1 : 0;
    return r;
  }
  const double t = (a.mean - b.mean) / std::sqrt(va + vb);
  const double df = (va + vb) * (va + vb) / (va * va / (a.n - 1) + vb * vb / (b.n - 1));
  r.statistic = t;
  r.p_value = IncompleteBeta(df / 2, 0.5, df / (df + t * t));  // two-sided
  return r;
}

}  // namespace pmbench::stats
