#include "lib/load/shape.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pmbench::load {
std::optional<double> ParseFinite(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

double Shape::seconds() const {
  double t = 0;
  for (const Stage& s : stages) t += s.seconds;
  return t;
}

double Shape::peak() const {
  double p = start;
  for (const Stage& s : stages) p = std::max(p, s.target);
  return p;
}

double ParseSeconds(const std::string& text) {
  double unit = 1;
  size_t cut = 0;
  if (text.ends_with("ms")) unit = 1e-3, cut = 2;
  else if (text.ends_with("s")) cut = 1;
  else if (text.ends_with("m")) unit = 60, cut = 1;
  else if (text.ends_with("h")) unit = 3600, cut = 1;
  const auto v = ParseFinite(text.substr(0, text.size() - cut));
  if (!v || *v < 0) throw std::invalid_argument("'" + text + "' is not a duration like 30, 30s, 250ms, 2m or 1h");
  return *v * unit;
}

Shape ParseStages(const std::string& text) {
  Shape shape;
  for (size_t p = 0; p <= text.size();) {
    const size_t comma = std::min(text.find(',', p), text.size());
    const std::string item = text.substr(p, comma - p);
    const size_t colon = item.find(':');
    if (colon == std::string::npos) throw std::invalid_argument("stage '" + item + "' is not DURATION:TARGET (e.g. 30s:100)");
    Stage s;
    try {
      s.seconds = ParseSeconds(item.substr(0, colon));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("stage '" + item + "': " + e.what());
    }
    const auto target = ParseFinite(item.substr(colon + 1));
    if (!target || *target < 0) throw std::invalid_argument("stage '" + item + "': the target must be a number >= 0");
    s.target = *target;
    shape.stages.push_back(s);
    p = comma + 1;
  }
  if (shape.seconds() <= 0) throw std::invalid_argument("the stages '" + text + "' last no time");
  return shape;
}

Shape ConstantShape(double level, double seconds, double ramp_s) {
  Shape s{.start = ramp_s > 0 ? 0 : level};
  if (ramp_s > 0) s.stages.push_back({ramp_s, level});
  s.stages.push_back({seconds, level});
  return s;
}

Shape SpikeShape(double level, double seconds, double factor) {
  const double before = seconds * 0.3, spike = seconds * 0.2, after = seconds - before - spike;
  Shape s{.start = level};
  s.stages = {{before, level}, {0, level * factor}, {spike, level * factor}, {0, level}, {after, level}};
  s.spike_start_s = before;
  s.spike_end_s = before + spike;
  return s;
}

Shape Scaled(const Shape& s, double factor) {
  Shape out = s;
  out.start *= factor;
  for (Stage& st : out.stages) st.target *= factor;
  return out;
}

}  // namespace pmbench::load
