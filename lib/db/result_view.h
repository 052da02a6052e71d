// File: result_view.h
//
// Reads a query's result (a libpq PGresult, from PgSession::Query or AsyncPgSession)
// without libpq's header: lib/db is the one package that includes libpq.
//
//   db::ResultView r = result.get();
//   for (int i = 0; i < r.rows(); ++i) use(r.Get(i, 0));
#ifndef PMBENCH_DB_RESULT_VIEW_H_
#define PMBENCH_DB_RESULT_VIEW_H_

struct pg_result;  // libpq's PGresult

namespace pmbench::db {

class ResultView {
 public:
  // Implicit: a view is what every handle of a result is read through.
  ResultView(const pg_result* r) : r_(r) {}  // NOLINT(google-explicit-constructor)

  bool has_rows() const;  // a query's result, not a command's or an error's
  int rows() const;
  int columns() const;
  // The field's text ("" for NULL), valid while the result lives.
  const char* Get(int row, int col) const;
  bool IsNull(int row, int col) const;
  const char* ColumnName(int col) const;

 private:
  const pg_result* r_;
};

}  // namespace pmbench::db

#endif  // PMBENCH_DB_RESULT_VIEW_H_
