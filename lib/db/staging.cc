#include "lib/db/staging.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

namespace pmbench::db {

Staging ResolveStaging() {
  if (const char* pooled = std::getenv("STAGING_DATABASE_URL"); pooled && *pooled) {
    const char* direct = std::getenv("STAGING_DATABASE_DIRECT_URL");
    const char* ledger = std::getenv("STAGING_LEDGER_URL");
    const char* prometheus = std::getenv("STAGING_PROMETHEUS_URL");
    const char* redis = std::getenv("STAGING_REDIS_URL");
    return {"remote", pooled, direct && *direct ? direct : pooled, ledger ? ledger : "",
            ledger && *ledger ? "" : "STAGING_LEDGER_URL is not set", prometheus ? prometheus : "", "", "", "",
            redis ? redis : ""};
  }
  const char* path = std::getenv("PMBENCH_STAGING_STATE");
  if (!path || !*path) {
    throw std::runtime_error(
        "no staging: set STAGING_DATABASE_URL, or run tools/staging up and set "
        "PMBENCH_STAGING_STATE (tools/pmbench and ctest set it for you)");
  }
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(std::string("staging is not running (no ") + path +
                             "): run tools/staging up");
  }
  std::map<std::string, std::string> kv;
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  const auto pooled = kv.find("PMBENCH_STAGING_URL");
  const auto direct = kv.find("PMBENCH_STAGING_DIRECT_URL");
  if (pooled == kv.end() || direct == kv.end()) {
    throw std::runtime_error(std::string("malformed staging state file ") + path +
                             ": run tools/staging down && tools/staging up");
  }
  const auto ledger = kv.find("PMBENCH_LEDGER_URL");
  Staging s{"embedded", pooled->second, direct->second, ledger == kv.end() ? "" : ledger->second, "",
            kv["PMBENCH_PROMETHEUS_URL"], kv["PMBENCH_PROMETHEUS_TARGETS"], kv["PMBENCH_ALERTMANAGER_URL"],
            kv["PMBENCH_MONITORING_DASHBOARD"], kv["PMBENCH_REDIS_URL"]};
  if (s.ledger_url.empty()) {
    const std::string state = path;
    const auto slash = state.rfind('/');
    std::ifstream why((slash == std::string::npos ? std::string(".") : state.substr(0, slash)) + "/ledger.error");
    std::getline(why, s.ledger_error);
  }
  return s;
}

}  // namespace pmbench::db
