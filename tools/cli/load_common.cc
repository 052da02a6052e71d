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
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(number, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != number.size() || !(v >= 0) || !std::isfinite(v)) {
    throw UsageError("--" + name + " takes a duration like 30, 30s or 2m, not '" + text + "'");
  }
  return v * unit;
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
