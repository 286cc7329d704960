// Tests for cql_export/render.hpp: every CQL type as a CSV field and as a JSON value, from the
// bytes a server sends; CSV quoting (RFC 4180) and JSON escaping; null, empty and zero-byte
// values kept apart; invalid bytes reported as protocol_error naming the column; whole rows.
#include "cql_export/render.hpp"

#include "cql_export/concat.hpp"

#include "scopekit/cql/protocol/data_type.hpp"
#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace scopekit::cql_export {
namespace {

using bytes = std::vector<std::byte>;
using cql::data_type;
using cql::type_id;

bytes b(std::initializer_list<unsigned> xs) {
  bytes out;
  for (const unsigned x : xs) {
    out.push_back(static_cast<std::byte>(x));
  }
  return out;
}

bytes hex(std::string_view digits) {
  bytes out;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(
        static_cast<std::byte>(std::stoul(std::string(digits.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

bytes text(std::string_view s) {
  const auto span = cql::text_bytes(s);
  return {span.begin(), span.end()};
}

/// A tuple or UDT value: one [bytes] per field present (std::nullopt: a null field).
bytes fields(std::initializer_list<std::optional<bytes>> items) {
  bytes out;
  for (const auto& item : items) {
    const std::int32_t length = item ? static_cast<std::int32_t>(item->size()) : -1;
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<std::byte>((static_cast<std::uint32_t>(length) >> shift) & 0xFFU));
    }
    if (item) {
      out.insert(out.end(), item->begin(), item->end());
    }
  }
  return out;
}

bytes of(const data_type& type, const cql::value& v) {
  return cql::serialize_value(type, v);
}

cql::value_view view(const bytes& x) {
  return cql::value_view{std::span<const std::byte>(x)};
}

std::string csv(const data_type& type, const bytes& x) {
  std::string out;
  append_csv_value(out, type, view(x), "c");
  return out;
}

std::string json(const data_type& type, const bytes& x) {
  std::string out;
  append_json_value(out, type, view(x), "c");
  return out;
}

std::string csv_null(const data_type& type) {
  std::string out;
  append_csv_value(out, type, cql::value_view::null(), "c");
  return out;
}

std::string json_null(const data_type& type) {
  std::string out;
  append_json_value(out, type, cql::value_view::null(), "c");
  return out;
}

std::string csv_text(std::string_view s) {
  std::string out;
  append_csv_text(out, s);
  return out;
}

std::string json_text(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

cql::timestamp at_ms(std::int64_t ms) {
  return cql::timestamp{std::chrono::milliseconds{ms}};
}

// ---- CSV quoting (RFC 4180) -------------------------------------------------------------------

TEST(RenderCsv, PlainTextIsWrittenAsIs) {
  EXPECT_EQ(csv_text("plain text; with 'other' punctuation\t"),
            "plain text; with 'other' punctuation\t");
  EXPECT_EQ(csv_text("h\xC3\xA9llo \xE2\x82\xAC"), "h\xC3\xA9llo \xE2\x82\xAC");
}

TEST(RenderCsv, QuotesFieldsWithCommaQuoteCrOrLf) {
  EXPECT_EQ(csv_text("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");  // each quote doubled
  EXPECT_EQ(csv_text("\""), "\"\"\"\"");
  EXPECT_EQ(csv_text("line\rbreak"), "\"line\rbreak\"");
  EXPECT_EQ(csv_text("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(csv_text("\r\n"), "\"\r\n\"");
}

TEST(RenderCsv, NullIsAnEmptyFieldAndEmptyTextIsTwoQuotes) {
  EXPECT_EQ(csv_null(type_id::varchar), "");
  EXPECT_EQ(csv(type_id::varchar, {}), "\"\"");
  EXPECT_EQ(csv(type_id::ascii, {}), "\"\"");
  EXPECT_EQ(csv_null(type_id::int_), "");
  EXPECT_EQ(csv_null(data_type::list(type_id::int_)), "");
}

TEST(RenderCsv, ZeroBytesOfANonStringTypeIsTwoQuotes) {
  EXPECT_EQ(csv(type_id::int_, {}), "\"\"");  // CQL's empty value: present, not null
  EXPECT_EQ(csv(type_id::uuid, {}), "\"\"");
  EXPECT_EQ(csv(type_id::varint, {}), "\"\"");
  EXPECT_EQ(csv(data_type::map(type_id::varchar, type_id::int_), {}), "\"\"");
}

TEST(RenderCsv, BlobsAreHexWithAPrefix) {
  EXPECT_EQ(csv(type_id::blob, b({0xCA, 0xFE, 0x00, 0x0F})), "0xcafe000f");
  EXPECT_EQ(csv(type_id::blob, {}), "0x");  // an empty blob is not null
  EXPECT_EQ(csv_null(type_id::blob), "");
  EXPECT_EQ(csv(data_type::custom("org.example.Thing"), b({0x01, 0xAB})), "0x01ab");
}

TEST(RenderCsv, CollectionsAreCqlLiteralsInOneQuotedField) {
  const data_type ints = data_type::list(type_id::int_);
  EXPECT_EQ(csv(ints, of(ints, cql::value::list{3, 1, 2})), "\"[3, 1, 2]\"");
  const data_type names = data_type::set(type_id::varchar);
  EXPECT_EQ(csv(names, of(names, cql::value::list{"a", "it's"})), "\"{'a', 'it''s'}\"");
  const data_type counts = data_type::map(type_id::varchar, type_id::int_);
  EXPECT_EQ(csv(counts, of(counts, cql::value::map{{"one", 1}, {"two", 2}})),
            "\"{'one': 1, 'two': 2}\"");
  const data_type quoted = data_type::list(type_id::varchar);
  EXPECT_EQ(csv(quoted, of(quoted, cql::value::list{"say \"hi\""})),
            "\"['say \"\"hi\"\"']\"");  // CQL quoting inside, then CSV quoting around
  EXPECT_EQ(csv(ints, of(ints, cql::value::list{})), "[]");  // no comma: no quotes needed
}

// ---- JSON escaping ----------------------------------------------------------------------------

TEST(RenderJson, EscapesQuoteBackslashAndControlCharacters) {
  EXPECT_EQ(json_text("q\" b\\"), "\"q\\\" b\\\\\"");
  EXPECT_EQ(json_text("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_text(std::string_view("\x00\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
  EXPECT_EQ(json_text("\x7f/"), "\"\x7f/\"");  // DEL and '/' need no escape in JSON
}

TEST(RenderJson, NonAsciiUtf8PassesThrough) {
  const std::string utf8 = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80";
  EXPECT_EQ(json_text(utf8), concat("\"", utf8, "\""));
  EXPECT_EQ(json(type_id::varchar, text(utf8)), concat("\"", utf8, "\""));
}

TEST(RenderJson, NullIsNullAndEmptyIsAnEmptyString) {
  EXPECT_EQ(json_null(type_id::varchar), "null");
  EXPECT_EQ(json_null(type_id::int_), "null");
  EXPECT_EQ(json(type_id::varchar, {}), "\"\"");
  EXPECT_EQ(json(type_id::int_, {}), "\"\"");  // zero bytes of an int: not null
  EXPECT_EQ(json(type_id::blob, {}), "\"0x\"");
}

TEST(RenderJson, NanAndInfinitiesAreStrings) {
  EXPECT_EQ(json(type_id::double_, of(type_id::double_, std::numeric_limits<double>::quiet_NaN())),
            "\"NaN\"");
  EXPECT_EQ(json(type_id::double_, of(type_id::double_, std::numeric_limits<double>::infinity())),
            "\"Infinity\"");
  EXPECT_EQ(json(type_id::float_, of(type_id::float_, -std::numeric_limits<float>::infinity())),
            "\"-Infinity\"");
  EXPECT_EQ(csv(type_id::double_, of(type_id::double_, std::numeric_limits<double>::quiet_NaN())),
            "NaN");
  EXPECT_EQ(csv(type_id::float_, of(type_id::float_, std::numeric_limits<float>::infinity())),
            "Infinity");
}

TEST(RenderJson, CollectionsAreArraysAndObjects) {
  const data_type ints = data_type::list(type_id::int_);
  EXPECT_EQ(json(ints, of(ints, cql::value::list{3, 1, 2})), "[3,1,2]");
  const data_type names = data_type::set(type_id::varchar);
  EXPECT_EQ(json(names, of(names, cql::value::list{"a", "b\"c"})), "[\"a\",\"b\\\"c\"]");
  const data_type counts = data_type::map(type_id::varchar, type_id::int_);
  EXPECT_EQ(json(counts, of(counts, cql::value::map{{"one", 1}, {"two", 2}})),
            "{\"one\":1,\"two\":2}");
  const data_type by_id = data_type::map(type_id::int_, type_id::varchar);
  EXPECT_EQ(json(by_id, of(by_id, cql::value::map{{7, "x"}})), "{\"7\":\"x\"}");  // keys: strings
  const data_type nested = data_type::map(type_id::varchar, data_type::list(type_id::double_));
  EXPECT_EQ(json(nested, of(nested, cql::value::map{{"k", cql::value::list{1.5, -0.25}}})),
            "{\"k\":[1.5,-0.25]}");
  EXPECT_EQ(json(ints, of(ints, cql::value::list{})), "[]");
}

// ---- Every type ------------------------------------------------------------------------------

struct type_case {
  const char* what;
  data_type type;
  bytes value;
  std::string csv;
  std::string json;
};

TEST(Render, EveryScalarType) {
  const std::vector<type_case> cases = {
      {"boolean true", type_id::boolean, b({1}), "true", "true"},
      {"boolean false", type_id::boolean, b({0}), "false", "false"},
      {"int", type_id::int_, of(type_id::int_, -42), "-42", "-42"},
      {"bigint min", type_id::bigint, of(type_id::bigint, std::numeric_limits<std::int64_t>::min()),
       "-9223372036854775808", "-9223372036854775808"},
      {"counter", type_id::counter, of(type_id::counter, std::int64_t{7}), "7", "7"},
      {"smallint", type_id::smallint, b({0xFF, 0xFE}), "-2", "-2"},
      {"tinyint", type_id::tinyint, b({0x80}), "-128", "-128"},
      {"float", type_id::float_, of(type_id::float_, 1.5F), "1.5", "1.5"},
      {"float 0.1", type_id::float_, of(type_id::float_, 0.1F), "0.1", "0.1"},
      {"double", type_id::double_, of(type_id::double_, -0.25), "-0.25", "-0.25"},
      {"double large", type_id::double_, of(type_id::double_, 1e300), "1e+300", "1e+300"},
      {"ascii", type_id::ascii, text("ascii"), "ascii", "\"ascii\""},
      {"text", type_id::varchar, text("h\xC3\xA9llo"), "h\xC3\xA9llo", "\"h\xC3\xA9llo\""},
      {"blob", type_id::blob, b({0xCA, 0xFE}), "0xcafe", "\"0xcafe\""},
      {"timestamp", type_id::timestamp, of(type_id::timestamp, at_ms(1'577'934'245'123)),
       "2020-01-02T03:04:05.123Z", "\"2020-01-02T03:04:05.123Z\""},
      {"uuid", type_id::uuid, hex("1122334455664778899aabbccddeeff0"),
       "11223344-5566-4778-899a-abbccddeeff0", "\"11223344-5566-4778-899a-abbccddeeff0\""},
      {"timeuuid", type_id::timeuuid, hex("50554d6e29bb11e5b345feff819cdc9f"),
       "50554d6e-29bb-11e5-b345-feff819cdc9f", "\"50554d6e-29bb-11e5-b345-feff819cdc9f\""},
      {"inet v4", type_id::inet, b({192, 168, 0, 1}), "192.168.0.1", "\"192.168.0.1\""},
      {"inet v6", type_id::inet, b({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), "::1",
       "\"::1\""},
      {"date", type_id::date, b({0x80, 0x00, 0x4D, 0x0B}), "2024-01-01", "\"2024-01-01\""},
      {"time", type_id::time, of(type_id::bigint, std::int64_t{11'045'000'000'006}),
       "03:04:05.000000006", "\"03:04:05.000000006\""},
      {"varint", type_id::varint, hex("018ee90ff6c373e0ee4e3f0ad2"),
       "123456789012345678901234567890", "123456789012345678901234567890"},
      {"decimal", type_id::decimal, b({0, 0, 0, 2, 0x30, 0x39}), "123.45", "123.45"},
      {"custom", data_type::custom("org.example.Thing"), b({0x01}), "0x01", "\"0x01\""},
  };
  for (const type_case& c : cases) {
    EXPECT_EQ(csv(c.type, c.value), c.csv) << c.what;
    EXPECT_EQ(json(c.type, c.value), c.json) << c.what;
  }
}

TEST(Render, VarintsOfAnySize) {
  const std::vector<std::pair<bytes, std::string>> cases = {
      {b({0x00}), "0"},
      {b({0x7F}), "127"},
      {b({0x80}), "-128"},
      {b({0x00, 0x80}), "128"},
      {b({0xFF}), "-1"},
      {b({0x01, 0, 0, 0, 0, 0, 0, 0, 0}), "18446744073709551616"},   // 2^64
      {b({0xFF, 0, 0, 0, 0, 0, 0, 0, 0}), "-18446744073709551616"},  // -2^64
      {hex("fe7116f0093c8c1f11b1c0f52e"), "-123456789012345678901234567890"},
      {b({0x00, 0x3B, 0x9A, 0xCA, 0x00}), "1000000000"},  // a whole chunk of 10^9
  };
  for (const auto& [value, expected] : cases) {
    EXPECT_EQ(csv(type_id::varint, value), expected);
  }
}

TEST(Render, DecimalsAsJavaBigDecimalPrintsThem) {
  // [int] scale, then the unscaled varint.
  const std::vector<std::pair<bytes, std::string>> cases = {
      {b({0, 0, 0, 0, 0xFB}), "-5"},                  // scale 0
      {b({0, 0, 0, 5, 0x01}), "0.00001"},             // plain down to an exponent of -6
      {b({0, 0, 0, 8, 0x01}), "1E-8"},                // then scientific
      {b({0xFF, 0xFF, 0xFF, 0xFD, 0x0F}), "1.5E+4"},  // scale -3: scientific
      {b({0, 0, 0, 2, 0x00}), "0.00"},
      {b({0, 0, 0, 1, 0xFF}), "-0.1"},
      {b({0, 0, 0, 3, 0x01, 0xE2, 0x40}), "123.456"},  // 123456
  };
  for (const auto& [value, expected] : cases) {
    EXPECT_EQ(csv(type_id::decimal, value), expected);
    EXPECT_EQ(json(type_id::decimal, value), expected);
  }
}

TEST(Render, DatesTimesAndTimestampsAtTheirLimits) {
  const auto ts = [](std::int64_t ms) {
    return csv(type_id::timestamp, of(type_id::timestamp, at_ms(ms)));
  };
  EXPECT_EQ(ts(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(ts(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(ts(253'402'300'800'000), "10000-01-01T00:00:00.000Z");
  EXPECT_EQ(ts(-62'167'219'200'000), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(ts(-62'167'219'200'001), "-0001-12-31T23:59:59.999Z");
  EXPECT_NO_THROW(ts(std::numeric_limits<std::int64_t>::min()));
  EXPECT_NO_THROW(ts(std::numeric_limits<std::int64_t>::max()));

  EXPECT_EQ(csv(type_id::date, b({0x80, 0, 0, 0})), "1970-01-01");  // 2^31 is the epoch
  EXPECT_EQ(csv(type_id::date, b({0x7F, 0xFF, 0xFF, 0xFF})), "1969-12-31");
  EXPECT_EQ(csv(type_id::date, b({0, 0, 0, 0})), "-5877641-06-23");  // Cassandra's first date
  EXPECT_EQ(csv(type_id::date, b({0xFF, 0xFF, 0xFF, 0xFF})), "5881580-07-11");  // and last

  const auto time = [](std::int64_t ns) { return csv(type_id::time, of(type_id::bigint, ns)); };
  EXPECT_EQ(time(0), "00:00:00.000000000");
  EXPECT_EQ(time(86'399'999'999'999), "23:59:59.999999999");
  EXPECT_EQ(time(86'400'000'000'000), "86400000000000");  // outside the day: the number
}

TEST(Render, CollectionsOfEveryKindOfElement) {
  const data_type stamps = data_type::list(type_id::timestamp);
  const bytes s = of(stamps, cql::value::list{at_ms(1'577'934'245'123)});
  EXPECT_EQ(csv(stamps, s), "['2020-01-02T03:04:05.123Z']");
  EXPECT_EQ(json(stamps, s), "[\"2020-01-02T03:04:05.123Z\"]");

  const data_type blobs = data_type::list(type_id::blob);
  const bytes bl = of(blobs, cql::value::list{cql::value::blob{std::byte{0xCA}, std::byte{0xFE}}});
  EXPECT_EQ(csv(blobs, bl), "[0xcafe]");
  EXPECT_EQ(json(blobs, bl), "[\"0xcafe\"]");

  const data_type doubles = data_type::set(type_id::double_);
  const bytes d = of(doubles, cql::value::list{std::numeric_limits<double>::quiet_NaN(), 2.0});
  EXPECT_EQ(csv(doubles, d), "\"{NaN, 2}\"");
  EXPECT_EQ(json(doubles, d), "[\"NaN\",2]");

  const data_type ids = data_type::set(type_id::uuid);
  const bytes u = fields({std::nullopt});  // reused below for the null element
  const bytes one_uuid = [] {
    bytes out = b({0, 0, 0, 1, 0, 0, 0, 16});
    const bytes id = hex("1122334455664778899aabbccddeeff0");
    out.insert(out.end(), id.begin(), id.end());
    return out;
  }();
  EXPECT_EQ(csv(ids, one_uuid), "{11223344-5566-4778-899a-abbccddeeff0}");  // bare in CQL
  EXPECT_EQ(json(ids, one_uuid), "[\"11223344-5566-4778-899a-abbccddeeff0\"]");

  const data_type ints = data_type::list(type_id::int_);
  bytes with_null = b({0, 0, 0, 1});
  with_null.insert(with_null.end(), u.begin(), u.end());
  EXPECT_EQ(csv(ints, with_null), "[null]");
  EXPECT_EQ(json(ints, with_null), "[null]");

  const data_type addresses = data_type::map(type_id::inet, type_id::boolean);
  const bytes a = of(
      addresses,
      cql::value::map{
          {cql::inet_address{{std::byte{10}, std::byte{0}, std::byte{0}, std::byte{1}}, 4}, true}});
  EXPECT_EQ(csv(addresses, a), "{'10.0.0.1': true}");
  EXPECT_EQ(json(addresses, a), "{\"10.0.0.1\":true}");
}

TEST(Render, TuplesAndUserDefinedTypes) {
  const data_type pair = data_type::tuple({type_id::int_, type_id::varchar});
  const bytes full = fields({of(type_id::int_, 1), text("x")});
  EXPECT_EQ(csv(pair, full), "\"(1, 'x')\"");
  EXPECT_EQ(json(pair, full), "[1,\"x\"]");
  const bytes short_one = fields({of(type_id::int_, 1)});  // missing trailing fields are null
  EXPECT_EQ(csv(pair, short_one), "\"(1, null)\"");
  EXPECT_EQ(json(pair, short_one), "[1,null]");

  const data_type address =
      data_type::udt("ks", "address", {"street", "Zip"}, {type_id::varchar, type_id::int_});
  const bytes home = fields({text("Main St"), of(type_id::int_, 5)});
  EXPECT_EQ(csv(address, home), "\"{street: 'Main St', \"\"Zip\"\": 5}\"");
  EXPECT_EQ(json(address, home), "{\"street\":\"Main St\",\"Zip\":5}");
}

TEST(Render, InvalidBytesThrowProtocolErrorNamingTheColumn) {
  const auto error_of = [](const data_type& type, const bytes& value) -> std::string {
    try {
      static_cast<void>(csv(type, value));
    } catch (const cql::protocol_error& e) {
      return e.what();
    }
    return "no protocol_error";
  };
  EXPECT_EQ(error_of(type_id::int_, b({1, 2, 3})).rfind("c: ", 0), 0U);
  EXPECT_NE(error_of(type_id::smallint, b({1, 2, 3})).find("smallint value of 3 bytes"),
            std::string::npos);
  EXPECT_NE(error_of(type_id::varchar, b({0xC3})), "no protocol_error");  // truncated UTF-8
  EXPECT_NE(error_of(data_type::list(type_id::int_), b({0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1})),
            "no protocol_error");  // two elements announced, one present
  EXPECT_NE(error_of(data_type::tuple({type_id::int_}), fields({of(type_id::int_, 1), b({})})),
            "no protocol_error");  // more fields than the type has
  EXPECT_NE(error_of(type_id::decimal, b({0, 0, 0, 1})), "no protocol_error");
}

// ---- Rows ------------------------------------------------------------------------------------

std::vector<cql::column_spec> three_columns() {
  return {cql::column_spec{{}, "id", type_id::bigint},
          cql::column_spec{{}, "a,b", type_id::varchar},
          cql::column_spec{{}, "bl\"ob", type_id::blob}};
}

TEST(RowRenderer, CsvHasAHeaderAndEveryLineEndsInCrlf) {
  const row_renderer r{format::csv, three_columns()};
  std::string out;
  r.append_header(out);
  const bytes id = of(type_id::bigint, std::int64_t{7});
  const bytes name = text("x,y");
  const bytes blob = b({0x01});
  const std::vector<cql::value_view> row = {view(id), view(name), view(blob)};
  r.append_row(out, row);
  const std::vector<cql::value_view> nulls = {cql::value_view::null(), cql::value_view::null(),
                                              cql::value_view::null()};
  r.append_row(out, nulls);
  EXPECT_EQ(out, "id,\"a,b\",\"bl\"\"ob\"\r\n7,\"x,y\",0x01\r\n,,\r\n");
}

TEST(RowRenderer, JsonLinesHaveKeysInColumnOrderAndNoHeader) {
  const row_renderer r{format::jsonl, three_columns()};
  std::string out;
  r.append_header(out);
  EXPECT_EQ(out, "");
  const bytes id = of(type_id::bigint, std::int64_t{7});
  const bytes empty;
  const std::vector<cql::value_view> row = {view(id), view(empty), cql::value_view::null()};
  r.append_row(out, row);
  EXPECT_EQ(out, "{\"id\":7,\"a,b\":\"\",\"bl\\\"ob\":null}\n");
}

TEST(RowRenderer, AWrongNumberOfCellsIsRefused) {
  const row_renderer r{format::csv, three_columns()};
  std::string out;
  const std::vector<cql::value_view> two = {cql::value_view::null(), cql::value_view::null()};
  EXPECT_THROW(r.append_row(out, two), std::invalid_argument);
}

}  // namespace
}  // namespace scopekit::cql_export
