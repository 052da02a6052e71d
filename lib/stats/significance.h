// File: significance.h
//
// Two-sample tests for deciding whether a benchmark changed: Mann-Whitney U (two-sided;
// exact distribution for small samples without ties, normal approximation with tie
// correction otherwise) on repetitions, and Welch's t-test when only aggregates (mean,
// stddev, n) are known.
//
//   double p = MannWhitneyU(base_times, new_times).p_value;
//   double q = WelchT({m1, s1, n1}, {m2, s2, n2}).p_value;
#ifndef PMBENCH_STATS_SIGNIFICANCE_H_
#define PMBENCH_STATS_SIGNIFICANCE_H_

#include <span>

namespace pmbench::stats {

struct TestResult {
  double statistic = 0;  // U of the first sample, or t
  double p_value = 1;    // two-sided
  bool exact = false;    // from the exact distribution rather than an approximation
};

// Needs at least one value a side; p = 1 otherwise.
TestResult MannWhitneyU(std::span<const double> a, std::span<const double> b);

struct Summary {
  double mean = 0, stddev = 0;
  double n = 0;
};
// Needs n >= 2 a side; p = 1 otherwise (or when both variances are 0 and the means agree).
TestResult WelchT(const Summary& a, const Summary& b);

// Regularised incomplete beta I_x(a, b), for the t distribution.
double IncompleteBeta(double a, double b, double x);

}  // namespace pmbench::stats

#endif  // PMBENCH_STATS_SIGNIFICANCE_H_
