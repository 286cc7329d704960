// Tests for scopekit/cql/protocol/buffer.hpp: the §3 notations, big-endian, bounds and error
// reports.
#include "scopekit/cql/protocol/buffer.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace scopekit::cql::test {
namespace {

static_assert(std::is_trivially_copyable_v<value_view>);
static_assert(std::is_nothrow_default_constructible_v<value_view>);

TEST(ByteReader, ReadsIntegersBigEndian) {
  const bytes in = b({0xAB,                                              // [byte]
                      0xFF, 0xFE,                                        // [short] 65534
                      0xFF, 0xFF, 0xFF, 0xFE,                            // [int] -2
                      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});  // [long]
  byte_reader r(in);
  EXPECT_EQ(r.read_byte("b"), 0xAB);
  EXPECT_EQ(r.read_short("s"), 65534);  // [short] is unsigned
  EXPECT_EQ(r.read_int("i"), -2);
  EXPECT_EQ(r.read_long("l"), 0x0102030405060708);
  EXPECT_TRUE(r.at_end());
}

TEST(ByteReader, ReadsStringsAsViews) {
  const bytes in = cat({b({0x00, 0x03}), str("abc"), b({0x00, 0x00, 0x00, 0x02}), str("de")});
  byte_reader r(in);
  const std::string_view s = r.read_string("s");
  EXPECT_EQ(s, "abc");
  EXPECT_EQ(static_cast<const void*>(s.data()), static_cast<const void*>(in.data() + 2));
  EXPECT_EQ(r.read_long_string("l"), "de");
  EXPECT_TRUE(r.at_end());
}

TEST(ByteReader, BytesNullEmptyAndNotSetAreDistinct) {
  const bytes in = b({0xFF, 0xFF, 0xFF, 0xFF,          // [bytes] null
                      0x00, 0x00, 0x00, 0x00,          // [bytes] empty
                      0xFF, 0xFF, 0xFF, 0xFE,          // [value] not set
                      0x00, 0x00, 0x00, 0x01, 0x2A});  // [bytes] 2a
  byte_reader r(in);
  const value_view null = r.read_bytes("a");
  const value_view empty = r.read_bytes("b");
  const value_view not_set = r.read_value("c");
  const value_view one = r.read_bytes("d");
  EXPECT_TRUE(null.is_null());
  EXPECT_FALSE(null.is_empty());
  EXPECT_TRUE(empty.is_empty());
  EXPECT_FALSE(empty.is_null());
  EXPECT_TRUE(not_set.is_not_set());
  EXPECT_EQ(one.length(), 1);
  EXPECT_EQ(one.bytes()[0], std::byte{0x2A});
  EXPECT_EQ(one.offset(), 16U);  // where the content starts
}

TEST(ByteReader, NotSetIsOnlyAValue) {
  const bytes in = b({0xFF, 0xFF, 0xFF, 0xFE});
  byte_reader r(in);
  const auto e = protocol_error_from([&] { r.read_bytes("cell"); });
  EXPECT_STREQ(e.what(), "cell: invalid length -2 at offset 0");
}

TEST(ByteReader, NegativeLengthsBelowMinusTwoAreErrors) {
  const bytes in = b({0xFF, 0xFF, 0xFF, 0xFD});
  byte_reader r(in);
  const auto e = protocol_error_from([&] { r.read_value("query.values[0]"); });
  EXPECT_STREQ(e.what(), "query.values[0]: invalid length -3 at offset 0");
  EXPECT_EQ(e.offset(), 0U);
}

TEST(ByteReader, LengthBeyondTheBufferNamesFieldAndOffset) {
  const bytes in = cat({b({0x01, 0x02}), b({0x00, 0x00, 0x03, 0xE8}), bytes(12)});
  byte_reader r(in, 51);  // this buffer starts at offset 51 of the frame body
  r.read_short("skip");
  const auto e = protocol_error_from([&] { r.read_bytes("rows.cell[3][1]"); });
  EXPECT_STREQ(e.what(), "rows.cell[3][1]: length 1000 at offset 53 exceeds the 12 bytes left");
  EXPECT_EQ(e.field(), "rows.cell[3][1]");
  EXPECT_EQ(e.offset(), 53U);
}

TEST(ByteReader, TruncatedFixedFieldSaysWhatIsMissing) {
  const bytes in = b({0x00, 0x01, 0x02});
  byte_reader r(in);
  r.read_byte("first");
  const auto e = protocol_error_from([&] { r.read_int("count"); });
  EXPECT_STREQ(e.what(), "count: needs 4 bytes at offset 1, only 2 left");
}

TEST(ByteReader, StringLengthBeyondTheBuffer) {
  const bytes in = cat({b({0x00, 0x10}), str("short")});
  byte_reader r(in);
  const auto e = protocol_error_from([&] { r.read_string("startup.options[0].key"); });
  EXPECT_STREQ(e.what(), "startup.options[0].key: length 16 at offset 0 exceeds the 5 bytes left");
}

TEST(ByteReader, NegativeLongStringIsAnError) {
  const bytes in = b({0x80, 0x00, 0x00, 0x00});
  byte_reader r(in);
  const auto e = protocol_error_from([&] { r.read_long_string("query.statement"); });
  EXPECT_STREQ(e.what(), "query.statement: invalid length -2147483648 at offset 0");
}

TEST(ByteReader, HugeCountIsRejectedBeforeReserving) {
  const bytes in = cat({b({0xFF, 0xFF}), b({0x00, 0x01}), str("a")});  // 65535 strings claimed
  byte_reader r(in);
  const auto e = protocol_error_from([&] { r.read_string_list("register.event_types"); });
  EXPECT_STREQ(e.what(),
               "register.event_types: count 65535 at offset 0 needs at least 2 bytes each, "
               "only 3 left");
}

TEST(ByteReader, NegativeIntCountIsAnError) {
  const bytes in = b({0xFF, 0xFF, 0xFF, 0xF0});
  byte_reader r(in);
  const auto e = protocol_error_from([&] { r.read_int_count("value", 4); });
  EXPECT_STREQ(e.what(), "value: negative count -16 at offset 0");
}

TEST(ByteReader, MaxIntCountWithFewBytesIsAnError) {
  const bytes in = cat({b({0x7F, 0xFF, 0xFF, 0xFF}), bytes(8)});
  byte_reader r(in);
  const auto e = protocol_error_from([&] { r.read_int_count("value", 4); });
  EXPECT_EQ(e.offset(), 0U);
}

TEST(ByteReader, ExpectEndReportsTrailingBytes) {
  const bytes in = b({0x00, 0x01, 0x02});
  byte_reader r(in);
  r.read_byte("x");
  const auto e = protocol_error_from([&] { r.expect_end("options"); });
  EXPECT_STREQ(e.what(), "options: 2 unexpected bytes after the message at offset 1");
}

TEST(ByteReader, EveryTruncationOfAStringMultimapThrows) {
  const bytes in = cat({b({0x00, 0x01}), b({0x00, 0x01}), str("k"), b({0x00, 0x02}),
                        b({0x00, 0x01}), str("a"), b({0x00, 0x00})});
  for (std::size_t n = 0; n < in.size(); ++n) {
    byte_reader r(std::span<const std::byte>(in).first(n));
    EXPECT_THROW(r.read_string_multimap("m"), scopekit::cql::protocol_error) << "prefix " << n;
  }
  byte_reader whole(in);
  const string_multimap m = whole.read_string_multimap("m");
  EXPECT_EQ(m, (string_multimap{{"k", {"a", ""}}}));
}

TEST(ByteWriter, WritesIntegersBigEndian) {
  bytes out;
  byte_writer w(out);
  w.write_byte(0xAB);
  w.write_short(0x0102);
  w.write_int(-2);
  w.write_long(0x0102030405060708);
  EXPECT_EQ(out, b({0xAB, 0x01, 0x02, 0xFF, 0xFF, 0xFF, 0xFE, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                    0x07, 0x08}));
}

TEST(ByteWriter, WritesLengthPrefixedFields) {
  bytes out;
  byte_writer w(out);
  w.write_string("ab");
  w.write_long_string("c");
  w.write_bytes(b({0x01}));
  w.write_null();
  w.write_not_set();
  w.write_short_bytes(b({0x02, 0x03}));
  EXPECT_EQ(out, cat({b({0x00, 0x02}), str("ab"), b({0x00, 0x00, 0x00, 0x01}), str("c"),
                      b({0x00, 0x00, 0x00, 0x01, 0x01}), b({0xFF, 0xFF, 0xFF, 0xFF}),
                      b({0xFF, 0xFF, 0xFF, 0xFE}), b({0x00, 0x02, 0x02, 0x03})}));
}

TEST(ByteWriter, WriteValueKeepsNullNotSetAndEmptyApart) {
  bytes out;
  byte_writer w(out);
  const bytes none;
  w.write_value(value_view::null());
  w.write_value(value_view::not_set());
  w.write_value(value_view{none});
  EXPECT_EQ(out, b({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x00, 0x00, 0x00}));
}

TEST(ByteWriter, StringLongerThanAShortIsALengthError) {
  bytes out;
  byte_writer w(out);
  const std::string big(65536, 'x');
  EXPECT_THROW(w.write_string(big), std::length_error);
  EXPECT_NO_THROW(w.write_string(std::string_view(big).substr(1)));  // 65535 fits
}

TEST(ByteWriter, PatchIntOverwritesInPlace) {
  bytes out;
  byte_writer w(out);
  w.write_byte(9);
  w.write_int(0);
  w.patch_int(1, 0x01020304);
  EXPECT_EQ(out, b({0x09, 0x01, 0x02, 0x03, 0x04}));
}

TEST(ByteWriterAndReader, CollectionsRoundTrip) {
  const string_list list{"a", "", "ccc"};
  const string_map map{{"CQL_VERSION", "3.0.0"}, {"COMPRESSION", ""}};
  const string_multimap multimap{{"k", {"x", "y"}}, {"empty", {}}};
  const bytes_map payload{{"p", bytes{std::byte{1}}}, {"null", std::nullopt}, {"e", bytes{}}};
  bytes out;
  byte_writer w(out);
  w.write_string_list(list);
  w.write_string_map(map);
  w.write_string_multimap(multimap);
  w.write_bytes_map(payload);
  byte_reader r(out);
  EXPECT_EQ(r.read_string_list("a"), list);
  EXPECT_EQ(r.read_string_map("b"), map);
  EXPECT_EQ(r.read_string_multimap("c"), multimap);
  EXPECT_EQ(r.read_bytes_map("d"), payload);
  EXPECT_TRUE(r.at_end());
}

TEST(ByteWriter, BytesMapWireFormat) {
  bytes out;
  byte_writer w(out);
  w.write_bytes_map({{"k", bytes{std::byte{7}}}, {"n", std::nullopt}});
  EXPECT_EQ(out, cat({b({0x00, 0x02}),                                            // 2 entries
                      b({0x00, 0x01}), str("k"), b({0, 0, 0, 1, 0x07}),           // "k" -> 07
                      b({0x00, 0x01}), str("n"), b({0xFF, 0xFF, 0xFF, 0xFF})}));  // "n" -> null
}

}  // namespace
}  // namespace scopekit::cql::test
