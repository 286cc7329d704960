// Tests for scopekit/cql/client/row.hpp: get<T> for every T of the header's table, by index and by
// name; std::optional<T> and null; empty values (an empty text, an empty blob, an empty int)
// distinct from null; column_error for a wrong type, a missing column, an unexpected null or
// empty cell, naming the column; `value` for collections. Rows come from the embedded server.
#include "scopekit/cql/client/row.hpp"

#include "support/cql/client_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scopekit::cql::test {
namespace {

using bytes = std::vector<std::byte>;

static_assert(row_value<std::int32_t> && row_value<std::optional<std::string_view>> &&
              row_value<value> && row_value<std::span<const std::byte>>);
static_assert(!row_value<int*> && !row_value<std::optional<std::optional<int>>> &&
              !row_value<std::int16_t>);

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// What `f` throws as column_error (its what()), or a failure if nothing is thrown.
std::string column_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const column_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no column_error was thrown";
  return {};
}

/// Every column of ks.every, in definition order.
constexpr std::array<const char*, 16> columns = {"id", "bo", "i", "bi", "f",  "d", "ts", "u",
                                                 "tu", "ip", "t", "a",  "bl", "l", "s",  "m"};

/// The page of ks.every that the tests read: row 0 has every column set, row 1 only its key,
/// row 2 empty text, ascii and blob, row 3 an empty int (zero bytes, which CQL allows).
class CqlRow : public CqlClientTest {
protected:
  CqlRow() {
    page_ = run_bounded([&]() -> task<result> {
      session s = co_await session::connect(options());
      co_await s.execute(
          "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
          "'replication_factor': 1}");
      co_await s.execute(
          "CREATE TABLE ks.every (id int PRIMARY KEY, bo boolean, i int, bi bigint, f float, "
          "d double, ts timestamp, u uuid, tu timeuuid, ip inet, t text, a ascii, bl blob, "
          "l list<int>, s set<text>, m map<text, int>)");
      co_await s.execute(
          "INSERT INTO ks.every (id, bo, i, bi, f, d, ts, u, tu, ip, t, a, bl, l, s, m) VALUES "
          "(0, true, -42, 9000000000, 1.5, -0.25, 1577934245123, "
          "11223344-5566-4778-899a-abbccddeeff0, 50554d6e-29bb-11e5-b345-feff819cdc9f, "
          "'192.168.0.1', 'h\xC3\xA9llo', 'ascii', 0xCAFE, [3, 1, 2], {'b', 'a'}, "
          "{'one': 1, 'two': 2})");
      co_await s.execute("INSERT INTO ks.every (id) VALUES (1)");
      co_await s.execute("INSERT INTO ks.every (id, t, a, bl) VALUES (2, '', '', 0x)");
      co_await s.execute("INSERT INTO ks.every (id, i) VALUES (?, ?)", 3,
                         query_value{bytes{}});  // a present int of zero bytes
      co_return co_await s.execute("SELECT * FROM ks.every");
    }());
  }

  /// The row whose id is `id` (rows come back in key order, not insertion order).
  row by_id(std::int32_t id) const {
    for (std::size_t i = 0; i < page_.size(); ++i) {
      if (page_.row(i).get<std::int32_t>("id") == id) {
        return page_.row(i);
      }
    }
    ADD_FAILURE() << "no row " << id;
    return page_.row(0);
  }

  result page_;
};

TEST_F(CqlRow, TheFixturePageHasEveryRowAndColumn) {
  ASSERT_EQ(page_.size(), 4U);
  const row r = by_id(0);
  ASSERT_EQ(r.size(), columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    EXPECT_EQ(r.column(i).name, columns[i]);
    EXPECT_EQ(r.find(columns[i]), i);
  }
  EXPECT_EQ(r.find("nope"), std::nullopt);
}

TEST_F(CqlRow, EveryScalarTypeByName) {
  const row r = by_id(0);
  EXPECT_TRUE(r.get<bool>("bo"));
  EXPECT_EQ(r.get<std::int32_t>("i"), -42);
  EXPECT_EQ(r.get<std::int64_t>("bi"), 9'000'000'000);
  EXPECT_EQ(r.get<float>("f"), 1.5F);
  EXPECT_EQ(r.get<double>("d"), -0.25);
  EXPECT_EQ(r.get<timestamp>("ts"), timestamp{std::chrono::milliseconds{1'577'934'245'123}});
  EXPECT_EQ(to_string(r.get<uuid>("u")), "11223344-5566-4778-899a-abbccddeeff0");
  EXPECT_EQ(to_string(r.get<uuid>("tu")), "50554d6e-29bb-11e5-b345-feff819cdc9f");
  EXPECT_EQ(r.get<uuid>("tu").version(), 1);
  EXPECT_EQ(to_string(r.get<inet_address>("ip")), "192.168.0.1");
  EXPECT_EQ(r.get<std::string>("t"), "h\xC3\xA9llo");
  EXPECT_EQ(r.get<std::string_view>("t"), "h\xC3\xA9llo");
  EXPECT_EQ(r.get<std::string>("a"), "ascii");
  EXPECT_EQ(r.get<std::string_view>("a"), "ascii");
  EXPECT_EQ(r.get<bytes>("bl"), (bytes{std::byte{0xCA}, std::byte{0xFE}}));
  const auto view = r.get<std::span<const std::byte>>("bl");
  EXPECT_EQ(bytes(view.begin(), view.end()), (bytes{std::byte{0xCA}, std::byte{0xFE}}));
}

TEST_F(CqlRow, EveryScalarTypeByIndexMatchesByName) {
  const row r = by_id(0);
  EXPECT_EQ(r.get<std::int32_t>(0), 0);
  EXPECT_EQ(r.get<bool>(1), r.get<bool>("bo"));
  EXPECT_EQ(r.get<std::int32_t>(2), r.get<std::int32_t>("i"));
  EXPECT_EQ(r.get<std::int64_t>(3), r.get<std::int64_t>("bi"));
  EXPECT_EQ(r.get<float>(4), r.get<float>("f"));
  EXPECT_EQ(r.get<double>(5), r.get<double>("d"));
  EXPECT_EQ(r.get<timestamp>(6), r.get<timestamp>("ts"));
  EXPECT_EQ(r.get<uuid>(7), r.get<uuid>("u"));
  EXPECT_EQ(r.get<uuid>(8), r.get<uuid>("tu"));
  EXPECT_EQ(r.get<inet_address>(9), r.get<inet_address>("ip"));
  EXPECT_EQ(r.get<std::string>(10), r.get<std::string>("t"));
  EXPECT_EQ(r.get<std::string_view>(11), "ascii");
  EXPECT_EQ(r.get<bytes>(12), r.get<bytes>("bl"));
  EXPECT_NE(r.get<uuid>(7), r.get<uuid>(8));  // the two uuid columns are not mixed up
}

TEST_F(CqlRow, ViewsPointIntoThePage) {
  const row r = by_id(0);
  const auto text = r.get<std::string_view>("t");
  const auto blob = r.get<std::span<const std::byte>>("bl");
  const std::span<const std::byte> body = page_.rows().body();
  EXPECT_GE(static_cast<const void*>(text.data()), static_cast<const void*>(body.data()));
  EXPECT_LT(static_cast<const void*>(text.data()),
            static_cast<const void*>(body.data() + body.size()));
  EXPECT_GE(blob.data(), body.data());
  EXPECT_LT(blob.data(), body.data() + body.size());
}

TEST_F(CqlRow, OptionalsOfEveryTypeAreEmptyForNull) {
  const row r = by_id(1);
  EXPECT_EQ(r.get<std::optional<bool>>("bo"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<std::int32_t>>("i"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<std::int64_t>>("bi"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<float>>("f"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<double>>("d"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<timestamp>>("ts"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<uuid>>("u"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<uuid>>(8), std::nullopt);
  EXPECT_EQ(r.get<std::optional<inet_address>>("ip"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<std::string>>("t"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<std::string_view>>("a"), std::nullopt);
  EXPECT_EQ(r.get<std::optional<bytes>>("bl"), std::nullopt);
  EXPECT_FALSE(r.get<std::optional<std::span<const std::byte>>>("bl").has_value());
  EXPECT_EQ(r.get<std::optional<value>>("l"), std::nullopt);
  EXPECT_TRUE(r.is_null("bo"));
  EXPECT_TRUE(r.is_null(12));
  // Set values through an optional.
  const row set = by_id(0);
  EXPECT_EQ(set.get<std::optional<std::int32_t>>("i"), -42);
  EXPECT_EQ(set.get<std::optional<std::string>>("t"), "h\xC3\xA9llo");
  EXPECT_FALSE(set.is_null("i"));
}

TEST_F(CqlRow, NullWithoutAnOptionalIsAColumnErrorNamingTheColumn) {
  const row r = by_id(1);
  for (const std::string& message :
       {column_error_of([&] { static_cast<void>(r.get<bool>("bo")); }),
        column_error_of([&] { static_cast<void>(r.get<std::int32_t>("i")); }),
        column_error_of([&] { static_cast<void>(r.get<std::int64_t>("bi")); }),
        column_error_of([&] { static_cast<void>(r.get<float>("f")); }),
        column_error_of([&] { static_cast<void>(r.get<double>("d")); }),
        column_error_of([&] { static_cast<void>(r.get<timestamp>("ts")); }),
        column_error_of([&] { static_cast<void>(r.get<uuid>("u")); }),
        column_error_of([&] { static_cast<void>(r.get<inet_address>("ip")); }),
        column_error_of([&] { static_cast<void>(r.get<std::string>("t")); }),
        column_error_of([&] { static_cast<void>(r.get<std::string_view>("a")); }),
        column_error_of([&] { static_cast<void>(r.get<bytes>("bl")); }),
        column_error_of([&] { static_cast<void>(r.get<std::span<const std::byte>>(12)); })}) {
    EXPECT_TRUE(contains(message, "is null")) << message;
    EXPECT_TRUE(contains(message, "std::optional")) << message;  // says what to do
  }
  const std::string message = column_error_of([&] { static_cast<void>(r.get<float>("f")); });
  EXPECT_TRUE(contains(message, "column 'f'")) << message;
}

TEST_F(CqlRow, EmptyTextAndBlobAreEmptyNotNull) {
  const row r = by_id(2);
  EXPECT_FALSE(r.is_null("t"));
  EXPECT_EQ(r.get<std::string>("t"), "");
  EXPECT_EQ(r.get<std::optional<std::string>>("t"), std::string{});  // engaged
  EXPECT_EQ(r.get<std::string_view>("a"), "");
  EXPECT_FALSE(r.is_null("bl"));
  EXPECT_TRUE(r.get<bytes>("bl").empty());
  EXPECT_EQ(r.get<std::optional<bytes>>("bl"), bytes{});
  EXPECT_TRUE(r.get<std::span<const std::byte>>("bl").empty());
  // As values: an empty string and an empty blob, not null and not empty_value.
  EXPECT_EQ(r.get<value>("t"), value{std::string{}});
  EXPECT_EQ(r.get<value>("bl"), value{value::blob{}});
  EXPECT_TRUE(by_id(1).get<value>("t").is_null());
  EXPECT_TRUE(by_id(1).get<value>("bl").is_null());
}

TEST_F(CqlRow, AnEmptyIntIsAnErrorForTheScalarAndAnEmptyValueForValue) {
  const row r = by_id(3);
  EXPECT_FALSE(r.is_null("i"));
  const std::string message = column_error_of([&] { static_cast<void>(r.get<std::int32_t>("i")); });
  EXPECT_TRUE(contains(message, "column 'i' is empty")) << message;
  EXPECT_TRUE(contains(message, "scopekit::cql::value")) << message;  // says what to do
  // An optional does not hide it: empty is not null.
  EXPECT_THROW(static_cast<void>(r.get<std::optional<std::int32_t>>("i")), column_error);
  EXPECT_EQ(r.get<value>("i"), value{empty_value{}});
  EXPECT_EQ(r.get<std::optional<value>>("i"), value{empty_value{}});
}

TEST_F(CqlRow, AWrongTypeIsAColumnErrorNamingTheColumnAndItsType) {
  const row r = by_id(0);
  const std::string bigint_as_int =
      column_error_of([&] { static_cast<void>(r.get<std::int32_t>("bi")); });
  EXPECT_TRUE(contains(bigint_as_int, "column 'bi' is of type bigint")) << bigint_as_int;
  EXPECT_TRUE(contains(bigint_as_int, "std::int32_t")) << bigint_as_int;
  const std::string int_as_bigint =
      column_error_of([&] { static_cast<void>(r.get<std::int64_t>(2)); });
  EXPECT_TRUE(contains(int_as_bigint, "column 'i' is of type int")) << int_as_bigint;
  const std::string text_as_blob = column_error_of([&] { static_cast<void>(r.get<bytes>("t")); });
  EXPECT_TRUE(contains(text_as_blob, "column 't'")) << text_as_blob;
  const std::string blob_as_text =
      column_error_of([&] { static_cast<void>(r.get<std::string>("bl")); });
  EXPECT_TRUE(contains(blob_as_text, "column 'bl' is of type blob")) << blob_as_text;
  const std::string list_as_text =
      column_error_of([&] { static_cast<void>(r.get<std::string>("l")); });
  EXPECT_TRUE(contains(list_as_text, "column 'l' is of type list<int>")) << list_as_text;
  // Each pair of neighbouring types, both ways.
  EXPECT_THROW(static_cast<void>(r.get<float>("d")), column_error);
  EXPECT_THROW(static_cast<void>(r.get<double>("f")), column_error);
  EXPECT_THROW(static_cast<void>(r.get<bool>("i")), column_error);
  EXPECT_THROW(static_cast<void>(r.get<timestamp>("bi")), column_error);
  EXPECT_THROW(static_cast<void>(r.get<std::int64_t>("ts")), column_error);
  EXPECT_THROW(static_cast<void>(r.get<uuid>("bl")), column_error);
  EXPECT_THROW(static_cast<void>(r.get<inet_address>("t")), column_error);
  // Through an optional too.
  EXPECT_THROW(static_cast<void>(r.get<std::optional<std::int32_t>>("bi")), column_error);
}

// row::get<std::optional<T>> checks T against the column's type before it looks at the cell, so
// a wrong T does not go unnoticed until the first row where the column is set.
TEST_F(CqlRow, AWrongTypeIsAColumnErrorEvenForANullCell) {
  const row r = by_id(1);  // bi is null here
  EXPECT_THROW(static_cast<void>(r.get<std::optional<std::int32_t>>("bi")), column_error);
  EXPECT_THROW(static_cast<void>(r.get<std::optional<std::string>>("i")), column_error);
}

TEST_F(CqlRow, AMissingColumnIsAColumnError) {
  const row r = by_id(0);
  const std::string by_name =
      column_error_of([&] { static_cast<void>(r.get<std::int32_t>("nope")); });
  EXPECT_TRUE(contains(by_name, "no column named 'nope'")) << by_name;
  const std::string by_index = column_error_of([&] { static_cast<void>(r.get<std::int32_t>(16)); });
  EXPECT_TRUE(contains(by_index, "column index 16 is out of range")) << by_index;
  EXPECT_THROW(static_cast<void>(r.is_null("nope")), column_error);
  EXPECT_THROW(static_cast<void>(r.get<std::optional<std::int32_t>>("nope")), column_error);
  EXPECT_THROW(static_cast<void>(r.column(16)), column_error);
  EXPECT_THROW(static_cast<void>(r.cell(16)), column_error);
  EXPECT_THROW(static_cast<void>(page_.row(4)), column_error);  // the result has 4 rows
}

TEST_F(CqlRow, ValueReadsCollectionsAndScalars) {
  const row r = by_id(0);
  EXPECT_EQ(r.get<value>("l"), (value{value::list{3, 1, 2}}));   // a list keeps its order
  EXPECT_EQ(r.get<value>("s"), (value{value::list{"a", "b"}}));  // a set comes back sorted
  EXPECT_EQ(r.get<value>("m"),
            (value{value::map{{value{"one"}, value{1}}, {value{"two"}, value{2}}}}));
  EXPECT_EQ(r.get<value>(13), r.get<value>("l"));
  EXPECT_EQ(r.get<value>("i"), value{std::int32_t{-42}});
  EXPECT_EQ(r.get<value>("bi"), value{std::int64_t{9'000'000'000}});
  EXPECT_EQ(r.get<value>("t"), value{"h\xC3\xA9llo"});
  EXPECT_EQ(r.get<value>("bo"), value{true});
  EXPECT_EQ(r.get<value>("u"), value{r.get<uuid>("u")});
  EXPECT_TRUE(by_id(1).get<value>("m").is_null());
  EXPECT_EQ(by_id(1).get<std::optional<value>>("m"), std::nullopt);
}

TEST_F(CqlRow, ResultFirstAndRowBounds) {
  EXPECT_TRUE(page_.first().has_value());
  EXPECT_EQ(page_.first()->index(), 0U);
  EXPECT_EQ(page_.row(3).index(), 3U);
  const result empty = run_bounded([&]() -> task<result> {
    session s = co_await session::connect(options());
    co_return co_await s.execute("SELECT * FROM ks.every WHERE id = 99");
  }());
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.first(), std::nullopt);
  EXPECT_THROW(static_cast<void>(empty.row(0)), column_error);
}

}  // namespace
}  // namespace scopekit::cql::test
