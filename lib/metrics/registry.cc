#include "lib/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace pmbench::metrics {
namespace {

bool ValidName(const std::string& s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string Escape(const std::string& v, bool help) {
  std::string out;
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && !help) out += "\\\"";
    else out += c;
  }
  return out;
}

std::string LabelText(const Labels& labels, const std::string& extra_name = "", const std::string& extra = "") {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (const auto& [k, v] : labels) out += (out.size() > 1 ? "," : "") + k + "=\"" + Escape(v, false) + "\"";
  if (!extra_name.empty()) out += (out.size() > 1 ? "," : "") + extra_name + "=\"" + extra + "\"";
  return out + "}";
}

}  // namespace

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  if (bounds_.empty() || !std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::invalid_argument("histogram bounds must be non-empty and strictly increasing");
  }
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  // le: a value on a bound belongs to that bound's bucket.
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (const uint64_t c : counts()) n += c;
  return n;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30};
}

Registry::Series& Registry::Find(const std::string& name, const std::string& help, const std::string& type,
                                 const Labels& labels) {
  if (!ValidName(name, true)) throw std::invalid_argument("not a Prometheus metric name: '" + name + "'");
  for (const auto& [k, v] : labels) {
    if (!ValidName(k, false) || k.rfind("__", 0) == 0 || k == "le" || k == "quantile") {
      throw std::invalid_argument("not a label name of ours: '" + k + "' (on " + name + ")");
    }
  }
  Family& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  } else if (f.type != type) {
    throw std::invalid_argument(name + " is a " + f.type + ", not a " + type);
  }
  for (auto& s : f.series) {
    if (s->labels == labels) return *s;
  }
  f.series.push_back(std::make_unique<Series>());
  f.series.back()->labels = labels;
  return *f.series.back();
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = Find(name, help, "counter", labels);
  if (!s.counter) {
    if (s.read) throw std::invalid_argument(name + " is read by a function");
    s.counter = std::make_unique<Counter>();
  }
  return *s.counter;
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = Find(name, help, "gauge", labels);
  if (!s.gauge) {
    if (s.read) throw std::invalid_argument(name + " is read by a function");
    s.gauge = std::make_unique<Gauge>();
  }
  return *s.gauge;
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help, const Labels& labels,
                                  std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  Series& s = Find(name, help, "histogram", labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

void Registry::AddGaugeFn(const std::string& name, const std::string& help, const Labels& labels,
                          std::function<double()> read) {
  std::lock_guard lock(mu_);
  Series& s = Find(name, help, "gauge", labels);
  if (s.gauge) throw std::invalid_argument(name + " is already a settable gauge");
  s.read = std::move(read);
}

void Registry::AddCollector(std::function<std::string()> text) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(text));
}

std::string Registry::Text() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + Escape(f.help, true) + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& s : f.series) {
      if (s->histogram) {
        const Histogram& h = *s->histogram;
        const std::vector<uint64_t> c = h.counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < c.size(); ++i) {
          cumulative += c[i];
          const std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
          out += name + "_bucket" + LabelText(s->labels, "le", le) + " " + std::to_string(cumulative) + "\n";
        }
        out += name + "_sum" + LabelText(s->labels) + " " + FormatValue(h.sum()) + "\n";
        out += name + "_count" + LabelText(s->labels) + " " + std::to_string(cumulative) + "\n";
        continue;
      }
      const double v = s->read ? s->read() : s->counter ? s->counter->value() : s->gauge->value();
      out += name + LabelText(s->labels) + " " + FormatValue(v) + "\n";
    }
  }
  for (const auto& c : collectors_) out += c();
  return out;
}

}  // namespace pmbench::metrics
