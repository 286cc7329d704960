// Tests for scopekit/cql/client/statement.hpp: C++ values bound by their own type (statement
// values), by the bind marker's type with widening and range-checked narrowing (prepared
// statements), and the std::invalid_argument of a value that does not convert or a wrong value
// count. No server: the prepared statements are built from Prepared results written here.
#include "scopekit/cql/client/statement.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace scopekit::cql {
// Readable failures: a query_value as gtest prints it (gtest looks for this name).
void PrintTo(const query_value& v, std::ostream* os) {  // NOLINT(readability-identifier-naming)
  if (v.is_null()) {
    *os << "null";
  } else if (v.is_not_set()) {
    *os << "not set";
  } else {
    *os << "bytes 0x" << std::hex;
    for (const std::byte b : v.bytes()) {
      *os << std::to_integer<unsigned>(b) / 16 << std::to_integer<unsigned>(b) % 16;
    }
    *os << std::dec;
  }
}
}  // namespace scopekit::cql

namespace scopekit::cql::test {
namespace {

static_assert(
    std::is_constructible_v<statement, std::string, std::vector<query_value>, consistency>);
static_assert(std::is_copy_constructible_v<prepared_statement>);

using bytes = std::vector<std::byte>;

/// What `f` throws as std::invalid_argument (its what()), or a failure if nothing is thrown.
template <class F>
std::string invalid_argument_of(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::invalid_argument was thrown";
  return {};
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

uuid sample_uuid() {
  uuid u;
  for (std::size_t i = 0; i < u.bytes.size(); ++i) {
    u.bytes[i] = std::byte{static_cast<unsigned char>(0x10 + i)};
  }
  return u;
}

inet_address loopback() {
  inet_address a;
  a.bytes[0] = std::byte{127};
  a.bytes[3] = std::byte{1};
  a.size = 4;
  return a;
}

// ---- bind(): by the C++ type -----------------------------------------------------------------

TEST(CqlStatementBind, EachCppTypeBindsAsItsCqlType) {
  const timestamp when{std::chrono::milliseconds{1'577'934'245'123}};
  const bytes blob{std::byte{0xCA}, std::byte{0xFE}};
  const std::string text = "h\xC3\xA9llo";

  EXPECT_EQ(cql::bind(std::int32_t{-7}), query_value::of(type_id::int_, std::int32_t{-7}));
  EXPECT_EQ(cql::bind(std::int64_t{-7}), query_value::of(type_id::bigint, std::int64_t{-7}));
  EXPECT_EQ(cql::bind(std::int16_t{300}), query_value::of(type_id::int_, std::int32_t{300}));
  EXPECT_EQ(cql::bind(true), query_value::of(type_id::boolean, true));
  EXPECT_EQ(cql::bind(false), query_value::of(type_id::boolean, false));
  EXPECT_EQ(cql::bind(1.5F), query_value::of(type_id::float_, 1.5F));
  EXPECT_EQ(cql::bind(2.25), query_value::of(type_id::double_, 2.25));
  EXPECT_EQ(cql::bind(text), query_value::of(type_id::varchar, text));
  EXPECT_EQ(cql::bind(std::string_view{text}), query_value::of(type_id::varchar, text));
  EXPECT_EQ(cql::bind("literal"), query_value::of(type_id::varchar, "literal"));
  EXPECT_EQ(cql::bind(blob), query_value::of(type_id::blob, blob));
  EXPECT_EQ(cql::bind(sample_uuid()), query_value::of(type_id::uuid, sample_uuid()));
  EXPECT_EQ(cql::bind(loopback()), query_value::of(type_id::inet, loopback()));
  EXPECT_EQ(cql::bind(when), query_value::of(type_id::timestamp, when));
  EXPECT_EQ(cql::bind(value{std::int64_t{9}}), query_value::of(type_id::bigint, std::int64_t{9}));
  // The sizes on the wire, so that the comparisons above cannot all be wrong the same way.
  EXPECT_EQ(cql::bind(std::int32_t{1}).bytes().size(), 4U);
  EXPECT_EQ(cql::bind(std::int64_t{1}).bytes().size(), 8U);
  EXPECT_EQ(cql::bind(when).bytes().size(), 8U);
  EXPECT_EQ(cql::bind(sample_uuid()).bytes().size(), 16U);
  EXPECT_EQ(cql::bind(loopback()).bytes().size(), 4U);
}

TEST(CqlStatementBind, EmptyStringsAndBlobsAreEmptyNotNull) {
  const query_value text = cql::bind(std::string{});
  EXPECT_FALSE(text.is_null());
  EXPECT_TRUE(text.bytes().empty());
  const query_value blob = cql::bind(bytes{});
  EXPECT_FALSE(blob.is_null());
  EXPECT_TRUE(blob.bytes().empty());
}

TEST(CqlStatementBind, NulloptAndEmptyOptionalsAreNull) {
  EXPECT_TRUE(cql::bind(std::nullopt).is_null());
  EXPECT_TRUE(cql::bind(null_value{}).is_null());
  EXPECT_TRUE(cql::bind(std::optional<std::int32_t>{}).is_null());
  EXPECT_TRUE(cql::bind(std::optional<std::string>{}).is_null());
  EXPECT_EQ(cql::bind(std::optional<std::int32_t>{3}), cql::bind(std::int32_t{3}));
  EXPECT_EQ(cql::bind(std::optional<std::string>{"x"}), cql::bind("x"));
}

TEST(CqlStatementBind, AQueryValuePassesThroughUnchanged) {
  const query_value not_set = query_value::not_set();
  EXPECT_TRUE(cql::bind(not_set).is_not_set());
  const query_value list =
      query_value::of(data_type::list(type_id::int_), value{value::list{1, 2}});
  EXPECT_EQ(cql::bind(list), list);
}

TEST(CqlStatementBind, ACollectionWithoutATypeIsInvalidArgument) {
  const std::string list = invalid_argument_of([] {
    static_cast<void>(cql::bind(value{value::list{1, 2}}));
  });
  EXPECT_TRUE(contains(list, "query_value::of")) << list;  // says how to do it instead
  const std::string map = invalid_argument_of([] {
    static_cast<void>(cql::bind(value{value::map{{value{1}, value{"one"}}}}));
  });
  EXPECT_TRUE(contains(map, "query_value::of")) << map;
}

TEST(CqlStatementBind, UnsignedIntegersKeepTheirValue) {
  // 3,000,000,000 does not fit an int: it must not come out as -1,294,967,296.
  const query_value big = cql::bind(std::uint32_t{3'000'000'000U});
  EXPECT_EQ(big, query_value::of(type_id::bigint, std::int64_t{3'000'000'000}));
  EXPECT_EQ(cql::bind(std::uint16_t{65'535}), query_value::of(type_id::int_, std::int32_t{65'535}));
  EXPECT_EQ(cql::bind(std::uint64_t{5}), query_value::of(type_id::bigint, std::int64_t{5}));
  const std::string too_big = invalid_argument_of(
      [] { static_cast<void>(cql::bind(std::numeric_limits<std::uint64_t>::max())); });
  EXPECT_TRUE(contains(too_big, "out of range")) << too_big;
}

// ---- prepared_statement::bind(): by the marker's type ------------------------------------------

/// A prepared statement whose markers have these types (named m0, m1, ...).
prepared_statement prepared_with(std::vector<data_type> types) {
  prepared_result r;
  r.id = {std::byte{1}, std::byte{2}};
  for (std::size_t i = 0; i < types.size(); ++i) {
    std::string name = "m";  // appended, not "m" + ...: GCC 12 -Wrestrict at -O3 (PR 105329)
    name += std::to_string(i);
    r.variables.columns.push_back(column_spec{table_spec{"ks", "t"}, name, types[i]});
  }
  r.result.no_metadata = true;
  return prepared_statement{"INSERT INTO ks.t ...", std::move(r)};
}

TEST(CqlPreparedBind, ValuesWidenToTheMarkerType) {
  const prepared_statement p =
      prepared_with({type_id::int_, type_id::bigint, type_id::double_, type_id::double_,
                     type_id::timestamp, type_id::varchar, data_type::list(type_id::int_)});
  const bound_statement b = p.bind(1, 2, 3, 1.5F, std::int64_t{1'000}, "x", value::list{4, 5});
  ASSERT_EQ(b.values.size(), 7U);
  EXPECT_EQ(b.values[0], query_value::of(type_id::int_, std::int32_t{1}));
  EXPECT_EQ(b.values[1], query_value::of(type_id::bigint, std::int64_t{2}));  // int -> bigint
  EXPECT_EQ(b.values[2], query_value::of(type_id::double_, 3.0));             // int -> double
  EXPECT_EQ(b.values[3], query_value::of(type_id::double_, 1.5));             // float -> double
  EXPECT_EQ(b.values[4],
            query_value::of(type_id::timestamp, timestamp{std::chrono::milliseconds{1'000}}));
  EXPECT_EQ(b.values[5], query_value::of(type_id::varchar, "x"));
  EXPECT_EQ(b.values[6], query_value::of(data_type::list(type_id::int_), value::list{4, 5}));
  EXPECT_EQ(b.prepared.id(), (bytes{std::byte{1}, std::byte{2}}));
  EXPECT_EQ(b.consistency, consistency::local_one);
}

TEST(CqlPreparedBind, NarrowingIsRangeChecked) {
  const prepared_statement p = prepared_with({type_id::int_, type_id::float_});
  constexpr std::int64_t int_max = std::numeric_limits<std::int32_t>::max();
  constexpr std::int64_t int_min = std::numeric_limits<std::int32_t>::min();
  EXPECT_EQ(p.bind(int_max, 0.5).values[0], query_value::of(type_id::int_, std::int32_t{int_max}));
  EXPECT_EQ(p.bind(int_min, 0.5).values[0], query_value::of(type_id::int_, std::int32_t{int_min}));
  EXPECT_EQ(p.bind(1, 0.5).values[1], query_value::of(type_id::float_, 0.5F));  // double -> float

  const std::string above =
      invalid_argument_of([&] { static_cast<void>(p.bind(int_max + 1, 0.5)); });
  EXPECT_TRUE(contains(above, "value 0")) << above;
  EXPECT_TRUE(contains(above, "out of range for int")) << above;
  const std::string below =
      invalid_argument_of([&] { static_cast<void>(p.bind(int_min - 1, 0.5)); });
  EXPECT_TRUE(contains(below, "value 0")) << below;
  const std::string huge = invalid_argument_of([&] { static_cast<void>(p.bind(1, 1e300)); });
  EXPECT_TRUE(contains(huge, "value 1")) << huge;
  EXPECT_TRUE(contains(huge, "out of range for float")) << huge;
}

TEST(CqlPreparedBind, AWrongValueCountIsInvalidArgument) {
  const prepared_statement p = prepared_with({type_id::int_, type_id::varchar});
  const std::string fewer = invalid_argument_of([&] { static_cast<void>(p.bind(1)); });
  EXPECT_TRUE(contains(fewer, "2 bind markers, 1 values given")) << fewer;
  const std::string more = invalid_argument_of([&] { static_cast<void>(p.bind(1, "a", 3)); });
  EXPECT_TRUE(contains(more, "2 bind markers, 3 values given")) << more;
}

TEST(CqlPreparedBind, AValueOfAnotherKindIsInvalidArgumentNamingItsPosition) {
  const prepared_statement p = prepared_with({type_id::int_, type_id::varchar, type_id::uuid});
  const std::string text_for_int =
      invalid_argument_of([&] { static_cast<void>(p.bind("one", "a", sample_uuid())); });
  EXPECT_TRUE(contains(text_for_int, "value 0")) << text_for_int;
  const std::string int_for_uuid =
      invalid_argument_of([&] { static_cast<void>(p.bind(1, "a", 7)); });
  EXPECT_TRUE(contains(int_for_uuid, "value 2")) << int_for_uuid;
}

TEST(CqlPreparedBind, NullsAndOptionalsBindToNull) {
  const prepared_statement p = prepared_with({type_id::int_, type_id::varchar, type_id::bigint});
  const bound_statement b =
      p.bind(std::nullopt, std::optional<std::string>{}, std::optional<int>{4});
  EXPECT_TRUE(b.values[0].is_null());
  EXPECT_TRUE(b.values[1].is_null());
  EXPECT_EQ(b.values[2], query_value::of(type_id::bigint, std::int64_t{4}));  // widened inside
}

}  // namespace
}  // namespace scopekit::cql::test
