#include "tools/cli/flags.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/cli/commands.h"

namespace pmbench::cli {

Flags::Flags(const std::vector<std::string>& args, const std::set<std::string>& with_value,
             const std::set<std::string>& booleans) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    const auto eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const bool inline_value = eq != std::string::npos;
    if (with_value.count(name)) {
      if (inline_value) {
        values_[name] = a.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        values_[name] = args[++i];
      } else {
        throw UsageError("option --" + name + " needs a value");
      }
      all_[name].push_back(values_[name]);
    } else if (booleans.count(name) && !inline_value) {
      values_[name].assign(1, '1');  // not = "1": GCC 12 -Wrestrict false positive
    } else {
      throw UsageError("unknown option --" + name);
    }
  }
}

uint16_t ParsePort(const std::string& name, const std::string& text) {
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v > 65535) {
    throw UsageError("--" + name + ": invalid port '" + text + "'");
  }
  return static_cast<uint16_t>(v);
}

std::vector<std::string> Flags::GetAll(const std::string& name) const {
  const auto it = all_.find(name);
  return it == all_.end() ? std::vector<std::string>{} : it->second;
}

std::string Flags::Get(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

template <typename T>
T Flags::GetNumber(const std::string& name, T fallback, const char* what) const {
  if (!Has(name)) return fallback;
  const std::string s = Get(name, "");
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    throw UsageError("--" + name + " takes " + what + ", not '" + s + "'");
  }
  return v;
}

double Flags::GetDouble(const std::string& name, double fallback) const {
  return GetNumber(name, fallback, "a number");
}

uint64_t Flags::GetUint(const std::string& name, uint64_t fallback) const {
  return GetNumber(name, fallback, "a whole number");
}

std::string ReadFileOrFail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw UsageError("cannot read " + path);
  return text.str();
}

void WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + path + " (disk full or read-only?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + path);
  }
}

std::optional<int> HelpOrMissingAction(const std::vector<std::string>& args, const char* usage) {
  if (args.empty()) {
    std::cerr << usage;
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << usage;
    return 0;
  }
  return std::nullopt;
}

bool PrintedHelpOrRejectedArguments(const Flags& flags, std::string_view usage, std::string_view command) {
  const auto& args = flags.positional();
  if (flags.Has("help") || (args.size() == 1 && args[0] == "-h")) {
    std::cout << usage;
    return true;
  }
  if (!args.empty()) throw UsageError("unexpected argument '" + args[0] + "' (see " + std::string(command) + " --help)");
  return false;
}

}  // namespace pmbench::cli
