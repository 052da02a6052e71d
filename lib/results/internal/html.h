// File: internal/html.h — DO NOT INCLUDE from outside lib/results.
//
// What the HTML report's sections share: escaping text into HTML and printing a number
// compactly for a chart's labels.
#ifndef PMBENCH_RESULTS_INTERNAL_HTML_H_
#define PMBENCH_RESULTS_INTERNAL_HTML_H_

#include <cstdio>
#include <string>

namespace pmbench::results::internal {

inline std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

inline std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace pmbench::results::internal

#endif  // PMBENCH_RESULTS_INTERNAL_HTML_H_
