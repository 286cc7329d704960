// Tests for scopekit/cql/protocol/value.hpp: every common type byte-exact, null vs empty, nested
// collections, wrong sizes and content, and encoding type checks.
#include "scopekit/cql/protocol/value.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace scopekit::cql::test {
namespace {

static_assert(std::is_nothrow_default_constructible_v<value>);
static_assert(std::is_copy_constructible_v<value>);
static_assert(!std::is_convertible_v<long long*, value>, "no pointer-to-bool surprises");
static_assert(!std::is_constructible_v<value, unsigned>, "only exact alternative types");

bytes write(const data_type& type, const value& v) {
  return written([&](byte_writer& w) { write_value(w, type, v); });
}

// `v` as `type` is exactly `content` (after the [bytes] length), and decodes back to `v`.
void expect_value(const data_type& type, const value& v, const bytes& content) {
  const bytes length =
      b({0, 0, static_cast<int>(content.size() >> 8U), static_cast<int>(content.size() & 0xFFU)});
  EXPECT_EQ(write(type, v), cat({length, content})) << type.to_string();
  EXPECT_EQ(serialize_value(type, v), content) << type.to_string();
  EXPECT_EQ(decode_value(type, value_view{content}), v) << type.to_string();
}

uuid uuid_of(const bytes& raw) {
  uuid u;
  std::copy(raw.begin(), raw.end(), u.bytes.begin());
  return u;
}

const bytes random_uuid = b({0x55, 0x0E, 0x84, 0x00, 0xE2, 0x9B, 0x41, 0xD4, 0xA7, 0x16, 0x44, 0x66,
                             0x55, 0x44, 0x00, 0x00});  // version 4
const bytes time_uuid = b({0xC0, 0x3E, 0x5A, 0x70, 0x7E, 0x1B, 0x11, 0xEE, 0x80, 0x00, 0x00, 0x00,
                           0x00, 0x00, 0x00, 0x01});  // version 1

// ---- Every common type, byte-exact ----------------------------------------------------------

TEST(Value, Int) {
  expect_value(type_id::int_, std::int32_t{42}, b({0x00, 0x00, 0x00, 0x2A}));
  expect_value(type_id::int_, std::int32_t{-1}, b({0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(cql::decode_int(value_view{b({0x80, 0, 0, 0})}),
            std::numeric_limits<std::int32_t>::min());
}

TEST(Value, Bigint) {
  expect_value(type_id::bigint, std::int64_t{0x0102030405060708},
               b({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
  expect_value(type_id::bigint, std::int64_t{-2},
               b({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE}));
}

TEST(Value, Boolean) {
  expect_value(type_id::boolean, true, b({0x01}));
  expect_value(type_id::boolean, false, b({0x00}));
  EXPECT_TRUE(cql::decode_boolean(value_view{b({0x7F})}));  // any non-zero byte is true
}

TEST(Value, DoubleAndFloatAreIeee754) {
  expect_value(type_id::double_, 1.5, b({0x3F, 0xF8, 0, 0, 0, 0, 0, 0}));
  expect_value(type_id::float_, -2.0F, b({0xC0, 0x00, 0x00, 0x00}));
  EXPECT_TRUE(std::isnan(cql::decode_double(value_view{b({0x7F, 0xF8, 0, 0, 0, 0, 0, 0})})));
}

TEST(Value, TimestampIsMillisecondsSinceTheEpoch) {
  const timestamp t{std::chrono::milliseconds{1700000000123}};
  expect_value(type_id::timestamp, t, b({0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x7B}));
  const timestamp before_epoch{std::chrono::milliseconds{-1}};
  expect_value(type_id::timestamp, before_epoch,
               b({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(Value, UuidAndTimeuuid) {
  expect_value(type_id::uuid, uuid_of(random_uuid), random_uuid);
  expect_value(type_id::timeuuid, uuid_of(time_uuid), time_uuid);
  EXPECT_EQ(to_string(uuid_of(random_uuid)), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(uuid_of(time_uuid).version(), 1);
}

TEST(Value, TimeuuidMustBeVersionOne) {
  const auto e = protocol_error_from([&] { cql::decode_timeuuid(value_view{random_uuid, 40}); });
  EXPECT_STREQ(e.what(), "value: timeuuid of version 4 at offset 40, expected version 1");
  EXPECT_THROW(write(type_id::timeuuid, uuid_of(random_uuid)), std::invalid_argument);
}

TEST(Value, TextAsciiAndBlob) {
  expect_value(type_id::varchar, "héllo", str("h\xC3\xA9llo"));
  expect_value(type_id::ascii, "abc", str("abc"));
  expect_value(type_id::blob, value::blob(b({0x00, 0xFF})), b({0x00, 0xFF}));
}

TEST(Value, InetFourOrSixteenBytes) {
  inet_address v4;
  v4.size = 4;
  v4.bytes[0] = std::byte{127};
  v4.bytes[3] = std::byte{1};
  expect_value(type_id::inet, v4, b({0x7F, 0x00, 0x00, 0x01}));
  EXPECT_EQ(to_string(v4), "127.0.0.1");

  inet_address v6;
  v6.size = 16;
  v6.bytes[15] = std::byte{1};
  expect_value(type_id::inet, v6, b({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(to_string(v6), "::1");

  const bytes doc =
      b({0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0x08, 0x08, 0x00, 0x20, 0x0C, 0x41, 0x7A});
  EXPECT_EQ(to_string(cql::decode_inet(value_view{doc})), "2001:db8::8:800:200c:417a");
}

TEST(Value, InetOfAnotherSizeIsAnError) {
  const auto e = protocol_error_from([&] { cql::decode_inet(value_view{b({1, 2, 3, 4, 5}), 9}); });
  EXPECT_STREQ(e.what(), "value: inet value of 5 bytes at offset 9, expected 4 or 16");
}

TEST(Value, ListSetAndMap) {
  expect_value(data_type::list(type_id::int_), value::list{std::int32_t{1}, std::int32_t{2}},
               b({0x00, 0x00, 0x00, 0x02,                             // 2 elements
                  0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,     //   int 1
                  0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02}));  //   int 2
  expect_value(data_type::set(type_id::varchar), value::list{"a", "b"},
               cat({b({0x00, 0x00, 0x00, 0x02}),               // 2 elements
                    b({0x00, 0x00, 0x00, 0x01}), str("a"),     //   "a"
                    b({0x00, 0x00, 0x00, 0x01}), str("b")}));  //   "b"
  expect_value(data_type::map(type_id::varchar, type_id::bigint),
               value::map{{"x", std::int64_t{7}}},
               cat({b({0x00, 0x00, 0x00, 0x01}),                             // 1 entry
                    b({0x00, 0x00, 0x00, 0x01}), str("x"),                   //   key "x"
                    b({0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 7})}));  //   value 7
}

TEST(Value, NestedCollections) {
  const data_type type = data_type::map(type_id::varchar, data_type::list(type_id::int_));
  const value v = value::map{{"a", value::list{std::int32_t{1}}}, {"b", value::list{}}};
  expect_value(type, v,
               cat({b({0x00, 0x00, 0x00, 0x02}),            // 2 entries
                    b({0x00, 0x00, 0x00, 0x01}), str("a"),  //   key "a"
                    b({0x00, 0x00, 0x00, 0x0C}),            //   value: 12 bytes
                    b({0x00, 0x00, 0x00, 0x01}),            //     1 element
                    b({0, 0, 0, 4, 0, 0, 0, 1}),            //     int 1
                    b({0x00, 0x00, 0x00, 0x01}), str("b"),  //   key "b"
                    b({0x00, 0x00, 0x00, 0x04}),            //   value: 4 bytes
                    b({0x00, 0x00, 0x00, 0x00})}));         //     0 elements
}

TEST(Value, TypesWithoutAMappingKeepTheirBytes) {
  expect_value(type_id::decimal, value::blob(b({0, 0, 0, 2, 0x04, 0xD2})),
               b({0, 0, 0, 2, 0x04, 0xD2}));
  expect_value(data_type::tuple({type_id::int_}), value::blob(b({0, 0, 0, 1, 9})),
               b({0, 0, 0, 1, 9}));
}

// ---- Null, empty, not set -------------------------------------------------------------------

TEST(Value, NullAndEmptyAreDistinct) {
  EXPECT_EQ(decode_value(type_id::int_, value_view::null()), value(null_value{}));
  EXPECT_EQ(decode_value(type_id::int_, value_view{bytes{}}), value(empty_value{}));
  EXPECT_EQ(decode_value(data_type::list(type_id::int_), value_view{bytes{}}),
            value(empty_value{}));
  EXPECT_EQ(decode_value(type_id::varchar, value_view{bytes{}}), value(""));  // empty string
  EXPECT_EQ(decode_value(type_id::blob, value_view{bytes{}}), value(value::blob{}));
  EXPECT_NE(value(null_value{}), value(empty_value{}));
  EXPECT_NE(value(""), value(null_value{}));
}

TEST(Value, NullAndEmptyEncodeAsLengths) {
  EXPECT_EQ(write(type_id::int_, value{}), b({0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(write(type_id::int_, empty_value{}), b({0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(write(type_id::varchar, ""), b({0x00, 0x00, 0x00, 0x00}));
  EXPECT_THROW((void)serialize_value(type_id::int_, value{}), std::invalid_argument);
}

TEST(Value, NullElementInsideACollection) {
  const bytes content = b({0x00, 0x00, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00});
  const value v = decode_value(data_type::list(type_id::int_), value_view{content});
  EXPECT_EQ(v, value(value::list{null_value{}, empty_value{}}));
  EXPECT_EQ(serialize_value(data_type::list(type_id::int_), v), content);
}

TEST(Value, ScalarDecodersRejectNullAndNotSet) {
  const auto null = protocol_error_from([] { cql::decode_bigint(value_view::null(12)); });
  EXPECT_STREQ(null.what(), "value: null where a bigint value is required at offset 12");
  const auto not_set = protocol_error_from([] { cql::decode_text(value_view::not_set(3), "c"); });
  EXPECT_STREQ(not_set.what(), "c: not set where a varchar value is required at offset 3");
  EXPECT_THROW(decode_value(type_id::int_, value_view::not_set()), protocol_error);
}

// ---- Wrong sizes and content ----------------------------------------------------------------

TEST(Value, WrongSizeIsAnError) {
  const auto e = protocol_error_from([] {
    cql::decode_int(value_view{b({1, 2, 3}), 20}, "rows.cell[0][2]");
  });
  EXPECT_STREQ(e.what(), "rows.cell[0][2]: int value of 3 bytes at offset 20, expected 4");
  EXPECT_THROW(cql::decode_bigint(value_view{b({1, 2, 3, 4})}), protocol_error);
  EXPECT_THROW(cql::decode_boolean(value_view{b({1, 2})}), protocol_error);
  EXPECT_THROW(cql::decode_double(value_view{b({1})}), protocol_error);
  EXPECT_THROW(cql::decode_float(value_view{b({1, 2, 3, 4, 5})}), protocol_error);
  EXPECT_THROW(cql::decode_uuid(value_view{b({1, 2, 3})}), protocol_error);
  EXPECT_THROW(cql::decode_timestamp(value_view{b({1, 2, 3, 4})}), protocol_error);
  EXPECT_THROW(cql::decode_int(value_view{bytes{}}), protocol_error);  // empty has no int
}

TEST(Value, InvalidUtf8IsAnError) {
  const bytes bad = cat({str("ok"), b({0xC3, 0x28})});  // 0xC3 not followed by a continuation
  const auto e = protocol_error_from([&] { cql::decode_text(value_view{bad, 100}); });
  EXPECT_STREQ(e.what(), "value: invalid UTF-8 in a varchar value at offset 102");
  EXPECT_FALSE(cql::is_valid_utf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(cql::is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(cql::is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_TRUE(cql::is_valid_utf8("\xF0\x9F\x98\x80"));   // U+1F600
  EXPECT_THROW(write(type_id::varchar, std::string("\xFF")), std::invalid_argument);
}

TEST(Value, NonAsciiByteIsAnError) {
  const auto e = protocol_error_from([] { cql::decode_ascii(value_view{b({'a', 0x80})}); });
  EXPECT_STREQ(e.what(), "value: non-ASCII byte 0x80 in an ascii value at offset 1");
  EXPECT_THROW(write(type_id::ascii, "h\xC3\xA9"), std::invalid_argument);
}

TEST(Value, CollectionCountIsCheckedBeforeReserving) {
  const bytes content = b({0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00});
  const auto e = protocol_error_from([&] {
    decode_value(data_type::list(type_id::int_), value_view{content, 30}, "rows.cell[0][1]");
  });
  EXPECT_STREQ(e.what(),
               "rows.cell[0][1]: count 2147483647 at offset 30 needs at least 4 bytes each, only "
               "4 left");
}

TEST(Value, ElementErrorsNameTheElement) {
  const bytes content = cat({b({0x00, 0x00, 0x00, 0x01}),             // 1 entry
                             b({0x00, 0x00, 0x00, 0x01}), str("k"),   //   key "k"
                             b({0x00, 0x00, 0x00, 0x03, 1, 2, 3})});  //   value: 3 bytes
  const auto e = protocol_error_from([&] {
    decode_value(data_type::map(type_id::varchar, type_id::int_), value_view{content, 10});
  });
  EXPECT_STREQ(e.what(), "value[0].value: int value of 3 bytes at offset 23, expected 4");
}

TEST(Value, BytesAfterTheLastElementAreAnError) {
  const bytes content = b({0x00, 0x00, 0x00, 0x00, 0xAA});
  const auto e = protocol_error_from(
      [&] { decode_value(data_type::set(type_id::int_), value_view{content}); });
  EXPECT_STREQ(e.what(), "value: 1 bytes after the last element at offset 4");
}

TEST(Value, EveryStrictPrefixOfACollectionFails) {
  const bytes content =
      serialize_value(data_type::map(type_id::varchar, data_type::list(type_id::int_)),
                      value::map{{"a", value::list{std::int32_t{1}}}});
  const data_type type = data_type::map(type_id::varchar, data_type::list(type_id::int_));
  for (std::size_t n = 1; n < content.size(); ++n) {  // n == 0 is the empty value
    const bytes prefix(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(decode_value(type, value_view{prefix}), protocol_error) << "prefix " << n;
  }
}

// ---- Encoding checks ------------------------------------------------------------------------

TEST(Value, EncodingChecksTheType) {
  try {
    write(data_type::list(type_id::int_), value::list{std::int32_t{1}, "two"});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "value[1]: int expects std::int32_t, got string");
  }
  EXPECT_THROW(write(type_id::bigint, std::int32_t{1}), std::invalid_argument);
  EXPECT_THROW(write(type_id::timestamp, std::int64_t{1}), std::invalid_argument);
  inet_address bad;
  bad.size = 5;
  EXPECT_THROW(write(type_id::inet, bad), std::invalid_argument);
}

TEST(Value, Accessors) {
  const value v = std::int64_t{5};
  EXPECT_TRUE(v.holds<std::int64_t>());
  EXPECT_EQ(v.get<std::int64_t>(), 5);
  EXPECT_EQ(v.get_if<std::int32_t>(), nullptr);
  EXPECT_THROW((void)v.get<std::string>(), std::bad_variant_access);
  EXPECT_TRUE(value().is_null());
  EXPECT_TRUE(value(empty_value{}).is_empty());
}

}  // namespace
}  // namespace scopekit::cql::test
