// The four ways a program leaves a CQL row stream, with the real client against the embedded
// server: an exception during processing, an early exit, a timeout or a cancellation, and no
// scope at all. After each one the program prints how many row streams are alive in the process
// (cql::diagnostics::live_row_streams): the async_scope closes the stream on every path, with its
// read-ahead still in flight. Without a scope, what happens depends on who owns the stream: a
// local variable is closed by the stream's destructor (synchronously: the client's second line
// of defence), but a stream kept by an object that outlives the block stays open, holding its
// read-ahead pages, until that object goes. A scope bounds the stream's life by the block,
// whoever holds it. docs/tutorial/03-four-scenarios.md explains the scenarios. The output does
// not depend on timing.
#include <scopekit/async_scope.hpp>
#include <scopekit/cql/client/row_stream.hpp>
#include <scopekit/cql/server/server.hpp>
#include <scopekit/cql/client/session.hpp>
#include <scopekit/deadline.hpp>
#include <scopekit/sleep.hpp>
#include <scopekit/stopped_error.hpp>
#include <scopekit/sync_wait.hpp>
#include <scopekit/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string_view>
#include <thread>

using namespace std::chrono_literals;

namespace {

namespace cql = scopekit::cql;
using scopekit::async_scope;
using scopekit::task;

constexpr std::int64_t table_rows = 5'000;

cql::stream_options two_pages_ahead() {
  cql::stream_options options;
  options.page_size = 500;
  options.prefetch_pages = 2;
  return options;
}

void report() {
  std::printf("  row streams alive: %zu\n", cql::diagnostics::live_row_streams());
}

/// 1. Row 1234 cannot be processed.
struct fail_at_row {
  cql::session* db;

  task<> operator()(async_scope& scope) const {
    cql::row_stream& rows = co_await scope.enter(
        db->execute_stream("SELECT id, name FROM demo.rows", two_pages_ahead()));
    while (const auto row = co_await rows.next()) {
      if (row->get<std::int64_t>("id") == 1234) {
        throw std::runtime_error("row 1234 is malformed");
      }
    }
  }
};

/// 2. Returns the id of the first row named "row-777", leaving the rest unread.
struct find_row {
  cql::session* db;

  task<std::int64_t> operator()(async_scope& scope) const {
    cql::row_stream& rows = co_await scope.enter(
        db->execute_stream("SELECT id, name FROM demo.rows", two_pages_ahead()));
    while (const auto row = co_await rows.next()) {
      if (row->get<std::string_view>("name") == "row-777") {
        co_return row->get<std::int64_t>("id");
      }
    }
    co_return -1;
  }
};

/// 3. Counts rows until the stream ends or fails; `reached` is told after 1,000 rows.
struct count_rows {
  cql::session* db;
  cql::stream_options options;
  std::size_t* count;
  std::latch* reached = nullptr;

  task<> operator()(async_scope& scope) const {
    cql::row_stream& rows =
        co_await scope.enter(db->execute_stream("SELECT id FROM demo.rows", options));
    while (const auto row = co_await rows.next()) {
      if (++*count == 1'000 && reached != nullptr) {
        reached->count_down();
      }
    }
  }
};

/// 4a. No scope, the stream in a local variable: reads ten rows and returns; nobody awaits
/// close(), and the stream's destructor closes it.
task<> forget_the_scope(cql::session& db) {
  cql::row_stream rows = co_await db.execute_stream("SELECT id FROM demo.rows", two_pages_ahead());
  for (int i = 0; i < 10; ++i) {
    co_await rows.next();
  }
}

/// Something that lives longer than the work it does: a report, a cache, a connection handler.
struct report_reader {
  std::optional<cql::row_stream> rows;
};

/// 4b. No scope, the stream kept by `reader`: reads ten rows and returns, with the read-ahead
/// pages arriving in the stream it left behind.
task<> forget_the_scope(cql::session& db, report_reader& reader) {
  reader.rows.emplace(co_await db.execute_stream("SELECT id FROM demo.rows", two_pages_ahead()));
  for (int i = 0; i < 10; ++i) {
    co_await reader.rows->next();
  }
  // Let the read-ahead arrive (2 pages ahead of the first: 3 pages), so that the output does
  // not depend on timing.
  for (int i = 0; i < 5'000 && reader.rows->pages_fetched() < 3; ++i) {
    co_await scopekit::sleep_for(1ms);
  }
}

/// A fault: the server never answers the request for page `page` (counted from 0) or later.
cql::fault stall_from_page(std::int32_t page) {
  cql::fault stall;
  stall.what = cql::fault::action::stall;
  stall.statement_contains = "demo.rows";
  stall.from_page = page;
  return stall;
}

/// The program: its session is a resource of the outermost scope, closed on every path.
struct program {
  cql::server& srv;
  std::stop_token shutdown;
  std::latch& reached;

  task<> operator()(async_scope& scope) const {
    cql::session_options options;
    options.port = srv.port();
    cql::session& db = co_await scope.enter(cql::session::connect(options));

    std::printf("1. an exception during processing\n");
    try {
      const fail_at_row failing{&db};
      co_await async_scope::run(failing);
    } catch (const std::runtime_error& e) {
      std::printf("  caught: %s\n", e.what());
    }
    report();

    std::printf("2. an early exit\n");
    const find_row finder{&db};
    const std::int64_t found = co_await async_scope::run(finder);
    std::printf("  found id %lld\n", static_cast<long long>(found));
    report();

    std::printf("3a. a timeout: the server stalls after 3 pages; the caller allows 200 ms\n");
    std::uint64_t fault = srv.inject(stall_from_page(3));
    std::size_t count = 0;
    try {
      const count_rows stalled{&db, two_pages_ahead(), &count};
      co_await scopekit::with_timeout(std::chrono::milliseconds{200}, async_scope::run(stalled));
    } catch (const scopekit::timeout_error& e) {
      std::printf("  timeout_error after %zu rows: %s\n", count, e.what());
    }
    srv.remove_fault(fault);
    report();

    std::printf("3b. a cancellation: the server stalls after 2 pages; another thread shuts down\n");
    fault = srv.inject(stall_from_page(2));
    count = 0;
    try {
      cql::stream_options cancellable = two_pages_ahead();
      cancellable.stop_token = shutdown;
      const count_rows stopped{&db, cancellable, &count, &reached};
      co_await async_scope::run(stopped);
    } catch (const scopekit::stopped_error& e) {
      std::printf("  stopped_error after %zu rows: %s\n", count, e.what());
    }
    srv.remove_fault(fault);
    report();

    std::printf("4a. no scope, the stream in a local variable\n");
    co_await forget_the_scope(db);
    std::printf("  closed by the stream's destructor, synchronously; nothing was awaited\n");
    report();

    std::printf("4b. no scope, the stream kept by an object that outlives the block\n");
    report_reader reader;
    co_await forget_the_scope(db, reader);
    std::printf("  the block returned after 10 rows; the stream holds %zu pages, %llu rows\n",
                reader.rows->pages_fetched(),
                static_cast<unsigned long long>(reader.rows->rows_fetched()));
    report();
    reader.rows.reset();
    std::printf("  once its owner lets go:\n");
    report();
  }
};

}  // namespace

int main() {
  cql::server srv;  // loopback, a free port; its destructor stops it
  srv.add_synthetic_table("demo", "rows", table_rows);
  srv.start();

  // The "signal handler": requests the shutdown once 1,000 rows have been counted in 3b.
  std::stop_source shutdown;
  std::latch reached{1};
  std::thread signal_handler{[&reached, &shutdown] {
    reached.wait();
    shutdown.request_stop();
  }};
  scopekit::sync_wait(async_scope::run(program{srv, shutdown.get_token(), reached}));
  signal_handler.join();
}
