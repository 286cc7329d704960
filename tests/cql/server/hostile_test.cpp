// Tests for the server's limits (issue 16): what a hostile or careless client gets instead of a
// crash or unbounded growth. Deeply nested literals and types, oversized query strings and the
// memory a query costs, unpaged results over the cap, the prepared cache's eviction, forged
// paging states, clients that never read, and connections over the limit. An in-process server
// on an ephemeral port, driven by the blocking client of test_client.hpp.
#include "scopekit/cql/server/server.hpp"

#include "support/allocation_counter.hpp"
#include "support/cql/test_client.hpp"
#include "support/wait_until.hpp"

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/rows.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

namespace scopekit::cql::test {
namespace {

/// `depth` opening brackets, `inner`, and as many closing ones.
std::string nested(std::size_t depth, char open, char close, const std::string& inner) {
  return std::string(depth, open) + inner + std::string(depth, close);
}

/// A CQL type nesting `depth` list<...> around int.
std::string nested_list_type(std::size_t depth) {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i) {
    out += "list<";
  }
  out += "int";
  return out + std::string(depth, '>');
}

/// A server with the synthetic table demo.rows of `rows` rows, started, and a started client.
class CqlServerHostile : public ::testing::Test {
protected:
  void start(server_options options = {}, std::int64_t rows = 1000) {
    srv_.emplace(std::move(options));
    srv_->add_synthetic_table("demo", "rows", rows);
    srv_->start();
    client_.emplace(srv_->port());
    client_->start();
  }
  client& c() { return *client_; }
  server& srv() { return *srv_; }
  std::uint16_t port() const { return srv_->port(); }

  /// A fresh connection still gets system.local: the server is up.
  void expect_serving() {
    client other{port()};
    other.start();
    EXPECT_EQ(rows_of(other.query("SELECT key FROM system.local")).row_count(), 1U);
  }

private:
  std::optional<server> srv_;
  std::optional<client> client_;
};

// ---- Nesting --------------------------------------------------------------------------------

TEST_F(CqlServerHostile, ADeeplyNestedListLiteralIsASyntaxError) {
  start();
  const error_response e = error_of(
      c().query("SELECT * FROM system.local WHERE key = " + nested(60'000, '[', ']', "1")));
  EXPECT_EQ(e.code, error_code::syntax_error);
  EXPECT_TRUE(contains(e.message, "nested")) << e.message;
  expect_serving();
}

TEST_F(CqlServerHostile, ADeeplyNestedSetLiteralIsASyntaxError) {
  start();
  const error_response e = error_of(
      c().query("SELECT * FROM system.local WHERE key = " + nested(60'000, '{', '}', "1")));
  EXPECT_EQ(e.code, error_code::syntax_error);
  EXPECT_TRUE(contains(e.message, "nested")) << e.message;
  expect_serving();
}

TEST_F(CqlServerHostile, ADeeplyNestedTypeIsASyntaxError) {
  start();
  ASSERT_FALSE(std::holds_alternative<error_response>(
      c().query("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                "'replication_factor': 1}")
          .message));
  const error_response e = error_of(
      c().query("CREATE TABLE ks.t (k int PRIMARY KEY, v " + nested_list_type(10'000) + ")"));
  EXPECT_EQ(e.code, error_code::syntax_error);
  EXPECT_TRUE(contains(e.message, "nested")) << e.message;
  expect_serving();
}

TEST_F(CqlServerHostile, NestingUpToTheLimitIsServed) {
  start();
  // 31 levels of frozen<list<...>> around int: a literal as deep, written and read back.
  std::string type = "int";
  for (int i = 0; i < 15; ++i) {
    type.insert(0, "frozen<list<").append(">>");
  }
  type = "list<" + type + ">";  // 31 '<' in all
  ASSERT_FALSE(std::holds_alternative<error_response>(
      c().query("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                "'replication_factor': 1}")
          .message));
  const response created = c().query("CREATE TABLE ks.t (k int PRIMARY KEY, v " + type + ")");
  ASSERT_FALSE(std::holds_alternative<error_response>(created.message)) << describe(created);
  const std::string literal = nested(16, '[', ']', "7");
  const response inserted = c().query("INSERT INTO ks.t (k, v) VALUES (1, " + literal + ")");
  ASSERT_FALSE(std::holds_alternative<error_response>(inserted.message)) << describe(inserted);
  const rows_result rows = rows_of(c().query("SELECT v FROM ks.t WHERE k = 1"));
  ASSERT_EQ(rows.row_count(), 1U);
  value v = decode_value(rows.metadata().columns[0].type, rows.cell(0, 0));
  for (int level = 0; level < 16; ++level) {
    const auto* items = v.get_if<value::list>();
    ASSERT_NE(items, nullptr) << "level " << level;
    ASSERT_EQ(items->size(), 1U);
    const value inner = (*items)[0];
    v = inner;
  }
  EXPECT_EQ(v, value{std::int32_t{7}});
}

// ---- Query size and cost --------------------------------------------------------------------

TEST_F(CqlServerHostile, AQueryOverTheSizeLimitIsRefusedUnparsed) {
  server_options options;
  options.max_query_bytes = 1000;
  start(options);
  const std::string padded = "SELECT key FROM system.local" + std::string(1000, ' ');
  const error_response e = error_of(c().query(padded));
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "1000")) << e.message;  // the limit
  EXPECT_TRUE(contains(e.message, std::to_string(padded.size()))) << e.message;
  EXPECT_EQ(error_of(c().prepare(padded)).code, error_code::invalid);
  // At the limit, the same statement is served.
  EXPECT_EQ(rows_of(c().query(padded.substr(0, 1000))).row_count(), 1U);
}

TEST_F(CqlServerHostile, ADenseQueryCostsAFewTimesItsSize) {
  start();
  // 1 MiB of tokens the parser refuses early; the server must not hold all of them at once.
  const std::size_t size = std::size_t{1} << 20;
  const bytes frame = query(7, "SELECT " + std::string(size - 7, '('));
  const long long before = scopekit::test::allocated_bytes();
  c().send(frame);
  const error_response e = error_of(c().read_response());
  const long long cost = scopekit::test::allocated_bytes() - before;
  EXPECT_EQ(e.code, error_code::syntax_error);
  // The frame is read and copied a few times (the body, the statement); not a token each.
  EXPECT_LT(cost, static_cast<long long>(8 * size)) << cost << " bytes allocated";
}

// ---- Unpaged results --------------------------------------------------------------------------

TEST_F(CqlServerHostile, AnUnpagedSelectOverTheCapIsToldToPage) {
  server_options options;
  options.max_result_rows = 100;
  start(options, 1000);
  const error_response e = error_of(c().query("SELECT * FROM demo.rows"));
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "100")) << e.message;
  EXPECT_TRUE(contains(e.message, "page")) << e.message;
  query_parameters negative;
  negative.page_size = -1;  // unpaged too
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows", negative)).code, error_code::invalid);
  // Up to the cap, unpaged is fine.
  EXPECT_EQ(rows_of(c().query("SELECT id FROM demo.rows LIMIT 100")).row_count(), 100U);
  // Paged, every row comes, in pages of at most the cap even when the page size is larger.
  const std::vector<rows_result> pages = fetch_pages(c(), "SELECT id FROM demo.rows", 1'000'000);
  std::int64_t expected = 0;
  for (const rows_result& page : pages) {
    EXPECT_LE(page.row_count(), 100U);
    for (std::size_t r = 0; r < page.row_count(); ++r) {
      ASSERT_EQ(decode_bigint(page.cell(r, 0)), expected);
      ++expected;
    }
  }
  EXPECT_EQ(expected, 1000);
}

// ---- Prepared statements ----------------------------------------------------------------------

TEST_F(CqlServerHostile, ThePreparedCacheEvictsTheLeastRecentlyUsed) {
  server_options options;
  options.max_prepared_statements = 3;
  start(options);
  auto prepare = [&](int n) {
    return message_of<prepared_result>(
               c().prepare("SELECT id FROM demo.rows WHERE id = " + std::to_string(n)))
        .id;
  };
  const auto id0 = prepare(0);
  const auto id1 = prepare(1);
  const auto id2 = prepare(2);
  EXPECT_EQ(rows_of(c().execute(id0)).row_count(), 1U);  // 0 is now the most recent
  const auto id3 = prepare(3);                           // evicts 1, the least recent
  const response evicted = c().execute(id1);
  const error_response e = error_of(evicted);
  EXPECT_EQ(e.code, error_code::unprepared);
  const auto* details = std::get_if<unprepared_error>(&e.details);
  ASSERT_NE(details, nullptr);
  EXPECT_EQ(details->id, id1);  // drivers re-prepare by this id
  for (const auto& id : {id0, id2, id3}) {
    EXPECT_EQ(rows_of(c().execute(id)).row_count(), 1U);
  }
  EXPECT_EQ(prepare(1), id1);  // prepared again, same id
  EXPECT_EQ(rows_of(c().execute(id1)).row_count(), 1U);
}

// ---- Forged paging states ---------------------------------------------------------------------

/// A paging state in the server's own format: 'S' 'K' 1, [int] page, [long] rows, [byte] empty
/// pages, [byte] has_key, key.
bytes forged_state(std::int32_t page, std::int64_t rows, std::optional<bytes> key) {
  bytes out{std::byte{'S'}, std::byte{'K'}, std::byte{1}};
  byte_writer w{out};
  w.write_int(page);
  w.write_long(rows);
  w.write_byte(0);
  w.write_byte(key ? 1 : 0);
  if (key) {
    w.write_raw(*key);
  }
  return out;
}

bytes bigint_key(std::int64_t id) {
  bytes out;
  byte_writer w{out};
  w.write_long(id);
  return out;
}

/// `state` and one byte more (a state without a key has nothing after has_key).
bytes with_trailing_byte(bytes state) {
  state.push_back(std::byte{0});
  return state;
}

TEST_F(CqlServerHostile, AForgedStateTheServerWritesIsReadAsItWouldBe) {
  // The format is the server's: a state built by hand the way the server builds it works, so
  // the refusals below are about the values, not the format.
  start({}, 10);
  query_parameters p;
  p.page_size = 3;
  p.paging_state = forged_state(1, 3, bigint_key(2));
  const rows_result rows = rows_of(c().query("SELECT id FROM demo.rows", p));
  ASSERT_EQ(rows.row_count(), 3U);
  EXPECT_EQ(decode_bigint(rows.cell(0, 0)), 3);
}

TEST_F(CqlServerHostile, AForgedKeyTheServerNeverWritesIsRefused) {
  // Keys of synthetic and system tables are bigint ids from 0: a negative one or one of another
  // size would make rows that are not in the table.
  start({}, 10);
  for (const bytes& key : {bigint_key(-5), bytes{std::byte{1}}, bytes(9, std::byte{0})}) {
    for (const char* statement : {"SELECT id FROM demo.rows", "SELECT key FROM system.local"}) {
      query_parameters p;
      p.page_size = 3;
      p.paging_state = forged_state(1, 3, key);
      const error_response e = error_of(c().query(statement, p));
      EXPECT_EQ(e.code, error_code::protocol_error) << statement << ": " << e.message;
      EXPECT_TRUE(contains(e.message, "paging state")) << e.message;
    }
  }
}

TEST_F(CqlServerHostile, AForgedPageOrRowCountOutOfRangeIsRefused) {
  start({}, 10);
  const std::int64_t huge_rows = std::numeric_limits<std::int64_t>::max();
  for (const bytes& state :
       {forged_state(std::numeric_limits<std::int32_t>::max(), 3, bigint_key(2)),
        forged_state(1, huge_rows, bigint_key(2)),
        with_trailing_byte(forged_state(1, 3, std::nullopt))}) {
    query_parameters p;
    p.page_size = 3;
    p.paging_state = state;
    const error_response e = error_of(c().query("SELECT id FROM demo.rows", p));
    EXPECT_EQ(e.code, error_code::protocol_error) << e.message;
    EXPECT_TRUE(contains(e.message, "paging state")) << e.message;
  }
  expect_serving();
}

// ---- Connections ------------------------------------------------------------------------------

TEST_F(CqlServerHostile, PipelinedRequestsAreAllAnsweredUnderBackpressure) {
  // Responses far beyond the pending limit, asked for before any is read: the server answers
  // them a few at a time as the client reads, all of them, in order.
  server_options options;
  options.max_pending_response_bytes = std::size_t{16} * 1024;
  start(options, 1000);
  constexpr int requests = 200;
  query_parameters page;
  page.page_size = 100;  // about 13 KB a response
  bytes pipelined;
  for (int i = 1; i <= requests; ++i) {
    const bytes f = query(static_cast<std::int16_t>(i), "SELECT * FROM demo.rows", page);
    pipelined.insert(pipelined.end(), f.begin(), f.end());
  }
  c().send(pipelined);
  for (int i = 1; i <= requests; ++i) {
    const response r = c().read_response();
    ASSERT_EQ(r.stream, i) << describe(r);
    ASSERT_EQ(rows_of(r).row_count(), 100U);
  }
  expect_serving();
}

TEST_F(CqlServerHostile, AConnectionOverTheLimitIsRefusedAsOverloaded) {
  server_options options;
  options.max_connections = 2;
  start(options);  // the first connection
  std::optional<client> second{std::in_place, port()};
  second->start();
  client third{port()};
  const std::optional<frame> refusal = third.read_frame();  // sent unasked
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->header.stream, 0);
  const error_response e = error_of(decode_response(*refusal));
  EXPECT_EQ(e.code, error_code::overloaded);
  EXPECT_TRUE(contains(e.message, "2")) << e.message;
  EXPECT_TRUE(third.closed_by_server());
  // Once one closes, a new connection is served.
  second.reset();
  ASSERT_TRUE(scopekit::test::wait_until([&] { return srv().connection_count() == 1; }));
  expect_serving();
}

}  // namespace
}  // namespace scopekit::cql::test
