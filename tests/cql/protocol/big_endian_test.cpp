// Tests for scopekit/cql/protocol/big_endian.hpp: round trips, sign extension, boundary values.
#include "scopekit/cql/protocol/big_endian.hpp"

#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>

namespace scopekit::cql::test {
namespace {

static_assert(wire_integer<std::int8_t> && wire_integer<std::uint64_t>);
static_assert(!wire_integer<bool>, "a bool has no wire width of its own");

// Usable in constant expressions: a round trip computed by the compiler.
constexpr std::int32_t round_trip_int(std::int32_t v) {
  std::array<std::byte, 4> bytes{};
  store_be(v, bytes);
  return load_be<std::int32_t>(bytes);
}
static_assert(round_trip_int(-123'456'789) == -123'456'789);
static_assert(round_trip_int(std::numeric_limits<std::int32_t>::min()) ==
              std::numeric_limits<std::int32_t>::min());

template <class T>
void expect_round_trips(T v) {
  std::array<std::byte, sizeof(T)> bytes{};
  store_be(v, bytes);
  EXPECT_EQ(load_be<T>(bytes), v) << "value " << +v;
}

TEST(BigEndian, LoadsMostSignificantByteFirst) {
  const bytes in = b({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
  EXPECT_EQ(load_be<std::uint8_t>(in), 0x01U);
  EXPECT_EQ(load_be<std::uint16_t>(in), 0x0102U);
  EXPECT_EQ(load_be<std::uint32_t>(in), 0x01020304U);
  EXPECT_EQ(load_be<std::uint64_t>(in), 0x0102030405060708ULL);
}

TEST(BigEndian, StoresMostSignificantByteFirst) {
  std::array<std::byte, 8> out{};
  store_be(std::uint64_t{0x0102030405060708ULL}, out);
  EXPECT_EQ(bytes(out.begin(), out.end()), b({1, 2, 3, 4, 5, 6, 7, 8}));
  std::array<std::byte, 2> small{};
  store_be(std::int16_t{-2}, small);
  EXPECT_EQ(bytes(small.begin(), small.end()), b({0xFF, 0xFE}));  // two's complement
}

TEST(BigEndian, SignExtendsSignedTypes) {
  const bytes ones = b({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  EXPECT_EQ(load_be<std::int8_t>(ones), -1);
  EXPECT_EQ(load_be<std::int16_t>(ones), -1);
  EXPECT_EQ(load_be<std::int32_t>(ones), -1);
  EXPECT_EQ(load_be<std::int64_t>(ones), -1);
  EXPECT_EQ(load_be<std::uint16_t>(ones), 0xFFFFU);  // unsigned: no sign
  EXPECT_EQ(load_be<std::int16_t>(b({0x80, 0x00})), -32768);
  EXPECT_EQ(load_be<std::int16_t>(b({0x7F, 0xFF})), 32767);
}

TEST(BigEndian, ReadsOnlyItsWidth) {
  const bytes in = b({0x00, 0x2A, 0xFF, 0xFF});
  EXPECT_EQ(load_be<std::int16_t>(in), 42);  // the bytes after the first two are not read
  std::array<std::byte, 4> out{std::byte{9}, std::byte{9}, std::byte{9}, std::byte{9}};
  store_be(std::uint16_t{0x0102}, out);
  EXPECT_EQ(bytes(out.begin(), out.end()), b({1, 2, 9, 9}));  // nor written
}

TEST(BigEndian, RoundTripsBoundaryValues) {
  expect_round_trips(std::numeric_limits<std::int8_t>::min());
  expect_round_trips(std::numeric_limits<std::int8_t>::max());
  expect_round_trips(std::numeric_limits<std::uint8_t>::max());
  expect_round_trips(std::numeric_limits<std::int16_t>::min());
  expect_round_trips(std::numeric_limits<std::int16_t>::max());
  expect_round_trips(std::numeric_limits<std::uint16_t>::max());
  expect_round_trips(std::numeric_limits<std::int32_t>::min());
  expect_round_trips(std::numeric_limits<std::int32_t>::max());
  expect_round_trips(std::numeric_limits<std::uint32_t>::max());
  expect_round_trips(std::numeric_limits<std::int64_t>::min());
  expect_round_trips(std::numeric_limits<std::int64_t>::max());
  expect_round_trips(std::numeric_limits<std::uint64_t>::max());
  expect_round_trips(std::int64_t{0});
  expect_round_trips(std::int32_t{-1});
}

}  // namespace
}  // namespace scopekit::cql::test
