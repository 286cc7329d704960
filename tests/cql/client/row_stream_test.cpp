// Tests for scopekit/cql/client/row_stream.hpp against the embedded server: every row exactly once
// for any page size; read-ahead bounded by prefetch_pages (0: one request at a time); max_pages;
// empty pages followed; on_page on the consumer's thread; errors on the first page, mid-stream,
// from on_page, from a lost connection, each where the header says; page and total timeouts;
// stops through stream_options, the awaiting coroutine's token, a scope or a deadline; close()
// from another coroutine, a late page after close, streams sharing a connection; next_page().
//
// Orderings are made deterministic by the server's faults (a stalled page never comes, a delayed
// one comes late) and by round_trip() (client_support.hpp); polls are bounded. After each test
// no stream state is left (CqlClientTest::TearDown).
#include "scopekit/cql/client/row_stream.hpp"

#include "support/cql/scripted_server.hpp"
#include "support/cql/client_support.hpp"

#include "scopekit/async_scope.hpp"
#include "scopekit/deadline.hpp"
#include "scopekit/stopped_error.hpp"
#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace scopekit::cql::test {
namespace {

static_assert(!std::is_copy_constructible_v<row_stream>);
static_assert(std::is_nothrow_move_constructible_v<row_stream>);
static_assert(std::is_nothrow_move_assignable_v<row_stream>);

constexpr const char* demo_query = "SELECT id, name FROM demo.rows";

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

stream_options paged(std::int32_t page_size, std::size_t prefetch = 1) {
  stream_options o;
  o.page_size = page_size;
  o.prefetch_pages = prefetch;
  return o;
}

/// Rethrows `e` if set, so that EXPECT_THROW can check its type (and fails if it is not).
void rethrow_if(const std::exception_ptr& e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

/// The ids of the next `limit` rows of demo.rows (fewer at the end), checking each name.
task<std::vector<std::int64_t>> read_ids(
    row_stream& rows, std::size_t limit = std::numeric_limits<std::size_t>::max()) {
  std::vector<std::int64_t> ids;
  while (ids.size() < limit) {
    const std::optional<row> r = co_await rows.next();
    if (!r) {
      break;
    }
    const auto id = r->get<std::int64_t>("id");
    EXPECT_EQ(r->get<std::string_view>("name"), "row-" + std::to_string(id));
    ids.push_back(id);
  }
  co_return ids;
}

/// How a stream read to its end went: the rows before the error, and the error.
struct outcome {
  std::size_t rows = 0;
  std::exception_ptr error;
};

task<outcome> read_until_error(row_stream& rows) {
  outcome out;
  try {
    while (co_await rows.next()) {
      ++out.rows;
    }
  } catch (...) {
    out.error = std::current_exception();
  }
  co_return out;
}

/// Every id of 0 .. n - 1 exactly once, in any order.
void expect_each_once(const std::vector<std::int64_t>& ids, std::int64_t n) {
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  std::size_t outside = 0;
  for (const std::int64_t id : ids) {
    if (id < 0 || id >= n) {
      ++outside;
    } else {
      ++seen[static_cast<std::size_t>(id)];
    }
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(outside, 0U);
  std::size_t once = 0;
  for (const int count : seen) {
    once += count == 1 ? 1 : 0;
  }
  EXPECT_EQ(once, static_cast<std::size_t>(n));
}

/// The ids first .. first + count - 1. (A function: GCC 12 cannot put the array of an
/// initializer_list of a co_await's full-expression in a coroutine frame.)
std::vector<std::int64_t> ids_from(std::int64_t first, std::int64_t count) {
  std::vector<std::int64_t> ids;
  for (std::int64_t id = first; id < first + count; ++id) {
    ids.push_back(id);
  }
  return ids;
}

std::size_t pages_for(std::int64_t rows, std::int32_t page_size) {
  return static_cast<std::size_t>((rows + page_size - 1) / page_size);
}

class CqlRowStream : public CqlClientTest {
protected:
  /// Connects, runs `body(session)`, closes the session; bounded by run_bounded.
  template <class Body>
  void with_session(Body body) {
    run_bounded([&]() -> task<void> {
      session s = co_await session::connect(options());
      co_await body(s);
      co_await s.close();
    }());
  }
};

// ---- Every row, once -------------------------------------------------------------------------

TEST_F(CqlRowStream, EveryRowOfASyntheticTableOnceForAnyPageSizeAndPrefetch) {
  struct shape {
    std::int32_t page_size;
    std::size_t prefetch;
  };
  for (const shape sh : {shape{1, 1}, shape{7, 0}, shape{7, 4}, shape{1000, 1}, shape{1000, 0}}) {
    SCOPED_TRACE("page size " + std::to_string(sh.page_size) + ", prefetch " +
                 std::to_string(sh.prefetch));
    with_session([&](session& s) -> task<void> {
      row_stream rows = co_await s.execute_stream(demo_query, paged(sh.page_size, sh.prefetch));
      expect_each_once(co_await read_ids(rows), demo_rows);
      EXPECT_EQ(rows.pages_fetched(), pages_for(demo_rows, sh.page_size));
      EXPECT_EQ(rows.rows_fetched(), static_cast<std::uint64_t>(demo_rows));
      EXPECT_FALSE(co_await rows.next());  // the end stays the end
      co_await rows.close();
    });
  }
}

TEST_F(CqlRowStream, SteadyStreamingReusesThePageBuffers) {
  // Pages of ~32 kB (250 rows with their payload): each would cost at least its body in new
  // memory if page buffers were not recycled between the consumer and the I/O thread. The
  // counter sees the whole process (the in-process server too), so the bound is a fraction
  // of a body, not zero.
  std::vector<long long> allocated_at;  // before page n + 1 is handed over
  std::vector<std::size_t> body_bytes;
  with_session([&](session& s) -> task<void> {
    stream_options o = paged(250, 1);
    o.on_page = [&](const page_info& p) {
      allocated_at.push_back(scopekit::test::allocated_bytes());
      body_bytes.push_back(p.bytes);
    };
    row_stream rows = co_await s.execute_stream("SELECT id, name, payload FROM demo.rows", o);
    std::int64_t count = 0;
    while (co_await rows.next()) {
      ++count;
    }
    EXPECT_EQ(count, demo_rows);
    co_await rows.close();
  });
  ASSERT_EQ(allocated_at.size(), 10U);
  ASSERT_GE(body_bytes[3], frame_splitter::reuse_threshold);  // large enough to be recycled
  // From the fourth page on, the buffers exist: the pages in between allocate less than a
  // body each (measured: about half a body, without recycling about one and a half).
  const long long per_page = (allocated_at[9] - allocated_at[3]) / 6;
  EXPECT_LT(per_page, static_cast<long long>(body_bytes[3] * 3 / 4))
      << "page bodies of " << body_bytes[3] << " bytes each";
}

TEST_F(CqlRowStream, ASmallAnswerAfterALargePageIsNotHeldBack) {
  // While a large page arrives, the I/O thread asks poll to wake it only once much of the rest
  // is there (SO_RCVLOWAT). Once the page is complete, any byte must wake it again: else the
  // small answer that follows waits for bytes that never come.
  run_bounded(
      [&]() -> task<void> {
        session s = co_await session::connect(options());
        for (int round = 0; round < 5; ++round) {
          row_stream rows = co_await s.execute_stream("SELECT id, name, payload FROM demo.rows",
                                                      paged(static_cast<std::int32_t>(demo_rows)));
          std::int64_t count = 0;
          while (co_await rows.next()) {
            ++count;
          }
          EXPECT_EQ(count, demo_rows);
          co_await rows.close();
          co_await round_trip(s);  // one small answer, nothing after it
        }
        co_await s.close();
      }(),
      10s);
}

TEST_F(CqlRowStream, EveryRowOfAStoredTableOnceForAnyPageSize) {
  with_session([&](session& s) -> task<void> {
    co_await create_stored_table(s, static_cast<std::int32_t>(demo_rows));
    for (const std::int32_t page_size : {1, 7, 1000}) {
      SCOPED_TRACE("page size " + std::to_string(page_size));
      row_stream rows = co_await s.execute_stream("SELECT id, v FROM ks.t", paged(page_size));
      std::vector<std::int64_t> ids;
      while (const auto r = co_await rows.next()) {
        const auto id = r->get<std::int32_t>("id");
        EXPECT_EQ(r->get<std::string>("v"), "v-" + std::to_string(id));
        ids.push_back(id);
      }
      expect_each_once(ids, demo_rows);
      EXPECT_EQ(rows.pages_fetched(), pages_for(demo_rows, page_size));
    }
  });
}

TEST_F(CqlRowStream, APreparedStatementStreamsThroughExecute) {
  with_session([&](session& s) -> task<void> {
    const prepared_statement p = co_await s.prepare("SELECT id, name FROM demo.rows");
    row_stream rows = co_await s.execute_stream(p.bind(), paged(300));
    expect_each_once(co_await read_ids(rows), demo_rows);
    EXPECT_EQ(rows.pages_fetched(), pages_for(demo_rows, 300));
  });
}

TEST_F(CqlRowStream, AStatementWithoutRowsEndsAtOnce) {
  with_session([&](session& s) -> task<void> {
    co_await s.execute(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
        "'replication_factor': 1}");
    co_await s.execute("CREATE TABLE ks.t (id int PRIMARY KEY, v text)");
    row_stream insert = co_await s.execute_stream("INSERT INTO ks.t (id, v) VALUES (1, 'one')");
    EXPECT_FALSE(co_await insert.next());
    EXPECT_EQ(insert.pages_fetched(), 0U);
    row_stream empty = co_await s.execute_stream("SELECT * FROM ks.t WHERE id = 2");
    EXPECT_FALSE(co_await empty.next());
    EXPECT_EQ(empty.pages_fetched(), 1U);  // one empty page
  });
}

// ---- Read-ahead ------------------------------------------------------------------------------

TEST_F(CqlRowStream, PrefetchZeroAsksForTheNextPageOnlyWhenTheConsumerNeedsIt) {
  with_session([&](session& s) -> task<void> {
    row_stream rows = co_await s.execute_stream(demo_query, paged(10, 0));
    EXPECT_EQ(co_await read_ids(rows, 10), ids_from(0, 10));
    // Page 1 is read entirely and nothing more was asked for. Had page 2 been requested, its
    // response would have been handled before the marker's (client_support.hpp).
    co_await round_trip(s);
    EXPECT_EQ(rows.pages_fetched(), 1U);
    EXPECT_EQ(s.connection()->pending(), 0U);
    EXPECT_EQ(co_await read_ids(rows, 1), ids_from(10, 1));  // now it is asked for
    EXPECT_EQ(rows.pages_fetched(), 2U);
    co_await round_trip(s);
    EXPECT_EQ(rows.pages_fetched(), 2U);  // still one page at a time
  });
}

TEST_F(CqlRowStream, PrefetchOneReadsOnePageAhead) {
  // The same observation as above, with prefetch 1: it does see the page read ahead.
  with_session([&](session& s) -> task<void> {
    row_stream rows = co_await s.execute_stream(demo_query, paged(10, 1));
    EXPECT_EQ((co_await read_ids(rows, 10)).size(), 10U);
    co_await round_trip(s);
    EXPECT_EQ(rows.pages_fetched(), 2U);
    EXPECT_EQ(rows.rows_fetched(), 20U);
  });
}

TEST_F(CqlRowStream, PrefetchTwoFetchesTwoPagesAheadWithoutTheConsumerAskingAndNoMore) {
  with_session([&](session& s) -> task<void> {
    row_stream rows = co_await s.execute_stream(demo_query, paged(10, 2));
    EXPECT_EQ(co_await read_ids(rows, 1), ids_from(0, 1));  // page 1 taken
    EXPECT_TRUE(co_await poll_until([&] { return rows.pages_fetched() >= 3; }));
    co_await round_trip(s);
    EXPECT_EQ(rows.pages_fetched(), 3U);  // the one being read and two ahead, not a fourth
    EXPECT_EQ(s.connection()->pending(), 0U);
    EXPECT_EQ((co_await read_ids(rows, 9)).size(), 9U);  // the rest of page 1: nothing new
    co_await round_trip(s);
    EXPECT_EQ(rows.pages_fetched(), 3U);
    EXPECT_EQ(co_await read_ids(rows, 1), ids_from(10, 1));  // page 2 taken
    EXPECT_TRUE(co_await poll_until([&] { return rows.pages_fetched() >= 4; }));
    co_await round_trip(s);
    EXPECT_EQ(rows.pages_fetched(), 4U);
  });
}

TEST_F(CqlRowStream, MaxPagesStopsAfterThatManyPages) {
  with_session([&](session& s) -> task<void> {
    stream_options o = paged(10, 2);
    o.max_pages = 3;
    row_stream rows = co_await s.execute_stream(demo_query, o);
    const std::vector<std::int64_t> ids = co_await read_ids(rows);
    EXPECT_EQ(ids.size(), 30U);
    expect_each_once(ids, 30);
    co_await round_trip(s);
    EXPECT_EQ(rows.pages_fetched(), 3U);
    EXPECT_EQ(s.connection()->pending(), 0U);
    EXPECT_FALSE(co_await rows.next());
  });
}

TEST_F(CqlRowStream, EmptyPagesThatSayMoreFollowsAreFollowed) {
  server_.inject(fault{
      .what = fault::action::empty_pages, .statement_contains = "demo.rows", .empty_pages = 2});
  for (const std::size_t prefetch : {0U, 1U, 3U}) {
    SCOPED_TRACE("prefetch " + std::to_string(prefetch));
    with_session([&](session& s) -> task<void> {
      std::vector<std::size_t> page_rows;
      stream_options o = paged(1000, prefetch);
      o.on_page = [&page_rows](const page_info& p) { page_rows.push_back(p.rows); };
      row_stream rows = co_await s.execute_stream(demo_query, o);
      expect_each_once(co_await read_ids(rows), demo_rows);
      EXPECT_EQ(rows.pages_fetched(), 9U);  // two empty pages before each of the three
      EXPECT_EQ(page_rows, (std::vector<std::size_t>{1000, 1000, 500}));  // only pages with rows
    });
  }
}

// ---- on_page ---------------------------------------------------------------------------------

TEST_F(CqlRowStream, OnPageRunsOncePerPageOnTheConsumersThread) {
  struct call {
    page_info info;
    std::thread::id thread;
  };
  std::vector<call> calls;  // written on the consumer's thread only (checked below)
  with_session([&](session& s) -> task<void> {
    const std::thread::id consumer = std::this_thread::get_id();
    stream_options o = paged(700, 2);
    o.on_page = [&calls](const page_info& p) { calls.push_back({p, std::this_thread::get_id()}); };
    row_stream rows = co_await s.execute_stream(demo_query, o);
    EXPECT_EQ((co_await read_ids(rows, 1)).size(), 1U);
    EXPECT_EQ(calls.size(), 1U);  // as the page is taken, not as it arrives
    EXPECT_EQ((co_await read_ids(rows, 699)).size(), 699U);
    EXPECT_EQ(calls.size(), 1U);
    EXPECT_EQ((co_await read_ids(rows, 1)).size(), 1U);
    EXPECT_EQ(calls.size(), 2U);
    EXPECT_EQ((co_await read_ids(rows)).size(), static_cast<std::size_t>(demo_rows) - 701);
    EXPECT_EQ(calls.size(), 4U);
    for (const call& c : calls) {
      EXPECT_EQ(c.thread, consumer);
    }
  });
  ASSERT_EQ(calls.size(), 4U);
  const std::vector<std::size_t> expected_rows{700, 700, 700, 400};
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].info.number, i + 1);
    EXPECT_EQ(calls[i].info.rows, expected_rows[i]);
    // The frame body: per row an 8-byte id and a name of 5 to 8 bytes, each with a 4-byte length.
    EXPECT_GT(calls[i].info.bytes, calls[i].info.rows * 21);
    EXPECT_LT(calls[i].info.bytes, calls[i].info.rows * 24 + 200);
  }
}

TEST_F(CqlRowStream, AnExceptionFromOnPageFailsTheStream) {
  with_session([&](session& s) -> task<void> {
    stream_options o = paged(100);
    o.on_page = [](const page_info& p) {
      if (p.number == 2) {
        throw std::runtime_error("on_page refused page 2");
      }
    };
    row_stream rows = co_await s.execute_stream(demo_query, o);
    const outcome first = co_await read_until_error(rows);
    EXPECT_EQ(first.rows, 100U);  // page 1, then the failure
    EXPECT_THROW(rethrow_if(first.error), std::runtime_error);
    // Once failed, every call throws the same error.
    const outcome again = co_await read_until_error(rows);
    EXPECT_EQ(again.rows, 0U);
    EXPECT_EQ(again.error, first.error);
    bool page_failed = false;
    try {
      co_await rows.next_page();
    } catch (const std::runtime_error& e) {
      page_failed = std::string_view(e.what()) == "on_page refused page 2";
    }
    EXPECT_TRUE(page_failed);
  });
}

// ---- Errors ----------------------------------------------------------------------------------

TEST_F(CqlRowStream, AFirstPageErrorThatArrivedBeforeTheFirstNextComesOutOfIt) {
  server_.inject(fault{.what = fault::action::error,
                       .statement_contains = "demo.rows",
                       .times = 1,
                       .error = error_code::read_timeout});
  with_session([&](session& s) -> task<void> {
    stream_options o;
    o.total_timeout = 10s;  // a bound, in case the error never came out
    row_stream rows = co_await s.execute_stream(demo_query, o);
    co_await round_trip(s);  // the error has arrived and been handled
    EXPECT_EQ(s.connection()->pending(), 0U);
    EXPECT_THROW(co_await rows.next(), request_timeout_exception);
    EXPECT_THROW(co_await rows.next(), request_timeout_exception);  // and again
  });
}

TEST_F(CqlRowStream, AFirstPageErrorComesOutOfTheFirstNextPage) {
  server_.inject(fault{.what = fault::action::error,
                       .statement_contains = "demo.rows",
                       .times = 1,
                       .error = error_code::invalid});
  with_session([&](session& s) -> task<void> {
    row_stream rows = co_await s.execute_stream(demo_query);
    EXPECT_THROW(co_await rows.next_page(), invalid_request);
    EXPECT_THROW(co_await rows.next(), invalid_request);
  });
}

TEST_F(CqlRowStream, AnErrorMidStreamComesAfterTheRowsOfThePagesBeforeIt) {
  for (const std::size_t prefetch : {0U, 1U, 2U, 3U}) {
    SCOPED_TRACE("prefetch " + std::to_string(prefetch));
    server_.inject(fault{.what = fault::action::error,
                         .statement_contains = "demo.rows",
                         .from_page = 2,
                         .times = 1,
                         .error = error_code::overloaded});
    with_session([&](session& s) -> task<void> {
      row_stream rows = co_await s.execute_stream(demo_query, paged(10, prefetch));
      EXPECT_EQ((co_await read_ids(rows, 1)).size(), 1U);
      // Each round trip lets one more generation of read-ahead requests be answered (a page's
      // callback sends the next request before the marker's response is handled): after three,
      // with read-ahead, page 2's error is in hand while pages 0 and 1 are still to be read.
      for (int i = 0; i < 3; ++i) {
        co_await round_trip(s);
      }
      EXPECT_EQ(s.connection()->pending(), 0U);
      const outcome rest = co_await read_until_error(rows);
      EXPECT_EQ(rest.rows + 1, 20U);  // pages 0 and 1, then the error
      EXPECT_THROW(rethrow_if(rest.error), overloaded_exception);
      EXPECT_THROW(co_await rows.next(), overloaded_exception);
    });
  }
}

TEST_F(CqlRowStream, ALostConnectionMidStreamIsAConnectionErrorAfterTheRowsBeforeIt) {
  server_.inject(fault{
      .what = fault::action::close_connection, .statement_contains = "demo.rows", .from_page = 2});
  with_session([&](session& s) -> task<void> {
    row_stream rows = co_await s.execute_stream(demo_query, paged(10));
    const outcome o = co_await read_until_error(rows);
    EXPECT_EQ(o.rows, 20U);
    EXPECT_THROW(rethrow_if(o.error), connection_error);
    EXPECT_THROW(co_await rows.next(), connection_error);
    EXPECT_FALSE(s.connection()->is_open());
  });
}

// ---- A server that repeats its paging state -------------------------------------------------

/// The paging state the scripted servers below return for ever.
std::vector<std::byte> stuck_state() {
  return {std::byte{0x5c}, std::byte{0x0d}, std::byte{0xe5}};
}

/// Reads `rows` until it ends or fails, at most `limit` rows (a stream that does not end is
/// cut there, and `ended` says so).
struct bounded_outcome {
  std::size_t rows = 0;
  bool ended = false;
  std::exception_ptr error;
};

task<bounded_outcome> read_at_most(row_stream& rows, std::size_t limit) {
  bounded_outcome out;
  try {
    while (out.rows < limit) {
      if (!co_await rows.next()) {
        out.ended = true;
        break;
      }
      ++out.rows;
    }
  } catch (...) {
    out.error = std::current_exception();
    out.ended = true;
  }
  co_return out;
}

/// Connects to `port`, streams demo.rows one page ahead and reads at most 10,000 rows, under
/// a total deadline that bounds a stream that never ends.
bounded_outcome stream_from(std::uint16_t port) {
  return run_bounded([port]() -> task<bounded_outcome> {
    session_options options;
    options.port = port;
    session s = co_await session::connect(options);
    stream_options o = paged(1, 1);
    o.total_timeout = 5s;  // only a bound: the stream must fail long before it
    row_stream rows = co_await s.execute_stream(demo_query, o);
    bounded_outcome out = co_await read_at_most(rows, 10'000);
    co_await rows.close();
    co_await s.close();
    co_return out;
  }());
}

TEST(CqlRowStreamPagingState, TheSameStateReturnedAgainIsAProtocolError) {
  // Every page has one row and the same paging state, the one the client has just sent back.
  std::atomic<std::int64_t> next_id{0};
  scripted_server srv{
      [&next_id](const request&) { return rows_page(next_id.fetch_add(1), 1, stuck_state()); }};
  const bounded_outcome out = stream_from(srv.port());
  EXPECT_TRUE(out.ended) << "still streaming after " << out.rows << " rows";
  EXPECT_EQ(out.rows, 1U);  // the first page; the second repeats the state and is refused
  EXPECT_THROW(rethrow_if(out.error), protocol_error);
  EXPECT_EQ(srv.answered(), 2U);  // no request after the repeated state
  EXPECT_EQ(diagnostics::live_row_streams(), 0U);
}

TEST(CqlRowStreamPagingState, EmptyPagesWithTheSameStateAreAProtocolError) {
  // No rows ever, and a paging state that never changes: without the check, requests for ever.
  scripted_server srv{[](const request&) { return rows_page(0, 0, stuck_state()); }};
  const bounded_outcome out = stream_from(srv.port());
  EXPECT_EQ(out.rows, 0U);
  try {
    rethrow_if(out.error);
    ADD_FAILURE() << "the stream ended without an error";
  } catch (const protocol_error& e) {
    EXPECT_NE(std::string_view(e.what()).find("paging state"), std::string_view::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a protocol_error: " << e.what();
  }
  EXPECT_EQ(srv.answered(), 2U);
}

// ---- Deadlines -------------------------------------------------------------------------------

TEST_F(CqlRowStream, APageThatDoesNotComeWithinThePageTimeoutIsATimeoutError) {
  server_.inject(
      fault{.what = fault::action::stall, .statement_contains = "demo.rows", .from_page = 1});
  with_session([&](session& s) -> task<void> {
    stream_options o = paged(10);
    o.page_timeout = 200ms;
    row_stream rows = co_await s.execute_stream(demo_query, o);
    EXPECT_EQ((co_await read_ids(rows, 10)).size(), 10U);
    const outcome rest = co_await read_until_error(rows);
    EXPECT_EQ(rest.rows, 0U);
    bool timed_out = false;
    try {
      rethrow_if(rest.error);
    } catch (const timeout_error& e) {
      timed_out = contains(e.what(), "page timeout");  // the stream's, not a caller's deadline
    }
    EXPECT_TRUE(timed_out);
    EXPECT_THROW(co_await rows.next(), timeout_error);
  });
}

TEST_F(CqlRowStream, AFirstPageThatDoesNotComeIsATimeoutError) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "demo.rows"});
  with_session([&](session& s) -> task<void> {
    stream_options o;
    o.page_timeout = 100ms;
    row_stream rows = co_await s.execute_stream(demo_query, o);
    EXPECT_THROW(co_await rows.next(), timeout_error);
  });
}

TEST_F(CqlRowStream, AStalledPageTimesOutWithTheSessionsRequestTimeout) {
  server_.inject(
      fault{.what = fault::action::stall, .statement_contains = "demo.rows", .from_page = 1});
  run_bounded([&]() -> task<void> {
    session_options so = options();
    so.request_timeout = 200ms;
    session s = co_await session::connect(so);
    row_stream rows = co_await s.execute_stream(demo_query, paged(10));  // no page_timeout
    EXPECT_EQ((co_await read_ids(rows, 10)).size(), 10U);
    const outcome rest = co_await read_until_error(rows);
    EXPECT_EQ(rest.rows, 0U);
    std::string message;
    try {
      rethrow_if(rest.error);
    } catch (const operation_timed_out& e) {
      message = e.what();
    }
    EXPECT_EQ(message, "no answer from " + s.connection()->peer() +
                           " within 200 ms to page 2 of QUERY \"SELECT id, name FROM demo.rows\" "
                           "(the session's request timeout)");
    co_await rows.close();
    co_await s.close();
  }());
}

TEST_F(CqlRowStream, APageTimeoutOverridesTheSessionsRequestTimeout) {
  // Every page comes 150 ms late: past the session's 50 ms, within the stream's 10 s.
  server_.inject(
      fault{.what = fault::action::delay, .statement_contains = "demo.rows", .delay = 150ms});
  run_bounded([&]() -> task<void> {
    session_options so = options();
    so.request_timeout = 50ms;
    session s = co_await session::connect(so);
    stream_options o = paged(1000);
    o.page_timeout = 10s;
    row_stream rows = co_await s.execute_stream(demo_query, o);
    expect_each_once(co_await read_ids(rows), demo_rows);
    co_await rows.close();
    co_await s.close();
  }());
}

TEST_F(CqlRowStream, TheTotalTimeoutEndsAWait) {
  server_.inject(
      fault{.what = fault::action::stall, .statement_contains = "demo.rows", .from_page = 1});
  with_session([&](session& s) -> task<void> {
    stream_options o = paged(10);
    o.total_timeout = 300ms;
    row_stream rows = co_await s.execute_stream(demo_query, o);
    EXPECT_EQ((co_await read_ids(rows, 10)).size(), 10U);
    bool timed_out = false;
    try {
      co_await rows.next();
    } catch (const timeout_error& e) {
      timed_out = contains(e.what(), "total deadline");
    }
    EXPECT_TRUE(timed_out);
  });
}

TEST_F(CqlRowStream, TheTotalTimeoutIsForTheWholeStreamNotPerPage) {
  // Every page comes 60 ms late, well within the page timeout; the 25 pages take 1.5 s.
  server_.inject(
      fault{.what = fault::action::delay, .statement_contains = "demo.rows", .delay = 60ms});
  with_session([&](session& s) -> task<void> {
    stream_options o = paged(100);
    o.page_timeout = 5s;
    o.total_timeout = 300ms;
    row_stream rows = co_await s.execute_stream(demo_query, o);
    const outcome out = co_await read_until_error(rows);
    EXPECT_GE(out.rows, 100U);  // the first pages came in time
    EXPECT_LT(out.rows, static_cast<std::size_t>(demo_rows));
    bool timed_out = false;
    try {
      rethrow_if(out.error);
    } catch (const timeout_error& e) {
      timed_out = contains(e.what(), "total deadline");
    }
    EXPECT_TRUE(timed_out);
  });
}

// ---- Stop ------------------------------------------------------------------------------------

/// Requests stop on `source` from a thread of its own (the stop callbacks run there).
task<void> stop_from_another_thread(std::stop_source source) {
  std::thread t([&source] { source.request_stop(); });
  t.join();
  co_return;
}

TEST_F(CqlRowStream, AStopTokenInTheOptionsStopsAWaitingNext) {
  server_.inject(
      fault{.what = fault::action::stall, .statement_contains = "demo.rows", .from_page = 1});
  with_session([&](session& s) -> task<void> {
    std::stop_source source;
    stream_options o = paged(10);
    o.stop_token = source.get_token();
    co_await async_scope::run([&](async_scope& scope) -> task<void> {
      auto& rows = co_await scope.enter(s.execute_stream(demo_query, o));
      EXPECT_EQ((co_await read_ids(rows, 10)).size(), 10U);
      // The child runs once the next() below has suspended (one thread runs the scope).
      scope.spawn(stop_from_another_thread(source));
      EXPECT_THROW(co_await rows.next(), stopped_error);
      EXPECT_THROW(co_await rows.next(), stopped_error);  // the stream stays stopped
    });
  });
}

TEST_F(CqlRowStream, AStopTokenAlreadyRequestedStopsTheFirstNext) {
  with_session([&](session& s) -> task<void> {
    std::stop_source source;
    source.request_stop();
    stream_options o;
    o.stop_token = source.get_token();
    row_stream rows = co_await s.execute_stream(demo_query, o);
    EXPECT_THROW(co_await rows.next(), stopped_error);
  });
}

TEST_F(CqlRowStream, AStopOfTheAwaitingCoroutineEndsTheLoop) {
  server_.inject(
      fault{.what = fault::action::stall, .statement_contains = "demo.rows", .from_page = 1});
  with_session([&](session& s) -> task<void> {
    std::size_t read = 0;
    bool stopped = false;
    try {
      co_await async_scope::run([&](async_scope& scope) -> task<void> {
        auto& rows = co_await scope.enter(s.execute_stream(demo_query, paged(10)));
        scope.spawn([](async_scope& sc, std::size_t& n) -> task<void> {
          // Runs when the body first suspends; stops it once page 1 has been read.
          EXPECT_TRUE(co_await poll_until([&n] { return n == 10; }));
          sc.request_stop();
        }(scope, read));
        try {
          while (co_await rows.next()) {
            ++read;
          }
        } catch (const stopped_error&) {
          stopped = true;
          throw;
        }
        ADD_FAILURE() << "the loop ended without a stop";
      });  // request_stop() ends the scope without an error
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the scope's own stop let an error out: " << e.what();
    }
    EXPECT_TRUE(stopped);
    EXPECT_EQ(read, 10U);
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);  // the scope closed the stream
  });
}

TEST_F(CqlRowStream, ADeadlineAroundTheLoopEndsItWithTimeoutError) {
  server_.inject(
      fault{.what = fault::action::stall, .statement_contains = "demo.rows", .from_page = 1});
  with_session([&](session& s) -> task<void> {
    std::size_t read = 0;
    EXPECT_THROW(co_await with_timeout(
                     300ms, async_scope::run([&](async_scope& scope) -> task<void> {
                       auto& rows = co_await scope.enter(s.execute_stream(demo_query, paged(10)));
                       while (co_await rows.next()) {
                         ++read;
                       }
                     })),
                 timeout_error);
    EXPECT_EQ(read, 10U);
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);
  });
}

// ---- Close -----------------------------------------------------------------------------------

task<void> close_stream(row_stream& rows) {
  co_await rows.close();
}

TEST_F(CqlRowStream, CloseFromAnotherCoroutineEndsAWaitingNext) {
  server_.inject(
      fault{.what = fault::action::stall, .statement_contains = "demo.rows", .from_page = 1});
  with_session([&](session& s) -> task<void> {
    row_stream rows = co_await s.execute_stream(demo_query, paged(10));
    EXPECT_EQ((co_await read_ids(rows, 10)).size(), 10U);
    co_await async_scope::run([&](async_scope& scope) -> task<void> {
      scope.spawn(close_stream(rows));  // runs once next() below waits for the stalled page
      EXPECT_FALSE(co_await rows.next());
      EXPECT_TRUE(rows.is_closed());
    });
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);  // freed, the stalled request notwithstanding
    EXPECT_EQ(s.connection()->pending(), 1U);
    EXPECT_FALSE(co_await rows.next());  // closed stays closed
    EXPECT_FALSE(co_await rows.next_page());
  });
}

TEST_F(CqlRowStream, APageArrivingAfterCloseIsDropped) {
  server_.inject(fault{.what = fault::action::delay,
                       .statement_contains = "demo.rows",
                       .from_page = 1,
                       .times = 1,
                       .delay = 200ms});
  with_session([&](session& s) -> task<void> {
    row_stream rows = co_await s.execute_stream(demo_query, paged(10));
    EXPECT_EQ((co_await read_ids(rows, 1)).size(), 1U);  // page 1 is requested now, delayed
    EXPECT_EQ(s.connection()->pending(), 1U);
    co_await rows.close();
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);
    EXPECT_TRUE(co_await poll_until([&] { return s.connection()->pending() == 0; }));
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);
    EXPECT_EQ(rows.pages_fetched(), 0U);  // closed: nothing counted, nothing kept
    EXPECT_FALSE(co_await rows.next());
    co_await round_trip(s);  // the connection is fine
  });
}

TEST_F(CqlRowStream, ClosingOneStreamLeavesAnotherOnTheSameConnectionAlone) {
  server_.inject(fault{.what = fault::action::delay,
                       .statement_contains = "payload",
                       .from_page = 1,
                       .delay = 100ms});
  with_session([&](session& s) -> task<void> {
    row_stream closed =
        co_await s.execute_stream("SELECT id, name, payload FROM demo.rows", paged(10));
    row_stream open = co_await s.execute_stream(demo_query, paged(100));
    EXPECT_EQ((co_await read_ids(closed, 5)).size(), 5U);
    EXPECT_EQ((co_await read_ids(open, 5)).size(), 5U);
    co_await closed.close();  // its page 1 is still in flight
    std::vector<std::int64_t> ids = co_await read_ids(open);
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(demo_rows) - 5);
    EXPECT_EQ(ids.front(), 5);
    EXPECT_EQ(open.pages_fetched(), 25U);
  });
}

TEST_F(CqlRowStream, AMovedFromStreamIsClosedAndAMoveAssignmentClosesTheTarget) {
  with_session([&](session& s) -> task<void> {
    row_stream first = co_await s.execute_stream(demo_query, paged(10));
    EXPECT_EQ(co_await read_ids(first, 3), ids_from(0, 3));
    row_stream moved = std::move(first);
    EXPECT_TRUE(first.is_closed());  // NOLINT(bugprone-use-after-move): the contract under test
    EXPECT_FALSE(co_await first.next());
    EXPECT_EQ(co_await read_ids(moved, 2), ids_from(3, 2));  // same position

    row_stream other = co_await s.execute_stream(demo_query, paged(10));
    EXPECT_EQ(diagnostics::live_row_streams(), 2U);
    other = std::move(moved);  // other's own stream is closed
    EXPECT_EQ(diagnostics::live_row_streams(), 1U);
    EXPECT_EQ(co_await read_ids(other, 1), ids_from(5, 1));
  });
}

TEST_F(CqlRowStream, DestroyingAStreamWithAPageInFlightFreesIt) {
  server_.inject(
      fault{.what = fault::action::stall, .statement_contains = "demo.rows", .from_page = 1});
  with_session([&](session& s) -> task<void> {
    {
      row_stream rows = co_await s.execute_stream(demo_query, paged(10));
      EXPECT_EQ((co_await read_ids(rows, 1)).size(), 1U);
      EXPECT_EQ(diagnostics::live_row_streams(), 1U);
    }  // no close(): the destructor closes
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);
    EXPECT_EQ(s.connection()->pending(), 1U);
  });
}

// ---- Races, for TSan: many iterations, no sleeps ---------------------------------------------

TEST_F(CqlRowStream, CloseRacingWithArrivingPagesLeavesNothingBehind) {
  // Pages keep arriving on the I/O thread (read-ahead 4) while the consumer closes: close()
  // must have unregistered the callback, and freed the state, when it returns.
  with_session([&](session& s) -> task<void> {
    for (int i = 0; i < 200; ++i) {
      const std::size_t take = 1 + static_cast<std::size_t>(i % 25);
      row_stream rows = co_await s.execute_stream(demo_query, paged(10, 4));
      EXPECT_EQ((co_await read_ids(rows, take)).size(), take);
      co_await rows.close();
      EXPECT_EQ(diagnostics::live_row_streams(), 0U) << "iteration " << i;
    }
    EXPECT_TRUE(co_await poll_until([&] { return s.connection()->pending() == 0; }));
  });
}

TEST_F(CqlRowStream, AStopFromAnotherThreadRacingWithPagesEndsTheStreamCleanly) {
  with_session([&](session& s) -> task<void> {
    for (int i = 0; i < 100; ++i) {
      std::stop_source source;
      stream_options o = paged(10, 2);
      o.stop_token = source.get_token();
      row_stream rows = co_await s.execute_stream(demo_query, o);
      std::thread stopper([&source] { source.request_stop(); });
      const outcome out = co_await read_until_error(rows);
      stopper.join();
      // Stopped at some row; rows already in hand may come out first, never more than exist.
      EXPECT_LE(out.rows, static_cast<std::size_t>(demo_rows));
      if (out.rows < static_cast<std::size_t>(demo_rows)) {
        EXPECT_THROW(rethrow_if(out.error), stopped_error) << "iteration " << i;
      }
    }
    EXPECT_TRUE(co_await poll_until([&] { return s.connection()->pending() == 0; }));
  });
}

// ---- next_page -------------------------------------------------------------------------------

/// The ids of the rows of `page` from page.first on.
std::vector<std::int64_t> ids_of(const page_view& page) {
  std::vector<std::int64_t> ids;
  for (std::size_t i = page.first; i < page.rows->row_count(); ++i) {
    ids.push_back(row{*page.rows, i}.get<std::int64_t>("id"));
  }
  return ids;
}

TEST_F(CqlRowStream, NextPageGivesTheRestOfAPagePartlyReadByNext) {
  with_session([&](session& s) -> task<void> {
    row_stream rows = co_await s.execute_stream(demo_query, paged(10));
    EXPECT_EQ(co_await read_ids(rows, 3), ids_from(0, 3));
    const std::optional<page_view> rest = co_await rows.next_page();
    EXPECT_TRUE(rest.has_value());
    if (rest) {
      EXPECT_EQ(rest->number, 1U);
      EXPECT_EQ(rest->first, 3U);
      EXPECT_EQ(rest->rows->row_count(), 10U);
      EXPECT_EQ(ids_of(*rest), ids_from(3, 7));
    }
    const std::optional<page_view> second = co_await rows.next_page();
    EXPECT_TRUE(second.has_value());
    if (second) {
      EXPECT_EQ(second->number, 2U);
      EXPECT_EQ(second->first, 0U);
      EXPECT_EQ(ids_of(*second), ids_from(10, 10));
    }
    EXPECT_EQ(co_await read_ids(rows, 1), ids_from(20, 1));  // page 3 by next()
    std::vector<std::int64_t> all{0, 1, 2};
    for (std::int64_t id = 3; id <= 20; ++id) {
      all.push_back(id);
    }
    while (const auto page = co_await rows.next_page()) {
      const std::vector<std::int64_t> ids = ids_of(*page);
      all.insert(all.end(), ids.begin(), ids.end());
    }
    expect_each_once(all, demo_rows);
    EXPECT_FALSE(co_await rows.next_page());  // the end stays the end
  });
}

}  // namespace
}  // namespace scopekit::cql::test
