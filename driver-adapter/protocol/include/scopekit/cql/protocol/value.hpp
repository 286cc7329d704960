// scopekit/cql/protocol/value.hpp - CQL values (spec §6): typed decoding of one cell, and an owning
// `value` for any of the common types, nested collections included.
//
// Two levels. The scalar decoders (decode_int, decode_text, ...) read one value_view without
// allocating, for the hot path of reading Rows; they throw protocol_error for a null, a wrong
// size or invalid content (bad UTF-8 in text, a non-ASCII byte in ascii, an inet of 5 bytes).
// decode_value() turns any value of a known data_type into a `value`, where null
// (null_value), an empty value of a type that has no empty form (empty_value) and an empty
// string or blob are all distinct; it allocates for strings, blobs and collections.
// write_value() and serialize_value() encode a `value`, checking it against the type first
// (std::invalid_argument on a mismatch).
//
//   auto id = scopekit::cql::decode_bigint(row[0]);      // int64_t, or protocol_error
//   auto v = scopekit::cql::decode_value(column.type, row[2]);
//   if (v.is_null()) { ... }
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/data_type.hpp"
#include "scopekit/cql/protocol/error.hpp"

#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql {

/// A 16-byte UUID (uuid and timeuuid), bytes in wire order.
struct uuid {
  std::array<std::byte, 16> bytes{};

  /// The version nibble (1 for a timeuuid, 4 for a random UUID).
  int version() const noexcept { return std::to_integer<int>(bytes[6] >> 4); }

  friend auto operator<=>(const uuid&, const uuid&) = default;
};

/// Lower-case 8-4-4-4-12 hex, such as "550e8400-e29b-41d4-a716-446655440000".
std::string to_string(const uuid& id);

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address, bytes in network order.
struct inet_address {
  std::array<std::byte, 16> bytes{};  // the first `size` are used, the rest stay zero
  std::uint8_t size = 4;

  std::span<const std::byte> address() const noexcept { return {bytes.data(), size}; }

  friend bool operator==(const inet_address&, const inet_address&) = default;
};

/// "127.0.0.1", or IPv6 in RFC 5952 form ("::1", "2001:db8::8:800:200c:417a").
std::string to_string(const inet_address& address);

/// A CQL timestamp: milliseconds since the Unix epoch.
using timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// The value of a null cell (length -1).
struct null_value {
  friend bool operator==(null_value, null_value) = default;
};

/// A present value of zero bytes, for a type whose values otherwise have content (int, uuid,
/// a collection...). Not null: CQL keeps the two apart (spec §6).
struct empty_value {
  friend bool operator==(empty_value, empty_value) = default;
};

class value;

namespace detail {
template <class T, class... Alternatives>
inline constexpr bool one_of = (std::is_same_v<T, Alternatives> || ...);
}  // namespace detail

/// Any value of the common types, owning its content. Which alternative goes with which type:
///   null_value: null of any type;  empty_value: zero bytes of a fixed-size or collection type;
///   bool: boolean;  int32_t: int;  int64_t: bigint, counter;  float;  double;
///   timestamp;  uuid: uuid, timeuuid;  inet_address: inet;  std::string: ascii, varchar;
///   blob: blob and the types without a mapping of their own (decimal, varint, date, time,
///   smallint, tinyint, tuple, udt, custom: their raw bytes);  list: list, set;  map: map.
class value {
public:
  using blob = std::vector<std::byte>;
  using list = std::vector<value>;
  using map = std::vector<std::pair<value, value>>;
  using storage = std::variant<null_value, empty_value, bool, std::int32_t, std::int64_t, float,
                               double, timestamp, uuid, inet_address, std::string, blob, list, map>;

  /// A null value.
  value() noexcept = default;

  /// A value holding `x`, which must be of one of the alternative types exactly (an `int`
  /// literal is an int32_t; write `std::int64_t{5}` for a bigint).
  template <class T>
    requires detail::one_of<std::remove_cvref_t<T>, null_value, empty_value, bool, std::int32_t,
                            std::int64_t, float, double, timestamp, uuid, inet_address,
                            std::string, blob, list, map>
  value(T&& x) : data_(std::forward<T>(x)) {}

  /// A string value (ascii or varchar).
  value(std::string_view text) : data_(std::string(text)) {}
  value(const char* text) : data_(std::string(text)) {}

  bool is_null() const noexcept { return std::holds_alternative<null_value>(data_); }
  bool is_empty() const noexcept { return std::holds_alternative<empty_value>(data_); }

  template <class T>
  bool holds() const noexcept {
    return std::holds_alternative<T>(data_);
  }
  /// The alternative T; std::bad_variant_access if it holds another.
  template <class T>
  const T& get() const {
    return std::get<T>(data_);
  }
  /// The alternative T, or nullptr.
  template <class T>
  const T* get_if() const noexcept {
    return std::get_if<T>(&data_);
  }
  const storage& data() const noexcept { return data_; }

  friend bool operator==(const value&, const value&) = default;

private:
  storage data_;
};

// Scalar decoders: one value_view, no allocation. Each throws protocol_error, naming `field`
// and the value's offset, for a null or not-set value, a size other than the type's, or
// invalid content.
std::int32_t decode_int(const value_view& v, const field_path& field = "value");
std::int64_t decode_bigint(const value_view& v, const field_path& field = "value");
bool decode_boolean(const value_view& v, const field_path& field = "value");
float decode_float(const value_view& v, const field_path& field = "value");
double decode_double(const value_view& v, const field_path& field = "value");
timestamp decode_timestamp(const value_view& v, const field_path& field = "value");
/// Any UUID (uuid columns).
uuid decode_uuid(const value_view& v, const field_path& field = "value");
/// A version-1 UUID (timeuuid columns); another version is an error.
uuid decode_timeuuid(const value_view& v, const field_path& field = "value");
/// 4 or 16 bytes.
inet_address decode_inet(const value_view& v, const field_path& field = "value");
/// Bytes 0-127 only; a view into the decoded buffer. Empty is allowed.
std::string_view decode_ascii(const value_view& v, const field_path& field = "value");
/// Well-formed UTF-8 only; a view into the decoded buffer. Empty is allowed.
std::string_view decode_text(const value_view& v, const field_path& field = "value");
/// Any bytes; a view into the decoded buffer. Empty is allowed, null is not.
std::span<const std::byte> decode_blob(const value_view& v, const field_path& field = "value");

/// Decodes `v` as a value of `type` (see the table at `value`). Collections are decoded
/// element by element (spec §6.11-6.13: an [int] count, then [bytes] elements; a null element
/// becomes null_value); their count is checked against the bytes left before reserving, and
/// bytes after the last element are an error. Throws protocol_error as the scalar decoders do,
/// naming elements "field[i]" and map entries "field[i].key" / "field[i].value"; a not-set
/// value is an error too.
value decode_value(const data_type& type, const value_view& v, const field_path& field = "value");

/// Appends `v` as a [bytes] of `type`: length -1 for null_value, 0 for empty_value.
/// std::invalid_argument if `v` does not fit `type` (wrong alternative, non-ASCII text for
/// ascii, invalid UTF-8 for varchar, a timeuuid of another version, an inet of another size);
/// the message names the element, such as "value[2]: int expects std::int32_t, got string".
void write_value(byte_writer& out, const data_type& type, const value& v);

/// The content bytes of `v` as `type` (no length prefix). std::invalid_argument as
/// write_value(), and for null_value (which has no content).
std::vector<std::byte> serialize_value(const data_type& type, const value& v);

/// True if `text` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace scopekit::cql
