#include "tools/cli/load_common.h"

#include <cmath>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "tools/cli/flags.h"

namespace pmbench::cli {

double ParseDuration(const std::string& name, const std::string& text) {
  double unit = 1;
  std::string number = text;
  if (text.ends_with("ms")) {
    unit = 1e-3;
    number = text.substr(0, text.size() - 2);
  } else if (text.ends_with("s")) {
    number = text.substr(0, text.size() - 1);
  } else if (text.ends_with("m")) {
    unit = 60;
    number = text.substr(0, text.size() - 1);
  } else if (text.ends_with("h")) {
    unit = 3600;
    number = text.substr(0, text.size() - 1);
  }
  const auto v = ParseFinite(number);
  if (!v || *v < 0) throw UsageError("--" + name + " takes a duration like 30, 30s or 2m, not '" + text + "'");
  return *v * unit;
}

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

NamedThreshold ParseThreshold(const std::string& text) {
  std::string metric = "latency", expr = text;
  const auto colon = text.find(':');
  if (colon != std::string::npos) {
    metric = text.substr(0, colon);
    expr = text.substr(colon + 1);
  }
  try {
    return {metric, text, stats::Threshold::Parse(expr)};
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--threshold: ") + e.what());
  }
}

std::string Now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void WriteResult(const Flags& flags, const std::string& text) {
  if (flags.Has("out")) {
    WriteFileAtomically(flags.Get("out", ""), text);
  } else {
    std::cout << text;
  }
}

}  // namespace pmbench::cli
