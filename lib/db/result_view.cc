#include "lib/db/result_view.h"

#include <libpq-fe.h>

namespace pmbench::db {

bool ResultView::has_rows() const { return PQresultStatus(r_) == PGRES_TUPLES_OK; }
int ResultView::rows() const { return PQntuples(r_); }
int ResultView::columns() const { return PQnfields(r_); }
const char* ResultView::Get(int row, int col) const { return PQgetvalue(r_, row, col); }
bool ResultView::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
const char* ResultView::ColumnName(int col) const { return PQfname(r_, col); }

}  // namespace pmbench::db
