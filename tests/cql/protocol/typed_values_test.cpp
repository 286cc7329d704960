// Tests for scopekit/cql/protocol/typed_values.hpp: smallint, tinyint, varint, decimal, date,
// time, duration, tuple and UDT from the spec's byte vectors, round trips, malformed input.
#include "scopekit/cql/protocol/typed_values.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace scopekit::cql::test {
namespace {

static_assert(sizeof(date::rep) == 4, "a CQL date has 2^32 values: 32 bits hold them all");
static_assert(std::is_nothrow_move_constructible_v<varint>);

value_view view(const bytes& content, std::size_t offset = 0) {
  return value_view(content, offset);
}

TEST(TypedValues, DecodesSmallintAndTinyint) {
  EXPECT_EQ(decode_smallint(view(smallint_minus_2)), -2);
  EXPECT_EQ(decode_tinyint(view(tinyint_minus_128)), -128);
  EXPECT_EQ(written([](byte_writer& w) { encode_smallint(w, -2); }), smallint_minus_2);
  EXPECT_EQ(written([](byte_writer& w) { encode_tinyint(w, -128); }), tinyint_minus_128);
}

TEST(TypedValues, RejectsWrongSizesAndNull) {
  const bytes three = b({1, 2, 3});
  const protocol_error e =
      protocol_error_from([&] { (void)decode_smallint(view(three, 40), "c"); });
  EXPECT_EQ(e.field(), "c");
  EXPECT_EQ(e.offset(), 40U);
  EXPECT_NE(std::string(e.what()).find("smallint value of 3 bytes at offset 40, expected 2"),
            std::string::npos)
      << e.what();
  (void)protocol_error_from([] { (void)decode_tinyint(value_view::null()); });
  (void)protocol_error_from([&] { (void)decode_date(view(three)); });
  (void)protocol_error_from([&] { (void)decode_time(view(three)); });
  (void)protocol_error_from([] { (void)decode_varint(view(bytes{})); });  // at least one byte
  (void)protocol_error_from([] { (void)decode_decimal(view(b({0, 0, 0, 1}))); });  // no varint
}

TEST(TypedValues, VarintsInDecimal) {
  EXPECT_EQ(to_string(decode_varint(view(varint_128))), "128");
  EXPECT_EQ(to_string(decode_varint(view(varint_minus_129))), "-129");
  EXPECT_EQ(to_string(decode_varint(view(varint_2_pow_96_plus_1))),
            "79228162514264337593543950337");
  EXPECT_EQ(to_string(decode_varint(view(b({0x00, 0x00, 0x05})))), "5");  // not minimal: kept
  EXPECT_EQ(to_string(varint(std::numeric_limits<std::int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(to_string(varint()), "0");
}

TEST(TypedValues, VarintFromAnInt64IsTheShortestEncoding) {
  EXPECT_EQ(written([](byte_writer& w) { encode_varint(w, varint(128)); }), varint_128);
  EXPECT_EQ(written([](byte_writer& w) { encode_varint(w, varint(-129)); }), varint_minus_129);
  EXPECT_EQ(written([](byte_writer& w) { encode_varint(w, varint(0)); }), b({0x00}));
  EXPECT_EQ(written([](byte_writer& w) { encode_varint(w, varint(-1)); }), b({0xFF}));
  EXPECT_EQ(varint(127).bytes().size(), 1U);
  EXPECT_EQ(varint(-128).bytes().size(), 1U);
  EXPECT_EQ(varint(std::numeric_limits<std::int64_t>::max()).bytes().size(), 8U);
  EXPECT_THROW((void)varint::from_bytes({}), std::invalid_argument);
}

TEST(TypedValues, Decimals) {
  const decimal d = decode_decimal(view(decimal_123_45));
  EXPECT_EQ(d.scale, 2);
  EXPECT_EQ(to_string(d.unscaled), "12345");
  EXPECT_EQ(to_string(d), "123.45");
  EXPECT_EQ(written([&](byte_writer& w) { encode_decimal(w, d); }), decimal_123_45);
  EXPECT_EQ(to_string(decimal{8, varint(1)}), "1E-8");      // too small for plain form
  EXPECT_EQ(to_string(decimal{-3, varint(15)}), "1.5E+4");  // negative scale
  EXPECT_EQ(to_string(decimal{3, varint(-1)}), "-0.001");
}

TEST(TypedValues, DatesCountDaysFromTwoToTheThirtyFirst) {
  EXPECT_EQ(decode_date(view(date_2024_01_01)).time_since_epoch().count(), 19'723);
  EXPECT_EQ(decode_date(view(b({0x80, 0, 0, 0}))).time_since_epoch().count(), 0);
  EXPECT_EQ(decode_date(view(b({0, 0, 0, 0}))).time_since_epoch().count(),
            std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(decode_date(view(b({0xFF, 0xFF, 0xFF, 0xFF}))).time_since_epoch().count(),
            std::numeric_limits<std::int32_t>::max());
  for (const std::int32_t days : {0, 19'723, -1, std::numeric_limits<std::int32_t>::min(),
                                  std::numeric_limits<std::int32_t>::max()}) {
    const date d{date::duration{days}};
    const bytes content = written([&](byte_writer& w) { encode_date(w, d); });
    EXPECT_EQ(decode_date(view(content)), d) << days;
  }
  EXPECT_EQ(written([](byte_writer& w) { encode_date(w, date{date::duration{19'723}}); }),
            date_2024_01_01);
}

TEST(TypedValues, TimesAreNanosecondsOfTheDay) {
  EXPECT_EQ(decode_time(view(time_03_04_05_000000006)).count(), 11'045'000'000'006);
  EXPECT_EQ(
      written([](byte_writer& w) { encode_time(w, std::chrono::nanoseconds{11'045'000'000'006}); }),
      time_03_04_05_000000006);
  const bytes end_of_day = b({0x00, 0x00, 0x4E, 0x94, 0x91, 0x4F, 0x00, 0x00});  // 86400e9
  const protocol_error e =
      protocol_error_from([&] { (void)decode_time(view(end_of_day, 7), "t"); });
  EXPECT_EQ(e.offset(), 7U);
  EXPECT_NE(std::string(e.what()).find("outside the day"), std::string::npos) << e.what();
  EXPECT_EQ(decode_time_unchecked(view(end_of_day)), nanoseconds_per_day);  // size checked only
  (void)protocol_error_from([] {
    (void)decode_time(view(b({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})));
  });
  EXPECT_THROW(written([](byte_writer& w) {
                 encode_time(w, std::chrono::nanoseconds{nanoseconds_per_day});
               }),
               std::invalid_argument);
}

TEST(TypedValues, DurationsAreThreeZigZagVints) {
  EXPECT_EQ(decode_duration(view(duration_1mo_2d_3s)), (duration{1, 2, 3'000'000'000}));
  EXPECT_EQ(written([](byte_writer& w) {
              encode_duration(w, duration{1, 2, 3'000'000'000});
            }),
            duration_1mo_2d_3s);
  EXPECT_EQ(decode_duration(view(duration_minus_1mo_minus_1ns)), (duration{-1, 0, -1}));
  EXPECT_EQ(written([](byte_writer& w) {
              encode_duration(w, duration{-1, 0, -1});
            }),
            duration_minus_1mo_minus_1ns);
}

TEST(TypedValues, DurationsRoundTripAtTheLimits) {
  constexpr auto min64 = std::numeric_limits<std::int64_t>::min();
  constexpr auto max64 = std::numeric_limits<std::int64_t>::max();
  constexpr auto min32 = std::numeric_limits<std::int32_t>::min();
  constexpr auto max32 = std::numeric_limits<std::int32_t>::max();
  for (const duration d :
       {duration{0, 0, 0}, duration{max32, max32, max64}, duration{min32, min32, min64},
        duration{0, 0, 63}, duration{0, 0, 64}, duration{0, 0, -64}, duration{0, 0, -65},
        duration{0, 0, 1LL << 55}, duration{0, 0, 1LL << 56}}) {
    const bytes content = written([&](byte_writer& w) { encode_duration(w, d); });
    EXPECT_EQ(decode_duration(view(content)), d)
        << d.months << " " << d.days << " " << d.nanoseconds;
  }
  // The largest values take 9 bytes each: 0xFF, then the 8 bytes of the zig-zag value.
  EXPECT_EQ(written([](byte_writer& w) {
              encode_duration(w, duration{0, 0, min64});
            }),
            b({0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(TypedValues, RejectsMalformedDurations) {
  // The nanoseconds vint announces 4 more bytes, 2 are there.
  const protocol_error overrun = protocol_error_from([] {
    (void)decode_duration(view(b({0x02, 0x04, 0xF1, 0x65, 0xA0}), 10), "d");
  });
  EXPECT_EQ(overrun.field(), "d.nanoseconds");
  EXPECT_EQ(overrun.offset(), 12U);
  EXPECT_NE(std::string(overrun.what()).find("runs past the value"), std::string::npos)
      << overrun.what();
  (void)protocol_error_from([] { (void)decode_duration(view(b({0x02, 0x04}))); });  // 2 vints
  (void)protocol_error_from([] { (void)decode_duration(view(b({0x02, 0x04, 0x06, 0x00}))); });
  (void)protocol_error_from([] { (void)decode_duration(view(b({0x02, 0x01, 0x00}))); });  // 1, -1
  // months of 2^32 (zig-zag 2^33: 5 bytes) do not fit 32 bits.
  const protocol_error wide = protocol_error_from([] {
    (void)decode_duration(view(b({0xF2, 0, 0, 0, 0, 0x00, 0x00})));
  });
  EXPECT_EQ(wide.field(), "value.months");
  EXPECT_THROW(written([](byte_writer& w) {
                 encode_duration(w, duration{1, -1, 0});
               }),
               std::invalid_argument);
}

TEST(TypedValues, TupleElementsFollowTheirDescriptors) {
  const data_type type = data_type::tuple({type_id::int_, type_id::varchar, type_id::int_});
  const std::vector<value_view> fields = decode_fields(type, view(tuple_7_null, 100));
  ASSERT_EQ(fields.size(), 3U);
  EXPECT_EQ(fields[0].offset(), 104U);  // offsets stay those of the whole buffer
  EXPECT_TRUE(fields[1].is_null());
  EXPECT_TRUE(fields[2].is_null());  // missing trailing element
  const bytes seven = b({0, 0, 0, 7});
  const std::vector<value_view> in = {view(seven), value_view::null()};
  EXPECT_EQ(written([&](byte_writer& w) { encode_fields(w, in); }), tuple_7_null);
  const value_view not_set = value_view::not_set();
  EXPECT_THROW(written([&](byte_writer& w) { encode_fields(w, std::span(&not_set, 1)); }),
               std::invalid_argument);
}

TEST(TypedValues, RejectsTuplesLongerThanTheirType) {
  const data_type one = data_type::udt("ks", "t", {"a"}, {type_id::int_});
  const protocol_error extra =
      protocol_error_from([&] { (void)decode_fields(one, view(tuple_7_null), "u"); });
  EXPECT_EQ(extra.field(), "u");
  EXPECT_EQ(extra.offset(), 8U);  // where the unexpected element starts
  // An element whose length runs past the value.
  const protocol_error length = protocol_error_from([&] {
    (void)decode_fields(one, view(b({0, 0, 0, 9, 1})), "u");
  });
  EXPECT_EQ(length.field(), "u[0]");
}

TEST(TypedValues, EveryStrictPrefixOfAVectorFails) {
  for (std::size_t n = 0; n < duration_1mo_2d_3s.size(); ++n) {
    const bytes prefix(duration_1mo_2d_3s.begin(),
                       duration_1mo_2d_3s.begin() + static_cast<std::ptrdiff_t>(n));
    (void)protocol_error_from([&] { (void)decode_duration(view(prefix)); });
  }
  for (std::size_t n = 0; n < decimal_123_45.size() - 1; ++n) {
    const bytes prefix(decimal_123_45.begin(),
                       decimal_123_45.begin() + static_cast<std::ptrdiff_t>(n));
    (void)protocol_error_from([&] { (void)decode_decimal(view(prefix)); });
  }
}

}  // namespace
}  // namespace scopekit::cql::test
