// Lifetime tests for scopekit/cql/client/row_stream.hpp against the embedded server: every exit
// path of a consumer (end, exception, break, stop, deadlines, server error, lost connection,
// malformed frame) times every way of owning the stream (entered into an async_scope, into an
// async_exit_stack, or a bare row_stream dropped without close()). Each cell checks the
// exception that escapes, that no stream state outlives the exit - even while the stream's
// next page is still in flight, which proves its callback was unregistered synchronously - and
// that the connection ends with nothing pending. Under ASan/LSan the binary is leak-free.
#include "scopekit/cql/client/row_stream.hpp"

#include "scopekit/async_exit_stack.hpp"
#include "scopekit/async_scope.hpp"
#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/cql/server/server.hpp"
#include "scopekit/cql/client/session.hpp"
#include "scopekit/deadline.hpp"
#include "scopekit/oneshot.hpp"
#include "scopekit/scope_error.hpp"
#include "scopekit/stopped_error.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "support/counted.hpp"
#include "support/wait_until.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace scopekit::cql::test {
namespace {

using namespace std::chrono_literals;
using scopekit::test::counted;
using scopekit::test::wait_until;

constexpr std::int64_t table_rows = 1000;
constexpr std::int32_t page_size = 100;
// A row of page 0. Page 1 has been requested by then (prefetch 1 asks for it as page 0 is
// taken), and a cell that needs it in flight at the exit delays it by late_page_delay.
constexpr std::int64_t trigger_row = 10;
constexpr auto late_page_delay = 500ms;
constexpr auto short_deadline = 100ms;
constexpr std::size_t unset = std::numeric_limits<std::size_t>::max();

struct body_error : std::runtime_error {
  body_error() : std::runtime_error("thrown by the loop body") {}
};

// Captured by each stream's on_page callback: its count proves the stream's options (which
// live in the stream state) were destroyed.
struct on_page_tag {};

enum class exit_path : std::uint8_t {
  normal_end,
  body_throws,
  early_break,
  stop,
  total_timeout,
  with_timeout,
  page_timeout,
  server_error,
  disconnect,
  malformed_frame,
};

enum class usage : std::uint8_t { scope, exit_stack, bare_drop };

// What left the cell.
enum class escape : std::uint8_t {
  nothing,
  body_error,
  stopped_error,
  timeout_error,
  overloaded_exception,
  connection_error,
  protocol_error,
  other,
};

std::string_view name(exit_path p) {
  switch (p) {
    case exit_path::normal_end: return "NormalEnd";
    case exit_path::body_throws: return "BodyThrows";
    case exit_path::early_break: return "EarlyBreak";
    case exit_path::stop: return "StopRequested";
    case exit_path::total_timeout: return "TotalTimeout";
    case exit_path::with_timeout: return "WithTimeoutAround";
    case exit_path::page_timeout: return "PageTimeout";
    case exit_path::server_error: return "ServerError";
    case exit_path::disconnect: return "Disconnect";
    case exit_path::malformed_frame: return "MalformedFrame";
  }
  return "?";
}

std::string_view name(usage u) {
  switch (u) {
    case usage::scope: return "InAsyncScope";
    case usage::exit_stack: return "InAsyncExitStack";
    case usage::bare_drop: return "BareDropped";
  }
  return "?";
}

std::string_view name(escape e) {
  switch (e) {
    case escape::nothing: return "nothing";
    case escape::body_error: return "body_error";
    case escape::stopped_error: return "stopped_error";
    case escape::timeout_error: return "timeout_error";
    case escape::overloaded_exception: return "overloaded_exception";
    case escape::connection_error: return "connection_error";
    case escape::protocol_error: return "protocol_error";
    case escape::other: return "another exception";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& out, exit_path p) {
  return out << name(p);
}
std::ostream& operator<<(std::ostream& out, usage u) {
  return out << name(u);
}
std::ostream& operator<<(std::ostream& out, escape e) {
  return out << name(e);
}

escape expected_escape(exit_path p, usage use) {
  if (p == exit_path::stop && use == usage::scope) {
    return escape::nothing;  // the scope's own request_stop() ends it without an error
  }
  switch (p) {
    case exit_path::normal_end:
    case exit_path::early_break: return escape::nothing;
    case exit_path::body_throws: return escape::body_error;
    case exit_path::stop: return escape::stopped_error;
    case exit_path::total_timeout:
    case exit_path::with_timeout:
    case exit_path::page_timeout: return escape::timeout_error;
    case exit_path::server_error: return escape::overloaded_exception;
    case exit_path::disconnect: return escape::connection_error;
    case exit_path::malformed_frame: return escape::protocol_error;
  }
  return escape::other;
}

// Paths that leave the stream while its page 1 is still on its way (delayed or stalled).
bool page_in_flight_at_exit(exit_path p) {
  switch (p) {
    case exit_path::body_throws:
    case exit_path::early_break:
    case exit_path::stop:
    case exit_path::total_timeout:
    case exit_path::with_timeout:
    case exit_path::page_timeout: return true;
    default: return false;
  }
}

bool connection_survives(exit_path p) {
  return p != exit_path::disconnect && p != exit_path::malformed_frame;
}

// The server's misbehaviour for page 1 (and only page 1) of the cell's stream.
std::optional<fault> fault_for(exit_path p) {
  fault f;
  f.from_page = 1;
  f.times = 1;
  switch (p) {
    case exit_path::normal_end: return std::nullopt;
    case exit_path::body_throws:
    case exit_path::early_break:
    case exit_path::stop:
    case exit_path::total_timeout:
    case exit_path::with_timeout:
      f.what = fault::action::delay;
      f.delay = std::chrono::duration_cast<std::chrono::milliseconds>(late_page_delay);
      return f;
    case exit_path::page_timeout: f.what = fault::action::stall; return f;
    case exit_path::server_error:
      f.what = fault::action::error;
      f.error = error_code::overloaded;
      return f;
    case exit_path::disconnect: f.what = fault::action::close_connection; return f;
    case exit_path::malformed_frame: f.what = fault::action::malformed_frame; return f;
  }
  return std::nullopt;
}

template <class F>
std::pair<escape, std::string> classify(F&& run) {
  try {
    std::forward<F>(run)();
    return {escape::nothing, {}};
  } catch (const body_error& e) {
    return {escape::body_error, e.what()};
  } catch (const stopped_error& e) {
    return {escape::stopped_error, e.what()};
  } catch (const timeout_error& e) {
    return {escape::timeout_error, e.what()};
  } catch (const overloaded_exception& e) {
    return {escape::overloaded_exception, e.what()};
  } catch (const connection_error& e) {
    return {escape::connection_error, e.what()};
  } catch (const protocol_error& e) {
    return {escape::protocol_error, e.what()};
  } catch (const std::exception& e) {
    return {escape::other, e.what()};
  }
}

task<void> request_stop_when_told(async_scope& scope, oneshot_receiver<bool> told) {
  co_await std::move(told);
  scope.request_stop();
}

// One cell of the matrix: consumes a stream of demo.rows owned as `use` says and leaves it
// as `path` says; records what it saw right after the owner let go of the stream.
class cell {
public:
  cell(session& s, exit_path path, usage use) : session_(&s), path_(path), use_(use) {}

  /// The whole cell, wrapped in with_timeout for that path.
  task<void> run() {
    if (path_ == exit_path::with_timeout) {
      co_await with_timeout(short_deadline, owned());
    } else {
      co_await owned();
    }
  }

  /// Called once the trigger row is read, on a stop cell: must make the stream stop.
  std::function<void()> on_trigger;

  std::size_t live_at_exit = unset;
  std::size_t pending_at_exit = unset;
  std::int64_t rows = 0;
  std::int64_t id_sum = 0;

private:
  stream_options options() const {
    stream_options o;
    o.page_size = page_size;
    o.prefetch_pages = 1;
    if (path_ == exit_path::total_timeout) {
      o.total_timeout = short_deadline;
    }
    if (path_ == exit_path::page_timeout) {
      o.page_timeout = short_deadline;
    }
    o.on_page = [tag = counted<on_page_tag>{}](const page_info&) {};
    return o;
  }

  task<row_stream> open() {
    return session_->execute_stream("SELECT id FROM demo.rows", options());
  }

  task<void> owned() {
    switch (use_) {
      case usage::scope: return in_scope();
      case usage::exit_stack: return in_exit_stack();
      case usage::bare_drop: return bare();
    }
    throw std::logic_error("unknown usage");
  }

  task<void> consume(row_stream& stream) {
    while (auto r = co_await stream.next()) {
      ++rows;
      id_sum += r->get<std::int64_t>(0);
      if (rows != trigger_row) {
        continue;
      }
      if (path_ == exit_path::body_throws) {
        throw body_error{};
      }
      if (path_ == exit_path::early_break) {
        break;
      }
      if (path_ == exit_path::stop) {
        on_trigger();
      }
    }
  }

  task<void> in_scope() {
    std::exception_ptr error;
    try {
      co_await async_scope::run([this](async_scope& scope) -> task<> {
        std::optional<oneshot_sender<bool>> tell_stopper;
        if (path_ == exit_path::stop) {
          auto [tx, rx] = make_oneshot<bool>();
          scope.spawn(request_stop_when_told(scope, std::move(rx)));  // a child stops the scope
          tell_stopper.emplace(std::move(tx));
          on_trigger = [&tell_stopper] { tell_stopper->set_value(true); };
        }
        row_stream& stream = co_await scope.enter(open());
        co_await consume(stream);
      });
    } catch (...) {
      error = std::current_exception();
    }
    record_exit();
    if (error) {
      std::rethrow_exception(error);
    }
  }

  // As docs/reference/async_exit_stack.md closes a bare stack on every path: a handler cannot
  // co_await, so the error is kept and the stack closed after it.
  task<void> in_exit_stack() {
    async_exit_stack stack;
    std::exception_ptr error;
    try {
      row_stream& stream = co_await stack.enter(open());
      co_await consume(stream);
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      std::vector<std::exception_ptr> errors{error};
      co_await stack.close_collecting(errors, error);
      record_exit();
      throw_errors(std::move(errors));
    }
    co_await stack.close();
    record_exit();
  }

  task<void> bare() {
    std::exception_ptr error;
    try {
      row_stream stream = co_await open();
      co_await consume(stream);
    } catch (...) {  // the row_stream's destructor has run: nobody called close()
      error = std::current_exception();
    }
    record_exit();
    if (error) {
      std::rethrow_exception(error);
    }
  }

  void record_exit() {
    live_at_exit = diagnostics::live_row_streams();
    pending_at_exit = session_->connection()->pending();
  }

  session* session_;
  exit_path path_;
  usage use_;
};

using cell_param = std::tuple<exit_path, usage>;

class LeakMatrix : public ::testing::TestWithParam<cell_param> {
protected:
  LeakMatrix() { server_.add_synthetic_table("demo", "rows", table_rows); }

  session connect() {
    session_options o;
    o.port = server_.port();
    return sync_wait(session::connect(std::move(o)));
  }

  server server_;
};

TEST_P(LeakMatrix, NothingOutlivesTheExit) {
  const auto [path, use] = GetParam();
  ASSERT_EQ(diagnostics::live_row_streams(), 0U);
  if (const std::optional<fault> f = fault_for(path)) {
    server_.inject(*f);
  }
  server_.start();
  session s = connect();

  cell c{s, path, use};
  // A stop cell outside a scope is stopped through the outer coroutine's token, by another
  // thread, once the trigger row is read.
  std::stop_source outer_stop;
  std::promise<void> trigger_reached;
  std::thread stopper;
  if (path == exit_path::stop && use != usage::scope) {
    c.on_trigger = [&trigger_reached] { trigger_reached.set_value(); };
    stopper = std::thread([&outer_stop, reached = trigger_reached.get_future()] {
      if (reached.wait_for(10s) == std::future_status::ready) {
        outer_stop.request_stop();
      }
    });
  }
  const auto [escaped, what] =
      classify([&] { sync_wait(c.run(), outer_stop.get_token()); });
  if (stopper.joinable()) {
    stopper.join();
  }

  EXPECT_EQ(escaped, expected_escape(path, use)) << what;
  EXPECT_EQ(c.live_at_exit, 0U) << "a stream state outlived the exit of its owner";
  if (page_in_flight_at_exit(path)) {
    // Page 1 has not arrived yet, so the connection's I/O thread still holds its response
    // future: the state is gone anyway, so its callback was removed synchronously.
    EXPECT_EQ(c.pending_at_exit, 1U) << "page 1 should still have been in flight at the exit";
  }
  if (path == exit_path::normal_end) {
    EXPECT_EQ(c.rows, table_rows);
    EXPECT_EQ(c.id_sum, table_rows * (table_rows - 1) / 2);
  } else {
    EXPECT_GE(c.rows, std::min<std::int64_t>(trigger_row, page_size));
  }
  EXPECT_EQ(counted<on_page_tag>::live(), 0) << "the stream's options (its on_page) leaked";

  if (path == exit_path::page_timeout) {
    EXPECT_EQ(s.connection()->pending(), 1U);  // stalled for good: only closing ends it
    sync_wait(s.close());
  }
  EXPECT_TRUE(wait_until([&] { return s.connection()->pending() == 0; }))
      << s.connection()->pending() << " request(s) still pending";
  if (path != exit_path::page_timeout) {
    EXPECT_EQ(s.connection()->is_open(), connection_survives(path));
  }
  sync_wait(s.close());
  EXPECT_EQ(diagnostics::live_row_streams(), 0U);
}

std::string cell_name(const ::testing::TestParamInfo<cell_param>& info) {
  std::string out(name(std::get<0>(info.param)));
  out += name(std::get<1>(info.param));
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    AllCells, LeakMatrix,
    ::testing::Combine(::testing::Values(exit_path::normal_end, exit_path::body_throws,
                                         exit_path::early_break, exit_path::stop,
                                         exit_path::total_timeout, exit_path::with_timeout,
                                         exit_path::page_timeout, exit_path::server_error,
                                         exit_path::disconnect, exit_path::malformed_frame),
                       ::testing::Values(usage::scope, usage::exit_stack, usage::bare_drop)),
    cell_name);

// The property the whole design rests on, without any owner in between: a stream state (its
// pages, its options, its callback) is freed when the stream is dropped or closed, even though
// its request is still in flight and the connection's I/O thread still holds the response
// future that the callback was registered on. A shared_ptr cycle state -> registration ->
// callback -> state would keep it alive until the response came, or for ever if none came.
class RowStreamLifetime : public ::testing::Test {
protected:
  RowStreamLifetime() {
    server_.add_synthetic_table("demo", "rows", table_rows);
    server_.add_synthetic_table("demo", "slow", table_rows);
    fault late;
    late.what = fault::action::delay;
    late.statement_contains = "demo.slow";
    late.delay = std::chrono::duration_cast<std::chrono::milliseconds>(late_page_delay);
    server_.inject(late);
    server_.start();
  }

  static stream_options counted_options() {
    stream_options o;
    o.page_size = page_size;
    o.on_page = [tag = counted<on_page_tag>{}](const page_info&) {};
    return o;
  }

  session connect() {
    session_options o;
    o.port = server_.port();
    return sync_wait(session::connect(std::move(o)));
  }

  server server_;
};

TEST_F(RowStreamLifetime, DroppedStreamIsFreedWhileItsFirstPageIsInFlight) {
  session s = connect();
  sync_wait([&]() -> task<> {
    {
      row_stream dropped = co_await s.execute_stream("SELECT id FROM demo.slow", counted_options());
      EXPECT_EQ(diagnostics::live_row_streams(), 1U);
      EXPECT_EQ(counted<on_page_tag>::live(), 1);
    }
    EXPECT_EQ(s.connection()->pending(), 1U);  // the response future is still held
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);
    EXPECT_EQ(counted<on_page_tag>::live(), 0);
    // Another stream on the connection reads everything while the late page arrives.
    row_stream other = co_await s.execute_stream("SELECT id FROM demo.rows", counted_options());
    std::int64_t n = 0;
    while (auto r = co_await other.next()) {
      EXPECT_EQ(r->get<std::int64_t>(0), n);
      ++n;
    }
    EXPECT_EQ(n, table_rows);
  }());
  EXPECT_TRUE(wait_until([&] { return s.connection()->pending() == 0; }));
  EXPECT_TRUE(s.connection()->is_open());  // the late response was discarded, not a failure
  EXPECT_EQ(diagnostics::live_row_streams(), 0U);
}

TEST_F(RowStreamLifetime, ClosedStreamReleasesItsStateBeforeTheObjectGoes) {
  session s = connect();
  sync_wait([&]() -> task<> {
    row_stream rows = co_await s.execute_stream("SELECT id FROM demo.slow", counted_options());
    co_await rows.close();
    EXPECT_TRUE(rows.is_closed());
    EXPECT_EQ(s.connection()->pending(), 1U);
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);  // the row_stream object still exists
    EXPECT_EQ(counted<on_page_tag>::live(), 0);
    EXPECT_FALSE(co_await rows.next());  // a closed stream ends, even when its page comes
  }());
  EXPECT_TRUE(wait_until([&] { return s.connection()->pending() == 0; }));
  EXPECT_EQ(diagnostics::live_row_streams(), 0U);
}

TEST_F(RowStreamLifetime, StreamIsFreedWhileItsPageStallsForEver) {
  fault stall;
  stall.what = fault::action::stall;
  stall.statement_contains = "demo.rows";
  server_.inject(stall);
  session s = connect();
  sync_wait([&]() -> task<> {
    row_stream rows = co_await s.execute_stream("SELECT id FROM demo.rows", counted_options());
    rows = row_stream{nullptr};  // move-assigned over: the old stream is closed
  }());
  EXPECT_EQ(diagnostics::live_row_streams(), 0U);
  EXPECT_EQ(counted<on_page_tag>::live(), 0);
  EXPECT_EQ(s.connection()->pending(), 1U);  // never answered
  sync_wait(s.close());
  EXPECT_EQ(s.connection()->pending(), 0U);  // closing the connection fails it
}

}  // namespace
}  // namespace scopekit::cql::test
