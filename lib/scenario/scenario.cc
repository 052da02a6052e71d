#include "lib/scenario/scenario.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace pmbench::scenario {
namespace {

constexpr const char* kActions[] = {"browse", "bets", "votes", "markets", "approvals", "resolutions", "claims"};

struct Profile {
  std::string name;
  double users = 1;  // share of the story's users
  // Seconds for this profile: smoke (seconds), default (minutes), soak (the story's).
  double Pick(double smoke, double def, double soak) const { return name == "smoke" ? smoke : name == "soak" ? soak : def; }
};

Profile ProfileNamed(const std::string& p) {
  if (p == "smoke") return {.name = p, .users = 0.1};
  if (p == "default" || p == "soak") return {.name = p, .users = 1};
  throw std::invalid_argument("unknown profile '" + p + "' (smoke, default, soak)");
}

int Users(double story, const Profile& p) { return std::max(1, static_cast<int>(std::lround(story * p.users))); }

Role Browse(int users) { return {.name = "browse", .action = "browse", .users = users, .think_s = 2}; }

}  // namespace

int ScenarioSpec::users() const {
  int n = 0;
  for (const Role& r : roles) n += r.rate_per_s > 0 ? 0 : r.users;
  return n;
}

void ScenarioSpec::Validate() const {
  if (roles.empty()) throw std::invalid_argument("scenario " + name + " has no roles");
  if (!(seconds > 0)) throw std::invalid_argument("scenario " + name + ": seconds must be > 0");
  if (hot_markets < 1) throw std::invalid_argument("scenario " + name + ": hot_markets must be >= 1");
  if (!(interval_s > 0)) throw std::invalid_argument("scenario " + name + ": the interval must be > 0");
  for (const Role& r : roles) {
    const std::string what = "scenario " + name + ", role " + r.name + ": ";
    if (std::find(std::begin(kActions), std::end(kActions), r.action) == std::end(kActions)) {
      throw std::invalid_argument(what + "unknown action '" + r.action +
                                  "' (browse, bets, votes, markets, approvals, resolutions, claims)");
    }
    if ((r.users > 0) == (r.rate_per_s > 0)) throw std::invalid_argument(what + "give users or a rate, one of them");
    if (r.browses() && r.users <= 0) throw std::invalid_argument(what + "browsing is done by users, not a rate");
    if (r.think_s < 0 || r.start_s < 0 || r.seconds < 0) throw std::invalid_argument(what + "times must be >= 0");
    if (!(r.think_jitter >= 0 && r.think_jitter <= 1)) throw std::invalid_argument(what + "think_jitter must be in [0, 1]");
    if (r.start_s >= seconds) throw std::invalid_argument(what + "starts after the run ends");
  }
  if (stall && (stall->at_s < 0 || !(stall->seconds > 0) || stall->at_s + stall->seconds > seconds)) {
    throw std::invalid_argument("scenario " + name + ": the stall must lie within the run");
  }
}

std::vector<std::string> BuiltinNames() { return {"peak", "flood", "creation", "sustained"}; }

ScenarioSpec Builtin(const std::string& name, const std::string& profile) {
  const Profile p = ProfileNamed(profile);
  ScenarioSpec s;
  s.name = name;
  s.soak = profile == "soak";
  if (name == "peak") {
    // Scenario 1: 1,000 concurrent users. The story gives no rates: a user acts every few
    // seconds (browsers read every 2 s, bettors and voters every 10 s, creators every 30 s).
    s.title = "Scenario 1: peak user load (1,000 concurrent users)";
    s.seconds = p.Pick(20, 120, 1800);
    s.roles = {Browse(Users(500, p)),
               {.name = "bet", .action = "bets", .users = Users(300, p), .think_s = 10},
               {.name = "vote", .action = "votes", .users = Users(150, p), .think_s = 10},
               {.name = "create", .action = "markets", .users = Users(50, p), .think_s = 30}};
  } else if (name == "flood") {
    // Scenario 2: 10,000 votes in a 10-minute window, the hot markets resolved, then 5,000
    // claims, while subscribers watch. Shorter profiles keep the rates and shorten the windows.
    s.title = "Scenario 2: event flood (major market resolution)";
    const double window = p.Pick(10, 60, 600), claims = p.Pick(5, 12, 60);
    s.seconds = window + 5 + claims + 5;
    s.roles = {Browse(Users(500, p)),
               {.name = "bet", .action = "bets", .users = Users(100, p), .think_s = 5, .seconds = window},
               {.name = "vote", .action = "votes", .rate_per_s = 10'000.0 / 600, .seconds = window},
               {.name = "resolve", .action = "resolutions", .rate_per_s = 10, .start_s = window, .seconds = 5},
               {.name = "claim", .action = "claims", .rate_per_s = 5'000.0 / 60, .start_s = window + 5, .seconds = claims}};
  } else if (name == "creation") {
    // Scenario 3: 50 proposals approved at once, 50 markets created within 5 minutes, new
    // markets reaching browsers on "markets".
    s.title = "Scenario 3: market creation spike";
    s.seconds = p.Pick(20, 60, 300);
    s.watch_new_markets = true;
    s.roles = {Browse(Users(500, p)),
               // Each approver acts once, at the start: 50 approvals at the same moment.
               {.name = "approve", .action = "approvals", .users = Users(50, p), .think_s = 1e6, .think_jitter = 0},
               {.name = "create", .action = "markets", .rate_per_s = 50.0 * p.users / s.seconds}};
  } else if (name == "sustained") {
    // Scenario 4: a typical day, 100 users for an hour; 50 bets/min, 20 votes/min, 5 new
    // markets/hour, all from the 100 users' wallets.
    s.title = "Scenario 4: sustained load (typical day)";
    s.seconds = p.Pick(20, 180, 3600);
    s.roles = {Browse(Users(100, p)),
               {.name = "bet", .action = "bets", .rate_per_s = 50.0 / 60},
               {.name = "vote", .action = "votes", .rate_per_s = 20.0 / 60},
               {.name = "create", .action = "markets", .rate_per_s = 5.0 / 3600}};
  } else {
    throw std::invalid_argument("unknown scenario '" + name + "' (peak, flood, creation, sustained, or a .json file)");
  }
  s.Validate();
  return s;
}

ScenarioSpec ParseScenario(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("scenario file is not JSON: ") + e.what());
  }
  ScenarioSpec s;
  try {
    if (!j.is_object()) throw std::invalid_argument("scenario file: not a JSON object");
    for (const auto& [key, _] : j.items()) {
      static const char* kKeys[] = {"name", "title", "seconds", "hot_markets", "watch_new_markets", "stages", "roles"};
      if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
        throw std::invalid_argument("scenario file: unknown key '" + key + "'");
      }
    }
    s.name = j.at("name").get<std::string>();
    s.title = j.value("title", s.name);
    s.hot_markets = j.value("hot_markets", 50);
    s.watch_new_markets = j.value("watch_new_markets", false);
    if (j.contains("stages")) {
      s.shape = load::ParseStages(j.at("stages").get<std::string>());
      s.seconds = s.shape.seconds();
    } else {
      s.seconds = j.at("seconds").get<double>();
    }
    for (const auto& r : j.at("roles")) {
      Role role;
      role.name = r.at("name").get<std::string>();
      role.action = r.value("action", "browse");
      role.users = r.value("users", 0);
      role.rate_per_s = r.value("rate_per_min", 0.0) / 60;
      role.think_s = r.value("think_s", 0.0);
      role.think_jitter = r.value("think_jitter", 0.5);
      role.start_s = r.value("start_s", 0.0);
      role.seconds = r.value("seconds", 0.0);
      s.roles.push_back(role);
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("scenario file: ") + e.what());
  }
  s.Validate();
  return s;
}

}  // namespace pmbench::scenario
