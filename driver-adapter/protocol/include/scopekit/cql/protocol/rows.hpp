// scopekit/cql/protocol/rows.hpp - RESULT messages of kind Rows (spec §4.2.5.2): result metadata, a
// decoded page of rows, and a streaming encoder.
//
// decode_rows() takes over the frame body it decodes and indexes it: the result holds that one
// buffer, the metadata and a flat table of (offset, length) per cell, 8 bytes a cell; nothing
// is allocated per cell or per row. Cells are value_views into the body (length -1 null, 0
// empty), rows are views too. Every count is checked against the bytes left (at the smallest
// encoding of an element) before anything is reserved, and each cell's length against the
// bytes left, so hostile input throws protocol_error ("rows.cell[3][1]: length 1000 at offset
// 53 exceeds the 12 bytes left") instead of reading out of bounds or allocating.
//
// rows_encoder writes a Rows body cell by cell, for a server that streams a page straight into
// its output buffer; rows_count is filled in by finish().
//
//   scopekit::cql::rows_result page = scopekit::cql::decode_rows(std::move(frame.body));
//   for (std::size_t r = 0; r < page.row_count(); ++r) {
//     auto row = page.row(r);
//     std::int64_t id = scopekit::cql::decode_bigint(row[0]);
//   }
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/data_type.hpp"
#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scopekit::cql {

/// The Rows metadata flag bits (spec §4.2.5.2).
namespace rows_flags {
inline constexpr std::int32_t global_tables_spec = 0x0001;
inline constexpr std::int32_t has_more_pages = 0x0002;
inline constexpr std::int32_t no_metadata = 0x0004;
}  // namespace rows_flags

/// A keyspace and a table.
struct table_spec {
  std::string keyspace;
  std::string table;

  friend bool operator==(const table_spec&, const table_spec&) = default;
};

/// One column of a result, or one bind marker of a prepared statement.
struct column_spec {
  table_spec table;
  std::string name;
  data_type type;

  friend bool operator==(const column_spec&, const column_spec&) = default;
};

/// <metadata> of a Rows result, also the <result_metadata> of a Prepared result.
struct result_metadata {
  /// Columns in each row. With no_metadata, the only column information sent.
  std::int32_t column_count = 0;
  /// Flag Global_tables_spec: one table spec for all columns. When decoding, every column's
  /// `table` is set to it as well; when encoding, every column's `table` must equal it.
  std::optional<table_spec> global_table;
  /// Flag Has_more_pages: the state to send back for the next page (spec §8). A null
  /// paging state is decoded as an empty one.
  std::optional<std::vector<std::byte>> paging_state;
  /// Flag No_metadata: no global table spec and no column specs follow.
  bool no_metadata = false;
  /// column_count entries, unless no_metadata (then none).
  std::vector<column_spec> columns;

  bool has_more_pages() const noexcept { return paging_state.has_value(); }

  friend bool operator==(const result_metadata&, const result_metadata&) = default;
};

/// Appends <metadata>. std::invalid_argument if it is inconsistent: column_count negative or,
/// without no_metadata, different from columns.size(), or a column outside global_table.
void write_result_metadata(byte_writer& out, const result_metadata& metadata);

/// Reads <metadata>; `field` names it in errors ("rows" gives "rows.columns[2].type"). Unknown
/// flag bits are an error.
result_metadata read_result_metadata(byte_reader& in, const field_path& field);

class rows_result;

/// One row of a rows_result: a view, valid while the rows_result lives and is not moved from.
class row_view {
public:
  std::size_t size() const noexcept { return columns_; }
  /// The cell in `column`. Precondition: column < size().
  value_view operator[](std::size_t column) const noexcept;
  std::size_t index() const noexcept { return row_; }

private:
  friend class rows_result;
  row_view(const rows_result& rows, std::size_t row, std::size_t columns) noexcept
      : rows_(&rows), row_(row), columns_(columns) {}

  const rows_result* rows_;
  std::size_t row_;
  std::size_t columns_;
};

/// A decoded page of rows: the frame body it came from, its metadata, and the cell table.
/// Copyable and movable. A move keeps the body's bytes in place, so value_views taken before it
/// stay valid; row_views refer to the object and do not.
class rows_result {
public:
  /// No columns, no rows.
  rows_result() = default;

  const result_metadata& metadata() const noexcept { return metadata_; }
  std::size_t column_count() const noexcept {
    return static_cast<std::size_t>(metadata_.column_count);
  }
  std::size_t row_count() const noexcept { return row_count_; }

  /// The cell at (row, column). Precondition: both in range.
  value_view cell(std::size_t row, std::size_t column) const noexcept {
    const cell_entry& c = cells_[row * column_count() + column];
    if (c.length < 0) {
      return value_view::null(c.offset);
    }
    return value_view{
        std::span<const std::byte>(body_).subspan(c.offset, static_cast<std::size_t>(c.length)),
        c.offset};
  }
  /// Row `row`. Precondition: row < row_count().
  row_view row(std::size_t row) const noexcept { return {*this, row, column_count()}; }

  /// The buffer the cells point into (the whole frame body).
  std::span<const std::byte> body() const noexcept { return body_; }
  /// Moves the frame body out, to reuse its memory (frame_splitter::recycle); the result keeps
  /// its metadata and has no rows left. Views into it must no longer be used.
  std::vector<std::byte> take_body() && noexcept {
    cells_.clear();
    row_count_ = 0;
    return std::move(body_);
  }

  /// Same metadata, same number of rows, and every cell equal (null, or the same bytes).
  friend bool operator==(const rows_result& a, const rows_result& b);

private:
  friend rows_result decode_rows(std::vector<std::byte> body, std::size_t offset);

  struct cell_entry {
    std::uint32_t offset;  // bodies are at most 2^31 - 1 bytes
    std::int32_t length;   // -1: null
  };

  std::vector<std::byte> body_;
  result_metadata metadata_;
  std::vector<cell_entry> cells_;
  std::size_t row_count_ = 0;
};

inline value_view row_view::operator[](std::size_t column) const noexcept {
  return rows_->cell(row_, column);
}

/// Decodes a RESULT body of kind Rows that starts at `offset` in `body` (at its [int] kind,
/// which must be 2), taking `body` over. Bytes after the last cell are ignored, as the spec
/// asks of clients. protocol_error for anything malformed, including a negative rows_count
/// and a cell length below -1.
rows_result decode_rows(std::vector<std::byte> body, std::size_t offset = 0);

/// Appends a RESULT body of kind Rows: the kind, the metadata, rows_count and every cell.
void write_rows(byte_writer& out, const rows_result& rows);

/// Writes a RESULT body of kind Rows straight into a buffer: the kind and the metadata at
/// construction, then cells row after row, then finish() fills in rows_count. The writer's
/// buffer must not be written by anyone else in between.
class rows_encoder {
public:
  /// Appends the kind and `metadata` (see write_result_metadata) and a rows_count to fill in.
  rows_encoder(byte_writer& out, const result_metadata& metadata);

  void add_null() { add_cell_header(null_length); }
  void add_cell(std::span<const std::byte> bytes) {
    const std::span<std::byte> cell = append_cell(bytes.size());
    if (!bytes.empty()) {
      std::memcpy(cell.data(), bytes.data(), bytes.size());
    }
  }
  void add_int(std::int32_t v) { store_be(v, append_cell(4)); }
  void add_bigint(std::int64_t v) { store_be(v, append_cell(8)); }
  void add_text(std::string_view text) { add_cell(text_bytes(text)); }
  /// Appends `v` as `type` (see write_value; std::invalid_argument on a mismatch).
  void add_value(const data_type& type, const value& v);
  /// Appends a cell of `size` bytes (zeroed) and returns them for the caller to fill in place,
  /// so that a computed cell is written where it goes, without a copy. The span is valid
  /// until the next write to the buffer. std::length_error above 2^31 - 1 bytes.
  std::span<std::byte> add_cell_space(std::size_t size) { return append_cell(size); }

  /// Where the first cell starts in the writer's buffer (just after rows_count).
  std::size_t cells_start() const noexcept { return count_position_ + 4; }

  /// Cells added so far.
  std::size_t cells() const noexcept { return cells_; }

  /// Fills in rows_count = cells() / columns. std::logic_error if cells() is not a whole number
  /// of rows, or for any cell with zero columns.
  void finish();

private:
  /// Grows the buffer once by a cell of `size` bytes, writes its length and returns its
  /// content: inline, as a server writes millions of cells.
  std::span<std::byte> append_cell(std::size_t size) {
    if (size > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      fail_cell_size(size);
    }
    std::vector<std::byte>& buffer = out_->buffer();
    const std::size_t at = buffer.size();
    buffer.resize(at + 4 + size);
    const std::span<std::byte> cell = std::span<std::byte>(buffer).subspan(at, 4 + size);
    store_be(static_cast<std::int32_t>(size), cell);
    ++cells_;
    return cell.subspan(4);
  }
  [[noreturn]] static void fail_cell_size(std::size_t size);
  void add_cell_header(std::int32_t length) {
    out_->write_int(length);
    ++cells_;
  }

  byte_writer* out_;
  std::size_t count_position_ = 0;
  std::size_t columns_ = 0;
  std::size_t cells_ = 0;
};

}  // namespace scopekit::cql
