#include "lib/stats/threshold.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace pmbench::stats {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool Consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// Parses a leading non-negative decimal number; nullopt when there is none.
std::optional<double> ConsumeNumber(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
  if (n == 0) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, v);
  if (ec != std::errc() || ptr != s.data() + n) return std::nullopt;
  s.remove_prefix(n);
  return v;
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

const char* ComparisonText(Threshold::Comparison c) {
  switch (c) {
    case Threshold::Comparison::kLess: return "<";
    case Threshold::Comparison::kLessEqual: return "<=";
    case Threshold::Comparison::kGreater: return ">";
    case Threshold::Comparison::kGreaterEqual: return ">=";
    case Threshold::Comparison::kEqual: return "==";
    case Threshold::Comparison::kNotEqual: return "!=";
  }
  return "?";
}

}  // namespace

std::string FormatDuration(double ns) {
  const char* unit = "ns";
  double v = ns;
  if (std::fabs(ns) >= 1e9) {
    v = ns / 1e9, unit = "s";
  } else if (std::fabs(ns) >= 1e6) {
    v = ns / 1e6, unit = "ms";
  } else if (std::fabs(ns) >= 1e3) {
    v = ns / 1e3, unit = "us";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", v, unit);
  return buf;
}

namespace {

template <class E, size_t N>
std::optional<E> ConsumeOneOf(std::string_view& s, const std::pair<std::string_view, E> (&options)[N]) {
  for (const auto& [token, value] : options) {
    if (Consume(s, token)) return value;
  }
  return std::nullopt;
}

constexpr std::pair<std::string_view, Threshold::Aggregate> kAggregates[] = {
    {"avg", Threshold::Aggregate::kAvg},     {"min", Threshold::Aggregate::kMin},
    {"max", Threshold::Aggregate::kMax},     {"med", Threshold::Aggregate::kMed},
    {"count", Threshold::Aggregate::kCount}, {"rate", Threshold::Aggregate::kRate}};
constexpr std::pair<std::string_view, Threshold::Comparison> kComparisons[] = {
    {"<=", Threshold::Comparison::kLessEqual}, {">=", Threshold::Comparison::kGreaterEqual},
    {"==", Threshold::Comparison::kEqual},     {"!=", Threshold::Comparison::kNotEqual},
    {"<", Threshold::Comparison::kLess},       {">", Threshold::Comparison::kGreater}};

}  // namespace

Threshold Threshold::Parse(std::string_view expression) {
  Threshold t;
  t.expression_ = std::string(Trim(expression));
  auto fail = [&](const std::string& why) {
    return std::invalid_argument("bad threshold '" + t.expression_ + "': " + why);
  };
  std::string_view s = t.expression_;
  if (Consume(s, "p(")) {
    t.aggregate_ = Aggregate::kPercentile;
    const auto p = ConsumeNumber(s);
    if (!p || !Consume(s, ")")) throw fail("expected p(N) with N a number, e.g. p(95)");
    if (*p <= 0 || *p > 100) throw fail("percentile must be in (0, 100]");
    t.percentile_ = *p;
  } else if (const auto a = ConsumeOneOf(s, kAggregates)) {
    t.aggregate_ = *a;
  } else {
    throw fail("expected one of p(N), avg, min, max, med, count, rate");
  }
  s = Trim(s);
  // Two-character operators first: "<" is a prefix of "<=".
  if (const auto c = ConsumeOneOf(s, kComparisons)) {
    t.comparison_ = *c;
  } else {
    throw fail("expected a comparison: < <= > >= == !=");
  }
  s = Trim(s);
  const auto value = ConsumeNumber(s);
  if (!value) throw fail("expected a number after the comparison");
  const std::string_view unit = Trim(s);
  if (t.is_latency()) {
    double scale = 1e6;  // k6: a bare number is milliseconds
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us") {
      scale = 1e3;
    } else if (unit == "ms" || unit.empty()) {
      scale = 1e6;
    } else if (unit == "s") {
      scale = 1e9;
    } else {
      throw fail("unknown unit '" + std::string(unit) + "' (use ns, us, ms or s)");
    }
    t.bound_ = *value * scale;
  } else {
    if (!unit.empty()) throw fail("count and rate take a plain number, not '" + std::string(unit) + "'");
    t.bound_ = *value;
  }
  return t;
}

ThresholdResult Threshold::Evaluate(const Observed& observed) const {
  ThresholdResult r;
  std::string name;
  switch (aggregate_) {
    case Aggregate::kPercentile: name = "p(" + FormatNumber(percentile_) + ")"; break;
    case Aggregate::kAvg: name = "avg"; break;
    case Aggregate::kMin: name = "min"; break;
    case Aggregate::kMax: name = "max"; break;
    case Aggregate::kMed: name = "med"; break;
    case Aggregate::kCount: name = "count"; break;
    case Aggregate::kRate: name = "rate"; break;
  }
  std::optional<double> measured;
  if (is_latency()) {
    if (observed.latency && observed.latency->count() > 0) {
      const LatencyHistogram& h = *observed.latency;
      switch (aggregate_) {
        case Aggregate::kPercentile: measured = h.Percentile(percentile_); break;
        case Aggregate::kAvg: measured = h.mean(); break;
        case Aggregate::kMin: measured = static_cast<double>(h.min()); break;
        case Aggregate::kMax: measured = static_cast<double>(h.max()); break;
        default: measured = h.Percentile(50); break;
      }
    }
  } else {
    measured = aggregate_ == Aggregate::kCount ? observed.count : observed.rate;
  }
  const std::string want =
      std::string(ComparisonText(comparison_)) +
      (is_latency() ? FormatDuration(bound_) : FormatNumber(bound_));
  if (!measured) {
    r.message = name + " not measured, want " + want;
    return r;
  }
  const double v = *measured;
  switch (comparison_) {
    case Comparison::kLess: r.pass = v < bound_; break;
    case Comparison::kLessEqual: r.pass = v <= bound_; break;
    case Comparison::kGreater: r.pass = v > bound_; break;
    case Comparison::kGreaterEqual: r.pass = v >= bound_; break;
    case Comparison::kEqual: r.pass = v == bound_; break;
    case Comparison::kNotEqual: r.pass = v != bound_; break;
  }
  r.measured = v;
  r.was_measured = true;
  r.message = name + "=" + (is_latency() ? FormatDuration(v) : FormatNumber(v)) + ", want " + want;
  return r;
}

}  // namespace pmbench::stats
