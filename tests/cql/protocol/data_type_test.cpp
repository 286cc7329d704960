// Tests for scopekit/cql/protocol/data_type.hpp: [option] descriptors of every kind, byte-exact,
// and hostile descriptors (unknown ids, huge counts, deep nesting).
#include "scopekit/cql/protocol/data_type.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace scopekit::cql::test {
namespace {

static_assert(std::is_copy_constructible_v<data_type>);
static_assert(std::is_nothrow_move_constructible_v<data_type>);

bytes encode(const data_type& t) {
  return written([&](byte_writer& w) { write_data_type(w, t); });
}

data_type decode(const bytes& in) {
  byte_reader r(in);
  data_type t = read_data_type(r, "type");
  EXPECT_TRUE(r.at_end());
  return t;
}

// Encodes `type`, checks the bytes, decodes them back, and checks every strict prefix fails.
void expect_wire(const data_type& type, const bytes& wire) {
  EXPECT_EQ(encode(type), wire) << type.to_string();
  EXPECT_EQ(decode(wire), type) << type.to_string();
  for (std::size_t n = 0; n < wire.size(); ++n) {
    byte_reader r(std::span<const std::byte>(wire).first(n));
    EXPECT_THROW(read_data_type(r, "type"), scopekit::cql::protocol_error) << "prefix " << n;
  }
}

TEST(DataType, NativeTypesAreTheirIdOnly) {
  expect_wire(type_id::ascii, b({0x00, 0x01}));
  expect_wire(type_id::bigint, b({0x00, 0x02}));
  expect_wire(type_id::blob, b({0x00, 0x03}));
  expect_wire(type_id::boolean, b({0x00, 0x04}));
  expect_wire(type_id::double_, b({0x00, 0x07}));
  expect_wire(type_id::float_, b({0x00, 0x08}));
  expect_wire(type_id::int_, b({0x00, 0x09}));
  expect_wire(type_id::timestamp, b({0x00, 0x0B}));
  expect_wire(type_id::uuid, b({0x00, 0x0C}));
  expect_wire(type_id::varchar, b({0x00, 0x0D}));
  expect_wire(type_id::timeuuid, b({0x00, 0x0F}));
  expect_wire(type_id::inet, b({0x00, 0x10}));
  expect_wire(type_id::tinyint, b({0x00, 0x14}));
}

TEST(DataType, TextIsVarchar) {
  EXPECT_EQ(data_type(type_id::text), data_type(type_id::varchar));
  EXPECT_TRUE(data_type(type_id::text).is_native());
}

TEST(DataType, Collections) {
  expect_wire(data_type::list(type_id::int_), b({0x00, 0x20, 0x00, 0x09}));
  expect_wire(data_type::set(type_id::varchar), b({0x00, 0x22, 0x00, 0x0D}));
  expect_wire(data_type::map(type_id::varchar, data_type::list(type_id::int_)),
              b({0x00, 0x21,                 // map
                 0x00, 0x0D,                 //   key: varchar
                 0x00, 0x20, 0x00, 0x09}));  //   value: list<int>
}

TEST(DataType, TupleUdtAndCustom) {
  expect_wire(data_type::tuple({type_id::int_, type_id::blob}),
              b({0x00, 0x31, 0x00, 0x02, 0x00, 0x09, 0x00, 0x03}));
  expect_wire(data_type::udt("ks", "addr", {"street", "zip"}, {type_id::varchar, type_id::int_}),
              cat({b({0x00, 0x30}),                                  // udt
                   b({0x00, 0x02}), str("ks"),                       // keyspace
                   b({0x00, 0x04}), str("addr"),                     // name
                   b({0x00, 0x02}),                                  // 2 fields
                   b({0x00, 0x06}), str("street"), b({0x00, 0x0D}),  //   street varchar
                   b({0x00, 0x03}), str("zip"), b({0x00, 0x09})}));  //   zip int
  expect_wire(data_type::custom("org.example.T"),
              cat({b({0x00, 0x00, 0x00, 0x0D}), str("org.example.T")}));
}

TEST(DataType, PrintsAsCql) {
  EXPECT_EQ(data_type(type_id::int_).to_string(), "int");
  EXPECT_EQ(data_type::map(type_id::varchar, data_type::list(type_id::int_)).to_string(),
            "map<varchar, list<int>>");
  EXPECT_EQ(data_type::tuple({type_id::int_, type_id::blob}).to_string(), "tuple<int, blob>");
  EXPECT_EQ(data_type::udt("ks", "addr", {}, {}).to_string(), "ks.addr");
  EXPECT_EQ(data_type::custom("a.B").to_string(), "'a.B'");
}

TEST(DataType, IdTenWasDroppedInV4) {
  const bytes in = b({0x00, 0x0A});
  const auto e = protocol_error_from([&] { decode(in); });
  EXPECT_STREQ(e.what(), "type: unknown type id 0x000a at offset 0");
}

TEST(DataType, UnknownIdInsideACollectionNamesTheElement) {
  const bytes in = b({0x00, 0x20, 0x00, 0x99});
  const auto e = protocol_error_from([&] { decode(in); });
  EXPECT_STREQ(e.what(), "type.element: unknown type id 0x0099 at offset 2");
}

TEST(DataType, HugeTupleCountIsRejected) {
  const bytes in = b({0x00, 0x31, 0xFF, 0xFF, 0x00, 0x09});
  const auto e = protocol_error_from([&] { decode(in); });
  EXPECT_EQ(e.field(), "type.elements");
  EXPECT_EQ(e.offset(), 2U);
}

TEST(DataType, NestingDeeperThanTheLimitIsRejected) {
  bytes deep;
  for (int i = 0; i < scopekit::cql::max_type_depth; ++i) {
    deep.insert(deep.end(), {std::byte{0x00}, std::byte{0x20}});  // list<
  }
  deep.insert(deep.end(), {std::byte{0x00}, std::byte{0x09}});  // int
  EXPECT_NO_THROW(decode(deep));                                // 32 levels: fine
  const bytes deeper = cat({b({0x00, 0x20}), deep});
  const auto e = protocol_error_from([&] { decode(deeper); });
  EXPECT_EQ(e.offset(), 64U);  // the 33rd list
}

TEST(DataType, HostileNestingCannotExhaustTheStack) {
  bytes deep;
  for (int i = 0; i < 100000; ++i) {
    deep.insert(deep.end(), {std::byte{0x00}, std::byte{0x22}});  // set<set<...
  }
  EXPECT_THROW(decode(deep), scopekit::cql::protocol_error);
}

}  // namespace
}  // namespace scopekit::cql::test
