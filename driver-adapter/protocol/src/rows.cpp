// Rows results (spec §4.2.5.2): metadata, the indexed page, the streaming encoder.
#include "scopekit/cql/protocol/rows.hpp"

#include "column_specs.hpp"
#include "format.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace scopekit::cql {

namespace detail {

std::int32_t read_metadata_flags(byte_reader& in, const field_path& field, std::int32_t known) {
  const std::size_t offset = in.offset();
  const std::int32_t flags = in.read_int(field);
  if ((flags & ~known) != 0) {
    byte_reader::fail(field, offset,
                      "unknown flag bits " +
                          detail::hex(static_cast<std::uint32_t>(flags & ~known), 8) +
                          detail::at(offset));
  }
  return flags;
}

std::int32_t read_column_count(byte_reader& in, const field_path& field) {
  const std::size_t offset = in.offset();
  const std::int32_t count = in.read_int(field);
  if (count < 0) {
    byte_reader::fail(field, offset,
                      "negative column count " + std::to_string(count) + detail::at(offset));
  }
  return count;
}

column_specs read_column_specs(byte_reader& in, const field_path& field, std::int32_t flags,
                               const field_path& count_field, std::size_t count_offset,
                               std::int32_t column_count) {
  column_specs out;
  if ((flags & rows_flags::global_tables_spec) != 0) {
    const field_path global(field, "global_table");
    table_spec spec;
    spec.keyspace = in.read_string(field_path(global, "keyspace"));
    spec.table = in.read_string(field_path(global, "table"));
    out.global_table = std::move(spec);
  }
  // A column spec is at least a [string] name and an [option] (2 + 2 bytes), plus two
  // [string]s without a global table spec.
  const std::size_t min_column_size = out.global_table ? 4 : 8;
  in.check_count(count_field, count_offset, static_cast<std::uint64_t>(column_count),
                 min_column_size);
  const field_path columns_field(field, "columns");
  out.columns.reserve(static_cast<std::size_t>(column_count));
  for (std::size_t i = 0; i < static_cast<std::size_t>(column_count); ++i) {
    const field_path column(columns_field, i);
    table_spec table;
    if (out.global_table) {
      table = *out.global_table;
    } else {
      table.keyspace = in.read_string(field_path(column, "keyspace"));
      table.table = in.read_string(field_path(column, "table"));
    }
    std::string name(in.read_string(field_path(column, "name")));
    data_type type = read_data_type(in, field_path(column, "type"));
    out.columns.push_back(column_spec{std::move(table), std::move(name), std::move(type)});
  }
  return out;
}

void check_global_table(const std::optional<table_spec>& global_table,
                        std::span<const column_spec> columns, std::string_view what) {
  if (!global_table) {
    return;
  }
  for (const column_spec& c : columns) {
    if (c.table != *global_table) {
      throw std::invalid_argument(std::string(what) + " '" + c.name +
                                  "' is not in the global table spec's table");
    }
  }
}

void write_column_specs(byte_writer& out, const std::optional<table_spec>& global_table,
                        std::span<const column_spec> columns) {
  if (global_table) {
    out.write_string(global_table->keyspace);
    out.write_string(global_table->table);
  }
  for (const column_spec& c : columns) {
    if (!global_table) {
      out.write_string(c.table.keyspace);
      out.write_string(c.table.table);
    }
    out.write_string(c.name);
    write_data_type(out, c.type);
  }
}

}  // namespace detail

namespace {
constexpr std::int32_t known_rows_flags =
    rows_flags::global_tables_spec | rows_flags::has_more_pages | rows_flags::no_metadata;
constexpr std::int32_t rows_kind = 0x0002;
}  // namespace

void write_result_metadata(byte_writer& out, const result_metadata& metadata) {
  if (metadata.column_count < 0) {
    throw std::invalid_argument("result_metadata: negative column_count");
  }
  if (metadata.no_metadata) {
    if (metadata.global_table || !metadata.columns.empty()) {
      throw std::invalid_argument(
          "result_metadata: no_metadata excludes a global table spec and column specs");
    }
  } else {
    if (metadata.columns.size() != static_cast<std::size_t>(metadata.column_count)) {
      throw std::invalid_argument("result_metadata: column_count differs from columns.size()");
    }
    detail::check_global_table(metadata.global_table, metadata.columns, "result_metadata: column");
  }
  std::int32_t flags = 0;
  if (metadata.global_table) {
    flags |= rows_flags::global_tables_spec;
  }
  if (metadata.paging_state) {
    flags |= rows_flags::has_more_pages;
  }
  if (metadata.no_metadata) {
    flags |= rows_flags::no_metadata;
  }
  out.write_int(flags);
  out.write_int(metadata.column_count);
  if (metadata.paging_state) {
    out.write_bytes(*metadata.paging_state);
  }
  if (metadata.no_metadata) {
    return;
  }
  detail::write_column_specs(out, metadata.global_table, metadata.columns);
}

result_metadata read_result_metadata(byte_reader& in, const field_path& field) {
  result_metadata md;
  const std::int32_t flags =
      detail::read_metadata_flags(in, field_path(field, "flags"), known_rows_flags);
  const field_path count_field(field, "column_count");
  const std::size_t count_offset = in.offset();
  md.column_count = detail::read_column_count(in, count_field);
  if ((flags & rows_flags::has_more_pages) != 0) {
    const value_view state = in.read_bytes(field_path(field, "paging_state"));
    md.paging_state.emplace(state.bytes().begin(), state.bytes().end());
  }
  md.no_metadata = (flags & rows_flags::no_metadata) != 0;
  if (md.no_metadata) {
    return md;
  }
  detail::column_specs specs =
      detail::read_column_specs(in, field, flags, count_field, count_offset, md.column_count);
  md.global_table = std::move(specs.global_table);
  md.columns = std::move(specs.columns);
  return md;
}

bool operator==(const rows_result& a, const rows_result& b) {
  if (a.metadata_ != b.metadata_ || a.row_count_ != b.row_count_) {
    return false;
  }
  // Cell by cell, in one flat loop: rows without columns (possible on the wire) cost nothing.
  for (std::size_t i = 0; i < a.cells_.size(); ++i) {
    const value_view x = a.cell(i / a.column_count(), i % a.column_count());
    const value_view y = b.cell(i / b.column_count(), i % b.column_count());
    if (x.length() != y.length() ||
        !std::equal(x.bytes().begin(), x.bytes().end(), y.bytes().begin(), y.bytes().end())) {
      return false;
    }
  }
  return true;
}

namespace {

// The error paths of the cell loop, out of line so that the loop stays small.
[[noreturn]] void fail_cell(std::size_t cell, std::size_t columns, std::size_t offset,
                            const std::string& detail) {
  const field_path rows("rows");
  const field_path row(rows, "cell", cell / columns);
  const field_path column(row, cell % columns);
  byte_reader::fail(column, offset, detail);
}

}  // namespace

rows_result decode_rows(std::vector<std::byte> body, std::size_t offset) {
  if (offset > body.size()) {
    throw std::out_of_range("scopekit::cql::decode_rows: offset past the end of the body");
  }
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    byte_reader::fail(
        "rows", 0, "body of " + std::to_string(body.size()) + " bytes, longer than a frame can be");
  }
  rows_result out;
  out.body_ = std::move(body);
  const std::span<const std::byte> bytes(out.body_);
  byte_reader in(bytes.subspan(offset), offset);

  const std::size_t kind_offset = in.offset();
  const std::int32_t kind = in.read_int("result.kind");
  if (kind != rows_kind) {
    byte_reader::fail(
        "result.kind", kind_offset,
        "kind " + std::to_string(kind) + detail::at(kind_offset) + ", expected Rows (2)");
  }
  out.metadata_ = read_result_metadata(in, "rows");

  const field_path count_field("rows.rows_count");
  const std::size_t count_offset = in.offset();
  const std::int32_t row_count = in.read_int(count_field);
  if (row_count < 0) {
    byte_reader::fail(count_field, count_offset,
                      "negative row count " + std::to_string(row_count) + detail::at(count_offset));
  }
  const auto columns = static_cast<std::size_t>(out.metadata_.column_count);
  const std::uint64_t cells = static_cast<std::uint64_t>(row_count) * columns;
  in.check_count(count_field, count_offset, cells, 4);  // each cell is at least its length
  out.row_count_ = columns == 0 ? static_cast<std::size_t>(row_count) : cells / columns;
  out.cells_.reserve(static_cast<std::size_t>(cells));

  const std::size_t end = bytes.size();
  std::size_t pos = in.offset();
  for (std::size_t i = 0; i < cells; ++i) {
    if (end - pos < 4) {
      fail_cell(
          i, columns, pos,
          "needs 4 bytes" + detail::at(pos) + ", only " + std::to_string(end - pos) + " left");
    }
    const auto length = load_be<std::int32_t>(bytes.subspan(pos, 4));
    const std::size_t length_offset = pos;
    pos += 4;
    if (length < 0) {
      if (length != null_length) {
        fail_cell(i, columns, length_offset,
                  "invalid length " + std::to_string(length) + detail::at(length_offset));
      }
      out.cells_.push_back({static_cast<std::uint32_t>(pos), null_length});
      continue;
    }
    if (static_cast<std::size_t>(length) > end - pos) {
      fail_cell(i, columns, length_offset,
                "length " + std::to_string(length) + detail::at(length_offset) + " exceeds the " +
                    std::to_string(end - pos) + " bytes left");
    }
    out.cells_.push_back({static_cast<std::uint32_t>(pos), length});
    pos += static_cast<std::size_t>(length);
  }
  return out;
}

void write_rows(byte_writer& out, const rows_result& rows) {
  out.write_int(rows_kind);
  write_result_metadata(out, rows.metadata());
  if (rows.row_count() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("scopekit::cql: more rows than a Rows result can count");
  }
  out.write_int(static_cast<std::int32_t>(rows.row_count()));
  if (rows.column_count() == 0) {
    return;  // rows without cells: nothing follows the count
  }
  for (std::size_t r = 0; r < rows.row_count(); ++r) {
    for (std::size_t c = 0; c < rows.column_count(); ++c) {
      out.write_value(rows.cell(r, c));
    }
  }
}

// ---- rows_encoder ---------------------------------------------------------------------------

rows_encoder::rows_encoder(byte_writer& out, const result_metadata& metadata)
    : out_(&out), columns_(static_cast<std::size_t>(std::max(metadata.column_count, 0))) {
  out.write_int(rows_kind);
  write_result_metadata(out, metadata);
  count_position_ = out.size();
  out.write_int(0);
}

void rows_encoder::fail_cell_size(std::size_t size) {
  throw std::length_error("rows_encoder: a cell of " + std::to_string(size) +
                          " bytes does not fit a [bytes] length");
}

void rows_encoder::add_value(const data_type& type, const value& v) {
  write_value(*out_, type, v);
  ++cells_;
}

void rows_encoder::finish() {
  if (columns_ == 0 ? cells_ != 0 : cells_ % columns_ != 0) {
    throw std::logic_error("rows_encoder: " + std::to_string(cells_) +
                           " cells do not make whole rows of " + std::to_string(columns_) +
                           " columns");
  }
  const std::size_t rows = columns_ == 0 ? 0 : cells_ / columns_;
  if (rows > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("rows_encoder: more rows than a Rows result can count");
  }
  out_->patch_int(count_position_, static_cast<std::int32_t>(rows));
}

}  // namespace scopekit::cql
