// scopekit/cql/protocol/consistency.hpp - the [consistency] levels of CQL v4 (spec §3).
//
// A [consistency] is a [short]; read_consistency() rejects values outside ANY..LOCAL_ONE with a
// protocol_error, so a decoded consistency is always one of the enumerators.
//
//   scopekit::cql::write_consistency(writer, scopekit::cql::consistency::local_one);
//   auto cl = scopekit::cql::read_consistency(reader, "query.consistency");
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"

#include <cstdint>
#include <string_view>

namespace scopekit::cql {

/// A consistency level, with its wire value.
enum class consistency : std::uint16_t {
  any = 0x0000,
  one = 0x0001,
  two = 0x0002,
  three = 0x0003,
  quorum = 0x0004,
  all = 0x0005,
  local_quorum = 0x0006,
  each_quorum = 0x0007,
  serial = 0x0008,
  local_serial = 0x0009,
  local_one = 0x000A,
};

/// "ANY", "ONE", ..., "LOCAL_ONE".
std::string_view to_string(consistency level) noexcept;

/// Reads a [consistency]; protocol_error for a value that names no level.
consistency read_consistency(byte_reader& in, const field_path& field);

inline void write_consistency(byte_writer& out, consistency level) {
  out.write_short(static_cast<std::uint16_t>(level));
}

}  // namespace scopekit::cql
