// File: sink.h
//
// Writes a batch of decoded events to PostgreSQL in one transaction together with the
// source's checkpoint, three ways that must leave identical state:
//   insert   — one statement per event;
//   multirow — one INSERT ... VALUES (...),(...) per table per batch;
//   copy     — COPY into session temp tables, then INSERT ... SELECT per table.
// Values travel as statement parameters or COPY text, never spliced into SQL. Every write is keyed by the event's identity (tx signature, event_index) with ON CONFLICT
// DO NOTHING, and the markets' aggregates are added from the rows actually inserted, so
// re-applying a batch (after a lost connection, or a re-delivery) changes nothing.
//
// A batch may also be split by market (Partition) and its parts written on several
// connections at once: the parts touch disjoint rows, and the part holding the checkpoint
// commits only after every other part has, so a crash anywhere leaves the checkpoint at or
// behind what is stored and a replay re-applies nothing twice.
//
//   EventSink sink(SinkKind::kCopy, "pmbench", "events.jsonl");
//   uint64_t applied = sink.Apply(session, batch);
#ifndef PMBENCH_LISTENER_SINK_H_
#define PMBENCH_LISTENER_SINK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "lib/db/pg_session.h"
#include "lib/events/anchor.h"

namespace pmbench::listener {

enum class SinkKind { kInsert, kMultirow, kCopy };
std::optional<SinkKind> ParseSinkKind(std::string_view name);
std::string_view SinkName(SinkKind kind);

// One platform event of a successful transaction.
struct Delivered {
  uint64_t slot;
  std::string signature;
  uint32_t index;  // position among the platform's events in the transaction
  events::Event event;
};

struct Reject {
  uint64_t line_no;  // 1-based
  std::string reason;
  std::string raw;
};

struct Batch {
  std::vector<Delivered> events;
  std::vector<Reject> rejects;
  uint64_t lines_done = 0;  // input lines fully handled once this batch commits
  uint64_t last_slot = 0;
  std::string last_signature;
};

// Splits `batch` into `n` parts by market (by proposal for votes): every event of a market
// lands in the same part, so the parts write disjoint rows and never wait on each other.
// Part 0 keeps the rejects and the checkpoint's fields.
std::vector<Batch> Partition(const Batch& batch, size_t n);

struct SinkTables;  // the destinations' columns and statements (sink.cc)

class EventSink {
 public:
  EventSink(SinkKind kind, std::string schema, std::string source);

  // Applies the batch and the checkpoint in one transaction; returns the events newly
  // applied (re-deliveries count 0). Throws std::runtime_error; the transaction is then
  // rolled back and the batch can be applied again.
  // With `others`, a partitioned batch's checkpoint part: `others` runs after this part's
  // rows are written and before its checkpoint and commit; it waits for the other parts'
  // commits and returns the events they applied (counted in the checkpoint), or throws,
  // and then this part rolls back.
  uint64_t Apply(db::PgSession& session, const Batch& batch, const std::function<uint64_t()>& others = {});

  // One of a partitioned batch's other parts: its events in one transaction, no checkpoint.
  uint64_t ApplyPart(db::PgSession& session, const Batch& part);

  // The checkpoint of `source`: lines handled, or 0 when there is none.
  uint64_t LinesDone(db::PgSession& session) const;
  // The checkpoint's newest transaction signature, or "" when there is none: where a live
  // source resumes.
  std::string LastSignature(db::PgSession& session) const;

 private:
  uint64_t Write(db::PgSession& session, const Batch& batch, bool checkpoint, const std::function<uint64_t()>& others);

  SinkKind kind_;
  std::string schema_;  // quoted
  std::string source_;
  std::shared_ptr<const SinkTables> tables_;  // built once per sink
  // Markets known to have a row (committed by this sink): a batch that references only
  // these skips the placeholder statement, a round trip per batch.
  std::unordered_set<uint64_t> known_markets_;
};

}  // namespace pmbench::listener

#endif  // PMBENCH_LISTENER_SINK_H_
