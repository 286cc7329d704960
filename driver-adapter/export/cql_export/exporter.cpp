// The export: connect, prepare, stream, render, write; every resource in an async_scope.
#include "cql_export/exporter.hpp"

#include "cql_export/concat.hpp"
#include "cql_export/render.hpp"
#include "cql_export/report.hpp"

#include "scopekit/async_scope.hpp"
#include "scopekit/cql/client/row_stream.hpp"
#include "scopekit/cql/client/session.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

namespace scopekit::cql_export {

namespace {

/// Streams the prepared query and writes it a page at a time: the inner scope, which owns
/// the row_stream.
struct stream_pages {
  cql::session* db;
  const cql::prepared_statement* query;
  const options* o;
  const row_renderer* renderer;
  output* out;
  progress_counters* progress;
  std::stop_token stop;
  std::string* buffer;  // holds the CSV header until the first page is written

  task<> operator()(async_scope& scope) const {
    cql::stream_options stream;
    stream.page_size = o->page_size;
    if (o->limit && *o->limit < static_cast<std::uint64_t>(o->page_size)) {
      stream.page_size = static_cast<std::int32_t>(*o->limit);  // no page larger than needed
    }
    stream.prefetch_pages = o->prefetch;
    stream.stop_token = stop;
    cql::bound_statement bound = query->bind();
    cql::row_stream& rows =
        co_await scope.enter(db->execute_stream(std::move(bound), std::move(stream)));

    std::uint64_t written = 0;
    while (const std::optional<cql::page_view> page = co_await rows.next_page()) {
      const cql::rows_result& r = *page->rows;
      renderer->check_page(r);
      std::size_t end = r.row_count();
      if (o->limit) {
        end = static_cast<std::size_t>(
            std::min<std::uint64_t>(end, page->first + (*o->limit - written)));
      }
      for (std::size_t i = page->first; i < end; ++i) {
        renderer->append_row(*buffer, r, i);
      }
      written += end - page->first;
      out->write(*buffer);
      buffer->clear();
      progress->rows.store(written, std::memory_order_relaxed);
      progress->bytes.store(out->bytes_written(), std::memory_order_relaxed);
      if (o->limit && written >= *o->limit) {
        break;  // the scope closes the stream, with its read-ahead in flight
      }
    }
    out->write(*buffer);  // the header of a result without rows
    buffer->clear();
    progress->bytes.store(out->bytes_written(), std::memory_order_relaxed);
  }
};

/// Connects and prepares: the outer scope, which owns the session.
struct export_query {
  const options* o;
  const endpoint* server;
  output* out;
  progress_counters* progress;
  std::stop_token stop;

  task<> operator()(async_scope& scope) const {
    cql::session_options connect;
    connect.host = server->host;
    connect.port = server->port;
    connect.keyspace = server->keyspace;
    connect.request_timeout = o->timeout;  // the PREPARE, the USE and each page
    cql::session& db = co_await scope.enter(cql::session::connect(std::move(connect)));

    const cql::prepared_statement query = co_await db.prepare(o->query);
    if (const std::size_t markers = query.variables().columns.size(); markers != 0) {
      throw query_problem(concat("the query has ", std::to_string(markers),
                                 " bind marker(s); cql-export has no values to bind"));
    }
    const std::vector<cql::column_spec>& columns = query.result_columns().columns;
    if (columns.empty()) {
      throw query_problem("the query returns no columns; cql-export runs SELECT statements");
    }
    const row_renderer renderer{o->format, columns};
    std::string buffer;
    renderer.append_header(buffer);
    // Named first: GCC 12 destroys a braced temporary inside a co_await expression twice
    // (here its stop_token, whose shared state would lose an owner).
    const stream_pages pages{&db, &query, o, &renderer, out, progress, stop, &buffer};
    co_await async_scope::run(pages);
  }
};

}  // namespace

task<void> export_rows(const options& o, const endpoint& server, output& out,
                       progress_counters& progress, std::stop_token stop) {
  return async_scope::run(export_query{&o, &server, &out, &progress, std::move(stop)});
}

}  // namespace scopekit::cql_export
