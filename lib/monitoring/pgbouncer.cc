#include "lib/monitoring/pgbouncer.h"

#include <stdexcept>

#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"
#include "lib/metrics/registry.h"

namespace pmbench::monitoring {
namespace {

double Num(const std::map<std::string, std::string>& row, const std::string& key) {
  const auto it = row.find(key);
  if (it == row.end() || it->second.empty()) return 0;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

std::string Quote(const std::string& v) {
  std::string out = "\"";
  for (const char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
  double (*value)(const std::map<std::string, std::string>&);
};

}  // namespace

std::string PgbouncerText(const Rows& pools, const Rows& stats) {
  std::string out = "# HELP pgbouncer_up Whether the admin console answered.\n# TYPE pgbouncer_up gauge\npgbouncer_up 1\n";
  const Family pool_families[] = {
      {"pgbouncer_pools_client_active_connections", "gauge", "Clients linked to a server or idle (cl_active).",
       [](const auto& r) { return Num(r, "cl_active"); }},
      {"pgbouncer_pools_client_waiting_connections", "gauge", "Clients waiting for a server connection (cl_waiting).",
       [](const auto& r) { return Num(r, "cl_waiting"); }},
      {"pgbouncer_pools_server_active_connections", "gauge", "Server connections linked to a client (sv_active).",
       [](const auto& r) { return Num(r, "sv_active"); }},
      {"pgbouncer_pools_server_idle_connections", "gauge", "Server connections idle and ready (sv_idle).",
       [](const auto& r) { return Num(r, "sv_idle"); }},
      {"pgbouncer_pools_server_used_connections", "gauge", "Server connections idle, to be checked (sv_used).",
       [](const auto& r) { return Num(r, "sv_used"); }},
      {"pgbouncer_pools_server_login_connections", "gauge", "Server connections logging in (sv_login).",
       [](const auto& r) { return Num(r, "sv_login"); }},
      {"pgbouncer_pools_client_maxwait_seconds", "gauge", "How long the oldest waiting client has waited.",
       [](const auto& r) { return Num(r, "maxwait") + Num(r, "maxwait_us") / 1e6; }},
  };
  for (const Family& f : pool_families) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& r : pools) {
      if (r.at("database") == "pgbouncer") continue;
      out += std::string(f.name) + "{database=" + Quote(r.at("database")) + ",user=" + Quote(r.count("user") ? r.at("user") : "") +
             "} " + metrics::FormatValue(f.value(r)) + "\n";
    }
  }
  const Family stat_families[] = {
      {"pgbouncer_stats_sql_transactions_pooled_total", "counter", "Transactions pooled (total_xact_count).",
       [](const auto& r) { return Num(r, "total_xact_count"); }},
      {"pgbouncer_stats_queries_pooled_total", "counter", "Queries pooled (total_query_count).",
       [](const auto& r) { return Num(r, "total_query_count"); }},
      {"pgbouncer_stats_received_bytes_total", "counter", "Bytes received from clients.",
       [](const auto& r) { return Num(r, "total_received"); }},
      {"pgbouncer_stats_sent_bytes_total", "counter", "Bytes sent to clients.",
       [](const auto& r) { return Num(r, "total_sent"); }},
      {"pgbouncer_stats_sql_transactions_duration_seconds_total", "counter", "Time in transactions on a server.",
       [](const auto& r) { return Num(r, "total_xact_time") / 1e6; }},
      {"pgbouncer_stats_queries_duration_seconds_total", "counter", "Time in queries on a server.",
       [](const auto& r) { return Num(r, "total_query_time") / 1e6; }},
      {"pgbouncer_stats_client_wait_seconds_total", "counter", "Time clients waited for a server connection.",
       [](const auto& r) { return Num(r, "total_wait_time") / 1e6; }},
  };
  for (const Family& f : stat_families) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& r : stats) {
      if (r.at("database") == "pgbouncer") continue;
      out += std::string(f.name) + "{database=" + Quote(r.at("database")) + "} " + metrics::FormatValue(f.value(r)) + "\n";
    }
  }
  return out;
}

std::string AdminUrl(const std::string& pooled_url) {
  (void)db::ParseDatabaseUrl(pooled_url);  // throws, naming the problem, for a malformed URL
  const auto q = pooled_url.find('?');
  const std::string query = q == std::string::npos ? "" : pooled_url.substr(q);
  const auto slash = pooled_url.find('/', pooled_url.find("://") + 3);
  if (slash == std::string::npos) return pooled_url + "/pgbouncer";
  return pooled_url.substr(0, slash) + "/pgbouncer" + query;
}

PgbouncerCollector::PgbouncerCollector(std::string admin_url) : url_(std::move(admin_url)) {}
PgbouncerCollector::~PgbouncerCollector() = default;

std::pair<Rows, Rows> PgbouncerCollector::Read() {
  std::lock_guard lock(mu_);
  try {
    if (!session_ || !session_->ok()) session_ = std::make_unique<db::PgSession>(url_);
    Rows pools = session_->QueryNamed("SHOW POOLS");
    Rows stats = session_->QueryNamed("SHOW STATS");
    return {std::move(pools), std::move(stats)};
  } catch (const std::exception& e) {
    session_.reset();
    throw std::runtime_error("pgbouncer's admin console: " + db::RedactSecrets(e.what()));
  }
}

std::string PgbouncerCollector::Text() {
  try {
    const auto [pools, stats] = Read();
    return PgbouncerText(pools, stats);
  } catch (const std::exception&) {
    return "# HELP pgbouncer_up Whether the admin console answered.\n# TYPE pgbouncer_up gauge\npgbouncer_up 0\n";
  }
}

}  // namespace pmbench::monitoring
