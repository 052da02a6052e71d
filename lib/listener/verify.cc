#include "lib/listener/verify.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <set>

#include "lib/chain/merkle.h"
#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"
#include "lib/events/notification.h"

namespace pmbench::listener {

using events::BetPlaced;
using events::Carrier;
using events::MarketCreated;
using events::MarketResolved;
using events::Notification;
using events::NotificationParser;
using events::ParsedLine;
using events::Pubkey;
using events::VoteCast;
using events::WinningsClaimed;

namespace {

struct MarketState {
  int64_t yes = 0, no = 0, count = 0;
  std::string status = "open", outcome;  // outcome "" is NULL
  friend bool operator==(const MarketState&, const MarketState&) = default;
};

std::string Describe(const MarketState& m) {
  return "yes_pool=" + std::to_string(m.yes) + " no_pool=" + std::to_string(m.no) + " bet_count=" +
         std::to_string(m.count) + " status=" + m.status + " outcome=" + (m.outcome.empty() ? "null" : m.outcome);
}

std::string Digest(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  std::string all;
  for (const auto& id : ids) all += id + "\n";
  uint8_t h[32];
  SHA256(reinterpret_cast<const uint8_t*>(all.data()), all.size(), h);
  return chain::ToHex(std::span<const uint8_t>(h, 32));
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string VerifyReport::ToJson() const {
  std::string s = "{\"expected\":" + std::to_string(expected) + ",\"matched\":" + std::to_string(matched) +
                  ",\"unexpected\":" + std::to_string(unexpected) + ",\"sync_accuracy\":" +
                  std::to_string(sync_accuracy) + ",\"expected_digest\":\"" + expected_digest +
                  "\",\"database_digest\":\"" + database_digest + "\",\"ok\":" + (ok() ? "true" : "false") +
                  ",\"differences\":[";
  for (size_t i = 0; i < differences.size(); ++i) s += (i ? ",\"" : "\"") + JsonEscape(differences[i]) + "\"";
  return s + "]}";
}

VerifyReport Verify(const std::vector<std::string>& lines, const Pubkey& program,
                    const std::string& url, const std::string& schema, Carrier carrier) {
  db::CheckSchemaName(schema);
  // What the input implies, event by distinct event.
  std::map<std::string, std::set<std::string>> want;  // table -> "signature:index"
  std::map<int64_t, MarketState> markets;
  std::set<std::string> seen;
  std::map<int64_t, int> resolution;  // the smallest outcome, as the sinks pick within a batch
  NotificationParser parser(program, carrier);
  for (const auto& line : lines) {
    ParsedLine p = parser.Parse(line);
    if (!p.notification || p.notification->failed) continue;
    const Notification& n = *p.notification;
    for (uint32_t i = 0; i < n.events.size(); ++i) {
      const std::string id = n.signature + ":" + std::to_string(i);
      if (!seen.insert(id).second) continue;
      std::visit(events::Overloaded{
                     [&](const MarketCreated& e) {
                       want["markets"].insert(id);
                       markets[static_cast<int64_t>(e.market_id)];
                     },
                     [&](const BetPlaced& e) {
                       want["bets"].insert(id);
                       MarketState& m = markets[static_cast<int64_t>(e.market_id)];
                       (e.side ? m.yes : m.no) += static_cast<int64_t>(e.amount);
                       ++m.count;
                     },
                     [&](const VoteCast&) { want["votes"].insert(id); },
                     [&](const MarketResolved& e) {
                       const auto key = static_cast<int64_t>(e.market_id);
                       markets[key];
                       const auto it = resolution.find(key);
                       resolution[key] = it == resolution.end() ? e.outcome : std::min<int>(it->second, e.outcome);
                     },
                     [&](const WinningsClaimed&) { want["claims"].insert(id); },
                 },
          n.events[i]);
    }
  }
  for (const auto& [id, outcome] : resolution) {
    markets[id].status = outcome == 2 ? "cancelled" : "resolved";
    markets[id].outcome = outcome == 2 ? "" : outcome == 1 ? "yes" : "no";
  }

  // What the database holds.
  db::PgSession session(url);
  const std::string S = "\"" + schema + "\".";
  const std::map<std::string, std::string> queries = {
      {"markets", "SELECT event_signature || ':' || event_index FROM " + S + "markets WHERE event_signature IS NOT NULL"},
      {"bets", "SELECT tx_signature || ':' || event_index FROM " + S + "bets WHERE event_index IS NOT NULL"},
      {"votes", "SELECT signature || ':' || event_index FROM " + S + "votes WHERE event_index IS NOT NULL"},
      {"claims", "SELECT signature || ':' || event_index FROM " + S + "claims"}};
  VerifyReport r;
  std::vector<std::string> expected_ids, database_ids;
  for (const auto& [table, sql] : queries) {
    const auto& expected = want[table];
    expected_ids.insert(expected_ids.end(), expected.begin(), expected.end());
    r.expected += expected.size();
    std::set<std::string> have;
    for (const auto& row : session.QueryRows(sql)) have.insert(row[0]);
    database_ids.insert(database_ids.end(), have.begin(), have.end());
    for (const auto& id : expected) {
      if (have.count(id)) {
        ++r.matched;
      } else if (r.differences.size() < 10) {
        r.differences.push_back(table + ": missing " + id);
      }
    }
    for (const auto& id : have) {
      if (!expected.count(id)) {
        ++r.unexpected;
        if (r.differences.size() < 10) r.differences.push_back(table + ": unexpected " + id);
      }
    }
  }
  std::map<int64_t, MarketState> stored;
  for (const auto& row : session.QueryRows("SELECT id, yes_pool, no_pool, bet_count, status, coalesce(outcome, ''), "
                                           "volume = yes_pool + no_pool FROM " + S + "markets")) {
    MarketState m{std::stoll(row[1]), std::stoll(row[2]), std::stoll(row[3]), row[4], row[5]};
    if (row[6] != "t") m.status = "volume_mismatch";
    stored[std::stoll(row[0])] = m;
  }
  for (const auto& [id, m] : markets) {
    ++r.expected;
    const auto it = stored.find(id);
    if (it != stored.end() && it->second == m) {
      ++r.matched;
    } else if (r.differences.size() < 10) {
      r.differences.push_back("market " + std::to_string(id) + ": want " + Describe(m) + ", have " +
                              (it == stored.end() ? "no row" : Describe(it->second)));
    }
  }
  r.expected_digest = Digest(expected_ids);
  r.database_digest = Digest(database_ids);
  r.sync_accuracy = r.expected ? static_cast<double>(r.matched) / static_cast<double>(r.expected) : 1.0;
  return r;
}

}  // namespace pmbench::listener
