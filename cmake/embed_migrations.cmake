# cmake -DOUT=file.cc -DSQL_FILES="a.sql|b.sql" -P embed_migrations.cmake
# Compiles the schema migrations into the binary, so the CLI and tests work from anywhere.
string(REPLACE "|" ";" SQL_FILES "${SQL_FILES}")
set(body "")
foreach(f IN LISTS SQL_FILES)
  get_filename_component(base "${f}" NAME_WE)
  string(REGEX MATCH "^([0-9]+)_(.+)$" _ "${base}")
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "migration ${f}: name must be NNN_name.sql")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ "${f}" sql)
  string(APPEND body "      {${version}, \"${CMAKE_MATCH_2}\", R\"pmbench_sql(${sql})pmbench_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from fixtures/schema by cmake/embed_migrations.cmake. Do not edit.
#include \"lib/db/migrate.h\"

namespace pmbench::db {

const std::vector<Migration>& BuiltinMigrations() {
  static const std::vector<Migration> kMigrations = {
${body}  };
  return kMigrations;
}

}  // namespace pmbench::db
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
