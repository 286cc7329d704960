// Streaming a large CQL table with bounded memory, and stopping early. The embedded server holds
// demo.rows (100,000 rows); the program reads them through session::execute_stream, two pages
// ahead of the consumer, under a total deadline, and leaves the loop with `break` once it has
// the bytes it wanted. The async_scope closes the stream on that path as on every other one:
// no page, callback or request registration of the stream is left once the scope has exited,
// which live_row_streams() shows. After every row it also measures the read-ahead, the pages
// received and not yet taken (pages_fetched() - page_number()), and prints the most it saw:
// never more than prefetch_pages, so the stream never held more than prefetch_pages + 1 pages.
// The output does not depend on timing, except that figure, which may be anything from 0 to the
// bound: ids come in order and the budget is counted in bytes of rows, not in time.
#include <scopekit/async_scope.hpp>
#include <scopekit/cql/client/row_stream.hpp>
#include <scopekit/cql/server/server.hpp>
#include <scopekit/cql/client/session.hpp>
#include <scopekit/sync_wait.hpp>
#include <scopekit/task.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string_view>

namespace {

using scopekit::async_scope;
using scopekit::task;
namespace cql = scopekit::cql;

constexpr std::int64_t table_rows = 100'000;
constexpr std::size_t byte_budget = std::size_t{4} * 1024 * 1024;  // names and payloads
constexpr std::size_t prefetch = 2;

/// FNV-1a, 64 bits: a checksum of the bytes read, in order.
struct fnv1a {
  std::uint64_t hash = 0xcbf29ce484222325ULL;

  void add(std::span<const std::byte> bytes) {
    for (const std::byte b : bytes) {
      hash = (hash ^ std::to_integer<std::uint64_t>(b)) * 0x100000001b3ULL;
    }
  }
};

struct export_summary {
  std::int64_t rows = 0;
  std::int64_t last_id = -1;
  std::size_t bytes = 0;
  std::size_t page = 0;
  std::size_t most_read_ahead = 0;  // pages received and not yet taken, the most seen
  std::uint64_t checksum = 0;
};

/// Reads demo.rows until `byte_budget` bytes of names and payloads have been read.
struct export_rows {
  cql::session* db;
  export_summary* out;

  task<> operator()(async_scope& scope) const {
    cql::stream_options options;
    options.page_size = 5'000;
    options.prefetch_pages = prefetch;  // memory: at most 2 + 1 pages, whatever the table's size
    options.total_timeout = std::chrono::seconds{60};
    cql::row_stream& rows = co_await scope.enter(
        db->execute_stream("SELECT id, name, payload FROM demo.rows", options));

    fnv1a checksum;
    while (auto row = co_await rows.next()) {
      const auto name = row->get<std::string_view>("name");       // views into the page
      const auto payload = row->get<std::span<const std::byte>>("payload");
      checksum.add(std::as_bytes(std::span(name.data(), name.size())));
      checksum.add(payload);
      ++out->rows;
      out->last_id = row->get<std::int64_t>("id");
      out->bytes += name.size() + payload.size();
      out->most_read_ahead = std::max(out->most_read_ahead, rows.pages_fetched() - rows.page_number());
      if (out->bytes >= byte_budget) {
        break;  // the scope closes the stream, with its read-ahead still in flight
      }
    }
    out->page = rows.page_number();
    out->checksum = checksum.hash;
  }
};

struct program {
  std::uint16_t port;

  task<> operator()(async_scope& scope) const {
    cql::session_options options;
    options.port = port;
    cql::session& db = co_await scope.enter(cql::session::connect(options));

    export_summary summary;
    const export_rows body{&db, &summary};  // named, not written inside the co_await: GCC 12
    co_await async_scope::run(body);

    std::printf("read %lld of %lld rows (ids 0 to %lld), %zu bytes, stopped in page %zu\n",
                static_cast<long long>(summary.rows), static_cast<long long>(table_rows),
                static_cast<long long>(summary.last_id), summary.bytes, summary.page);
    std::printf("read-ahead: at most %zu pages waiting (prefetch_pages = %zu), so at most %zu pages "
                "held at once\n",
                summary.most_read_ahead, prefetch, summary.most_read_ahead + 1);
    std::printf("checksum %016llx\n", static_cast<unsigned long long>(summary.checksum));
    std::printf("row streams alive after the scope: %zu\n",
                cql::diagnostics::live_row_streams());
  }
};

}  // namespace

int main() {
  cql::server srv;  // loopback, a free port; its destructor stops it
  srv.add_synthetic_table("demo", "rows", table_rows);
  srv.start();
  scopekit::sync_wait(async_scope::run(program{srv.port()}));
}
