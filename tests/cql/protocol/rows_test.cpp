// Tests for scopekit/cql/protocol/rows.hpp: Rows metadata of every shape, the cell table,
// byte-exact re-encoding, the streaming encoder, and hostile counts and lengths.
#include "scopekit/cql/protocol/rows.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"
#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace scopekit::cql::test {
namespace {

namespace vectors = scopekit::cql::test;

static_assert(std::is_nothrow_move_constructible_v<rows_result>);

bytes encode(const rows_result& rows) {
  return written([&](byte_writer& w) { write_rows(w, rows); });
}

std::string text(const value_view& v) {
  return std::string(cql::decode_text(v));
}

TEST(Rows, GlobalTableSpec) {
  const rows_result rows = decode_rows(vectors::rows_global_body);
  const result_metadata& md = rows.metadata();
  EXPECT_EQ(md.column_count, 3);
  ASSERT_TRUE(md.global_table);
  EXPECT_EQ(*md.global_table, (table_spec{"demo", "t"}));
  EXPECT_FALSE(md.has_more_pages());
  EXPECT_FALSE(md.no_metadata);
  ASSERT_EQ(md.columns.size(), 3U);
  EXPECT_EQ(md.columns[0], (column_spec{{"demo", "t"}, "id", type_id::bigint}));
  EXPECT_EQ(md.columns[1].name, "name");
  EXPECT_EQ(md.columns[2].type, data_type::set(type_id::varchar));
  EXPECT_EQ(md.columns[2].table, (table_spec{"demo", "t"}));  // copied from the global spec

  ASSERT_EQ(rows.row_count(), 2U);
  EXPECT_EQ(cql::decode_bigint(rows.row(0)[0]), 1);
  EXPECT_EQ(text(rows.row(0)[1]), "row-1");
  EXPECT_EQ(decode_value(md.columns[2].type, rows.row(0)[2]), value(value::list{"a", "b"}));
  EXPECT_EQ(cql::decode_bigint(rows.cell(1, 0)), 2);
  EXPECT_TRUE(rows.cell(1, 1).is_null());   // null ...
  EXPECT_TRUE(rows.cell(1, 2).is_empty());  // ... and empty stay apart
  EXPECT_FALSE(rows.cell(1, 2).is_null());
  EXPECT_EQ(rows.row(1).size(), 3U);
  EXPECT_EQ(rows.row(1).index(), 1U);
}

TEST(Rows, CellsAreViewsIntoTheBody) {
  const rows_result rows = decode_rows(vectors::rows_global_body);
  const value_view name = rows.cell(0, 1);
  EXPECT_EQ(name.bytes().data(), rows.body().data() + name.offset());
  EXPECT_EQ(name.offset(), 65U);  // where "row-1" starts in the body
}

TEST(Rows, TakeBodyHandsOverTheBufferAndLeavesNoRows) {
  rows_result rows = decode_rows(vectors::rows_global_body);
  const std::byte* data = rows.body().data();
  const std::vector<std::byte> body = std::move(rows).take_body();
  EXPECT_EQ(body.data(), data);  // the same buffer, not a copy
  EXPECT_EQ(body, vectors::rows_global_body);
  EXPECT_EQ(rows.row_count(), 0U);  // nothing left to view into the moved body
  EXPECT_EQ(rows.metadata().column_count, 3);  // the metadata stays
}

TEST(Rows, PerColumnTableSpecs) {
  const rows_result rows = decode_rows(vectors::rows_per_column_body);
  const result_metadata& md = rows.metadata();
  EXPECT_FALSE(md.global_table);
  ASSERT_EQ(md.columns.size(), 2U);
  EXPECT_EQ(md.columns[1], (column_spec{{"system", "local"}, "rpc_address", type_id::inet}));
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(text(rows.cell(0, 0)), "local");
  EXPECT_EQ(to_string(cql::decode_inet(rows.cell(0, 1))), "127.0.0.1");
}

TEST(Rows, NoMetadataWithMorePages) {
  const rows_result rows = decode_rows(vectors::rows_no_metadata_body);
  const result_metadata& md = rows.metadata();
  EXPECT_TRUE(md.no_metadata);
  EXPECT_TRUE(md.columns.empty());
  EXPECT_EQ(md.column_count, 1);
  ASSERT_TRUE(md.has_more_pages());
  EXPECT_EQ(*md.paging_state, b({0xCA, 0xFE}));
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(cql::decode_int(rows.cell(0, 0)), 7);
}

TEST(Rows, EmptyPageCanHaveMorePages) {
  const rows_result rows = decode_rows(vectors::rows_empty_more_pages_body);
  EXPECT_EQ(rows.row_count(), 0U);
  EXPECT_TRUE(rows.metadata().has_more_pages());  // the end is the flag, never the size
}

TEST(Rows, EveryVectorReencodesByteExact) {
  for (const auto& v : vectors::rows_bodies) {
    EXPECT_EQ(encode(decode_rows(*v.body)), *v.body) << v.name;
  }
}

TEST(Rows, DecodesAtAnOffsetInsideTheBody) {
  const bytes body =
      cat({b({0xAA, 0xBB, 0xCC}), vectors::rows_no_metadata_body});  // 3 bytes before
  const rows_result rows = decode_rows(body, 3);
  EXPECT_EQ(rows.cell(0, 0).offset(), vectors::rows_no_metadata_body.size() + 3 - 4);
}

TEST(Rows, EveryStrictPrefixIsAProtocolError) {
  for (const auto& v : vectors::rows_bodies) {
    for (std::size_t n = 0; n < v.body->size(); ++n) {
      const bytes prefix(v.body->begin(), v.body->begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_THROW(decode_rows(prefix), protocol_error) << v.name << " prefix " << n;
    }
  }
}

TEST(Rows, TrailingBytesAreIgnored) {
  const bytes body = cat({vectors::rows_no_metadata_body, b({0x01, 0x02})});
  EXPECT_EQ(decode_rows(body), decode_rows(vectors::rows_no_metadata_body));
}

// ---- Equality --------------------------------------------------------------------------------

TEST(Rows, EqualityComparesCellsNotOffsets) {
  const bytes shifted = cat({b({0x00}), vectors::rows_global_body});
  EXPECT_EQ(decode_rows(shifted, 1), decode_rows(vectors::rows_global_body));
  bytes changed = vectors::rows_global_body;
  changed.back() = std::byte{0x01};  // the last cell: empty -> the one byte 09
  changed.push_back(std::byte{0x09});
  EXPECT_NE(decode_rows(changed), decode_rows(vectors::rows_global_body));
}

// ---- The streaming encoder ------------------------------------------------------------------

TEST(RowsEncoder, ReproducesTheGlobalVector) {
  result_metadata md;
  md.column_count = 3;
  md.global_table = table_spec{"demo", "t"};
  md.columns = {{{"demo", "t"}, "id", type_id::bigint},
                {{"demo", "t"}, "name", type_id::varchar},
                {{"demo", "t"}, "tags", data_type::set(type_id::varchar)}};
  bytes out;
  byte_writer w(out);
  rows_encoder rows(w, md);
  rows.add_bigint(1);
  rows.add_text("row-1");
  rows.add_value(md.columns[2].type, value::list{"a", "b"});
  rows.add_bigint(2);
  rows.add_null();
  rows.add_cell(bytes{});
  EXPECT_EQ(rows.cells(), 6U);
  rows.finish();
  EXPECT_EQ(out, vectors::rows_global_body);
}

/// The metadata of vectors::rows_no_metadata_body: one column, no metadata, paging state CAFE.
result_metadata no_metadata_with_paging_state() {
  result_metadata md;
  md.column_count = 1;
  md.no_metadata = true;
  md.paging_state = b({0xCA, 0xFE});
  return md;
}

TEST(RowsEncoder, ReproducesTheNoMetadataVector) {
  bytes out;
  byte_writer w(out);
  rows_encoder rows(w, no_metadata_with_paging_state());
  rows.add_int(7);
  rows.finish();
  EXPECT_EQ(out, vectors::rows_no_metadata_body);
}

TEST(RowsEncoder, CellsFilledInPlaceMatchCopiedCells) {
  bytes out;
  byte_writer w(out);
  rows_encoder rows(w, no_metadata_with_paging_state());
  EXPECT_EQ(rows.cells_start(), out.size());  // right after rows_count
  const std::span<std::byte> cell = rows.add_cell_space(4);
  ASSERT_EQ(cell.size(), 4U);
  store_be(std::int32_t{7}, cell);
  EXPECT_EQ(rows.cells(), 1U);
  rows.finish();
  EXPECT_EQ(out, vectors::rows_no_metadata_body);  // the vector rows.add_int(7) reproduces
}

TEST(RowsEncoder, PartialRowIsALogicError) {
  result_metadata md;
  md.column_count = 2;
  md.no_metadata = true;
  bytes out;
  byte_writer w(out);
  rows_encoder rows(w, md);
  rows.add_int(1);
  EXPECT_THROW(rows.finish(), std::logic_error);
}

TEST(RowsMetadata, InconsistentMetadataIsRejectedWhenEncoding) {
  bytes out;
  byte_writer w(out);
  result_metadata wrong_count;
  wrong_count.column_count = 2;
  wrong_count.columns = {{{"k", "t"}, "a", type_id::int_}};
  EXPECT_THROW(write_result_metadata(w, wrong_count), std::invalid_argument);
  result_metadata outside;
  outside.column_count = 1;
  outside.global_table = table_spec{"k", "t"};
  outside.columns = {{{"k", "other"}, "a", type_id::int_}};
  EXPECT_THROW(write_result_metadata(w, outside), std::invalid_argument);
}

TEST(RowsEncoder, ManyRowsRoundTrip) {
  result_metadata md;
  md.column_count = 2;
  md.global_table = table_spec{"demo", "rows"};
  md.columns = {{{"demo", "rows"}, "id", type_id::bigint},
                {{"demo", "rows"}, "name", type_id::varchar}};
  bytes out;
  byte_writer w(out);
  rows_encoder enc(w, md);
  for (std::int64_t id = 0; id < 1000; ++id) {
    enc.add_bigint(id);
    enc.add_text("row-" + std::to_string(id));
  }
  enc.finish();
  const rows_result rows = decode_rows(out);
  ASSERT_EQ(rows.row_count(), 1000U);
  EXPECT_EQ(cql::decode_bigint(rows.cell(999, 0)), 999);
  EXPECT_EQ(text(rows.cell(999, 1)), "row-999");
  EXPECT_EQ(encode(rows), out);
}

// ---- Hostile input --------------------------------------------------------------------------

TEST(RowsHostile, CellLengthBeyondTheBody) {
  bytes body = vectors::rows_per_column_body;
  // The last cell (inet) says 4 bytes: claim 1000.
  const std::size_t length_at = body.size() - 8;
  body[length_at + 2] = std::byte{0x03};
  body[length_at + 3] = std::byte{0xE8};
  const auto e = protocol_error_from([&] { decode_rows(body); });
  EXPECT_STREQ(e.what(), ("rows.cell[0][1]: length 1000 at offset " + std::to_string(length_at) +
                          " exceeds the 4 bytes left")
                             .c_str());
  EXPECT_EQ(e.offset(), length_at);
}

TEST(RowsHostile, NegativeCellLengthOtherThanNull) {
  bytes body = vectors::rows_no_metadata_body;
  const std::size_t length_at = body.size() - 8;
  body[length_at] = std::byte{0xFF};
  body[length_at + 1] = std::byte{0xFF};
  body[length_at + 2] = std::byte{0xFF};
  body[length_at + 3] = std::byte{0xFE};  // -2 is "not set": not a [bytes] length
  const auto e = protocol_error_from([&] { decode_rows(body); });
  EXPECT_STREQ(
      e.what(),
      ("rows.cell[0][0]: invalid length -2 at offset " + std::to_string(length_at)).c_str());
}

TEST(RowsHostile, HugeRowCountFailsWithoutAllocating) {
  const bytes body = cat({b({0x00, 0x00, 0x00, 0x02}),  // kind Rows
                          b({0x00, 0x00, 0x00, 0x04}),  // flags: no_metadata
                          b({0x00, 0x00, 0x10, 0x00}),  // columns_count 4096
                          b({0x7F, 0xFF, 0xFF, 0xFF}),  // rows_count 2^31 - 1
                          bytes(12)});
  const long long before = scopekit::test::allocated_bytes();
  const auto e = protocol_error_from([&] { decode_rows(body); });
  const long long allocated = scopekit::test::allocated_bytes() - before;
  EXPECT_STREQ(e.what(),
               "rows.rows_count: count 8796093018112 at offset 12 needs at least 4 bytes each, "
               "only 12 left");
  EXPECT_LT(allocated, 4096);  // the error message, not 2^43 cells
}

TEST(RowsHostile, HugeColumnCountFailsWithoutAllocating) {
  const bytes body = cat({b({0x00, 0x00, 0x00, 0x02}),  // kind Rows
                          b({0x00, 0x00, 0x00, 0x00}),  // flags: none
                          b({0x7F, 0xFF, 0xFF, 0xFF}),  // columns_count 2^31 - 1
                          bytes(20)});
  const long long before = scopekit::test::allocated_bytes();
  const auto e = protocol_error_from([&] { decode_rows(body); });
  const long long allocated = scopekit::test::allocated_bytes() - before;
  EXPECT_EQ(e.field(), "rows.column_count");
  EXPECT_LT(allocated, 4096);
}

TEST(RowsHostile, NegativeCountsAndUnknownFlags) {
  const bytes negative_columns =
      cat({b({0, 0, 0, 2}), b({0, 0, 0, 4}), b({0xFF, 0xFF, 0xFF, 0xFF}), b({0, 0, 0, 0})});
  EXPECT_STREQ(protocol_error_from([&] { decode_rows(negative_columns); }).what(),
               "rows.column_count: negative column count -1 at offset 8");
  const bytes negative_rows =
      cat({b({0, 0, 0, 2}), b({0, 0, 0, 4}), b({0, 0, 0, 1}), b({0xFF, 0xFF, 0xFF, 0xFE})});
  EXPECT_STREQ(protocol_error_from([&] { decode_rows(negative_rows); }).what(),
               "rows.rows_count: negative row count -2 at offset 12");
  const bytes unknown_flag =
      cat({b({0, 0, 0, 2}), b({0, 0, 0, 0x0C}), b({0, 0, 0, 1}), b({0, 0, 0, 0})});
  EXPECT_STREQ(protocol_error_from([&] { decode_rows(unknown_flag); }).what(),
               "rows.flags: unknown flag bits 0x00000008 at offset 4");
  const bytes not_rows = b({0, 0, 0, 1});
  EXPECT_STREQ(protocol_error_from([&] { decode_rows(not_rows); }).what(),
               "result.kind: kind 1 at offset 0, expected Rows (2)");
}

TEST(RowsHostile, BadColumnTypeNamesTheColumn) {
  bytes body = vectors::rows_global_body;
  body[34] = std::byte{0x0A};  // "name" column type varchar (0x000D at 33) -> 0x000A
  const auto e = protocol_error_from([&] { decode_rows(body); });
  EXPECT_STREQ(e.what(), "rows.columns[1].type: unknown type id 0x000a at offset 33");
}

TEST(RowsPerformance, NoAllocationPerRowOrCell) {
  auto page = [](int row_count) {
    result_metadata md;
    md.column_count = 2;
    md.no_metadata = true;
    bytes out;
    byte_writer w(out);
    rows_encoder enc(w, md);
    for (int i = 0; i < row_count; ++i) {
      enc.add_bigint(i);
      enc.add_text("payload");
    }
    enc.finish();
    return out;
  };
  bytes small = page(10);
  bytes large = page(5000);
  const long before_small = scopekit::test::allocations();
  const rows_result a = decode_rows(std::move(small));
  const long small_allocations = scopekit::test::allocations() - before_small;
  const long before_large = scopekit::test::allocations();
  const rows_result c = decode_rows(std::move(large));
  const long large_allocations = scopekit::test::allocations() - before_large;
  EXPECT_EQ(large_allocations, small_allocations);  // the cell table, once, whatever the size
  EXPECT_LE(large_allocations, 1);
  EXPECT_EQ(c.row_count(), 5000U);
  EXPECT_EQ(a.row_count(), 10U);
}

}  // namespace
}  // namespace scopekit::cql::test
