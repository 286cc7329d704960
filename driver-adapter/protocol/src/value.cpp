// Typed values (spec §6): scalar decoders, decode_value, write_value, UTF-8 checks.
#include "scopekit/cql/protocol/value.hpp"

#include "format.hpp"
#include "value_checks.hpp"

#include <algorithm>
#include <cstring>
#include <array>
#include <bit>
#include <limits>
#include <stdexcept>
#include <string>

namespace scopekit::cql {

// ---- Text -----------------------------------------------------------------------------------

namespace {

constexpr std::size_t no_error = std::numeric_limits<std::size_t>::max();

// The position of the first byte that does not start a well-formed UTF-8 sequence.
std::size_t utf8_error(std::string_view text) noexcept {
  const std::size_t n = text.size();
  std::size_t i = 0;
  // ASCII runs eight bytes at a time: most text is ASCII.
  while (i + 8 <= n) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i, 8);
    if ((word & 0x8080808080808080ULL) != 0) {
      break;
    }
    i += 8;
  }
  while (i < n) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80U) {
      ++i;
      continue;
    }
    std::size_t size = 0;
    std::uint32_t code = 0;
    std::uint32_t smallest = 0;
    if ((lead & 0xE0U) == 0xC0U) {
      size = 2;
      code = lead & 0x1FU;
      smallest = 0x80;
    } else if ((lead & 0xF0U) == 0xE0U) {
      size = 3;
      code = lead & 0x0FU;
      smallest = 0x800;
    } else if ((lead & 0xF8U) == 0xF0U) {
      size = 4;
      code = lead & 0x07U;
      smallest = 0x10000;
    } else {
      return i;
    }
    if (n - i < size) {
      return i;
    }
    for (std::size_t k = 1; k < size; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0U) != 0x80U) {
        return i;
      }
      code = (code << 6U) | (next & 0x3FU);
    }
    if (code < smallest || code > 0x10FFFFU || (code >= 0xD800U && code <= 0xDFFFU)) {
      return i;
    }
    i += size;
  }
  return no_error;
}

std::size_t ascii_error(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) > 0x7FU) {
      return i;
    }
  }
  return no_error;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  return utf8_error(text) == no_error;
}

std::string to_string(const uuid& id) {
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < id.bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    const auto b = std::to_integer<unsigned>(id.bytes[i]);
    out += "0123456789abcdef"[b >> 4U];
    out += "0123456789abcdef"[b & 0xFU];
  }
  return out;
}

std::string to_string(const inet_address& address) {
  std::string out;
  if (address.size == 4) {
    for (std::size_t i = 0; i < 4; ++i) {
      if (i != 0) {
        out += '.';
      }
      out += std::to_string(std::to_integer<unsigned>(address.bytes[i]));
    }
    return out;
  }
  std::array<unsigned, 8> groups{};
  for (std::size_t g = 0; g < groups.size(); ++g) {
    groups[g] = load_be<std::uint16_t>(std::span(address.bytes).subspan(2 * g, 2));
  }
  // RFC 5952: the longest run of two or more zero groups (the first of equals) becomes "::".
  std::size_t best_start = groups.size();
  std::size_t best_size = 1;
  for (std::size_t g = 0; g < groups.size();) {
    if (groups[g] != 0) {
      ++g;
      continue;
    }
    std::size_t end = g;
    while (end < groups.size() && groups[end] == 0) {
      ++end;
    }
    if (end - g > best_size) {
      best_start = g;
      best_size = end - g;
    }
    g = end;
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (g == best_start) {
      out += "::";
      g += best_size - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') {
      out += ':';
    }
    std::string digits = detail::hex(groups[g], 4).substr(2);
    digits.erase(0, std::min(digits.find_first_not_of('0'), std::size_t{3}));
    out += digits;
  }
  return out;
}

// ---- Scalar decoders ------------------------------------------------------------------------

namespace detail {

[[noreturn]] void fail_absent(const value_view& v, const field_path& field, std::string_view type) {
  byte_reader::fail(field, v.offset(),
                    std::string(v.is_null() ? "null" : "not set") + " where a " +
                        std::string(type) + " value is required" + detail::at(v.offset()));
}

std::span<const std::byte> fixed_size(const value_view& v, const field_path& field,
                                      std::string_view type, std::size_t size) {
  if (v.length() < 0) {
    fail_absent(v, field, type);
  }
  if (v.bytes().size() != size) {
    byte_reader::fail(field, v.offset(),
                      std::string(type) + " value of " + std::to_string(v.bytes().size()) +
                          " bytes" + detail::at(v.offset()) + ", expected " + std::to_string(size));
  }
  return v.bytes();
}

std::span<const std::byte> present(const value_view& v, const field_path& field,
                                   std::string_view type) {
  if (v.length() < 0) {
    fail_absent(v, field, type);
  }
  return v.bytes();
}

}  // namespace detail

using detail::fail_absent;
using detail::fixed_size;
using detail::present;

std::int32_t decode_int(const value_view& v, const field_path& field) {
  return load_be<std::int32_t>(fixed_size(v, field, "int", 4));
}

std::int64_t decode_bigint(const value_view& v, const field_path& field) {
  return load_be<std::int64_t>(fixed_size(v, field, "bigint", 8));
}

bool decode_boolean(const value_view& v, const field_path& field) {
  return fixed_size(v, field, "boolean", 1)[0] != std::byte{0};
}

float decode_float(const value_view& v, const field_path& field) {
  return std::bit_cast<float>(load_be<std::uint32_t>(fixed_size(v, field, "float", 4)));
}

double decode_double(const value_view& v, const field_path& field) {
  return std::bit_cast<double>(load_be<std::uint64_t>(fixed_size(v, field, "double", 8)));
}

timestamp decode_timestamp(const value_view& v, const field_path& field) {
  const auto ms = load_be<std::int64_t>(fixed_size(v, field, "timestamp", 8));
  return timestamp{std::chrono::milliseconds{ms}};
}

uuid decode_uuid(const value_view& v, const field_path& field) {
  const auto bytes = fixed_size(v, field, "uuid", 16);
  uuid out;
  std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
  return out;
}

uuid decode_timeuuid(const value_view& v, const field_path& field) {
  const auto bytes = fixed_size(v, field, "timeuuid", 16);
  uuid out;
  std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
  if (out.version() != 1) {
    byte_reader::fail(field, v.offset(),
                      "timeuuid of version " + std::to_string(out.version()) +
                          detail::at(v.offset()) + ", expected version 1");
  }
  return out;
}

inet_address decode_inet(const value_view& v, const field_path& field) {
  const auto bytes = present(v, field, "inet");
  if (bytes.size() != 4 && bytes.size() != 16) {
    byte_reader::fail(field, v.offset(),
                      "inet value of " + std::to_string(bytes.size()) + " bytes" +
                          detail::at(v.offset()) + ", expected 4 or 16");
  }
  inet_address out;
  out.size = static_cast<std::uint8_t>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
  return out;
}

std::string_view decode_ascii(const value_view& v, const field_path& field) {
  const std::string_view text = bytes_text(present(v, field, "ascii"));
  const std::size_t bad = ascii_error(text);
  if (bad != no_error) {
    const std::size_t at = v.offset() + bad;
    byte_reader::fail(field, at,
                      "non-ASCII byte " + detail::hex(static_cast<unsigned char>(text[bad]), 2) +
                          " in an ascii value" + detail::at(at));
  }
  return text;
}

std::string_view decode_text(const value_view& v, const field_path& field) {
  const std::string_view text = bytes_text(present(v, field, "varchar"));
  const std::size_t bad = utf8_error(text);
  if (bad != no_error) {
    const std::size_t at = v.offset() + bad;
    byte_reader::fail(field, at, "invalid UTF-8 in a varchar value" + detail::at(at));
  }
  return text;
}

std::span<const std::byte> decode_blob(const value_view& v, const field_path& field) {
  return present(v, field, "blob");
}

// ---- decode_value ---------------------------------------------------------------------------

namespace {

// Types whose values always have content: zero bytes is their "empty" value.
bool empty_is_special(type_id id) noexcept {
  switch (id) {
    case type_id::boolean:
    case type_id::int_:
    case type_id::bigint:
    case type_id::counter:
    case type_id::float_:
    case type_id::double_:
    case type_id::timestamp:
    case type_id::uuid:
    case type_id::timeuuid:
    case type_id::inet:
    case type_id::list:
    case type_id::set:
    case type_id::map:
      return true;
    default:
      return false;
  }
}

void check_consumed(const byte_reader& in, const field_path& field) {
  if (!in.at_end()) {
    byte_reader::fail(
        field, in.offset(),
        std::to_string(in.remaining()) + " bytes after the last element" + detail::at(in.offset()));
  }
}

value decode_list(const data_type& element, const value_view& v, const field_path& field) {
  byte_reader in(v.bytes(), v.offset());
  const std::size_t count = in.read_int_count(field, 4);
  value::list out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const field_path item(field, i);
    out.push_back(decode_value(element, in.read_bytes(item), item));
  }
  check_consumed(in, field);
  return out;
}

value decode_map(const data_type& type, const value_view& v, const field_path& field) {
  byte_reader in(v.bytes(), v.offset());
  const std::size_t count = in.read_int_count(field, 8);
  value::map out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const field_path entry(field, i);
    const field_path key_field(entry, "key");
    value key = decode_value(type.element(), in.read_bytes(key_field), key_field);
    const field_path value_field(entry, "value");
    value mapped = decode_value(type.mapped(), in.read_bytes(value_field), value_field);
    out.emplace_back(std::move(key), std::move(mapped));
  }
  check_consumed(in, field);
  return out;
}

}  // namespace

value decode_value(const data_type& type, const value_view& v, const field_path& field) {
  if (v.is_null()) {
    return null_value{};
  }
  if (v.is_not_set()) {
    fail_absent(v, field, type.to_string());
  }
  if (v.is_empty() && empty_is_special(type.id())) {
    return empty_value{};
  }
  switch (type.id()) {
    case type_id::ascii:
      return std::string(decode_ascii(v, field));
    case type_id::varchar:
      return std::string(decode_text(v, field));
    case type_id::boolean:
      return decode_boolean(v, field);
    case type_id::int_:
      return decode_int(v, field);
    case type_id::bigint:
    case type_id::counter:
      return decode_bigint(v, field);
    case type_id::float_:
      return decode_float(v, field);
    case type_id::double_:
      return decode_double(v, field);
    case type_id::timestamp:
      return decode_timestamp(v, field);
    case type_id::uuid:
      return decode_uuid(v, field);
    case type_id::timeuuid:
      return decode_timeuuid(v, field);
    case type_id::inet:
      return decode_inet(v, field);
    case type_id::list:
    case type_id::set:
      return decode_list(type.element(), v, field);
    case type_id::map:
      return decode_map(type, v, field);
    default:
      return value::blob(v.bytes().begin(), v.bytes().end());
  }
}

// ---- Encoding -------------------------------------------------------------------------------

namespace {

constexpr std::array<const char*, 14> alternative_names = {
    "null",      "empty", "bool",         "std::int32_t", "std::int64_t", "float", "double",
    "timestamp", "uuid",  "inet_address", "string",       "blob",         "list",  "map"};
static_assert(alternative_names.size() == std::variant_size_v<value::storage>);

[[noreturn]] void mismatch(const field_path& field, const data_type& type,
                           const std::string& what) {
  throw std::invalid_argument(field.str() + ": " + type.to_string() + " " + what);
}

template <class T>
const T& expect(const value& v, const data_type& type, const field_path& field,
                const char* expected) {
  if (const T* p = v.get_if<T>()) {
    return *p;
  }
  mismatch(field, type,
           std::string("expects ") + expected + ", got " + alternative_names.at(v.data().index()));
}

void write_value_at(byte_writer& out, const data_type& type, const value& v,
                    const field_path& field);

void check_count(std::size_t count, const field_path& field, const data_type& type) {
  if (count > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    mismatch(field, type, "value has too many elements");
  }
}

void append_content(byte_writer& out, const data_type& type, const value& v,
                    const field_path& field) {
  switch (type.id()) {
    case type_id::ascii: {
      const auto& text = expect<std::string>(v, type, field, "string");
      if (ascii_error(text) != no_error) {
        mismatch(field, type, "value has a non-ASCII byte");
      }
      out.write_raw(text_bytes(text));
      break;
    }
    case type_id::varchar: {
      const auto& text = expect<std::string>(v, type, field, "string");
      if (utf8_error(text) != no_error) {
        mismatch(field, type, "value is not valid UTF-8");
      }
      out.write_raw(text_bytes(text));
      break;
    }
    case type_id::boolean:
      out.write_byte(expect<bool>(v, type, field, "bool") ? 1 : 0);
      break;
    case type_id::int_:
      out.write_int(expect<std::int32_t>(v, type, field, "std::int32_t"));
      break;
    case type_id::bigint:
    case type_id::counter:
      out.write_long(expect<std::int64_t>(v, type, field, "std::int64_t"));
      break;
    case type_id::timestamp:
      out.write_long(expect<timestamp>(v, type, field, "timestamp").time_since_epoch().count());
      break;
    case type_id::float_:
      out.write_int(std::bit_cast<std::int32_t>(expect<float>(v, type, field, "float")));
      break;
    case type_id::double_:
      out.write_long(std::bit_cast<std::int64_t>(expect<double>(v, type, field, "double")));
      break;
    case type_id::uuid:
    case type_id::timeuuid: {
      const auto& id = expect<uuid>(v, type, field, "uuid");
      if (type.id() == type_id::timeuuid && id.version() != 1) {
        mismatch(field, type, "value is a version " + std::to_string(id.version()) + " uuid");
      }
      out.write_raw(id.bytes);
      break;
    }
    case type_id::inet: {
      const auto& address = expect<inet_address>(v, type, field, "inet_address");
      if (address.size != 4 && address.size != 16) {
        mismatch(field, type, "value has " + std::to_string(address.size) + " bytes");
      }
      out.write_raw(address.address());
      break;
    }
    case type_id::list:
    case type_id::set: {
      const auto& items = expect<value::list>(v, type, field, "list");
      check_count(items.size(), field, type);
      out.write_int(static_cast<std::int32_t>(items.size()));
      for (std::size_t i = 0; i < items.size(); ++i) {
        write_value_at(out, type.element(), items[i], field_path(field, i));
      }
      break;
    }
    case type_id::map: {
      const auto& entries = expect<value::map>(v, type, field, "map");
      check_count(entries.size(), field, type);
      out.write_int(static_cast<std::int32_t>(entries.size()));
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const field_path entry(field, i);
        write_value_at(out, type.element(), entries[i].first, field_path(entry, "key"));
        write_value_at(out, type.mapped(), entries[i].second, field_path(entry, "value"));
      }
      break;
    }
    default:
      out.write_raw(expect<value::blob>(v, type, field, "blob"));
      break;
  }
}

void write_value_at(byte_writer& out, const data_type& type, const value& v,
                    const field_path& field) {
  if (v.is_null()) {
    out.write_null();
    return;
  }
  if (v.is_empty()) {
    out.write_int(0);
    return;
  }
  const std::size_t length_position = out.size();
  out.write_int(0);
  append_content(out, type, v, field);
  const std::size_t length = out.size() - length_position - 4;
  if (length > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("scopekit::cql: " + field.str() + ": value longer than 2^31 - 1 bytes");
  }
  out.patch_int(length_position, static_cast<std::int32_t>(length));
}

}  // namespace

void write_value(byte_writer& out, const data_type& type, const value& v) {
  write_value_at(out, type, v, "value");
}

std::vector<std::byte> serialize_value(const data_type& type, const value& v) {
  if (v.is_null()) {
    throw std::invalid_argument("value: a null value has no content to serialize");
  }
  std::vector<std::byte> bytes;
  if (!v.is_empty()) {
    byte_writer out(bytes);
    append_content(out, type, v, "value");
  }
  return bytes;
}

}  // namespace scopekit::cql
