#include "lib/listener/sink.h"

#include <algorithm>
#include <array>
#include <functional>
#include <set>
#include <stdexcept>

#include "lib/base/base58.h"
#include "lib/db/database_url.h"

namespace pmbench::listener {

using events::BetPlaced;
using events::IsValidText;
using events::MarketCreated;
using events::MarketResolved;
using events::VoteCast;
using events::WinningsClaimed;

namespace {

constexpr int64_t kEpoch = 1767225600;  // 2026-01-01: slot 380,000,000, 400 ms a slot
int64_t UnixAt(uint64_t slot) { return kEpoch + (static_cast<int64_t>(slot) - 380'000'000) * 2 / 5; }

// The protocol's limit on one statement's parameters: a multirow batch is cut to fit.
constexpr size_t kMaxParams = 65535;

// Text PostgreSQL can hold: a raw line that is not valid UTF-8 (or holds NUL) is kept
// with its bad bytes written as \xNN.
std::string StorableText(std::string_view raw) {
  if (IsValidText(raw)) return std::string(raw);
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<uint8_t>(raw[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The destinations in the order a batch is applied: markets first, so bets and
// resolutions find them.
enum Dest { kCreated, kBets, kResolved, kVotes, kClaims, kRejects, kDestCount };

struct Column {
  std::string name, type;
};

// One batch's rows per destination, each row its fields' text in column order.
struct Rows {
  std::array<std::vector<std::vector<std::string>>, kDestCount> of;
  std::set<uint64_t> markets_referenced;  // by bets and resolutions
};

// Turns each event into its destination's row. One overload per event type and no
// catch-all: a new kind of event does not compile until it is given its table.
struct RowWriter {
  const Delivered& d;
  Rows& rows;

  std::string Idx() const { return std::to_string(d.index); }
  std::string Slot() const { return std::to_string(d.slot); }

  void operator()(const MarketCreated& e) const {
    rows.of[kCreated].push_back({std::to_string(e.market_id), e.title, e.category, base::Base58Encode(e.creator),
                                 std::to_string(UnixAt(d.slot)), std::to_string(e.closes_at), d.signature, Idx()});
  }
  void operator()(const BetPlaced& e) const {
    rows.markets_referenced.insert(e.market_id);
    rows.of[kBets].push_back({std::to_string(e.market_id), base::Base58Encode(e.bettor), e.side ? "yes" : "no",
                              std::to_string(e.amount), d.signature, Slot(), std::to_string(UnixAt(d.slot)), Idx(),
                              std::to_string(e.yes_pool), std::to_string(e.no_pool)});
  }
  void operator()(const VoteCast& e) const {
    rows.of[kVotes].push_back({std::to_string(e.proposal_id), base::Base58Encode(e.voter),
                               e.choice == 1 ? "yes" : e.choice == 0 ? "no" : "abstain", Slot(), d.signature, Idx(),
                               std::to_string(e.weight)});
  }
  void operator()(const MarketResolved& e) const {
    rows.markets_referenced.insert(e.market_id);
    rows.of[kResolved].push_back({std::to_string(e.market_id), std::to_string(e.outcome)});
  }
  void operator()(const WinningsClaimed& e) const {
    rows.of[kClaims].push_back({d.signature, Idx(), std::to_string(e.market_id), base::Base58Encode(e.bettor),
                                std::to_string(e.payout), Slot()});
  }
};

}  // namespace

// A destination: its columns, and the statement that applies its rows from a relation
// holding them (a VALUES list of parameters, or the COPY sink's temp table), returning the
// events it applied.
struct SinkTables {
  struct Table {
    std::string temp;
    std::vector<Column> columns;
    std::function<std::string(const std::string& rel)> apply;
    std::string one_row_sql;  // apply over one row of parameters: the insert sink's statement
    std::string from_temp_sql, temp_ddl, copy_sql;  // the copy sink's
  };
  std::array<Table, kDestCount> table;
  std::string ensure_markets_sql, checkpoint_sql, lines_done_sql, last_signature_sql;

  // "(VALUES ($1::bigint, $2::text), ($3::bigint, ...)) AS r(a, b)" for `n` rows.
  static std::string Values(const Table& t, size_t n) {
    std::string v = "(VALUES ";
    size_t p = 0;
    for (size_t r = 0; r < n; ++r) {
      v += r ? ",(" : "(";
      for (size_t c = 0; c < t.columns.size(); ++c) {
        v += (c ? ",$" : "$") + std::to_string(++p) + "::" + t.columns[c].type;
      }
      v += ')';
    }
    v += ") AS r(";
    for (size_t c = 0; c < t.columns.size(); ++c) v += (c ? ", " : "") + t.columns[c].name;
    return v + ")";
  }

  explicit SinkTables(const std::string& S);
};

SinkTables::SinkTables(const std::string& S) {
  table[kCreated] = {"ev_created",
                     {{"id", "bigint"}, {"title", "text"}, {"category", "text"}, {"creator", "text"},
                      {"created_unix", "bigint"}, {"closes_unix", "bigint"}, {"sig", "text"}, {"idx", "integer"}},
                     [S](const std::string& rel) {
                       return "WITH src AS (SELECT DISTINCT ON (id) * FROM " + rel + " ORDER BY id, sig, idx), "
                              "ins AS (INSERT INTO " + S + ".markets AS m (id, title, category, status, creator, "
                              "created_at, closes_at, event_signature, event_index) SELECT id, title, category, "
                              "'open', creator, to_timestamp(created_unix), to_timestamp(closes_unix), sig, idx "
                              "FROM src ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, category = "
                              "EXCLUDED.category, creator = EXCLUDED.creator, created_at = EXCLUDED.created_at, "
                              "closes_at = EXCLUDED.closes_at, event_signature = EXCLUDED.event_signature, "
                              "event_index = EXCLUDED.event_index, placeholder = false WHERE m.placeholder "
                              "RETURNING 1) SELECT count(*) FROM ins";
                     }};
  table[kBets] = {"ev_bets",
                  {{"market_id", "bigint"}, {"wallet", "text"}, {"side", "text"}, {"amount", "bigint"},
                   {"sig", "text"}, {"slot", "bigint"}, {"placed_unix", "bigint"}, {"idx", "integer"},
                   {"yes_pool", "bigint"}, {"no_pool", "bigint"}},
                  [S](const std::string& rel) {
                    return "WITH ins AS (INSERT INTO " + S + ".bets (market_id, wallet, side, amount, "
                           "tx_signature, slot, placed_at, claimed, event_index, event_yes_pool, event_no_pool, "
                           "ingested_at) SELECT market_id, wallet, side, amount, sig, slot, to_timestamp(placed_unix), "
                           "false, idx, yes_pool, no_pool, clock_timestamp() FROM " + rel + " ON CONFLICT (tx_signature, event_index) "
                           "WHERE event_index IS NOT NULL DO NOTHING RETURNING market_id, side, amount), "
                           "agg AS (SELECT market_id, coalesce(sum(amount) FILTER (WHERE side = 'yes'), 0) AS y, "
                           "coalesce(sum(amount) FILTER (WHERE side = 'no'), 0) AS n, count(*) AS c FROM ins "
                           "GROUP BY market_id), "
                           "upd AS (UPDATE " + S + ".markets m SET yes_pool = m.yes_pool + agg.y, no_pool = "
                           "m.no_pool + agg.n, volume = m.volume + agg.y + agg.n, bet_count = m.bet_count + agg.c "
                           "FROM agg WHERE m.id = agg.market_id RETURNING 1) "
                           "SELECT coalesce(sum(c), 0) FROM agg";
                  }};
  table[kResolved] = {"ev_resolved",
                      {{"market_id", "bigint"}, {"outcome", "integer"}},
                      [S](const std::string& rel) {
                        const std::string status = "CASE r.outcome WHEN 2 THEN 'cancelled' ELSE 'resolved' END";
                        const std::string outcome = "CASE r.outcome WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END";
                        return "WITH r AS (SELECT DISTINCT ON (market_id) market_id, outcome FROM " + rel +
                               " ORDER BY market_id, outcome), upd AS (UPDATE " + S + ".markets m SET status = " +
                               status + ", outcome = " + outcome + " FROM r WHERE m.id = r.market_id AND "
                               "(m.status, m.outcome) IS DISTINCT FROM (" + status + ", " + outcome + ") "
                               "RETURNING 1) SELECT count(*) FROM upd";
                      }};
  table[kVotes] = {"ev_votes",
                   {{"proposal_id", "bigint"}, {"voter", "text"}, {"choice", "text"}, {"slot", "bigint"},
                    {"sig", "text"}, {"idx", "integer"}, {"weight", "bigint"}},
                   [S](const std::string& rel) {
                     return "WITH ins AS (INSERT INTO " + S + ".votes (proposal_id, voter, choice, nonce, slot, "
                            "signature, event_index, weight) SELECT proposal_id, voter, choice, 0, slot, sig, idx, "
                            "weight FROM " + rel + " ON CONFLICT (signature, event_index) WHERE event_index IS NOT "
                            "NULL DO NOTHING RETURNING 1) SELECT count(*) FROM ins";
                   }};
  table[kClaims] = {"ev_claims",
                    {{"sig", "text"}, {"idx", "integer"}, {"market_id", "bigint"}, {"bettor", "text"},
                     {"payout", "bigint"}, {"slot", "bigint"}},
                    [S](const std::string& rel) {
                      return "WITH ins AS (INSERT INTO " + S + ".claims (signature, event_index, market_id, "
                             "bettor, payout, slot) SELECT sig, idx, market_id, bettor, payout, slot FROM " + rel +
                             " ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM ins";
                    }};
  // Rejects are not events: the statement counts none.
  table[kRejects] = {"ev_rejects",
                     {{"source", "text"}, {"line_no", "bigint"}, {"reason", "text"}, {"raw", "text"}},
                     [S](const std::string& rel) {
                       return "WITH ins AS (INSERT INTO " + S + ".ingest_rejects (source, line_no, reason, raw) "
                              "SELECT source, line_no, reason, raw FROM " + rel + " ON CONFLICT (source, line_no) "
                              "DO NOTHING RETURNING 1) SELECT 0";
                     }};
  for (Table& t : table) {
    t.one_row_sql = t.apply(Values(t, 1));
    std::string names;
    t.temp_ddl = "CREATE TEMP TABLE IF NOT EXISTS " + t.temp + " (";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      t.temp_ddl += (c ? ", " : "") + t.columns[c].name + " " + t.columns[c].type;
      names += (c ? ", " : "") + t.columns[c].name;
    }
    t.temp_ddl += ") ON COMMIT DELETE ROWS";
    t.copy_sql = "COPY " + t.temp + " (" + names + ") FROM STDIN";
    t.from_temp_sql = t.apply(t.temp);
  }
  // Bets and resolutions may arrive before their market's creation: a placeholder row holds
  // their aggregates until it does. The filter spares a speculative insert per known market.
  ensure_markets_sql = "INSERT INTO " + S + ".markets (id, title, category, status, creator, created_at, closes_at, "
                       "placeholder) SELECT id, '', '', 'open', '', to_timestamp(0), to_timestamp(0), true "
                       "FROM unnest($1::bigint[]) AS r(id) WHERE NOT EXISTS (SELECT 1 FROM " + S + ".markets m "
                       "WHERE m.id = r.id) ON CONFLICT (id) DO NOTHING";
  checkpoint_sql = "INSERT INTO " + S + ".ingest_checkpoints (source, lines_done, last_slot, last_signature, "
                   "events_applied) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source) DO UPDATE SET lines_done = "
                   "GREATEST(ingest_checkpoints.lines_done, EXCLUDED.lines_done), last_slot = EXCLUDED.last_slot, "
                   "last_signature = EXCLUDED.last_signature, events_applied = ingest_checkpoints.events_applied "
                   "+ EXCLUDED.events_applied, updated_at = now()";
  lines_done_sql = "SELECT coalesce((SELECT lines_done FROM " + S + ".ingest_checkpoints WHERE source = $1), 0)";
  last_signature_sql =
      "SELECT coalesce((SELECT last_signature FROM " + S + ".ingest_checkpoints WHERE source = $1), '')";
}

namespace {

using Table = SinkTables::Table;

uint64_t Count(const std::string& value) { return value.empty() ? 0 : std::stoull(value); }

// One statement per row.
uint64_t ApplyInsert(db::PgSession& session, const Table& t, const std::vector<std::vector<std::string>>& rows) {
  uint64_t applied = 0;
  for (const auto& row : rows) applied += Count(session.QueryValue(t.one_row_sql, row));
  return applied;
}

// One statement for all rows, cut only where the protocol's parameter limit demands.
uint64_t ApplyMultirow(db::PgSession& session, const Table& t, const std::vector<std::vector<std::string>>& rows) {
  const size_t per_statement = kMaxParams / t.columns.size();
  uint64_t applied = 0;
  std::vector<std::string> params;
  for (size_t begin = 0; begin < rows.size(); begin += per_statement) {
    const size_t end = std::min(rows.size(), begin + per_statement);
    params.clear();
    for (size_t r = begin; r < end; ++r) params.insert(params.end(), rows[r].begin(), rows[r].end());
    applied += Count(session.QueryValue(t.apply(SinkTables::Values(t, end - begin)), params));
  }
  return applied;
}

// COPY into the session's temp table (emptied at commit), then one set-based statement.
uint64_t ApplyCopy(db::PgSession& session, const Table& t, const std::vector<std::vector<std::string>>& rows) {
  session.Exec(t.temp_ddl);
  size_t next = 0;
  session.CopyIn(t.copy_sql, [&](std::string& chunk) {
    for (; next < rows.size() && chunk.size() < (1 << 20); ++next) {
      for (size_t c = 0; c < rows[next].size(); ++c) {
        if (c) chunk.push_back('\t');
        db::AppendCopyText(chunk, rows[next][c]);
      }
      chunk.push_back('\n');
    }
    return next < rows.size();
  });
  return Count(session.QueryValue(t.from_temp_sql));
}

std::string ArrayLiteral(const std::set<uint64_t>& ids) {
  std::string a = "{";
  for (uint64_t id : ids) a += (a.size() > 1 ? "," : "") + std::to_string(id);
  return a + "}";
}

}  // namespace

std::optional<SinkKind> ParseSinkKind(std::string_view name) {
  if (name == "insert") return SinkKind::kInsert;
  if (name == "multirow") return SinkKind::kMultirow;
  if (name == "copy") return SinkKind::kCopy;
  return std::nullopt;
}

std::string_view SinkName(SinkKind kind) {
  switch (kind) {
    case SinkKind::kInsert: return "insert";
    case SinkKind::kMultirow: return "multirow";
    case SinkKind::kCopy: return "copy";
  }
  return "?";
}

EventSink::EventSink(SinkKind kind, std::string schema, std::string source)
    : kind_(kind), source_(std::move(source)) {
  db::CheckSchemaName(schema);
  schema_ = "\"" + schema + "\"";
  tables_ = std::make_shared<const SinkTables>(schema_);
}

uint64_t EventSink::LinesDone(db::PgSession& session) const {
  return Count(session.QueryValue(tables_->lines_done_sql, {source_}));
}

std::string EventSink::LastSignature(db::PgSession& session) const {
  return session.QueryValue(tables_->last_signature_sql, {source_});
}

uint64_t EventSink::Apply(db::PgSession& session, const Batch& batch, const std::function<uint64_t()>& others) {
  return Write(session, batch, true, others);
}

uint64_t EventSink::ApplyPart(db::PgSession& session, const Batch& part) { return Write(session, part, false, {}); }

uint64_t EventSink::Write(db::PgSession& session, const Batch& batch, bool checkpoint,
                          const std::function<uint64_t()>& others) {
  Rows rows;
  for (const Delivered& d : batch.events) std::visit(RowWriter{d, rows}, d.event);
  std::set<uint64_t> unknown;
  for (uint64_t id : rows.markets_referenced) {
    if (!known_markets_.count(id)) unknown.insert(id);
  }
  for (const Reject& r : batch.rejects) {
    rows.of[kRejects].push_back({source_, std::to_string(r.line_no), r.reason, StorableText(r.raw)});
  }
  const auto apply = kind_ == SinkKind::kInsert     ? &ApplyInsert
                     : kind_ == SinkKind::kMultirow ? &ApplyMultirow
                                                    : &ApplyCopy;
  uint64_t applied = 0;
  try {
    session.Exec("BEGIN");
    for (int dest = 0; dest < kDestCount; ++dest) {
      if (dest == kBets && !unknown.empty()) session.Query(tables_->ensure_markets_sql, {ArrayLiteral(unknown)});
      if (!rows.of[dest].empty()) applied += apply(session, tables_->table[dest], rows.of[dest]);
    }
    if (others) applied += others();
    if (checkpoint) {
      session.Query(tables_->checkpoint_sql, {source_, std::to_string(batch.lines_done),
                                              std::to_string(batch.last_slot), batch.last_signature,
                                              std::to_string(applied)});
    }
    session.Exec("COMMIT");
    known_markets_.insert(rows.markets_referenced.begin(), rows.markets_referenced.end());
  } catch (...) {
    try {
      session.Exec("ROLLBACK");
    } catch (...) {  // the connection is gone: the server rolled back already
    }
    throw;
  }
  return applied;
}

std::vector<Batch> Partition(const Batch& batch, size_t n) {
  n = std::max<size_t>(1, n);
  std::vector<Batch> parts(n);
  for (const Delivered& d : batch.events) {
    const uint64_t key = std::visit(events::Overloaded{[](const MarketCreated& e) { return e.market_id; },
                                                       [](const BetPlaced& e) { return e.market_id; },
                                                       [](const VoteCast& e) { return e.proposal_id; },
                                                       [](const MarketResolved& e) { return e.market_id; },
                                                       [](const WinningsClaimed& e) { return e.market_id; }},
                                    d.event);
    parts[key % n].events.push_back(d);
  }
  parts[0].rejects = batch.rejects;
  parts[0].lines_done = batch.lines_done;
  parts[0].last_slot = batch.last_slot;
  parts[0].last_signature = batch.last_signature;
  return parts;
}

}  // namespace pmbench::listener
