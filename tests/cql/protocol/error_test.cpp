// Tests for scopekit/cql/protocol/error.hpp: field paths, protocol_error's parts, error code names.
#include "scopekit/cql/protocol/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

namespace scopekit::cql::test {
namespace {

static_assert(std::is_nothrow_copy_constructible_v<protocol_error>,
              "an exception type must copy without throwing (cert-err60-cpp)");
static_assert(std::is_base_of_v<std::runtime_error, protocol_error>);
static_assert(std::is_trivially_copyable_v<field_path>, "a field_path is a few words");

TEST(FieldPath, RootIsItsName) {
  EXPECT_EQ(field_path("rows").str(), "rows");
}

TEST(FieldPath, ChainsNamesWithDotsAndIndexesWithBrackets) {
  const field_path rows("rows");
  const field_path cell(rows, "cell", 3);
  const field_path column(cell, 1);
  EXPECT_EQ(column.str(), "rows.cell[3][1]");
  const field_path column2(rows, "columns", 2);
  const field_path type(column2, "type");
  // Temporaries live until the end of the full expression: fine as an argument.
  EXPECT_EQ(field_path(type, "element").str(), "rows.columns[2].type.element");
}

TEST(FieldPath, IndexOnRootHasNoDot) {
  const field_path root("values");
  EXPECT_EQ(field_path(root, 0).str(), "values[0]");
  EXPECT_EQ(field_path(field_path(root, 0), "name").str(), "values[0].name");
}

TEST(ProtocolError, WhatIsFieldThenDetail) {
  const protocol_error e("rows.cell[3][1]", 53,
                         "length 1000 at offset 53 exceeds the 12 bytes left");
  EXPECT_STREQ(e.what(), "rows.cell[3][1]: length 1000 at offset 53 exceeds the 12 bytes left");
  EXPECT_EQ(e.field(), "rows.cell[3][1]");
  EXPECT_EQ(e.offset(), 53U);
}

TEST(ProtocolError, CopyKeepsFieldAndOffset) {
  const protocol_error e("query.flags", 7, "unknown flag bits 0x80 at offset 7");
  const protocol_error copy = e;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.field(), "query.flags");
  EXPECT_EQ(copy.offset(), 7U);
  EXPECT_STREQ(copy.what(), e.what());
}

TEST(ErrorCode, ValuesAreTheSpecs) {
  EXPECT_EQ(static_cast<int>(error_code::protocol_error), 0x000A);
  EXPECT_EQ(static_cast<int>(error_code::unavailable), 0x1000);
  EXPECT_EQ(static_cast<int>(error_code::write_failure), 0x1500);
  EXPECT_EQ(static_cast<int>(error_code::unprepared), 0x2500);
}

TEST(ErrorCode, NamesFollowTheSpec) {
  EXPECT_EQ(to_string(error_code::write_timeout), "Write_timeout");
  EXPECT_EQ(to_string(error_code::already_exists), "Already_exists");
  EXPECT_EQ(to_string(static_cast<error_code>(0x7777)), "unknown error code");
}

}  // namespace
}  // namespace scopekit::cql::test
