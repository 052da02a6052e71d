// File: server_report.h
//
// The HTML report's "Server side" section, from a results file's pmbench_server: for each
// e2e benchmark and scenario run, what the servers said beside the client's p95 — the top
// statements by total time, pool waits, lock waits and wait events, checkpoints, CPU and
// disk. "" when there is none.
#ifndef PMBENCH_RESULTS_SERVER_REPORT_H_
#define PMBENCH_RESULTS_SERVER_REPORT_H_

#include <string>

namespace pmbench::results {

std::string ServerSection(const std::string& results_json);

}  // namespace pmbench::results

#endif  // PMBENCH_RESULTS_SERVER_REPORT_H_
