// Tests for scopekit/cql/client/session.hpp against the embedded server: connect (and the keyspace
// option), execute with values of every C++ type bind() takes (read back), prepare and bind with
// widening and range-checked narrowing, every server ERROR code as its exception class, stop and
// close, and that execute_stream leaves the caller's statement alone. Every wait is bounded
// (client_support.hpp).
#include "scopekit/cql/client/session.hpp"

#include "support/cql/client_support.hpp"

#include "scopekit/async_scope.hpp"
#include "scopekit/deadline.hpp"
#include "scopekit/stopped_error.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <variant>
#include <vector>

namespace scopekit::cql::test {
namespace {

static_assert(std::is_nothrow_move_constructible_v<session>);
static_assert(!std::is_copy_constructible_v<session>);

using bytes = std::vector<std::byte>;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

uuid random_uuid() {
  uuid u;
  for (std::size_t i = 0; i < u.bytes.size(); ++i) {
    u.bytes[i] = std::byte{static_cast<unsigned char>(0xA0 + i)};
  }
  u.bytes[6] = std::byte{0x4A};  // version 4
  u.bytes[8] = std::byte{0x8B};  // RFC 4122 variant
  return u;
}

uuid time_uuid() {
  uuid u = random_uuid();
  u.bytes[6] = std::byte{0x1A};  // version 1
  return u;
}

inet_address ipv4(unsigned char a, unsigned char b, unsigned char c, unsigned char d) {
  inet_address out;
  out.bytes[0] = std::byte{a};
  out.bytes[1] = std::byte{b};
  out.bytes[2] = std::byte{c};
  out.bytes[3] = std::byte{d};
  out.size = 4;
  return out;
}

inet_address ipv6_loopback() {
  inet_address out;
  out.bytes[15] = std::byte{1};
  out.size = 16;
  return out;
}

class CqlSession : public CqlClientTest {};

// ---- Connecting and streaming (the first slice's tests) -------------------------------------

TEST_F(CqlSession, ConnectsAndReadsSystemLocal) {
  const std::string cluster = run_bounded([&]() -> task<std::string> {
    session s = co_await session::connect(options());
    result r = co_await s.execute("SELECT cluster_name FROM system.local");
    co_await s.close();
    co_return r.row(0).get<std::string>("cluster_name");
  }());
  EXPECT_EQ(cluster, "scopekit");
}

TEST_F(CqlSession, StreamsEveryRowOfASyntheticTable) {
  const std::int64_t sum = run_bounded([&]() -> task<std::int64_t> {
    session s = co_await session::connect(options());
    stream_options o;
    o.page_size = 777;
    o.prefetch_pages = 2;
    row_stream rows = co_await s.execute_stream("SELECT id, name FROM demo.rows", o);
    std::int64_t total = 0;
    std::int64_t count = 0;
    while (auto r = co_await rows.next()) {
      const auto id = r->get<std::int64_t>("id");
      EXPECT_EQ(r->get<std::string_view>(1), "row-" + std::to_string(id));
      total += id;
      ++count;
    }
    EXPECT_EQ(count, demo_rows);
    EXPECT_EQ(rows.pages_fetched(), 4U);  // 3 x 777 + 169
    co_await rows.close();
    co_await s.close();
    co_return total;
  }());
  EXPECT_EQ(sum, demo_rows * (demo_rows - 1) / 2);
  EXPECT_EQ(diagnostics::live_row_streams(), 0U);
}

TEST_F(CqlSession, FirstPageErrorSurfacesFromNext) {
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    row_stream rows = co_await s.execute_stream("SELECT * FROM nowhere.t");
    EXPECT_THROW(co_await rows.next(), invalid_request);
    co_await s.close();
  }());
}

TEST_F(CqlSession, ScopeClosesTheStreamOnBreak) {
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    co_await async_scope::run([&](async_scope& scope) -> task<> {
      auto& rows = co_await scope.enter(s.execute_stream("SELECT * FROM demo.rows"));
      int n = 0;
      while (auto r = co_await rows.next()) {
        if (++n == 10) {
          break;
        }
      }
      EXPECT_EQ(diagnostics::live_row_streams(), 1U);
    });
    EXPECT_EQ(diagnostics::live_row_streams(), 0U);
    co_await s.close();
  }());
}

// ---- The keyspace option ---------------------------------------------------------------------

TEST_F(CqlSession, TheKeyspaceOptionIsUsedForUnqualifiedNames) {
  run_bounded([&]() -> task<> {
    session admin = co_await session::connect(options());
    co_await create_stored_table(admin, 3);
    session_options o = options();
    o.keyspace = "ks";
    session s = co_await session::connect(o);
    const result r = co_await s.execute("SELECT v FROM t WHERE id = 2");
    EXPECT_EQ(r.size(), 1U);
    EXPECT_EQ(r.row(0).get<std::string>("v"), "v-2");
    // A name long enough that the USE statement's text is on the heap.
    co_await admin.execute(
        "CREATE KEYSPACE a_rather_long_keyspace_name WITH replication = {'class': "
        "'SimpleStrategy', 'replication_factor': 1}");
    co_await admin.execute("CREATE TABLE a_rather_long_keyspace_name.t (id int PRIMARY KEY)");
    o.keyspace = "a_rather_long_keyspace_name";
    session long_name = co_await session::connect(o);
    EXPECT_TRUE((co_await long_name.execute("SELECT id FROM t")).empty());
    // Without the option, the same statement has no keyspace.
    session plain = co_await session::connect(options());
    EXPECT_THROW(co_await plain.execute("SELECT v FROM t WHERE id = 2"), invalid_request);
  }());
}

TEST_F(CqlSession, AnUnknownKeyspaceFailsConnectAndClosesTheConnection) {
  run_bounded([&]() -> task<> {
    session_options o = options();
    o.keyspace = "nowhere";
    bool refused = false;
    try {
      co_await session::connect(o);
    } catch (const invalid_request& e) {
      refused = true;
      EXPECT_TRUE(contains(e.message(), "nowhere")) << e.what();
    }
    EXPECT_TRUE(refused);
    EXPECT_TRUE(co_await poll_until([&] { return server_.connection_count() == 0; }));
  }());
}

// ---- Values ----------------------------------------------------------------------------------

/// Creates ks.every, a column of each scalar type bind() maps to.
task<void> create_every_type_table(session& s) {
  co_await s.execute(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 1}");
  co_await s.execute(
      "CREATE TABLE ks.every (id int PRIMARY KEY, bo boolean, i int, bi bigint, f float, "
      "d double, ts timestamp, u uuid, tu timeuuid, ip inet, t text, a ascii, bl blob, n text)");
}

TEST_F(CqlSession, ExecuteBindsEveryCppTypeAndTheServerStoresIt) {
  const timestamp when{std::chrono::milliseconds{1'577'934'245'123}};
  const bytes blob{std::byte{0x00}, std::byte{0xCA}, std::byte{0xFE}};
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    co_await create_every_type_table(s);
    const std::string insert =
        "INSERT INTO ks.every (id, bo, i, bi, f, d, ts, u, tu, ip, t, a, bl, n) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    const std::string text = "h\xC3\xA9llo";
    co_await s.execute(insert, 1, true, std::int32_t{-5}, std::int64_t{1} << 40, 1.25F, -2.5, when,
                       random_uuid(), time_uuid(), ipv4(10, 1, 2, 3), text,
                       std::string_view{"plain"}, blob, std::optional<std::string>{});
    co_await s.execute(insert, 2, std::nullopt, std::optional<std::int32_t>{7},
                       std::numeric_limits<std::int64_t>::min(), -0.0F,
                       std::numeric_limits<double>::max(), timestamp{}, random_uuid(), time_uuid(),
                       ipv6_loopback(), std::string{}, "", bytes{},
                       std::optional<std::string>{"set"});

    const result one = co_await s.execute("SELECT * FROM ks.every WHERE id = ?", 1);
    EXPECT_EQ(one.size(), 1U);
    if (const auto r = one.first()) {
      EXPECT_TRUE(r->get<bool>("bo"));
      EXPECT_EQ(r->get<std::int32_t>("i"), -5);
      EXPECT_EQ(r->get<std::int64_t>("bi"), std::int64_t{1} << 40);
      EXPECT_EQ(r->get<float>("f"), 1.25F);
      EXPECT_EQ(r->get<double>("d"), -2.5);
      EXPECT_EQ(r->get<timestamp>("ts"), when);
      EXPECT_EQ(r->get<uuid>("u"), random_uuid());
      EXPECT_EQ(r->get<uuid>("tu"), time_uuid());
      EXPECT_EQ(r->get<inet_address>("ip"), ipv4(10, 1, 2, 3));
      EXPECT_EQ(r->get<std::string>("t"), text);
      EXPECT_EQ(r->get<std::string>("a"), "plain");
      EXPECT_EQ(r->get<bytes>("bl"), blob);
      EXPECT_TRUE(r->is_null("n"));  // an empty optional binds null
    }

    const result two = co_await s.execute("SELECT * FROM ks.every WHERE id = ?", 2);
    EXPECT_EQ(two.size(), 1U);
    if (const auto r = two.first()) {
      EXPECT_TRUE(r->is_null("bo"));  // std::nullopt binds null
      EXPECT_EQ(r->get<std::int32_t>("i"), 7);
      EXPECT_EQ(r->get<std::int64_t>("bi"), std::numeric_limits<std::int64_t>::min());
      EXPECT_TRUE(std::signbit(r->get<float>("f")));
      EXPECT_EQ(r->get<double>("d"), std::numeric_limits<double>::max());
      EXPECT_EQ(r->get<timestamp>("ts"), timestamp{});
      EXPECT_EQ(r->get<inet_address>("ip"), ipv6_loopback());
      EXPECT_FALSE(r->is_null("t"));  // empty, not null
      EXPECT_EQ(r->get<std::string>("t"), "");
      EXPECT_EQ(r->get<std::string>("a"), "");
      EXPECT_FALSE(r->is_null("bl"));
      EXPECT_TRUE(r->get<bytes>("bl").empty());
      EXPECT_EQ(r->get<std::string>("n"), "set");
    }
  }());
}

TEST_F(CqlSession, AValueThatDoesNotConvertNamesItsPosition) {
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    bool refused = false;
    // Built before the co_await: GCC 12 cannot put an initializer_list's array in a coroutine
    // frame ("array used as initializer").
    const value::list list{1, 2};
    try {
      // A collection has no CQL type of its own: it needs query_value::of, or a prepared marker.
      co_await s.execute("SELECT * FROM demo.rows WHERE id = ? AND name = ?", std::int64_t{1},
                         list);
    } catch (const std::invalid_argument& e) {
      refused = true;
      EXPECT_TRUE(contains(e.what(), "value 1")) << e.what();
    }
    EXPECT_TRUE(refused);
  }());
}

TEST_F(CqlSession, PreparedBindWidensAndNarrowsToTheMarkerTypes) {
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    co_await s.execute(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
        "'replication_factor': 1}");
    co_await s.execute(
        "CREATE TABLE ks.nums (id int PRIMARY KEY, bi bigint, i int, d double, f float, "
        "ts timestamp)");
    const prepared_statement insert =
        co_await s.prepare("INSERT INTO ks.nums (id, bi, i, d, f, ts) VALUES (?, ?, ?, ?, ?, ?)");
    EXPECT_EQ(insert.variables().columns.size(), 6U);
    // int -> bigint, bigint -> int (in range), int -> double, double -> float, bigint -> timestamp
    co_await s.execute(insert.bind(1, 42, std::int64_t{-7}, 3, 0.5, std::int64_t{1'000}));
    // An unsigned value above INT32_MAX is a bigint, not a negative int.
    co_await s.execute(insert.bind(2, std::uint32_t{3'000'000'000U}, 0, 0, 0.0, 0));

    const prepared_statement select = co_await s.prepare("SELECT * FROM ks.nums WHERE id = ?");
    const result one = co_await s.execute(select.bind(1));
    EXPECT_EQ(one.size(), 1U);
    if (const auto r = one.first()) {
      EXPECT_EQ(r->get<std::int64_t>("bi"), 42);
      EXPECT_EQ(r->get<std::int32_t>("i"), -7);
      EXPECT_EQ(r->get<double>("d"), 3.0);
      EXPECT_EQ(r->get<float>("f"), 0.5F);
      EXPECT_EQ(r->get<timestamp>("ts"), timestamp{std::chrono::milliseconds{1'000}});
    }
    const result two = co_await s.execute(select.bind(std::int64_t{2}));  // bigint -> int key
    EXPECT_EQ(two.size(), 1U);
    if (const auto r = two.first()) {
      EXPECT_EQ(r->get<std::int64_t>("bi"), 3'000'000'000);
    }

    // Out of range for the marker: refused before anything is sent.
    EXPECT_THROW(static_cast<void>(insert.bind(3, 0, std::int64_t{1} << 40, 0, 0.0, 0)),
                 std::invalid_argument);
    EXPECT_THROW(static_cast<void>(insert.bind(3, 0, 0, 0, 1e300, 0)), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(insert.bind(3, 0, 0, 0, 0.0)), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(select.bind()), std::invalid_argument);
    EXPECT_TRUE((co_await s.execute(select.bind(3))).empty());
  }());
}

// ---- Server errors ---------------------------------------------------------------------------

struct error_case {
  error_code code;
  std::type_index thrown;
  std::size_t details;  // the error_details alternative
};

TEST_F(CqlSession, EveryServerErrorCodeIsThrownAsItsExceptionClass) {
  const std::vector<error_case> cases = {
      {error_code::server_error, typeid(server_error), 0},
      {error_code::protocol_error, typeid(server_error), 0},
      {error_code::authentication_error, typeid(server_error), 0},
      {error_code::unavailable, typeid(unavailable_exception), 1},
      {error_code::overloaded, typeid(overloaded_exception), 0},
      {error_code::is_bootstrapping, typeid(overloaded_exception), 0},
      {error_code::truncate_error, typeid(server_error), 0},
      {error_code::write_timeout, typeid(request_timeout_exception), 2},
      {error_code::read_timeout, typeid(request_timeout_exception), 3},
      {error_code::read_failure, typeid(request_timeout_exception), 4},
      {error_code::function_failure, typeid(server_error), 5},
      {error_code::write_failure, typeid(request_timeout_exception), 6},
      {error_code::syntax_error, typeid(syntax_exception), 0},
      {error_code::unauthorized, typeid(invalid_request), 0},
      {error_code::invalid, typeid(invalid_request), 0},
      {error_code::config_error, typeid(invalid_request), 0},
      {error_code::already_exists, typeid(already_exists), 7},
      {error_code::unprepared, typeid(unprepared_exception), 8},
  };
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    for (const error_case& c : cases) {
      SCOPED_TRACE(std::string(to_string(c.code)));
      server_.inject(fault{.what = fault::action::error,
                           .statement_contains = "WHERE id = 3",
                           .times = 1,
                           .error = c.code,
                           .message = "injected " + std::string(to_string(c.code))});
      bool thrown = false;
      try {
        co_await s.execute("SELECT name FROM demo.rows WHERE id = 3");
      } catch (const server_error& e) {
        thrown = true;
        EXPECT_EQ(std::type_index(typeid(e)), c.thrown) << typeid(e).name();
        EXPECT_EQ(e.code(), c.code);
        EXPECT_EQ(e.message(), "injected " + std::string(to_string(c.code)));
        EXPECT_EQ(e.details().index(), c.details);
        EXPECT_TRUE(contains(e.what(), e.message())) << e.what();
      }
      EXPECT_TRUE(thrown);
      // The error was an answer: the session goes on.
      const result r = co_await s.execute("SELECT name FROM demo.rows WHERE id = 3");
      EXPECT_EQ(r.row(0).get<std::string>("name"), "row-3");
    }
  }());
}

TEST_F(CqlSession, ExceptionClassesNestAsTheirCodesDo) {
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    co_await s.execute(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
        "'replication_factor': 1}");
    bool caught = false;
    try {
      co_await s.execute(
          "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
          "'replication_factor': 1}");
    } catch (const invalid_request& e) {  // already_exists is an invalid_request
      caught = true;
      EXPECT_EQ(e.code(), error_code::already_exists);
      const auto* details = std::get_if<already_exists_error>(&e.details());
      EXPECT_NE(details, nullptr);
      if (details != nullptr) {
        EXPECT_EQ(details->keyspace, "ks");  // a real server error, with its details
      }
    }
    EXPECT_TRUE(caught);
    EXPECT_THROW(co_await s.execute("SELEC name FROM demo.rows"), syntax_exception);
  }());
}

TEST_F(CqlSession, PrepareThrowsTheServerErrorAndAnUnknownIdIsUnprepared) {
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    EXPECT_THROW(co_await s.prepare("SELECT * FROM nowhere.t"), invalid_request);

    prepared_result forged;
    forged.id = {std::byte{0xDE}, std::byte{0xAD}};
    forged.result.no_metadata = true;
    const prepared_statement unknown{"SELECT * FROM demo.rows", forged};
    bool caught = false;
    try {
      co_await s.execute(unknown.bind());
    } catch (const unprepared_exception& e) {
      caught = true;
      const auto* details = std::get_if<unprepared_error>(&e.details());
      EXPECT_NE(details, nullptr);
      if (details != nullptr) {
        EXPECT_EQ(details->id, forged.id);
      }
    }
    EXPECT_TRUE(caught);
  }());
}

// ---- Stop and close --------------------------------------------------------------------------

TEST_F(CqlSession, AStopEndsAnExecuteWaitingForItsResponse) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    EXPECT_THROW(co_await with_timeout(100ms, s.execute("SELECT name FROM demo.rows WHERE id = 9")),
                 timeout_error);
    const result r = co_await s.execute("SELECT name FROM demo.rows WHERE id = 10");
    EXPECT_EQ(r.row(0).get<std::string>("name"), "row-10");
  }());
}

TEST_F(CqlSession, AStalledExecuteTimesOutWithTheSessionsRequestTimeout) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  run_bounded([&]() -> task<> {
    session_options o = options();
    o.request_timeout = 200ms;
    session s = co_await session::connect(o);
    std::string message;
    try {
      co_await s.execute("SELECT name FROM demo.rows WHERE id = 9");
    } catch (const operation_timed_out& e) {
      message = e.what();
    }
    EXPECT_EQ(message, "no answer from " + s.connection()->peer() +
                           " within 200 ms to QUERY \"SELECT name FROM demo.rows WHERE id = 9\"");
    const result r = co_await s.execute("SELECT name FROM demo.rows WHERE id = 10");
    EXPECT_EQ(r.row(0).get<std::string>("name"), "row-10");
  }());
}

TEST_F(CqlSession, CloseFailsPendingAndLaterRequestsWithConnectionError) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    bool failed = false;
    co_await async_scope::run([&](async_scope& scope) -> task<> {
      scope.spawn([](session& db, bool& out) -> task<> {
        try {
          co_await db.execute("SELECT name FROM demo.rows WHERE id = 9");
        } catch (const connection_error&) {
          out = true;
        }
      }(s, failed));
      EXPECT_TRUE(co_await poll_until([&] { return s.connection()->pending() == 1; }));
      co_await s.close();
    });
    EXPECT_TRUE(failed);
    co_await s.close();  // idempotent
    EXPECT_THROW(co_await s.execute("SELECT name FROM demo.rows WHERE id = 1"), connection_error);
    EXPECT_THROW(co_await s.prepare("SELECT name FROM demo.rows"), connection_error);
    // A stream's sending error comes out of its first next().
    row_stream rows = co_await s.execute_stream("SELECT name FROM demo.rows");
    EXPECT_THROW(co_await rows.next(), connection_error);
    EXPECT_THROW(co_await rows.next(), connection_error);  // and again
    co_await rows.close();
    EXPECT_TRUE(co_await poll_until([&] { return server_.connection_count() == 0; }));
  }());
}

TEST_F(CqlSession, InvalidStreamOptionsAreInvalidArgument) {
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    stream_options o;
    o.page_size = 0;
    EXPECT_THROW(co_await s.execute_stream("SELECT * FROM demo.rows", o), std::invalid_argument);
    o.page_size = -1;
    EXPECT_THROW(co_await s.execute_stream("SELECT * FROM demo.rows", o), std::invalid_argument);
  }());
}

// ---- The caller's statement ------------------------------------------------------------------

TEST_F(CqlSession, ExecuteStreamLeavesTheCallersStatementAlone) {
  run_bounded([&]() -> task<> {
    session s = co_await session::connect(options());
    const statement original{
        "SELECT id FROM demo.rows WHERE id = ?", {cql::bind(std::int64_t{5})}, consistency::quorum};
    statement mine = original;
    stream_options o;
    o.page_size = 1;
    row_stream rows = co_await s.execute_stream(mine, o);
    std::size_t count = 0;
    while (auto r = co_await rows.next()) {
      EXPECT_EQ(r->get<std::int64_t>(0), 5);
      ++count;
    }
    EXPECT_EQ(count, 1U);
    co_await rows.close();
    EXPECT_EQ(mine.query, original.query);
    EXPECT_EQ(mine.values, original.values);
    EXPECT_EQ(mine.consistency, consistency::quorum);

    const prepared_statement p = co_await s.prepare("SELECT id FROM demo.rows");
    bound_statement bound = p.bind();
    bound.consistency = consistency::all;
    const bound_statement bound_before = bound;
    row_stream all = co_await s.execute_stream(bound, o);
    std::int64_t seen = 0;
    while (auto r = co_await all.next()) {
      ++seen;
    }
    EXPECT_EQ(seen, demo_rows);
    EXPECT_EQ(bound.values, bound_before.values);
    EXPECT_EQ(bound.consistency, consistency::all);
    EXPECT_EQ(bound.prepared.id(), bound_before.prepared.id());
    EXPECT_EQ(bound.prepared.query(), "SELECT id FROM demo.rows");
  }());
}

}  // namespace
}  // namespace scopekit::cql::test
