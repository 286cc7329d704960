// The v4 types `value` carries as raw bytes (spec §6): typed decoders and encoders.
#include "scopekit/cql/protocol/typed_values.hpp"

#include "scopekit/cql/protocol/big_endian.hpp"

#include "format.hpp"
#include "value_checks.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <string>

namespace scopekit::cql {

namespace {

template <class T>
void append_integer(std::string& out, T x) {
  std::array<char, 24> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), x);
  out.append(buffer.data(), result.ptr);
}

/// Throws protocol_error unless `v` holds at least `size` bytes.
std::span<const std::byte> at_least(const value_view& v, const field_path& field,
                                    std::string_view type, std::size_t size) {
  const std::span<const std::byte> bytes = detail::present(v, field, type);
  if (bytes.size() < size) {
    byte_reader::fail(field, v.offset(),
                      std::string(type) + " value of " + std::to_string(bytes.size()) + " bytes" +
                          detail::at(v.offset()) + ", expected at least " + std::to_string(size));
  }
  return bytes;
}

}  // namespace

// ---- smallint, tinyint (§6.14, §6.19) ------------------------------------------------------

std::int16_t decode_smallint(const value_view& v, const field_path& field) {
  return load_be<std::int16_t>(detail::fixed_size(v, field, "smallint", 2));
}

std::int8_t decode_tinyint(const value_view& v, const field_path& field) {
  return load_be<std::int8_t>(detail::fixed_size(v, field, "tinyint", 1));
}

void encode_smallint(byte_writer& out, std::int16_t v) {
  out.write_short(static_cast<std::uint16_t>(v));
}

void encode_tinyint(byte_writer& out, std::int8_t v) {
  out.write_byte(static_cast<std::uint8_t>(v));
}

// ---- varint (§6.23), decimal (§6.6) ---------------------------------------------------------

varint::varint(std::int64_t v) {
  std::array<std::byte, 8> all{};
  store_be(v, all);
  // Drop leading bytes that only repeat the sign of the next one.
  std::size_t first = 0;
  while (first < 7) {
    const auto lead = std::to_integer<unsigned>(all[first]);
    const auto next_sign = std::to_integer<unsigned>(all[first + 1]) & 0x80U;
    if (!((lead == 0x00U && next_sign == 0) || (lead == 0xFFU && next_sign != 0))) {
      break;
    }
    ++first;
  }
  bytes_.assign(all.begin() + static_cast<std::ptrdiff_t>(first), all.end());
}

varint varint::from_bytes(std::span<const std::byte> bytes) {
  if (bytes.empty()) {
    throw std::invalid_argument("varint: an encoding has at least one byte");
  }
  varint out;
  out.bytes_.assign(bytes.begin(), bytes.end());
  return out;
}

std::string to_string(const varint& v) {
  const std::span<const std::byte> bytes = v.bytes();
  const bool negative = v.is_negative();
  std::vector<std::uint8_t> magnitude;
  magnitude.reserve(bytes.size());
  for (const std::byte b : bytes) {
    magnitude.push_back(std::to_integer<std::uint8_t>(negative ? ~b : b));
  }
  if (negative) {  // ~x + 1
    for (std::size_t i = magnitude.size(); i-- > 0;) {
      if (++magnitude[i] != 0) {
        break;
      }
    }
  }
  // Repeated division by 10^9, base 256, most significant byte first.
  constexpr std::uint64_t chunk = 1'000'000'000;
  std::vector<std::uint32_t> chunks;  // least significant first
  std::size_t first = 0;
  while (first < magnitude.size() && magnitude[first] == 0) {
    ++first;
  }
  while (first < magnitude.size()) {
    std::uint64_t remainder = 0;
    for (std::size_t i = first; i < magnitude.size(); ++i) {
      const std::uint64_t current = (remainder << 8U) | magnitude[i];
      magnitude[i] = static_cast<std::uint8_t>(current / chunk);
      remainder = current % chunk;
    }
    chunks.push_back(static_cast<std::uint32_t>(remainder));
    while (first < magnitude.size() && magnitude[first] == 0) {
      ++first;
    }
  }
  if (chunks.empty()) {
    return "0";
  }
  std::string out;
  if (negative) {
    out += '-';
  }
  append_integer(out, chunks.back());
  for (auto it = chunks.rbegin() + 1; it != chunks.rend(); ++it) {
    std::array<char, 16> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), *it);
    out.append(9 - static_cast<std::size_t>(result.ptr - buffer.data()), '0');
    out.append(buffer.data(), result.ptr);
  }
  return out;
}

varint decode_varint(const value_view& v, const field_path& field) {
  return varint::from_bytes(at_least(v, field, "varint", 1));
}

void encode_varint(byte_writer& out, const varint& v) {
  out.write_raw(v.bytes());
}

std::string to_string(const decimal& d) {
  const auto scale = static_cast<std::int64_t>(d.scale);
  const std::string unscaled = to_string(d.unscaled);
  const bool negative = unscaled.front() == '-';
  const std::string_view digits = std::string_view(unscaled).substr(negative ? 1 : 0);
  const auto length = static_cast<std::int64_t>(digits.size());
  const std::int64_t adjusted = -scale + (length - 1);
  std::string out;
  if (negative) {
    out += '-';
  }
  if (scale == 0) {
    out += digits;
  } else if (scale > 0 && adjusted >= -6) {
    if (length > scale) {
      const auto point = static_cast<std::size_t>(length - scale);
      out += digits.substr(0, point);
      out += '.';
      out += digits.substr(point);
    } else {
      out += "0.";
      out.append(static_cast<std::size_t>(scale - length), '0');
      out += digits;
    }
  } else {
    out += digits.front();
    if (length > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'E';
    if (adjusted >= 0) {
      out += '+';
    }
    append_integer(out, adjusted);
  }
  return out;
}

decimal decode_decimal(const value_view& v, const field_path& field) {
  const std::span<const std::byte> bytes = at_least(v, field, "decimal", 5);
  return decimal{load_be<std::int32_t>(bytes), varint::from_bytes(bytes.subspan(4))};
}

void encode_decimal(byte_writer& out, const decimal& d) {
  out.write_int(d.scale);
  encode_varint(out, d.unscaled);
}

// ---- date (§6.5), time (§6.16) ----------------------------------------------------------------

namespace {
constexpr std::uint32_t epoch_day = std::uint32_t{1} << 31U;
}  // namespace

date decode_date(const value_view& v, const field_path& field) {
  // raw - 2^31, as a 32-bit two's complement: flipping the top bit does it without overflow.
  const auto raw = load_be<std::uint32_t>(detail::fixed_size(v, field, "date", 4));
  return date{date::duration{static_cast<std::int32_t>(raw ^ epoch_day)}};
}

void encode_date(byte_writer& out, date d) {
  out.write_int(static_cast<std::int32_t>(static_cast<std::uint32_t>(d.time_since_epoch().count()) ^
                                          epoch_day));
}

std::int64_t decode_time_unchecked(const value_view& v, const field_path& field) {
  return load_be<std::int64_t>(detail::fixed_size(v, field, "time", 8));
}

std::chrono::nanoseconds decode_time(const value_view& v, const field_path& field) {
  const std::int64_t ns = decode_time_unchecked(v, field);
  if (ns < 0 || ns >= nanoseconds_per_day) {
    byte_reader::fail(field, v.offset(),
                      "time of " + std::to_string(ns) + " ns" + detail::at(v.offset()) +
                          ", outside the day [0, " + std::to_string(nanoseconds_per_day) + ")");
  }
  return std::chrono::nanoseconds{ns};
}

void encode_time(byte_writer& out, std::chrono::nanoseconds t) {
  if (t.count() < 0 || t.count() >= nanoseconds_per_day) {
    throw std::invalid_argument("time: " + std::to_string(t.count()) +
                                " ns is outside the day [0, 86400000000000)");
  }
  out.write_long(static_cast<std::int64_t>(t.count()));
}

// ---- duration (v5 §6) ---------------------------------------------------------------------------

namespace {

/// One signed [vint]: Cassandra's VIntCoding, zig-zag decoded.
std::int64_t read_vint(byte_reader& in, const field_path& field) {
  const std::size_t start = in.offset();
  const std::uint8_t first = in.read_byte(field);
  const auto extra = static_cast<std::size_t>(std::countl_one(first));  // bytes that follow
  if (extra > in.remaining()) {
    byte_reader::fail(field, start,
                      "vint of " + std::to_string(extra + 1) + " bytes" + detail::at(start) +
                          " runs past the value, only " + std::to_string(in.remaining() + 1) +
                          " left");
  }
  std::uint64_t u = extra >= 8 ? 0 : (first & (0xFFU >> extra));
  for (const std::byte b : in.read_raw(extra, field)) {
    u = (u << 8U) | std::to_integer<std::uint64_t>(b);
  }
  return static_cast<std::int64_t>((u >> 1U) ^ (~(u & 1U) + 1U));  // zig-zag
}

void write_vint(byte_writer& out, std::int64_t v) {
  const auto s = static_cast<std::uint64_t>(v);
  const std::uint64_t u = (s << 1U) ^ (v < 0 ? ~std::uint64_t{0} : 0);  // zig-zag
  const int bits = 64 - std::countl_zero(u | 1U);
  const int size = bits > 56 ? 9 : (bits + 6) / 7;  // n bytes hold 7n bits, 9 hold 64
  const int extra = size - 1;
  std::array<std::byte, 9> bytes{};
  std::uint64_t rest = u;
  for (int i = size - 1; i >= 1; --i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<std::byte>(rest & 0xFFU);
    rest >>= 8U;
  }
  const auto marker = static_cast<unsigned>(0xFF00U >> extra) & 0xFFU;  // `extra` leading ones
  bytes[0] = static_cast<std::byte>(size == 9 ? 0xFFU : (marker | static_cast<unsigned>(rest)));
  out.write_raw(std::span<const std::byte>(bytes).first(static_cast<std::size_t>(size)));
}

bool mixed_signs(std::int64_t a, std::int64_t b, std::int64_t c) noexcept {
  return (a < 0 || b < 0 || c < 0) && (a > 0 || b > 0 || c > 0);
}

std::int32_t narrow_count(std::int64_t n, const field_path& field, std::size_t offset) {
  if (n < std::numeric_limits<std::int32_t>::min() ||
      n > std::numeric_limits<std::int32_t>::max()) {
    byte_reader::fail(
        field, offset,
        "duration count " + std::to_string(n) + detail::at(offset) + " does not fit 32 bits");
  }
  return static_cast<std::int32_t>(n);
}

}  // namespace

duration decode_duration(const value_view& v, const field_path& field) {
  byte_reader in(detail::present(v, field, "duration"), v.offset());
  const field_path months_field(field, "months");
  const field_path days_field(field, "days");
  const field_path nanoseconds_field(field, "nanoseconds");
  const std::size_t months_at = in.offset();
  const std::int64_t months = read_vint(in, months_field);
  const std::size_t days_at = in.offset();
  const std::int64_t days = read_vint(in, days_field);
  const std::int64_t nanoseconds = read_vint(in, nanoseconds_field);
  in.expect_end(field);
  if (mixed_signs(months, days, nanoseconds)) {
    byte_reader::fail(field, v.offset(),
                      "duration with mixed signs" + detail::at(v.offset()) + " (" +
                          std::to_string(months) + " months, " + std::to_string(days) + " days, " +
                          std::to_string(nanoseconds) + " ns)");
  }
  return duration{narrow_count(months, months_field, months_at),
                  narrow_count(days, days_field, days_at), nanoseconds};
}

void encode_duration(byte_writer& out, const duration& d) {
  if (mixed_signs(d.months, d.days, d.nanoseconds)) {
    throw std::invalid_argument("duration: months, days and nanoseconds must share a sign");
  }
  write_vint(out, d.months);
  write_vint(out, d.days);
  write_vint(out, d.nanoseconds);
}

// ---- tuple (§6.24), UDT (§6.20)
// -------------------------------------------------------------------

std::vector<value_view> decode_fields(const data_type& type, const value_view& v,
                                      const field_path& field) {
  byte_reader in(detail::present(v, field, type.to_string()), v.offset());
  const std::size_t count = type.parameters().size();
  std::vector<value_view> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(in.at_end() ? value_view::null(in.offset())
                              : in.read_bytes(field_path(field, i)));
  }
  in.expect_end(field);
  return out;
}

void encode_fields(byte_writer& out, std::span<const value_view> fields) {
  for (const value_view& f : fields) {
    if (f.is_not_set()) {
      throw std::invalid_argument("tuple or UDT field: a not-set value has no encoding");
    }
    out.write_value(f);
  }
}

}  // namespace scopekit::cql
