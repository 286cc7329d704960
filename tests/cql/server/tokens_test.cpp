// Tests for tokens in the embedded server: stored rows in Murmur3 token order, token(k) as a
// selector and in WHERE (stored, synthetic and system tables, literals and bind markers, PREPARE's
// metadata, Cassandra's error messages), the synthetic tables' placement on the ring, and the
// union property a token-range reader relies on: split the ring anywhere, read every range page
// by page, and every row comes back exactly once, each range in token order.
#include "scopekit/cql/server/server.hpp"

#include "database.hpp"  // internal: synthetic_token, synthetic_first_id
#include "support/cql/test_client.hpp"

#include "scopekit/cql/protocol/big_endian.hpp"
#include "scopekit/cql/protocol/token.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace scopekit::cql::test {
namespace {

using server_detail::synthetic_first_id;
using server_detail::synthetic_token;

constexpr std::int64_t big_rows = 100'000;
constexpr std::int32_t stored_rows = 3'000;

/// Cassandra's token(id) of an int key (4 bytes big-endian).
std::int64_t int_token(std::int32_t id) {
  std::array<std::byte, 4> key{};
  store_be(id, key);
  return murmur3_token(key);
}

std::int64_t text_token(std::string_view text) {
  return murmur3_token(std::as_bytes(std::span(text)));
}

std::string literal(std::int64_t token) {
  return std::to_string(token);
}

// ---- The synthetic placement ------------------------------------------------------------------

TEST(SyntheticPlacement, FourRowsSplitTheRingInQuarters) {
  EXPECT_EQ(synthetic_token(0, 4), minimum_token + 1);
  EXPECT_EQ(synthetic_token(1, 4), -4611686018427387904);
  EXPECT_EQ(synthetic_token(2, 4), 0);
  EXPECT_EQ(synthetic_token(3, 4), 4611686018427387904);
}

TEST(SyntheticPlacement, TokensIncreaseWithTheIdAndATokenFindsItsId) {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  for (const std::int64_t n : {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}, std::int64_t{7},
                               std::int64_t{1000}, big_rows, (std::int64_t{1} << 40) + 3, max / 3,
                               max - 1, max}) {
    SCOPED_TRACE(n);
    EXPECT_EQ(synthetic_first_id(minimum_token, n), 0);
    EXPECT_EQ(synthetic_first_id(minimum_token + 1, n), 0);
    for (const std::int64_t k : {std::int64_t{0}, std::int64_t{1}, std::int64_t{2}, n / 3, n / 2,
                                 n - 2, n - 1}) {
      if (k < 0 || k >= n) {
        continue;
      }
      const std::int64_t t = synthetic_token(k, n);
      EXPECT_GT(t, minimum_token) << k;
      EXPECT_EQ(synthetic_first_id(t, n), k) << "the first id at or after its own token";
      if (k + 1 < n) {
        EXPECT_LT(t, synthetic_token(k + 1, n)) << k;
        EXPECT_EQ(synthetic_first_id(t + 1, n), k + 1) << k;
      } else if (t < maximum_token) {
        EXPECT_EQ(synthetic_first_id(t + 1, n), n) << "past the last row";
      }
    }
  }
}

// ---- A server with tables ---------------------------------------------------------------------

class CqlTokens : public ::testing::Test {
protected:
  void SetUp() override {
    srv_.add_synthetic_table("demo", "big", big_rows);
    srv_.add_synthetic_table("demo", "four", 4);
    srv_.start();
    client_.emplace(srv_.port());
    client_->start();
  }

  client& c() { return *client_; }

  /// ks.t (id int PRIMARY KEY, v text, w int) with ids 0 .. rows - 1, v = "v<id>".
  void create_table(std::int32_t rows) {
    rows_or_void(c().query("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                           "'replication_factor': 1}"));
    rows_or_void(c().query("CREATE TABLE ks.t (id int PRIMARY KEY, v text, w int)"));
    const auto insert = message_of<prepared_result>(
        c().prepare("INSERT INTO ks.t (id, v) VALUES (?, ?)"));
    for (std::int32_t id = 0; id < rows; ++id) {
      query_parameters p;
      p.values = {query_value::of(id), query_value::of("v" + std::to_string(id))};
      rows_or_void(c().execute(insert.id, std::move(p)));
    }
  }

  /// The int column 0 of the rows of `statement`.
  std::vector<std::int32_t> ids(const std::string& statement, query_parameters p = {}) {
    const rows_result rows = rows_of(c().query(statement, std::move(p)));
    std::vector<std::int32_t> out;
    for (std::size_t r = 0; r < rows.row_count(); ++r) {
      out.push_back(decode_int(rows.cell(r, 0)));
    }
    return out;
  }

  /// The message of the ERROR 0x2200 `statement` must get.
  std::string invalid_message(const std::string& statement, query_parameters p = {}) {
    const error_response e = error_of(c().query(statement, std::move(p)));
    EXPECT_EQ(e.code, error_code::invalid) << statement;
    return e.message;
  }

  static void rows_or_void(const response& r) {
    EXPECT_FALSE(std::holds_alternative<error_response>(r.message)) << describe(r);
  }

  server srv_;
  std::optional<client> client_;
};

/// `ids` whose token satisfies `keep`, in token order.
template <class Keep>
std::vector<std::int32_t> by_token(std::int32_t rows, Keep keep) {
  std::vector<std::int32_t> out;
  for (std::int32_t id = 0; id < rows; ++id) {
    if (keep(int_token(id))) {
      out.push_back(id);
    }
  }
  std::sort(out.begin(), out.end(),
            [](std::int32_t a, std::int32_t b) { return int_token(a) < int_token(b); });
  return out;
}

TEST_F(CqlTokens, StoredRowsComeInTokenOrderWithCassandrasTokens) {
  create_table(100);
  const rows_result rows = rows_of(c().query("SELECT token(id), id FROM ks.t"));
  ASSERT_EQ(rows.column_count(), 2U);
  EXPECT_EQ(rows.metadata().columns[0].name, "system.token(id)");  // Cassandra 3.11's name
  EXPECT_EQ(rows.metadata().columns[0].type, data_type{type_id::bigint});
  ASSERT_EQ(rows.row_count(), 100U);
  for (std::size_t r = 0; r < rows.row_count(); ++r) {
    const std::int64_t token = decode_bigint(rows.cell(r, 0));
    EXPECT_EQ(token, int_token(decode_int(rows.cell(r, 1))));
    if (r > 0) {
      EXPECT_LT(decode_bigint(rows.cell(r - 1, 0)), token) << "row " << r;
    }
  }
}

TEST_F(CqlTokens, TokenOfASyntheticIdIsItsPlaceOnTheRing) {
  const rows_result rows = rows_of(c().query("SELECT id, token(id) FROM demo.four"));
  ASSERT_EQ(rows.row_count(), 4U);
  EXPECT_EQ(rows.metadata().columns[1].name, "system.token(id)");
  for (std::size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(decode_bigint(rows.cell(r, 0)), static_cast<std::int64_t>(r));
    EXPECT_EQ(decode_bigint(rows.cell(r, 1)), synthetic_token(static_cast<std::int64_t>(r), 4));
  }
}

TEST_F(CqlTokens, TokenRelationsSelectARangeOfTokens) {
  constexpr std::int32_t rows = 200;
  create_table(rows);
  const std::int64_t a = int_token(17);  // a row's own token: inclusive bounds include it
  const std::int64_t b = int_token(42);
  const std::int64_t low = std::min(a, b);
  const std::int64_t high = std::max(a, b);
  const std::string select = "SELECT id FROM ks.t WHERE ";
  EXPECT_EQ(ids(select + "token(id) > " + literal(low)),
            by_token(rows, [&](std::int64_t t) { return t > low; }));
  EXPECT_EQ(ids(select + "token(id) >= " + literal(low)),
            by_token(rows, [&](std::int64_t t) { return t >= low; }));
  EXPECT_EQ(ids(select + "token(id) < " + literal(high)),
            by_token(rows, [&](std::int64_t t) { return t < high; }));
  EXPECT_EQ(ids(select + "token(id) <= " + literal(high)),
            by_token(rows, [&](std::int64_t t) { return t <= high; }));
  EXPECT_EQ(ids(select + "token(id) = " + literal(a)), std::vector{17});
  EXPECT_EQ(ids(select + "token(id) > " + literal(low) + " AND token(id) <= " + literal(high)),
            by_token(rows, [&](std::int64_t t) { return t > low && t <= high; }));
  EXPECT_EQ(ids(select + "token(id) > " + literal(high) + " AND token(id) <= " + literal(low)),
            std::vector<std::int32_t>{});  // no wrapping around the ring
  EXPECT_EQ(ids(select + "token(id) > " + literal(a) + " AND token(id) < " + literal(a)),
            std::vector<std::int32_t>{});
  // An end at the minimum token is the end of the ring, as in Cassandra (the drivers' last range).
  EXPECT_EQ(ids(select + "token(id) > " + literal(low) + " AND token(id) <= " +
                literal(minimum_token)),
            by_token(rows, [&](std::int64_t t) { return t > low; }));
  EXPECT_EQ(ids(select + "token(id) > " + literal(maximum_token)), std::vector<std::int32_t>{});
  EXPECT_EQ(ids(select + "token(id) >= " + literal(minimum_token)).size(),
            static_cast<std::size_t>(rows));

  query_parameters bound;
  bound.values = {query_value::of(low), query_value::of(high)};
  EXPECT_EQ(ids(select + "token(id) >= ? AND token(id) < ?", bound),
            by_token(rows, [&](std::int64_t t) { return t >= low && t < high; }));
}

TEST_F(CqlTokens, TokenRangesOfSyntheticAndSystemTables) {
  const std::string four = "SELECT id FROM demo.four WHERE ";
  const auto bigints = [&](const std::string& statement) {
    const rows_result rows = rows_of(c().query(statement));
    std::vector<std::int64_t> out;
    for (std::size_t r = 0; r < rows.row_count(); ++r) {
      out.push_back(decode_bigint(rows.cell(r, 0)));
    }
    return out;
  };
  EXPECT_EQ(bigints(four + "token(id) > -4611686018427387904 AND token(id) <= 0"),
            std::vector<std::int64_t>{2});
  EXPECT_EQ(bigints(four + "token(id) >= -4611686018427387904"),
            (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(bigints(four + "token(id) < 0"), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(bigints(four + "token(id) = 0"), std::vector<std::int64_t>{2});

  create_table(1);  // keyspace ks; with demo and two more, system_schema.keyspaces has four
  for (const char* name : {"ks2", "ks3"}) {
    rows_or_void(c().query(std::string("CREATE KEYSPACE ") + name +
                           " WITH replication = {'class': 'SimpleStrategy', "
                           "'replication_factor': 1}"));
  }
  const rows_result all =
      rows_of(c().query("SELECT keyspace_name, token(keyspace_name) FROM system_schema.keyspaces"));
  ASSERT_EQ(all.row_count(), 4U);
  std::vector<std::string> names;
  for (std::size_t r = 0; r < all.row_count(); ++r) {
    names.emplace_back(decode_text(all.cell(r, 0)));
    EXPECT_EQ(decode_bigint(all.cell(r, 1)), text_token(names.back()));
    if (r > 0) {
      EXPECT_LT(text_token(names[r - 1]), text_token(names[r])) << "token order";
    }
  }
  const std::int64_t split = text_token(names[1]);
  query_parameters p;
  p.values = {query_value::of(split)};
  const rows_result after = rows_of(
      c().query("SELECT keyspace_name FROM system_schema.keyspaces WHERE token(keyspace_name) > ?",
                p));
  ASSERT_EQ(after.row_count(), names.size() - 2);
  EXPECT_EQ(decode_text(after.cell(0, 0)), names[2]);
}

TEST_F(CqlTokens, PrepareNamesTheTokenMarkersAsCassandraDoes) {
  create_table(10);
  const auto prepared = message_of<prepared_result>(
      c().prepare("SELECT token(id), v FROM ks.t WHERE token(id) > ? AND token(id) <= ?"));
  ASSERT_EQ(prepared.variables.columns.size(), 2U);
  for (const column_spec& marker : prepared.variables.columns) {
    EXPECT_EQ(marker.name, "partition key token");
    EXPECT_EQ(marker.type, data_type{type_id::bigint});
    EXPECT_EQ(marker.table.table, "t");
  }
  EXPECT_TRUE(prepared.variables.partition_key_indexes.empty());  // a token routes no key
  ASSERT_EQ(prepared.result.columns.size(), 2U);
  EXPECT_EQ(prepared.result.columns[0].name, "system.token(id)");
  EXPECT_EQ(prepared.result.columns[0].type, data_type{type_id::bigint});

  query_parameters p;
  p.values = {query_value::of(minimum_token), query_value::of(maximum_token)};
  EXPECT_EQ(rows_of(c().execute(prepared.id, std::move(p))).row_count(), 10U);
}

TEST_F(CqlTokens, TokenRestrictionsAreRefusedWithCassandrasMessages) {
  create_table(3);
  const std::string t = "SELECT * FROM ks.t WHERE ";
  EXPECT_EQ(invalid_message(t + "token(v) > 0"),
            "The token() function must be applied to all partition key components or none of "
            "them");
  EXPECT_EQ(invalid_message(t + "token(id, id) > 0"),
            "The token() function contains duplicate partition key components");
  EXPECT_EQ(invalid_message(t + "token(id, v) > 0"),
            "The token() function must contains only partition key components");
  EXPECT_EQ(invalid_message(t + "token(nope) > 0"), "Undefined column name nope");
  const std::string both =
      "Columns \"id\" cannot be restricted by both a normal relation and a token relation";
  EXPECT_EQ(invalid_message(t + "token(id) > 0 AND id = 1"), both);
  EXPECT_EQ(invalid_message(t + "id = 1 AND token(id) > 0"), both);
  EXPECT_EQ(invalid_message(t + "token(id) > 0 AND token(id) >= 1"),
            "More than one restriction was found for the start bound on id");
  EXPECT_EQ(invalid_message(t + "token(id) <= 0 AND token(id) < 1"),
            "More than one restriction was found for the end bound on id");
  EXPECT_EQ(invalid_message(t + "token(id) > 0 AND token(id) = 1"),
            "Columns \"id\" cannot be restricted by both an equality and an inequality relation");
  EXPECT_EQ(invalid_message(t + "token(id) = 0 AND token(id) > 1"),
            "id cannot be restricted by more than one relation if it includes an Equal");
  EXPECT_EQ(invalid_message("SELECT token(v) FROM ks.t"),
            "Type error: v cannot be passed as argument 0 of function system.token of type int");
  EXPECT_TRUE(contains(invalid_message(t + "token(id) > 'abc'"), "partition key token"));
  query_parameters null_bound;
  null_bound.values = {query_value::null()};
  EXPECT_EQ(invalid_message(t + "token(id) > ?", null_bound),
            "Invalid null value for partition key token");
}

TEST_F(CqlTokens, APagingStateCannotLeadOutOfTheTokenRange) {
  // A paging state is the client's: one from a full scan, after the 150th row, sent with a
  // range that ends at the 10th row must give no row past the range's end.
  constexpr std::int32_t rows = 200;
  create_table(rows);
  const std::vector<std::int32_t> order = by_token(rows, [](std::int64_t) { return true; });
  query_parameters first;
  first.page_size = 150;
  const rows_result page = rows_of(c().query("SELECT id FROM ks.t", first));
  ASSERT_TRUE(page.metadata().has_more_pages());
  const std::string ranged = "SELECT id FROM ks.t WHERE token(id) <= " + literal(int_token(order[9]));
  query_parameters resume;
  resume.page_size = 100;
  resume.paging_state = page.metadata().paging_state;
  EXPECT_EQ(ids(ranged, resume), std::vector<std::int32_t>{});
  const std::string synthetic = "SELECT id FROM demo.big WHERE token(id) <= " +
                                literal(synthetic_token(9, big_rows));
  const rows_result big = rows_of(c().query("SELECT id FROM demo.big", first));
  resume.paging_state = big.metadata().paging_state;
  EXPECT_EQ(rows_of(c().query(synthetic, resume)).row_count(), 0U);
}

// ---- The union property over random splits ---------------------------------------------------

/// A row as a range reader sees it: its token (from token(id)) and its id.
struct token_row {
  std::int64_t token;
  std::int64_t id;
};

/// Split points of the ring: `seed`'s random tokens, with the extreme tokens for some seeds.
std::vector<std::int64_t> split_points(std::uint64_t seed) {
  std::mt19937_64 random{seed};
  std::uniform_int_distribution<std::int64_t> any_token;
  std::vector<std::int64_t> points;
  const auto count = 1 + random() % 24;
  for (std::uint64_t i = 0; i < count; ++i) {
    points.push_back(any_token(random));
  }
  if (seed % 2 == 1) {
    points.insert(points.end(), {minimum_token + 1, -1, 0, maximum_token - 1, maximum_token});
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

/// Reads every range (minimum, p0], (p0, p1], ..., (pn, end] of `table` with the prepared
/// "WHERE token(id) > ? AND token(id) <= ?", each page by page with a page size drawn from
/// `page_sizes`, and checks that each range's rows are in it and in token order; returns every
/// row read. The last range ends at the minimum token (Cassandra's "to the end of the ring")
/// for even seeds and at the maximum token for odd ones.
std::vector<token_row> read_ring(client& c, const std::string& table, std::uint64_t seed,
                                 const std::vector<std::int32_t>& page_sizes) {
  const auto prepared = message_of<prepared_result>(
      c.prepare("SELECT token(id), id FROM " + table + " WHERE token(id) > ? AND token(id) <= ?"));
  std::vector<std::int64_t> ends = split_points(seed);
  ends.push_back(seed % 2 == 0 ? minimum_token : maximum_token);
  std::mt19937 random{static_cast<std::uint32_t>(seed)};
  std::vector<token_row> all;
  std::int64_t start = minimum_token;
  for (const std::int64_t end : ends) {
    SCOPED_TRACE("(" + std::to_string(start) + ", " + std::to_string(end) + "]");
    const std::int64_t last = end == minimum_token ? maximum_token : end;
    query_parameters p;
    p.values = {query_value::of(start), query_value::of(end)};
    const std::int32_t page_size = page_sizes[random() % page_sizes.size()];
    const auto pages = fetch_pages(
        [&](const query_parameters& q) { return c.execute(prepared.id, q); }, page_size, p,
        1'000'000);
    std::int64_t previous = start;
    for (const rows_result& page : pages) {
      for (std::size_t r = 0; r < page.row_count(); ++r) {
        const value id = decode_value(page.metadata().columns[1].type, page.cell(r, 1));
        const token_row row{decode_bigint(page.cell(r, 0)),
                            id.holds<std::int32_t>() ? id.get<std::int32_t>()
                                                     : id.get<std::int64_t>()};
        EXPECT_GT(row.token, start);
        EXPECT_LE(row.token, last);
        EXPECT_GE(row.token, previous) << "token order";
        previous = row.token;
        all.push_back(row);
      }
    }
    start = end;
  }
  return all;
}

/// Every id 0 .. rows - 1 exactly once in `read`.
void expect_every_row_once(std::vector<token_row> read, std::int64_t rows) {
  std::sort(read.begin(), read.end(),
            [](const token_row& a, const token_row& b) { return a.id < b.id; });
  ASSERT_EQ(read.size(), static_cast<std::size_t>(rows));
  for (std::int64_t id = 0; id < rows; ++id) {
    ASSERT_EQ(read[static_cast<std::size_t>(id)].id, id) << "each row exactly once";
  }
}

TEST_F(CqlTokens, RandomSplitsOfTheRingReadEveryStoredRowOnce) {
  create_table(stored_rows);
  for (const std::uint64_t seed : {1U, 2U, 3U, 4U, 20261207U}) {
    SCOPED_TRACE(seed);
    const std::vector<token_row> read = read_ring(c(), "ks.t", seed, {1, 7, 100, 1000});
    for (const token_row& row : read) {
      ASSERT_EQ(row.token, int_token(static_cast<std::int32_t>(row.id)));
    }
    expect_every_row_once(read, stored_rows);
  }
}

TEST_F(CqlTokens, RandomSplitsOfTheRingReadEverySyntheticRowOnce) {
  for (const std::uint64_t seed : {1U, 2U, 3U, 20261207U}) {
    SCOPED_TRACE(seed);
    const std::vector<token_row> read = read_ring(c(), "demo.big", seed, {17, 250, 999});
    for (const token_row& row : read) {
      ASSERT_EQ(row.token, synthetic_token(row.id, big_rows));
    }
    expect_every_row_once(read, big_rows);
  }
}

}  // namespace
}  // namespace scopekit::cql::test
