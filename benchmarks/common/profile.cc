#include "benchmarks/common/profile.h"

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace pmbench::bench {
namespace {

constexpr std::array<Profile, 5> kProfiles = {{
    {"smoke", 1, 0.01, 0.05, 1'000, 1, 600, 2, 5'000, 200, 500, 2, 100, 12},
    {"default", 3, 0, 1, 10'000, 5, 20'000, 20, 100'000, 1'000, 2'000, 10, 500, 60},
    {"high-load", 3, 0, 5, 100'000, 10, 100'000, 20, 1'000'000, 5'000, 4'000, 20, 10'000, 120},
    {"soak", 10, 2, 1, 10'000, 60, 20'000, 300, 100'000, 1'000, 2'000, 300, 500, 600},
    {"spike", 1, 0, 2, 10'000, 5, 50'000, 10, 100'000, 1'000, 2'000, 30, 1'000, 60},
}};

}  // namespace

const Profile* FindProfile(std::string_view name) {
  for (const Profile& p : kProfiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const Profile& CurrentProfile() {
  const char* env = std::getenv("PMBENCH_PROFILE");
  const std::string_view name = env && *env ? env : "default";
  const Profile* p = FindProfile(name);
  if (!p) {
    throw std::invalid_argument("unknown profile '" + std::string(name) +
                                "' (smoke, default, high-load, soak, spike)");
  }
  return *p;
}

}  // namespace pmbench::bench
