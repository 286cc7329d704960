// paging.hpp (internal) - the server's paging state: where the next page of a SELECT starts.
//
// 'S' 'K' 0x01, [int] page, [long] rows served, [byte] empty pages served at this position,
// [byte] has_key, then the key of the last row served (the rest). Opaque to clients (spec
// section 8), which send it back unchanged to get the next page.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace scopekit::cql::server_detail {

/// The most empty pages sent before a page with rows (fault::action::empty_pages): the count
/// served so far is a [byte] of the paging state.
inline constexpr std::int32_t max_empty_pages = 255;

/// Where a page starts.
struct paging_position {
  std::int32_t page = 0;
  std::int64_t rows = 0;
  std::uint8_t empties = 0;
  std::optional<std::vector<std::byte>> after;  // nullopt: from the first row
};

/// The bytes of `p`.
std::vector<std::byte> encode_position(const paging_position& p);

/// The position in `bytes`, or nullopt if they are not a paging state this server writes: a
/// negative page or row count, a page of INT32_MAX or a row count within INT32_MAX of
/// INT64_MAX (the next state would overflow), bytes after a state without a key. Whether the
/// key can be one of the table's is for the table's cursor to say (select.cpp).
std::optional<paging_position> decode_position(std::span<const std::byte> bytes);

}  // namespace scopekit::cql::server_detail
