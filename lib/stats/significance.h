// File: significance.h
//
// Two-sample tests for deciding whether a benchmark changed: Mann-Whitney U on repetitions
// (the exact permutation distribution, ties included, up to 100 samples; the normal
// approximation with tie correction beyond), and Welch's t-test when only aggregates
// (mean, stddev, n) are known. Either one- or two-sided: a gate that knows which way is
// worse asks the one-sided question, which 3 repetitions a side can answer at 5%.
//
//   double p = MannWhitneyU(base_times, new_times, Alternative::kGreater).p_value;  // slower?
//   double q = WelchT({m1, s1, n1}, {m2, s2, n2}).p_value;
#ifndef PMBENCH_STATS_SIGNIFICANCE_H_
#define PMBENCH_STATS_SIGNIFICANCE_H_

#include <cstddef>
#include <span>

namespace pmbench::stats {

struct TestResult {
  double statistic = 0;  // U of the first sample, or t
  double p_value = 1;    // two-sided
  bool exact = false;    // from the exact distribution rather than an approximation
};

// What the test asks of the second sample b against the first a.
enum class Alternative {
  kTwoSided,
  kGreater,  // b tends to be larger than a
  kLess,     // b tends to be smaller than a
};

// Needs at least one value a side; p = 1 otherwise, and when every value is tied.
TestResult MannWhitneyU(std::span<const double> a, std::span<const double> b,
                        Alternative alternative = Alternative::kTwoSided);

// The smallest p-value Mann-Whitney U can reach with n1 and n2 values (complete separation,
// no ties): 1 / C(n1 + n2, n1) one-sided. 3 and 3 give 0.05; 2 and 2, 1/6.
double SmallestP(size_t n1, size_t n2, Alternative alternative);

struct Summary {
  double mean = 0, stddev = 0;
  double n = 0;
};
// Needs n >= 2 a side; p = 1 otherwise (or when both variances are 0 and the means agree).
TestResult WelchT(const Summary& a, const Summary& b, Alternative alternative = Alternative::kTwoSided);

// Regularised incomplete beta I_x(a, b), for the t distribution.
double IncompleteBeta(double a, double b, double x);

}  // namespace pmbench::stats

#endif  // PMBENCH_STATS_SIGNIFICANCE_H_
