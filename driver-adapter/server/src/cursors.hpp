// cursors.hpp (internal) - walking a table's rows for SELECT: a stored table's map in key
// order, a synthetic table's ids (cells computed when read), a system table's materialized
// rows. Each cursor starts after a paging state's key and remembers the last row served.
#pragma once

#include "database.hpp"

#include "scopekit/cql/protocol/big_endian.hpp"
#include "scopekit/cql/protocol/rows.hpp"
#include "scopekit/cql/protocol/token.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace scopekit::cql::server_detail {

/// A cell as a cursor shows it: a view of its bytes, or nullopt for null.
using cell_view = std::optional<std::span<const std::byte>>;

/// Walks a table's rows in key order from a position: the current row's cells, and its key on
/// demand.
class row_cursor {
public:
  row_cursor() = default;
  row_cursor(const row_cursor&) = delete;
  row_cursor& operator=(const row_cursor&) = delete;
  virtual ~row_cursor() = default;
  /// Moves to the next row; false past the last.
  virtual bool next() = 0;
  virtual cell_view cell(std::size_t column) = 0;
  /// Remembers the current row's position (cheaply: no allocation).
  virtual void mark() = 0;
  /// The position mark() remembered, for a paging state.
  virtual std::vector<std::byte> marked_key() const = 0;
  /// Adds the cells `columns` of the current row to the page `out` is writing (a cursor that
  /// computes its rows writes them in place, without making each cell first).
  virtual void append_row(rows_encoder& out, std::span<const std::size_t> columns);

protected:
  row_cursor(row_cursor&&) = default;
  row_cursor& operator=(row_cursor&&) = default;
};

/// The tokens a SELECT reads, both ends included; empty when first > last.
struct token_range {
  std::int64_t first = minimum_token;
  std::int64_t last = maximum_token;

  [[nodiscard]] bool empty() const noexcept { return first > last; }
  [[nodiscard]] bool contains(std::int64_t token) const noexcept {
    return first <= token && token <= last;
  }
};

/// The rows of `t` with tokens in `range`, in token order, after the row key `after` (a paging
/// state's: any bytes, which can only move the start within the table), or only the row whose
/// serialized partition key is `only`. `t` must outlive the cursor and not change meanwhile (the
/// caller holds the database's mutex).
std::unique_ptr<row_cursor> make_stored_cursor(const table& t,
                                               const std::optional<std::vector<std::byte>>& after,
                                               const std::optional<std::vector<std::byte>>& only,
                                               token_range range);

/// The rows of a synthetic table (database.hpp) with ids in [begin, end).
std::unique_ptr<row_cursor> make_synthetic_cursor(std::int64_t begin, std::int64_t end);

/// The rows of `rows` (serialized system table rows) from index `begin`; their keys are their
/// indexes, as bigints.
std::unique_ptr<row_cursor> make_system_cursor(const std::vector<stored_row>& rows,
                                               std::size_t begin);

/// A bigint's 8 big-endian bytes, and back (bigint_of: precondition, 8 bytes).
inline std::array<std::byte, 8> bigint_bytes(std::int64_t v) noexcept {
  std::array<std::byte, 8> out{};
  store_be(v, out);
  return out;
}
inline std::int64_t bigint_of(std::span<const std::byte> bytes) noexcept {
  return load_be<std::int64_t>(bytes);
}

/// The id after `after`, the key of the last row served from a synthetic or system table (whose
/// keys are ids); 0 without one. The key comes from the client: the largest id has no next one.
std::int64_t next_id(const std::optional<std::vector<std::byte>>& after) noexcept;

}  // namespace scopekit::cql::server_detail
