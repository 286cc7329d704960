// scopekit/cql/protocol/typed_values.hpp - the v4 types that `value` carries as raw bytes,
// decoded into typed values and encoded back: smallint, tinyint, varint, decimal, date, time,
// duration, tuple and UDT (spec §6.5, §6.6, §6.14, §6.16, §6.19, §6.20, §6.23, §6.24; duration
// as native_protocol_v5.spec §6 defines it, which a v4 server sends as the custom type
// org.apache.cassandra.db.marshal.DurationType).
//
// Decoders read one value_view and throw protocol_error naming `field` and the offset for a
// null or not-set value, a wrong size, a vint that runs past the value, a time outside the day
// or a tuple with more elements than its type. Encoders append the value's content (no length
// prefix: wrap it with byte_writer::write_bytes or rows_encoder::add_cell) and throw
// std::invalid_argument for a value that has no encoding (a time outside the day). varint,
// decimal and decode_fields allocate; the others do not.
//
//   const cql::decimal price = cql::decode_decimal(row[2]);     // {scale 2, unscaled 12345}
//   std::string text = cql::to_string(price);                    // "123.45"
//   const cql::date day = cql::decode_date(row[3]);              // sys_days-like, 32-bit
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/data_type.hpp"
#include "scopekit/cql/protocol/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ratio>
#include <span>
#include <string>
#include <vector>

namespace scopekit::cql {

std::int16_t decode_smallint(const value_view& v, const field_path& field = "value");
std::int8_t decode_tinyint(const value_view& v, const field_path& field = "value");
void encode_smallint(byte_writer& out, std::int16_t v);
void encode_tinyint(byte_writer& out, std::int8_t v);

/// An integer of any size (varint, §6.23): big-endian two's complement, at least one byte.
/// Equality compares encodings; a decoded varint keeps a non-minimal encoding as it was sent.
class varint {
public:
  /// Zero (one byte, 0x00).
  varint() : bytes_(1, std::byte{0}) {}
  /// `v` in its shortest encoding.
  explicit varint(std::int64_t v);
  /// These bytes, which must not be empty (std::invalid_argument otherwise).
  static varint from_bytes(std::span<const std::byte> bytes);

  std::span<const std::byte> bytes() const noexcept { return bytes_; }
  bool is_negative() const noexcept { return (bytes_.front() & std::byte{0x80}) != std::byte{0}; }

  friend bool operator==(const varint&, const varint&) = default;

private:
  std::vector<std::byte> bytes_;
};

/// In decimal, such as "-170141183460469231731687303715884105728".
std::string to_string(const varint& v);

varint decode_varint(const value_view& v, const field_path& field = "value");
void encode_varint(byte_writer& out, const varint& v);

/// unscaled x 10^-scale (decimal, §6.6: an [int] scale, then the unscaled varint).
struct decimal {
  std::int32_t scale = 0;
  varint unscaled;

  friend bool operator==(const decimal&, const decimal&) = default;
};

/// As Java's BigDecimal.toString() spells it, which is how Cassandra prints it: plain when the
/// scale is not negative and the number not too small ("123.45", "0.001"), else scientific
/// ("1.5E+7", "1E-8").
std::string to_string(const decimal& d);

/// At least 5 bytes.
decimal decode_decimal(const value_view& v, const field_path& field = "value");
void encode_decimal(byte_writer& out, const decimal& d);

/// A CQL date (§6.5): days since 1970-01-01, every one of the 2^32 wire values.
using date = std::chrono::time_point<std::chrono::system_clock,
                                     std::chrono::duration<std::int32_t, std::ratio<86'400>>>;

/// 4 bytes, an unsigned count of days where 2^31 is the epoch.
date decode_date(const value_view& v, const field_path& field = "value");
void encode_date(byte_writer& out, date d);

/// The nanoseconds in a day: a CQL time (§6.16) is in [0, nanoseconds_per_day).
inline constexpr std::int64_t nanoseconds_per_day = 86'400'000'000'000;

/// 8 bytes, nanoseconds since midnight; a value outside the day is an error.
std::chrono::nanoseconds decode_time(const value_view& v, const field_path& field = "value");
/// The same count with only its size checked: for a reader that shows an out-of-range time
/// rather than rejecting it (the exporter prints it as its number).
std::int64_t decode_time_unchecked(const value_view& v, const field_path& field = "value");
/// std::invalid_argument outside [0, nanoseconds_per_day).
void encode_time(byte_writer& out, std::chrono::nanoseconds t);

/// A CQL duration: months, days and nanoseconds, each a signed [vint] (zig-zag, then
/// Cassandra's VIntCoding: the leading 1 bits of the first byte count the bytes that follow).
/// Cassandra requires the three to share a sign; the decoder checks it.
struct duration {
  std::int32_t months = 0;
  std::int32_t days = 0;
  std::int64_t nanoseconds = 0;

  friend bool operator==(const duration&, const duration&) = default;
};

/// protocol_error for a vint that runs past the value, a months or days count beyond 32 bits,
/// mixed signs, or bytes after the third vint.
duration decode_duration(const value_view& v, const field_path& field = "value");
/// std::invalid_argument for mixed signs.
void encode_duration(byte_writer& out, const duration& d);

/// The elements of a tuple (§6.24) or the fields of a UDT (§6.20): one [bytes] per parameter
/// of `type`, in order, as views into `v`'s buffer; a null element is a null view, and missing
/// trailing elements are null. protocol_error for more elements than `type` has or a bad
/// length; elements are named "field[i]". Precondition: `type` is a tuple or a UDT.
std::vector<value_view> decode_fields(const data_type& type, const value_view& v,
                                      const field_path& field = "value");
/// Appends `fields` as [bytes] each (null views as length -1). std::invalid_argument for a
/// not-set view.
void encode_fields(byte_writer& out, std::span<const value_view> fields);

}  // namespace scopekit::cql
