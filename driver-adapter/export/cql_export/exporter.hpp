// cql_export/exporter.hpp - the export itself: a session and a row_stream inside async_scopes,
// each page rendered and written before the next is taken.
//
// export_rows() connects, PREPAREs the query (which gives the columns even when there are no
// rows, and refuses anything that is not a plain SELECT before it runs), then streams the rows
// with execute_stream and writes them to the output a page at a time, so that the output
// always ends with a complete row of a complete page, unless a write fails. The session is a
// resource of the outer scope and the stream of an inner one: both are closed on every exit
// path (the end, --limit, an error, a stop request).
//
//   scopekit::cql_export::progress_counters progress;
//   scopekit::sync_wait(export_rows(opts, where, out, progress, stop.get_token()),
//                       stop.get_token());
#pragma once

#include "cql_export/options.hpp"
#include "cql_export/output.hpp"

#include "scopekit/task.hpp"

#include <atomic>
#include <cstdint>
#include <stop_token>
#include <string>

namespace scopekit::cql_export {

/// What the progress display reads while the export runs; updated after each page is written.
struct progress_counters {
  std::atomic<std::uint64_t> rows{0};
  std::atomic<std::uint64_t> bytes{0};
};

/// Where the server is.
struct endpoint {
  endpoint() = default;  // not an aggregate (GCC 12)

  std::string host = "127.0.0.1";
  std::uint16_t port = 9042;
  /// USE'd after connecting when not empty.
  std::string keyspace;
};

/// Exports the rows of `o.query` (format, page size, prefetch and limit from `o`) from
/// `server` to `out`. Must be awaited from a scopekit coroutine (under sync_wait). `o`,
/// `server`, `out` and `progress` must outlive the task.
///
/// Completes when every row (or --limit rows) has been written. Every request waits at most
/// `o.timeout` for its answer. Throws query_problem for a query with bind markers or without
/// result columns, cql::operation_timed_out (no answer within o.timeout), cql::connection_error,
/// cql::server_error (the query refused), cql::protocol_error, output_error, and
/// stopped_error when `stop` (or the awaiting coroutine's stop token) is requested: the pages
/// written before stay written, the page being waited for is abandoned.
task<void> export_rows(const options& o, const endpoint& server, output& out,
                       progress_counters& progress, std::stop_token stop);

}  // namespace scopekit::cql_export
