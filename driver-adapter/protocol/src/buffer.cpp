// byte_reader and byte_writer: the §3 notations that are not inline, and the error paths.
#include "scopekit/cql/protocol/buffer.hpp"

#include "format.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace scopekit::cql {

namespace {
constexpr std::size_t max_short = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t max_int = std::numeric_limits<std::int32_t>::max();

void check_size(std::size_t size, std::size_t max, const char* what) {
  if (size > max) {
    throw std::length_error(std::string("scopekit::cql: ") + what + " of " + std::to_string(size) +
                            " exceeds its limit of " + std::to_string(max));
  }
}
}  // namespace

// ---- byte_reader ----------------------------------------------------------------------------

void byte_reader::fail(const field_path& field, std::size_t offset, const std::string& detail) {
  throw protocol_error(field.str(), offset, detail);
}

void byte_reader::fail_truncated(const field_path& field, std::size_t size) const {
  fail(field, offset(),
       "needs " + std::to_string(size) + " bytes" + detail::at(offset()) + ", only " +
           std::to_string(remaining()) + " left");
}

void byte_reader::fail_length(const field_path& field, std::size_t start,
                              std::size_t length) const {
  fail(field, start,
       "length " + std::to_string(length) + detail::at(start) + " exceeds the " +
           std::to_string(remaining()) + " bytes left");
}

void byte_reader::fail_negative_length(const field_path& field, std::size_t start,
                                       std::int32_t length) {
  fail(field, start, "invalid length " + std::to_string(length) + detail::at(start));
}

void byte_reader::check_count(const field_path& field, std::size_t count_offset,
                              std::uint64_t count, std::size_t min_element_size) const {
  if (min_element_size != 0 && count > remaining() / min_element_size) {
    fail(field, count_offset,
         "count " + std::to_string(count) + detail::at(count_offset) + " needs at least " +
             std::to_string(min_element_size) + " bytes each, only " + std::to_string(remaining()) +
             " left");
  }
}

std::string_view byte_reader::read_string(const field_path& field) {
  return bytes_text(read_short_bytes(field));
}

std::string_view byte_reader::read_long_string(const field_path& field) {
  const std::size_t start = offset();
  const std::int32_t size = read_int(field);
  if (size < 0) {
    fail_negative_length(field, start, size);
  }
  if (static_cast<std::size_t>(size) > remaining()) {
    fail_length(field, start, static_cast<std::size_t>(size));
  }
  return bytes_text(take(static_cast<std::size_t>(size), field));
}

std::span<const std::byte> byte_reader::read_short_bytes(const field_path& field) {
  const std::size_t start = offset();
  const std::size_t size = read_short(field);
  if (size > remaining()) {
    fail_length(field, start, size);
  }
  return take(size, field);
}

std::size_t byte_reader::read_short_count(const field_path& field, std::size_t min_element_size) {
  const std::size_t start = offset();
  const std::size_t count = read_short(field);
  check_count(field, start, count, min_element_size);
  return count;
}

std::size_t byte_reader::read_int_count(const field_path& field, std::size_t min_element_size) {
  const std::size_t start = offset();
  const std::int32_t count = read_int(field);
  if (count < 0) {
    fail(field, start, "negative count " + std::to_string(count) + detail::at(start));
  }
  check_count(field, start, static_cast<std::uint64_t>(count), min_element_size);
  return static_cast<std::size_t>(count);
}

string_list byte_reader::read_string_list(const field_path& field) {
  const std::size_t count = read_short_count(field, 2);
  string_list out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.emplace_back(read_string(field_path(field, i)));
  }
  return out;
}

string_map byte_reader::read_string_map(const field_path& field) {
  const std::size_t count = read_short_count(field, 4);
  string_map out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const field_path entry(field, i);
    std::string key(read_string(field_path(entry, "key")));
    std::string value(read_string(field_path(entry, "value")));
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

string_multimap byte_reader::read_string_multimap(const field_path& field) {
  const std::size_t count = read_short_count(field, 4);
  string_multimap out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const field_path entry(field, i);
    std::string key(read_string(field_path(entry, "key")));
    string_list values = read_string_list(field_path(entry, "value"));
    out.emplace_back(std::move(key), std::move(values));
  }
  return out;
}

bytes_map byte_reader::read_bytes_map(const field_path& field) {
  const std::size_t count = read_short_count(field, 6);
  bytes_map out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const field_path entry(field, i);
    std::string key(read_string(field_path(entry, "key")));
    const value_view v = read_bytes(field_path(entry, "value"));
    std::optional<std::vector<std::byte>> bytes;
    if (!v.is_null()) {
      bytes.emplace(v.bytes().begin(), v.bytes().end());
    }
    out.emplace_back(std::move(key), std::move(bytes));
  }
  return out;
}

void byte_reader::expect_end(const field_path& field) const {
  if (!at_end()) {
    fail(
        field, offset(),
        std::to_string(remaining()) + " unexpected bytes after the message" + detail::at(offset()));
  }
}

// ---- byte_writer ----------------------------------------------------------------------------

void byte_writer::write_string(std::string_view text) {
  check_size(text.size(), max_short, "[string]");
  write_short(static_cast<std::uint16_t>(text.size()));
  write_raw(text_bytes(text));
}

void byte_writer::write_long_string(std::string_view text) {
  check_size(text.size(), max_int, "[long string]");
  write_int(static_cast<std::int32_t>(text.size()));
  write_raw(text_bytes(text));
}

void byte_writer::write_bytes(std::span<const std::byte> bytes) {
  check_size(bytes.size(), max_int, "[bytes]");
  write_int(static_cast<std::int32_t>(bytes.size()));
  write_raw(bytes);
}

void byte_writer::write_value(const value_view& value) {
  if (value.length() < 0) {
    write_int(value.length());
  } else {
    write_bytes(value.bytes());
  }
}

void byte_writer::write_short_bytes(std::span<const std::byte> bytes) {
  check_size(bytes.size(), max_short, "[short bytes]");
  write_short(static_cast<std::uint16_t>(bytes.size()));
  write_raw(bytes);
}

void byte_writer::write_string_list(const string_list& list) {
  check_size(list.size(), max_short, "[string list]");
  write_short(static_cast<std::uint16_t>(list.size()));
  for (const std::string& s : list) {
    write_string(s);
  }
}

void byte_writer::write_string_map(const string_map& map) {
  check_size(map.size(), max_short, "[string map]");
  write_short(static_cast<std::uint16_t>(map.size()));
  for (const auto& [key, value] : map) {
    write_string(key);
    write_string(value);
  }
}

void byte_writer::write_string_multimap(const string_multimap& map) {
  check_size(map.size(), max_short, "[string multimap]");
  write_short(static_cast<std::uint16_t>(map.size()));
  for (const auto& [key, values] : map) {
    write_string(key);
    write_string_list(values);
  }
}

void byte_writer::write_bytes_map(const bytes_map& map) {
  check_size(map.size(), max_short, "[bytes map]");
  write_short(static_cast<std::uint16_t>(map.size()));
  for (const auto& [key, value] : map) {
    write_string(key);
    if (value) {
      write_bytes(*value);
    } else {
      write_null();
    }
  }
}

void byte_writer::patch_int(std::size_t position, std::int32_t v) noexcept {
  store_be(v, std::span<std::byte>(*out_).subspan(position, 4));
}

}  // namespace scopekit::cql
