# Registration helpers: labels are the user interface (`ctest -L unit`, `ctest -L bench`).

# Staging start/stop as ctest fixtures, so `ctest -L e2e` or `-L integration` brings up
# what it needs and takes down only what it started.
function(pmbench_add_staging_fixture)
  add_test(NAME staging_up
           COMMAND "${PROJECT_SOURCE_DIR}/tools/staging" up --fixture)
  add_test(NAME staging_down
           COMMAND "${PROJECT_SOURCE_DIR}/tools/staging" down --fixture)
  set_tests_properties(staging_up PROPERTIES FIXTURES_SETUP staging LABELS staging)
  set_tests_properties(staging_down PROPERTIES FIXTURES_CLEANUP staging LABELS staging)
endfunction()

# Labels, the staging state file, and the staging fixture where needed. Integration tests
# each work in a schema of their own, so they run in parallel; e2e benchmarks take the
# staging lock, because a neighbour's load would be in their numbers.
# A test that changes what others share (the staging itself) takes the lock explicitly.
function(_pmbench_register name labels)
  set_tests_properties(${name} PROPERTIES LABELS "${labels}"
                       ENVIRONMENT "PMBENCH_STAGING_STATE=${PMBENCH_STAGING_STATE}")
  if("e2e" IN_LIST labels)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED staging RESOURCE_LOCK staging)
  elseif("integration" IN_LIST labels)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED staging)
  endif()
endfunction()

# pmbench_add_test(name SOURCES a_test.cc ... LIBS pmbench::x LABELS test unit|integration)
function(pmbench_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT PMBENCH_BUILD_TESTING)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main pmbench_warnings)
  add_test(NAME ${name} COMMAND ${name} --gtest_color=no)
  _pmbench_register(${name} "${ARG_LABELS}")
endfunction()

# pmbench_add_script_test(name SCRIPT file.sh LABELS test integration ... [SHARES_STAGING])
# A shell test given the pmbench binary. SHARES_STAGING: it changes the staging itself, so
# it runs alone.
function(pmbench_add_script_test name)
  cmake_parse_arguments(ARG "SHARES_STAGING" "SCRIPT" "LABELS" ${ARGN})
  if(NOT PMBENCH_BUILD_TESTING)
    return()
  endif()
  add_test(NAME ${name} COMMAND "${ARG_SCRIPT}" $<TARGET_FILE:pmbench>)
  _pmbench_register(${name} "${ARG_LABELS}")
  if(ARG_SHARES_STAGING)
    set_tests_properties(${name} PROPERTIES RESOURCE_LOCK staging)
  endif()
endfunction()

# pmbench_add_bench(name SOURCES a_bench.cc ... LIBS ... LABELS bench micro|e2e <area>)
# Each run writes Google Benchmark JSON plus the thresholds/goals it evaluated into
# ${PMBENCH_RESULTS_DIR}; tools/bench merges them into results/latest.json.
function(pmbench_add_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  if("micro" IN_LIST ARG_LABELS)
    target_link_libraries(${name} PRIVATE ${ARG_LIBS} pmbench::bench_main_micro pmbench_warnings)
  else()
    target_link_libraries(${name} PRIVATE ${ARG_LIBS} pmbench::bench_main pmbench_warnings)
  endif()
  set(out "${PMBENCH_RESULTS_DIR}/${name}")
  add_test(NAME ${name}
           COMMAND ${name} --benchmark_out=${out}.json --benchmark_out_format=json
                   --pmbench_bars_out=${out}.bars.json)
  _pmbench_register(${name} "${ARG_LABELS}")
endfunction()
