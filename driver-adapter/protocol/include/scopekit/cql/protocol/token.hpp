// scopekit/cql/protocol/token.hpp - partition key tokens as Cassandra's Murmur3Partitioner
// computes them.
//
// A token places a partition on the ring of signed 64-bit integers. murmur3_token is
// Murmur3Partitioner.getToken: the first 64 bits of MurmurHash3 x64_128 (seed 0) of the
// serialized partition key, with Cassandra's quirk of reading the tail bytes as signed
// (Java's `(long) byte`, which sign-extends), Long.MIN_VALUE moved to Long.MAX_VALUE, and the
// empty key at minimum_token. Every function is constexpr, noexcept and allocates nothing.
// A ring range is (start, end], so minimum_token, never a key's token, begins the first range.
//
//   const std::array<std::byte, 4> key{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1}};
//   const std::int64_t t = scopekit::cql::murmur3_token(key);  // an int key 1
//   // t == -4069959284402364209, what SELECT token(id) shows in Cassandra
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

namespace scopekit::cql {

/// The smallest token: no key has it (Murmur3Partitioner.MINIMUM).
inline constexpr std::int64_t minimum_token = std::numeric_limits<std::int64_t>::min();

/// The largest token (Murmur3Partitioner.MAXIMUM).
inline constexpr std::int64_t maximum_token = std::numeric_limits<std::int64_t>::max();

namespace detail::murmur3 {

constexpr std::uint64_t rotl(std::uint64_t x, unsigned r) noexcept {
  return (x << r) | (x >> (64U - r));
}

constexpr std::uint64_t fmix(std::uint64_t k) noexcept {
  k ^= k >> 33U;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33U;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33U;
  return k;
}

// Eight bytes from `at` as a little-endian integer (Java's getLong on a LITTLE_ENDIAN buffer).
constexpr std::uint64_t block(std::span<const std::byte> bytes, std::size_t at) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 8; i-- > 0;) {
    v = (v << 8U) | std::to_integer<std::uint64_t>(bytes[at + i]);
  }
  return v;
}

// A tail byte as Cassandra reads it: `(long) key.get(i)`, a signed byte sign-extended to 64 bits.
constexpr std::uint64_t signed_byte(std::byte b) noexcept {
  const auto as_signed = static_cast<std::int8_t>(std::to_integer<std::uint8_t>(b));
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(as_signed));
}

inline constexpr std::uint64_t c1 = 0x87c37b91114253d5ULL;
inline constexpr std::uint64_t c2 = 0x4cf5ad432745937fULL;

// The mixing of a block's first and second halves before they enter h1 and h2.
constexpr std::uint64_t mix_k1(std::uint64_t k) noexcept {
  return rotl(k * c1, 31) * c2;
}
constexpr std::uint64_t mix_k2(std::uint64_t k) noexcept {
  return rotl(k * c2, 33) * c1;
}

}  // namespace detail::murmur3

/// The first 64 bits of MurmurHash3 x64_128 of `bytes` with seed 0, as Cassandra's
/// MurmurHash.hash3_x64_128 computes them: tail bytes sign-extended (so a key with a byte of
/// 0x80 or more in its last len % 16 bytes differs from the reference MurmurHash3). The empty
/// input hashes to 0. This is what the drivers' `murmur3()` returns (the Python driver's
/// cassandra.murmur3.murmur3).
constexpr std::int64_t murmur3_hash(std::span<const std::byte> bytes) noexcept {
  using namespace detail::murmur3;
  const std::size_t length = bytes.size();
  const std::size_t blocks = length / 16;
  std::uint64_t h1 = 0;
  std::uint64_t h2 = 0;
  for (std::size_t i = 0; i < blocks; ++i) {
    h1 ^= mix_k1(block(bytes, i * 16));
    h1 = (rotl(h1, 27) + h2) * 5 + 0x52dce729;
    h2 ^= mix_k2(block(bytes, i * 16 + 8));
    h2 = (rotl(h2, 31) + h1) * 5 + 0x38495ab5;
  }
  const std::span<const std::byte> tail = bytes.subspan(blocks * 16);
  std::uint64_t k1 = 0;
  std::uint64_t k2 = 0;
  for (std::size_t i = tail.size(); i-- > 8;) {
    k2 ^= signed_byte(tail[i]) << ((i - 8) * 8);
  }
  if (tail.size() > 8) {
    h2 ^= mix_k2(k2);
  }
  for (std::size_t i = tail.size() < 8 ? tail.size() : 8; i-- > 0;) {
    k1 ^= signed_byte(tail[i]) << (i * 8);
  }
  if (!tail.empty()) {
    h1 ^= mix_k1(k1);
  }
  h1 ^= static_cast<std::uint64_t>(length);
  h2 ^= static_cast<std::uint64_t>(length);
  h1 += h2;
  h2 += h1;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 += h2;
  return static_cast<std::int64_t>(h1);
}

/// The token of a partition key (its serialized bytes; for a composite key, the composite
/// encoding), as Murmur3Partitioner.getToken computes it: minimum_token for the empty key,
/// else murmur3_hash with minimum_token moved to maximum_token, so that no key's token is
/// minimum_token.
constexpr std::int64_t murmur3_token(std::span<const std::byte> partition_key) noexcept {
  if (partition_key.empty()) {
    return minimum_token;
  }
  const std::int64_t h = murmur3_hash(partition_key);
  return h == minimum_token ? maximum_token : h;
}

}  // namespace scopekit::cql
