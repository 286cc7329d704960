// Private to the codec (not installed): the parts that Rows metadata (spec §4.2.5.2) and
// Prepared bind-marker metadata (§4.2.5.4) share, defined in rows.cpp.
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/rows.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace scopekit::cql::detail {

/// The <global_table_spec>, if the flags announce one, and the <col_spec_i> that follow it.
struct column_specs {
  std::optional<table_spec> global_table;
  std::vector<column_spec> columns;
};

/// Reads the [int] flags at `field`; throws protocol_error if a bit outside `known` is set.
std::int32_t read_metadata_flags(byte_reader& in, const field_path& field, std::int32_t known);

/// Reads the [int] column count at `field`; throws protocol_error if it is negative.
std::int32_t read_column_count(byte_reader& in, const field_path& field);

/// Reads the <global_table_spec> under `field`.global_table if `flags` has
/// rows_flags::global_tables_spec, then `column_count` column specs under `field`.columns; a
/// column's table is the global one when there is one. Throws protocol_error, naming
/// `count_field` at `count_offset`, if the bytes left cannot hold that many columns.
column_specs read_column_specs(byte_reader& in, const field_path& field, std::int32_t flags,
                               const field_path& count_field, std::size_t count_offset,
                               std::int32_t column_count);

/// Throws std::invalid_argument if there is a `global_table` and a column's table differs from
/// it; the message names the column after `what` ("result_metadata: column 'x' is not ...").
void check_global_table(const std::optional<table_spec>& global_table,
                        std::span<const column_spec> columns, std::string_view what);

/// Appends `global_table` if there is one, then each column: its keyspace and table (only
/// without a global table spec), name and type. Checks nothing: the caller has validated.
void write_column_specs(byte_writer& out, const std::optional<table_spec>& global_table,
                        std::span<const column_spec> columns);

}  // namespace scopekit::cql::detail
