// bind.hpp (internal) - the bytes a literal or a bind marker gives a column of a known type.
#pragma once

#include "parser.hpp"

#include "scopekit/cql/protocol/request.hpp"

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace scopekit::cql::server_detail {

/// A term bound to a column: bytes, null, or "not set" (a bound value that leaves the column
/// as it is).
struct bound_value {
  enum class kind : std::uint8_t { set, null, unset };
  kind state = kind::null;
  std::vector<std::byte> bytes;
};

/// Converts `t` for `column` of `type`: a literal is checked against the type and serialized;
/// a marker takes values[t.marker], whose bytes are validated as `type`. statement_error
/// (invalid) naming the column for a literal of the wrong kind, out of range, or bound bytes
/// that are not a valid `type`.
bound_value bind_term(const term& t, const data_type& type, std::span<const query_value> values,
                      std::string_view column);

}  // namespace scopekit::cql::server_detail
