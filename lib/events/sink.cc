#include "lib/events/sink.h"

#include <functional>
#include <stdexcept>

#include "lib/base/base58.h"
#include "lib/db/database_url.h"

namespace pmbench::events {
namespace {

constexpr int64_t kEpoch = 1767225600;  // 2026-01-01: slot 380,000,000, 400 ms a slot
int64_t UnixAt(uint64_t slot) { return kEpoch + (static_cast<int64_t>(slot) - 380'000'000) * 2 / 5; }

std::string Quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += '\'';
    q += c;
  }
  return q + "'";
}

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

// One destination's rows for a batch, and how to apply them from any relation that holds
// them: a VALUES list (insert, multirow) or a temp table filled by COPY (copy).
struct Table {
  std::string temp;                          // the COPY sink's temp table
  std::vector<std::pair<std::string, std::string>> columns;  // name, type
  std::vector<std::vector<std::string>> rows;  // field text, in column order
  std::function<std::string(const std::string& rel)> apply;  // SQL; last result = applied count

  std::string Values(size_t begin, size_t end) const {
    std::string v = "(VALUES ";
    for (size_t r = begin; r < end; ++r) {
      v += r == begin ? "(" : ",(";
      for (size_t c = 0; c < columns.size(); ++c) {
        if (c) v += ',';
        const bool text = columns[c].second == "text";
        v += text ? Quote(rows[r][c]) : rows[r][c];
        v += "::" + columns[c].second;
      }
      v += ')';
    }
    v += ") AS r(";
    for (size_t c = 0; c < columns.size(); ++c) v += (c ? ", " : "") + columns[c].first;
    return v + ")";
  }
};

uint64_t Count(db::PgSession& session, const std::string& sql) {
  const std::string v = session.QueryValue(sql);
  return v.empty() ? 0 : std::stoull(v);
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
}

uint64_t EventSink::LinesDone(db::PgSession& session) const {
  return Count(session, "SELECT lines_done FROM " + schema_ + ".ingest_checkpoints WHERE source = " +
                            Quote(source_));
}

std::string EventSink::LastSignature(db::PgSession& session) const {
  return session.QueryValue("SELECT coalesce((SELECT last_signature FROM " + schema_ +
                            ".ingest_checkpoints WHERE source = " + Quote(source_) + "), '')");
}

uint64_t EventSink::Apply(db::PgSession& session, const Batch& batch) const {
  const std::string& S = schema_;
  auto placeholders = [S](const std::string& rel) {
    return "INSERT INTO " + S + ".markets (id, title, category, status, creator, created_at, closes_at, "
           "placeholder) SELECT DISTINCT market_id, '', '', 'open', '', to_timestamp(0), to_timestamp(0), "
           "true FROM " + rel + " WHERE NOT EXISTS (SELECT 1 FROM " + S + ".markets m WHERE m.id = "
           "market_id) ON CONFLICT (id) DO NOTHING;";  // the filter spares a speculative insert per known market
  };
  Table created{"ev_created",
                {{"id", "bigint"}, {"title", "text"}, {"category", "text"}, {"creator", "text"},
                 {"created_unix", "bigint"}, {"closes_unix", "bigint"}, {"sig", "text"}, {"idx", "integer"}},
                {},
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
  Table bets{"ev_bets",
             {{"market_id", "bigint"}, {"wallet", "text"}, {"side", "text"}, {"amount", "bigint"},
              {"sig", "text"}, {"slot", "bigint"}, {"placed_unix", "bigint"}, {"idx", "integer"},
              {"yes_pool", "bigint"}, {"no_pool", "bigint"}},
             {},
             [S, placeholders](const std::string& rel) {
               return placeholders(rel) +
                      "WITH ins AS (INSERT INTO " + S + ".bets (market_id, wallet, side, amount, "
                      "tx_signature, slot, placed_at, claimed, event_index, event_yes_pool, event_no_pool) "
                      "SELECT market_id, wallet, side, amount, sig, slot, to_timestamp(placed_unix), false, "
                      "idx, yes_pool, no_pool FROM " + rel + " ON CONFLICT (tx_signature, event_index) "
                      "WHERE event_index IS NOT NULL DO NOTHING RETURNING market_id, side, amount), "
                      "agg AS (SELECT market_id, coalesce(sum(amount) FILTER (WHERE side = 'yes'), 0) AS y, "
                      "coalesce(sum(amount) FILTER (WHERE side = 'no'), 0) AS n, count(*) AS c FROM ins "
                      "GROUP BY market_id), "
                      "upd AS (UPDATE " + S + ".markets m SET yes_pool = m.yes_pool + agg.y, no_pool = "
                      "m.no_pool + agg.n, volume = m.volume + agg.y + agg.n, bet_count = m.bet_count + agg.c "
                      "FROM agg WHERE m.id = agg.market_id RETURNING 1) "
                      "SELECT coalesce(sum(c), 0) FROM agg";
             }};
  Table resolved{"ev_resolved",
                 {{"market_id", "bigint"}, {"outcome", "integer"}},
                 {},
                 [S, placeholders](const std::string& rel) {
                   const std::string status = "CASE r.outcome WHEN 2 THEN 'cancelled' ELSE 'resolved' END";
                   const std::string outcome = "CASE r.outcome WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END";
                   return placeholders(rel) +
                          "WITH r AS (SELECT DISTINCT ON (market_id) market_id, outcome FROM " + rel +
                          " ORDER BY market_id, outcome), upd AS (UPDATE " + S + ".markets m SET status = " +
                          status + ", outcome = " + outcome + " FROM r WHERE m.id = r.market_id AND "
                          "(m.status, m.outcome) IS DISTINCT FROM (" + status + ", " + outcome + ") "
                          "RETURNING 1) SELECT count(*) FROM upd";
                 }};
  Table votes{"ev_votes",
              {{"proposal_id", "bigint"}, {"voter", "text"}, {"choice", "text"}, {"slot", "bigint"},
               {"sig", "text"}, {"idx", "integer"}, {"weight", "bigint"}},
              {},
              [S](const std::string& rel) {
                return "WITH ins AS (INSERT INTO " + S + ".votes (proposal_id, voter, choice, nonce, slot, "
                       "signature, event_index, weight) SELECT proposal_id, voter, choice, 0, slot, sig, idx, "
                       "weight FROM " + rel + " ON CONFLICT (signature, event_index) WHERE event_index IS NOT "
                       "NULL DO NOTHING RETURNING 1) SELECT count(*) FROM ins";
              }};
  Table claims{"ev_claims",
               {{"sig", "text"}, {"idx", "integer"}, {"market_id", "bigint"}, {"bettor", "text"},
                {"payout", "bigint"}, {"slot", "bigint"}},
               {},
               [S](const std::string& rel) {
                 return "WITH ins AS (INSERT INTO " + S + ".claims (signature, event_index, market_id, "
                        "bettor, payout, slot) SELECT sig, idx, market_id, bettor, payout, slot FROM " + rel +
                        " ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM ins";
               }};
  const std::string source = Quote(source_);
  Table rejects{"ev_rejects",
                {{"line_no", "bigint"}, {"reason", "text"}, {"raw", "text"}},
                {},
                [S, source](const std::string& rel) {
                  return "INSERT INTO " + S + ".ingest_rejects (source, line_no, reason, raw) SELECT " +
                         source + ", line_no, reason, raw FROM " + rel +
                         " ON CONFLICT (source, line_no) DO NOTHING; SELECT 0";
                }};

  for (const Delivered& d : batch.events) {
    const std::string idx = std::to_string(d.index), slot = std::to_string(d.slot);
    std::visit(
        [&](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, MarketCreated>) {
            created.rows.push_back({std::to_string(e.market_id), e.title, e.category,
                                    base::Base58Encode(e.creator), std::to_string(UnixAt(d.slot)),
                                    std::to_string(e.closes_at), d.signature, idx});
          } else if constexpr (std::is_same_v<T, BetPlaced>) {
            bets.rows.push_back({std::to_string(e.market_id), base::Base58Encode(e.bettor),
                                 e.side ? "yes" : "no", std::to_string(e.amount), d.signature, slot,
                                 std::to_string(UnixAt(d.slot)), idx, std::to_string(e.yes_pool),
                                 std::to_string(e.no_pool)});
          } else if constexpr (std::is_same_v<T, VoteCast>) {
            votes.rows.push_back({std::to_string(e.proposal_id), base::Base58Encode(e.voter),
                                  e.choice == 1 ? "yes" : e.choice == 0 ? "no" : "abstain", slot,
                                  d.signature, idx, std::to_string(e.weight)});
          } else if constexpr (std::is_same_v<T, MarketResolved>) {
            resolved.rows.push_back({std::to_string(e.market_id), std::to_string(e.outcome)});
          } else {
            claims.rows.push_back({d.signature, idx, std::to_string(e.market_id),
                                   base::Base58Encode(e.bettor), std::to_string(e.payout), slot});
          }
        },
        d.event);
  }
  for (const Reject& r : batch.rejects) {
    rejects.rows.push_back({std::to_string(r.line_no), r.reason, StorableText(r.raw)});
  }

  uint64_t applied = 0;
  try {
    session.Exec("BEGIN");
    // Markets first, so bets and resolutions find them (or make placeholders).
    for (Table* t : {&created, &bets, &resolved, &votes, &claims, &rejects}) {
      if (t->rows.empty()) continue;
      if (kind_ == SinkKind::kInsert) {
        for (size_t r = 0; r < t->rows.size(); ++r) applied += Count(session, t->apply(t->Values(r, r + 1)));
      } else if (kind_ == SinkKind::kMultirow) {
        applied += Count(session, t->apply(t->Values(0, t->rows.size())));
      } else {
        std::string ddl = "CREATE TEMP TABLE IF NOT EXISTS " + t->temp + " (";
        std::string names;
        for (size_t c = 0; c < t->columns.size(); ++c) {
          ddl += (c ? ", " : "") + t->columns[c].first + " " + t->columns[c].second;
          names += (c ? ", " : "") + t->columns[c].first;
        }
        session.Exec(ddl + ") ON COMMIT DELETE ROWS");
        size_t next = 0;
        session.CopyIn("COPY " + t->temp + " (" + names + ") FROM STDIN", [&](std::string& chunk) {
          for (; next < t->rows.size() && chunk.size() < (1 << 20); ++next) {
            for (size_t c = 0; c < t->rows[next].size(); ++c) {
              if (c) chunk.push_back('\t');
              db::AppendCopyText(chunk, t->rows[next][c]);
            }
            chunk.push_back('\n');
          }
          return next < t->rows.size();
        });
        applied += Count(session, t->apply(t->temp));
      }
    }
    session.Exec("INSERT INTO " + S + ".ingest_checkpoints (source, lines_done, last_slot, last_signature, "
                 "events_applied) VALUES (" + source + ", " + std::to_string(batch.lines_done) + ", " +
                 std::to_string(batch.last_slot) + ", " + Quote(batch.last_signature) + ", " +
                 std::to_string(applied) + ") ON CONFLICT (source) DO UPDATE SET lines_done = "
                 "GREATEST(ingest_checkpoints.lines_done, EXCLUDED.lines_done), last_slot = EXCLUDED.last_slot, "
                 "last_signature = EXCLUDED.last_signature, events_applied = ingest_checkpoints.events_applied "
                 "+ EXCLUDED.events_applied, updated_at = now()");
    session.Exec("COMMIT");
  } catch (...) {
    try {
      session.Exec("ROLLBACK");
    } catch (...) {  // the connection is gone: the server rolled back already
    }
    throw;
  }
  return applied;
}

}  // namespace pmbench::events
