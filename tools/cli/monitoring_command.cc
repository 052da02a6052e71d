// pmbench monitoring panels|alerts: the dashboard's queries against a live Prometheus, and
// Alertmanager's alerts.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "lib/db/staging.h"
#include "lib/monitoring/prometheus.h"
#include "tools/cli/commands.h"
#include "tools/cli/flags.h"
#include "tools/cli/load_common.h"

namespace pmbench::cli {
namespace {

using nlohmann::json;

constexpr const char* kUsage = R"(Usage: pmbench monitoring panels|alerts [options]

panels   runs every query of every panel of the Grafana dashboard against Prometheus over
         a window, prints how many series each returned, and exits 1 when any returned
         none: a panel that would show nothing is a broken panel (Grafana is not packaged
         for Debian; this is how the dashboard is proven). --out keeps the results (the
         run's range data) as JSON.
alerts   prints the alerts Alertmanager holds (name, state, since, summary); with --wait,
         waits until the alert is firing (or resolved: no longer active) and exits 1 if
         --timeout passes first.

Options (panels):
  --result FILE           the window of a result (its context's pmbench_window, written
                          by pmbench scenario run)
  --from T --to T         the window in Unix seconds
  --last D                the window that ends now (5m, 90s)              [5m]
  --step D                the resolution                         [window / 240, >= 1s]
  --dashboard FILE        [staging's: monitoring/grafana/dashboards/pmbench.json]
  --prometheus URL        [staging's (tools/staging up --monitoring)]
  --out FILE              write {"from","to","step","panels":[{panel,expr,legend,series}]}
  --allow-empty           report empty panels without failing
Options (alerts):
  --alertmanager URL      [staging's]
  --wait NAME             wait for the alert NAME
  --state firing|resolved what to wait for                                 [firing]
  --timeout D                                                             [60s]
)";

std::string ReadFileOrUsage(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw UsageError(std::string("cannot read ") + what + " " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Need(const std::string& flag_value, const std::string& staging_value, const char* flag) {
  if (!flag_value.empty()) return flag_value;
  if (!staging_value.empty()) return staging_value;
  throw UsageError(std::string("no ") + flag + ": give --" + flag + " or start staging's monitoring (tools/staging up --monitoring)");
}

db::Staging StagingOrEmpty() {
  try {
    return db::ResolveStaging();
  } catch (const std::exception&) {
    return {};
  }
}

int Panels(const Flags& flags) {
  const db::Staging st = StagingOrEmpty();
  const std::string prometheus = Need(flags.Get("prometheus", ""), st.prometheus_url, "prometheus");
  const std::string dashboard = Need(flags.Get("dashboard", ""), st.dashboard, "dashboard");
  std::vector<monitoring::PanelQuery> queries;
  try {
    queries = monitoring::DashboardQueries(ReadFileOrUsage(dashboard, "dashboard"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(dashboard + ": " + e.what());
  }
  double from = 0, to = 0;
  if (flags.Has("result")) {
    const std::string path = flags.Get("result", "");
    json r;
    try {
      r = json::parse(ReadFileOrUsage(path, "result"));
    } catch (const json::exception&) {
      throw UsageError(path + " is not JSON");
    }
    const json w = r.value("context", json::object()).value("pmbench_window", json::object());
    if (!w.contains("from") || !w.contains("to")) throw UsageError(path + " has no context.pmbench_window (a pmbench scenario run result has)");
    from = w["from"].get<double>();
    to = w["to"].get<double>();
  } else if (flags.Has("from") || flags.Has("to")) {
    if (!flags.Has("from") || !flags.Has("to")) throw UsageError("--from and --to go together");
    from = flags.GetDouble("from", 0);
    to = flags.GetDouble("to", 0);
  } else {
    to = static_cast<double>(std::time(nullptr));
    from = to - ParseDuration("last", flags.Get("last", "5m"));
  }
  if (!(to > from)) throw UsageError("the window's end is not after its start");
  const double step = flags.Has("step") ? ParseDuration("step", flags.Get("step", "")) : 0;
  const json snap = monitoring::Snapshot(prometheus, queries, from, to, step);
  int empty = 0;
  std::string last_panel;
  for (const json& p : snap["panels"]) {
    const size_t n = p["series"].size();
    empty += n == 0;
    if (p["panel"] != last_panel) std::cout << p["panel"].get<std::string>() << "\n";
    last_panel = p["panel"];
    std::cout << "  " << (n == 0 ? "EMPTY " : "") << n << " series  " << p["expr"].get<std::string>() << "\n";
  }
  std::cout << snap["panels"].size() << " queries, " << empty << " empty, over " << static_cast<int>(to - from) << " s\n";
  if (flags.Has("out")) {
    std::ofstream out(flags.Get("out", ""));
    out << snap.dump() << "\n";
    if (!out) throw std::runtime_error("cannot write " + flags.Get("out", ""));
  }
  return empty > 0 && !flags.Has("allow-empty") ? 1 : 0;
}

int Alerts(const Flags& flags) {
  const db::Staging st = StagingOrEmpty();
  const std::string am = Need(flags.Get("alertmanager", ""), st.alertmanager_url, "alertmanager");
  const auto print = [](const json& alerts) {
    for (const json& a : alerts) {
      const json labels = a.value("labels", json::object()), ann = a.value("annotations", json::object());
      std::cout << labels.value("alertname", "?") << "  " << a.value("status", json::object()).value("state", "?") << "  since "
                << a.value("startsAt", "?") << "  " << ann.value("summary", "") << "\n";
    }
    if (alerts.empty()) std::cout << "no active alerts\n";
  };
  if (!flags.Has("wait")) {
    print(monitoring::Alerts(am));
    return 0;
  }
  const std::string name = flags.Get("wait", ""), state = flags.Get("state", "firing");
  if (state != "firing" && state != "resolved") throw UsageError("--state is firing or resolved");
  const double timeout = ParseDuration("timeout", flags.Get("timeout", "60s"));
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const json alerts = monitoring::Alerts(am);
    bool active = false;
    for (const json& a : alerts) {
      active |= a.value("labels", json::object()).value("alertname", "") == name &&
                a.value("status", json::object()).value("state", "") == "active";
    }
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (active == (state == "firing")) {
      std::cout << name << " " << state << " in Alertmanager after " << static_cast<int>(waited) << " s\n";
      return 0;
    }
    if (waited > timeout) {
      std::cerr << "pmbench monitoring: " << name << " not " << state << " within " << static_cast<int>(timeout) << " s; Alertmanager holds:\n";
      print(alerts);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace

int MonitoringCommand(const std::vector<std::string>& args) {
  if (const auto status = HelpOrMissingAction(args, kUsage)) return *status;
  const Flags flags({args.begin() + 1, args.end()},
                    {"result", "from", "to", "last", "step", "dashboard", "prometheus", "out", "alertmanager", "wait", "state", "timeout"},
                    {"allow-empty", "help"});
  if (PrintedHelpOrRejectedArguments(flags, kUsage, "pmbench monitoring")) return 0;
  if (args[0] == "panels") return Panels(flags);
  if (args[0] == "alerts") return Alerts(flags);
  throw UsageError("unknown monitoring command '" + args[0] + "' (see pmbench monitoring --help)");
}

}  // namespace pmbench::cli
