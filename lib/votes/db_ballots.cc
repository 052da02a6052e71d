#include "lib/votes/db_ballots.h"

#include <charconv>
#include <limits>
#include <set>
#include <stdexcept>
#include <thread>

#include "lib/base/base58.h"
#include "lib/base/bounded_queue.h"
#include "lib/db/database_url.h"
#include "lib/db/pg_session.h"

namespace pmbench::votes {
namespace {

constexpr uint64_t kMaxBigint = std::numeric_limits<int64_t>::max();

std::string Table(const std::string& schema) {
  db::CheckSchemaName(schema);
  return "\"" + schema + "\".votes";
}

bool ParseU64(std::string_view s, uint64_t& v) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// A COPY text row: proposal_id, voter, choice, nonce, slot, signature.
std::optional<Ballot> ParseRow(std::string_view row) {
  std::array<std::string_view, 6> f;
  for (size_t i = 0; i < f.size(); ++i) {
    const size_t tab = row.find('\t');
    if ((tab == std::string_view::npos) != (i == f.size() - 1)) return std::nullopt;
    f[i] = row.substr(0, tab);
    row.remove_prefix(tab == std::string_view::npos ? row.size() : tab + 1);
  }
  uint64_t proposal, nonce, slot;
  if (!ParseU64(f[0], proposal) || !ParseU64(f[3], nonce) || !ParseU64(f[4], slot)) return std::nullopt;
  return BallotFromFields(proposal, f[1], f[2], nonce, slot, f[5]);
}

}  // namespace

LoadResult LoadBallots(const std::string& url, const std::string& schema,
                       const std::vector<std::string_view>& lines) {
  const std::string table = Table(schema);
  LoadResult result;
  std::vector<Ballot> ballots;
  std::set<uint64_t> proposals;
  BallotParser parser;
  for (std::string_view line : lines) {
    const auto b = parser.Parse(line);
    // bigint columns hold up to 2^63-1: larger numbers cannot be stored.
    if (!b || b->proposal > kMaxBigint || b->nonce > kMaxBigint || b->slot > kMaxBigint) {
      ++result.malformed;
      continue;
    }
    proposals.insert(b->proposal);
    ballots.push_back(*b);
  }
  db::PgSession session(url);
  session.Exec("BEGIN");
  // Votes reference their proposal: make a placeholder for any the data set lacks.
  for (uint64_t p : proposals) {
    session.Exec("INSERT INTO \"" + schema + "\".proposals (id, title, proposer, kind, status, "
                 "created_at, voting_ends_at, start_slot, end_slot) VALUES (" + std::to_string(p) +
                 ", 'ballots loaded by pmbench votes load', '11111111111111111111111111111111', "
                 "'parameter', 'active', now(), now() + interval '3 days', 0, 0) "
                 "ON CONFLICT (id) DO NOTHING");
  }
  size_t next = 0;
  result.loaded = session.CopyIn(
      "COPY " + table + " (proposal_id, voter, choice, nonce, slot, signature) FROM STDIN",
      [&](std::string& chunk) {
        for (; next < ballots.size() && chunk.size() < (1 << 20); ++next) {
          const Ballot& b = ballots[next];
          chunk += std::to_string(b.proposal) + '\t' + base::Base58Encode(b.voter) + '\t' +
                   std::string(ChoiceName(b.choice)) + '\t' + std::to_string(b.nonce) + '\t' +
                   std::to_string(b.slot) + '\t' + base::Base58Encode(b.sig) + '\n';
        }
        return next < ballots.size();
      });
  session.Exec("COMMIT");
  return result;
}

TallyResult TallyFromDatabase(const std::string& url, const std::string& schema,
                              const TallyOptions& options) {
  const std::string table = Table(schema);
  if (options.proposal > kMaxBigint) return TallyAccepted({}, {}, options);  // no row can hold it
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  struct Part {
    std::vector<Ballot> accepted;
    RejectCounts rejected{};
  };
  std::vector<Part> parts(static_cast<size_t>(threads));
  base::BoundedQueue<std::vector<Ballot>> queue(static_cast<size_t>(threads) * 2);
  RejectCounts malformed{};
  {
    // Verifiers work on batches while this thread streams the next rows in.
    std::vector<std::jthread> verifiers;
    for (Part& part : parts) {
      verifiers.emplace_back([&queue, &options, &part] {
        while (auto batch = queue.Pop()) {
          for (const Ballot& b : *batch) {
            if (const auto reason = Screen(b, options)) {
              ++part.rejected[static_cast<size_t>(*reason)];
            } else {
              part.accepted.push_back(b);
            }
          }
        }
      });
    }
    const auto finish = queue.FinishOnExit();  // the verifiers drain what came, then end
    db::PgSession session(url);
    std::vector<Ballot> batch;
    session.CopyOut("COPY (SELECT proposal_id, voter, choice, nonce, slot, signature FROM " + table +
                        " WHERE proposal_id = " + std::to_string(options.proposal) + ") TO STDOUT",
                    [&](std::string_view row) {
                      if (auto b = ParseRow(row)) {
                        batch.push_back(*b);
                      } else {
                        ++malformed[static_cast<size_t>(Reason::kMalformed)];
                      }
                      if (batch.size() == 256) {
                        queue.Push(std::move(batch));
                        batch.clear();
                      }
                    });
    if (!batch.empty()) queue.Push(std::move(batch));
  }
  std::vector<Ballot> accepted;
  RejectCounts rejected = malformed;
  for (Part& p : parts) {
    accepted.insert(accepted.end(), p.accepted.begin(), p.accepted.end());
    for (size_t r = 0; r < kReasonCount; ++r) rejected[r] += p.rejected[r];
  }
  return TallyAccepted(accepted, rejected, options);
}

}  // namespace pmbench::votes
