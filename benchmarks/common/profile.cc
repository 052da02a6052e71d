#include "benchmarks/common/profile.h"

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace pmbench::bench {
namespace {

constexpr std::array<Profile, 5> kProfiles = {{
    {.name = "smoke", .repetitions = 1, .micro_repetitions = 1, .min_time_s = 0.01, .seed_scale = 0.05,
     .ballots = 1'000, .arrival_s = 1, .events = 600, .story_rate_s = 2, .backlog_large = 5'000, .db_clients = 200,
     .db_rate = 500, .db_seconds = 2, .ws_connections = 100, .chain_seconds = 12},
    {.name = "default", .repetitions = 3, .micro_repetitions = 20, .min_time_s = 0, .seed_scale = 1,
     .ballots = 10'000, .arrival_s = 5, .events = 20'000, .story_rate_s = 20, .backlog_large = 100'000,
     .db_clients = 1'000, .db_rate = 2'000, .db_seconds = 10, .ws_connections = 500, .chain_seconds = 60},
    {.name = "high-load", .repetitions = 3, .micro_repetitions = 20, .min_time_s = 0, .seed_scale = 5,
     .ballots = 100'000, .arrival_s = 10, .events = 100'000, .story_rate_s = 20, .backlog_large = 1'000'000,
     .db_clients = 5'000, .db_rate = 4'000, .db_seconds = 20, .ws_connections = 10'000, .chain_seconds = 120},
    {.name = "soak", .repetitions = 10, .micro_repetitions = 30, .min_time_s = 2, .seed_scale = 1,
     .ballots = 10'000, .arrival_s = 60, .events = 20'000, .story_rate_s = 300, .backlog_large = 100'000,
     .db_clients = 1'000, .db_rate = 2'000, .db_seconds = 300, .ws_connections = 500, .chain_seconds = 600},
    {.name = "spike", .repetitions = 1, .micro_repetitions = 1, .min_time_s = 0, .seed_scale = 2,
     .ballots = 10'000, .arrival_s = 5, .events = 50'000, .story_rate_s = 10, .backlog_large = 100'000,
     .db_clients = 1'000, .db_rate = 2'000, .db_seconds = 30, .ws_connections = 1'000, .chain_seconds = 60},
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
