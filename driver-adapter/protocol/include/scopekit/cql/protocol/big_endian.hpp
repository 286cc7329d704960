// scopekit/cql/protocol/big_endian.hpp - the one big-endian load and store of the CQL side.
//
// Every integer of the v4 protocol is big-endian (spec §1, §3). load_be<T> reads sizeof(T)
// bytes as a T (a signed T is read as two's complement, so 0xFFFE is int16_t -2); store_be
// writes them. Both are constexpr, allocate nothing and never throw; the caller passes spans
// of exactly sizeof(T) bytes (checked by an assertion in debug builds, as std::span is).
//
//   const auto stream = scopekit::cql::load_be<std::int16_t>(header.subspan(2, 2));
//   std::array<std::byte, 4> length{};
//   scopekit::cql::store_be(std::int32_t{body_size}, length);
#pragma once

#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace scopekit::cql {

/// An integer of 1, 2, 4 or 8 bytes, signed or not (bool excluded).
template <class T>
concept wire_integer = std::integral<T> && !std::same_as<std::remove_cv_t<T>, bool> &&
                       (sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);

/// The first sizeof(T) bytes of `bytes` as a big-endian T. Precondition: bytes.size() >=
/// sizeof(T). Signed types are two's complement (a conversion, defined in C++20: no UB).
template <wire_integer T>
constexpr T load_be(std::span<const std::byte> bytes) noexcept {
  assert(bytes.size() >= sizeof(T));
  using unsigned_t = std::make_unsigned_t<T>;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v = (v << 8U) | std::to_integer<std::uint64_t>(bytes[i]);
  }
  return static_cast<T>(static_cast<unsigned_t>(v));
}

/// Writes `v` big-endian into the first sizeof(T) bytes of `out`. Precondition: out.size() >=
/// sizeof(T).
template <wire_integer T>
constexpr void store_be(T v, std::span<std::byte> out) noexcept {
  assert(out.size() >= sizeof(T));
  auto u = static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<T>>(v));
  for (std::size_t i = sizeof(T); i-- > 0;) {
    out[i] = static_cast<std::byte>(u & 0xFFU);
    u >>= 8U;
  }
}

}  // namespace scopekit::cql
