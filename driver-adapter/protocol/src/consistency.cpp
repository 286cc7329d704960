// The [consistency] levels: names and validated reading.
#include "scopekit/cql/protocol/consistency.hpp"

#include "format.hpp"

namespace scopekit::cql {

std::string_view to_string(consistency level) noexcept {
  switch (level) {
    case consistency::any:
      return "ANY";
    case consistency::one:
      return "ONE";
    case consistency::two:
      return "TWO";
    case consistency::three:
      return "THREE";
    case consistency::quorum:
      return "QUORUM";
    case consistency::all:
      return "ALL";
    case consistency::local_quorum:
      return "LOCAL_QUORUM";
    case consistency::each_quorum:
      return "EACH_QUORUM";
    case consistency::serial:
      return "SERIAL";
    case consistency::local_serial:
      return "LOCAL_SERIAL";
    case consistency::local_one:
      return "LOCAL_ONE";
  }
  return "unknown consistency";
}

consistency read_consistency(byte_reader& in, const field_path& field) {
  const std::size_t start = in.offset();
  const std::uint16_t raw = in.read_short(field);
  if (raw > static_cast<std::uint16_t>(consistency::local_one)) {
    byte_reader::fail(field, start,
                      "unknown consistency " + detail::hex(raw, 4) + detail::at(start));
  }
  return static_cast<consistency>(raw);
}

}  // namespace scopekit::cql
