// Private helpers for the codec's error messages (not installed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace scopekit::cql::detail {

/// "0x" and `digits` lower-case hex digits, such as hex(10, 4) == "0x000a".
inline std::string hex(std::uint64_t value, int digits) {
  std::string out = "0x";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out += "0123456789abcdef"[(value >> static_cast<unsigned>(shift)) & 0xFU];
  }
  return out;
}

/// " at offset N".
inline std::string at(std::size_t offset) { return " at offset " + std::to_string(offset); }

}  // namespace scopekit::cql::detail
