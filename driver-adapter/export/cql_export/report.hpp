// cql_export/report.hpp - what cql-export tells its user: the exit statuses, the one-line
// reason of a failure, the progress and summary figures.
//
//   const auto f = scopekit::cql_export::classify(std::current_exception());
//   std::fprintf(stderr, "cql-export: %s; %s\n", f.message.c_str(), format_stats(s).c_str());
//   return f.status;
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scopekit::cql_export {

/// The exit statuses, one per kind of outcome (also in --help and the docs page).
namespace exit_status {
inline constexpr int ok = 0;
inline constexpr int internal = 1;       // anything unexpected (no memory, no thread...)
inline constexpr int usage = 2;          // bad arguments, or a query that is not a plain SELECT
inline constexpr int output = 3;         // the output cannot be created, written or renamed
inline constexpr int connection = 4;     // cannot connect, or the connection was lost
inline constexpr int cql = 5;            // the server answered the query with an ERROR
inline constexpr int protocol = 6;       // an answer, or a value in it, that does not decode
inline constexpr int timeout = 7;        // the server did not answer within --timeout
inline constexpr int busy = 8;           // another run is writing the same --out
inline constexpr int interrupted = 130;  // SIGINT or SIGTERM
}  // namespace exit_status

/// The query cannot be exported as given (bind markers, no result columns): exit_status::usage.
class query_problem : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An outcome other than success: its exit status and one line saying what happened
/// ("CQL error: unconfigured table nowhere (error 0x2200)"), without the program's name.
struct failure {
  int status = exit_status::internal;
  std::string message;
};

/// Maps an exception that ended the export to its failure. A scope_error is classified by
/// its primary error; scopekit::stopped_error is `interrupted` (message "interrupted").
failure classify(const std::exception_ptr& error) noexcept;

/// The figures of a run so far.
struct run_stats {
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
};

/// "1000000 rows, 221.1 MB, 1.23 s, 813.0 k rows/s" (MB = 10^6 bytes).
std::string format_stats(const run_stats& s);

/// ", peak RSS 14.2 MB": the process's peak resident set size, with the embedded server's
/// memory when it runs in the process. Read from VmHWM in /proc/self/status, which is this
/// program's own (getrusage's ru_maxrss is not: Linux keeps it across exec, so a program
/// started by a large process reports the parent's figure); getrusage only where there is no
/// /proc. Empty if neither can be read.
std::string format_peak_rss();

/// The VmHWM line of a /proc/<pid>/status text, in bytes; nullopt if it has none.
std::optional<std::uint64_t> peak_rss_from_status(std::string_view status);

}  // namespace scopekit::cql_export
