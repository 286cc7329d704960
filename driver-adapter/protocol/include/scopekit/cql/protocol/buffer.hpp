// scopekit/cql/protocol/buffer.hpp - the notations of CQL v4 spec §3 ([int], [string], [bytes],
// [value], [string map], ...) read from and written to byte buffers, big-endian.
//
// byte_reader walks a std::span<const std::byte> that it never owns and never reads past:
// every length and count is checked against the bytes left before anything is read or
// allocated (a count is checked against the smallest encoding of its elements), and a failure
// throws protocol_error naming the field and the offset. Strings and [bytes] are returned as
// views into the span. byte_writer appends to a std::vector<std::byte>; it throws
// std::length_error for a string or byte string too long for its length prefix, and whatever
// the vector throws when it grows.
//
//   std::vector<std::byte> out;
//   scopekit::cql::byte_writer w{out};
//   w.write_string("CQL_VERSION");
//   scopekit::cql::byte_reader r{out};
//   std::string_view key = r.read_string("startup.key");  // "CQL_VERSION", a view into out
#pragma once

#include "scopekit/cql/protocol/big_endian.hpp"
#include "scopekit/cql/protocol/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scopekit::cql {

/// Lengths with a meaning of their own: a [bytes] or [value] of length -1 is null, a [value]
/// of length -2 is "not set" (spec §3). Any other negative length is invalid.
inline constexpr std::int32_t null_length = -1;
inline constexpr std::int32_t not_set_length = -2;

/// A [string list], a [string map] and a [string multimap] (spec §3), in wire order.
using string_list = std::vector<std::string>;
using string_map = std::vector<std::pair<std::string, std::string>>;
using string_multimap = std::vector<std::pair<std::string, string_list>>;
/// A [bytes map]: [string] keys, [bytes] values that may be null (std::nullopt).
using bytes_map = std::vector<std::pair<std::string, std::optional<std::vector<std::byte>>>>;

/// The bytes of a string, and the string that some bytes spell (no copy, no validation).
inline std::span<const std::byte> text_bytes(std::string_view text) noexcept {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}
inline std::string_view bytes_text(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};  // NOLINT(*-reinterpret-cast)
}

/// A [bytes] or [value] as found in a buffer: null (length -1), not set (length -2, [value]
/// only), or a view of its bytes (possibly empty, which is not null). It does not own the
/// bytes. offset() is where its content starts in the decoded buffer, for error messages.
class value_view {
public:
  /// A null value.
  constexpr value_view() noexcept = default;
  /// A value holding `bytes` (at most 2^31 - 1 of them), found at `offset`.
  constexpr explicit value_view(std::span<const std::byte> bytes, std::size_t offset = 0) noexcept
      : data_(bytes.data()), length_(static_cast<std::int32_t>(bytes.size())), offset_(offset) {}

  static constexpr value_view null(std::size_t offset = 0) noexcept {
    return value_view{null_length, offset};
  }
  static constexpr value_view not_set(std::size_t offset = 0) noexcept {
    return value_view{not_set_length, offset};
  }

  /// The length as written on the wire: -1 null, -2 not set, else the number of bytes.
  constexpr std::int32_t length() const noexcept { return length_; }
  constexpr bool is_null() const noexcept { return length_ == null_length; }
  constexpr bool is_not_set() const noexcept { return length_ == not_set_length; }
  /// True for a present value of zero bytes (an "empty" value, distinct from null).
  constexpr bool is_empty() const noexcept { return length_ == 0; }
  /// The content; empty for null and not set.
  constexpr std::span<const std::byte> bytes() const noexcept {
    return length_ > 0 ? std::span<const std::byte>(data_, static_cast<std::size_t>(length_))
                       : std::span<const std::byte>();
  }
  constexpr std::size_t offset() const noexcept { return offset_; }

private:
  constexpr value_view(std::int32_t length, std::size_t offset) noexcept
      : length_(length), offset_(offset) {}

  const std::byte* data_ = nullptr;
  std::int32_t length_ = null_length;
  std::size_t offset_ = 0;
};

/// Reads the §3 notations from a span it does not own. Each read advances past the field or
/// throws protocol_error (and then the reader's position is unspecified). `base_offset` is
/// added to every reported offset, so that a reader over part of a body reports positions in
/// the whole body.
class byte_reader {
public:
  explicit constexpr byte_reader(std::span<const std::byte> bytes,
                                 std::size_t base_offset = 0) noexcept
      : bytes_(bytes), base_(base_offset) {}

  /// The offset of the next byte to read, counted as described above.
  std::size_t offset() const noexcept { return base_ + position_; }
  std::size_t remaining() const noexcept { return bytes_.size() - position_; }
  bool at_end() const noexcept { return position_ == bytes_.size(); }

  /// [byte], [short] (unsigned), [int], [long].
  std::uint8_t read_byte(const field_path& field) {
    return std::to_integer<std::uint8_t>(take(1, field)[0]);
  }
  std::uint16_t read_short(const field_path& field) {
    return load_be<std::uint16_t>(take(2, field));
  }
  std::int32_t read_int(const field_path& field) {
    return load_be<std::int32_t>(take(4, field));
  }
  std::int64_t read_long(const field_path& field) {
    return load_be<std::int64_t>(take(8, field));
  }

  /// The next `size` bytes, as a view.
  std::span<const std::byte> read_raw(std::size_t size, const field_path& field) {
    return take(size, field);
  }

  /// [string] and [long string], as views (not validated as UTF-8).
  std::string_view read_string(const field_path& field);
  std::string_view read_long_string(const field_path& field);

  /// [bytes]: length -1 is null; any other negative length is an error.
  value_view read_bytes(const field_path& field) { return read_length_prefixed(field, false); }
  /// [value]: like [bytes], and length -2 is "not set".
  value_view read_value(const field_path& field) { return read_length_prefixed(field, true); }
  /// [short bytes].
  std::span<const std::byte> read_short_bytes(const field_path& field);

  /// A [short] count of elements that each take at least `min_element_size` bytes; throws if
  /// they cannot fit in the bytes left, so the count is safe to reserve.
  std::size_t read_short_count(const field_path& field, std::size_t min_element_size);
  /// An [int] count, likewise; a negative count is an error.
  std::size_t read_int_count(const field_path& field, std::size_t min_element_size);
  /// Throws unless `count` elements of at least `min_element_size` bytes fit in the bytes
  /// left; `count_offset` is where the count was read, for the message. For counts that are
  /// read as part of something else (the rows of a Rows result).
  void check_count(const field_path& field, std::size_t count_offset, std::uint64_t count,
                   std::size_t min_element_size) const;

  /// [string list], [string map], [string multimap], [bytes map], copied out.
  string_list read_string_list(const field_path& field);
  string_map read_string_map(const field_path& field);
  string_multimap read_string_multimap(const field_path& field);
  bytes_map read_bytes_map(const field_path& field);

  /// Throws unless every byte has been read: `field` names the message that should end here.
  void expect_end(const field_path& field) const;

  /// Throws protocol_error(field.str(), offset, detail).
  [[noreturn]] static void fail(const field_path& field, std::size_t offset,
                                const std::string& detail);

private:
  std::span<const std::byte> take(std::size_t size, const field_path& field) {
    if (size > remaining()) {
      fail_truncated(field, size);
    }
    auto out = bytes_.subspan(position_, size);
    position_ += size;
    return out;
  }

  value_view read_length_prefixed(const field_path& field, bool allow_not_set) {
    const std::size_t start = offset();
    const std::int32_t length = read_int(field);
    if (length < 0) {
      if (length == null_length || (allow_not_set && length == not_set_length)) {
        return length == null_length ? value_view::null(offset()) : value_view::not_set(offset());
      }
      fail_negative_length(field, start, length);
    }
    const auto size = static_cast<std::size_t>(length);
    if (size > remaining()) {
      fail_length(field, start, size);
    }
    const value_view out{bytes_.subspan(position_, size), offset()};
    position_ += size;
    return out;
  }

  [[noreturn]] void fail_truncated(const field_path& field, std::size_t size) const;
  [[noreturn]] void fail_length(const field_path& field, std::size_t start,
                                std::size_t length) const;
  [[noreturn]] static void fail_negative_length(const field_path& field, std::size_t start,
                                                std::int32_t length);

  std::span<const std::byte> bytes_;
  std::size_t position_ = 0;
  std::size_t base_ = 0;
};

/// Appends the §3 notations to a vector it does not own (which must outlive the writer).
class byte_writer {
public:
  explicit byte_writer(std::vector<std::byte>& out) noexcept : out_(&out) {}

  std::vector<std::byte>& buffer() const noexcept { return *out_; }
  std::size_t size() const noexcept { return out_->size(); }

  void write_byte(std::uint8_t v) { out_->push_back(static_cast<std::byte>(v)); }
  void write_short(std::uint16_t v) { append_be(v); }
  void write_int(std::int32_t v) { append_be(v); }
  void write_long(std::int64_t v) { append_be(v); }
  void write_raw(std::span<const std::byte> bytes) {
    out_->insert(out_->end(), bytes.begin(), bytes.end());
  }

  /// [string] (at most 65535 bytes) and [long string]; std::length_error if longer.
  void write_string(std::string_view text);
  void write_long_string(std::string_view text);
  /// [bytes] holding `bytes` (at most 2^31 - 1 of them; std::length_error if more).
  void write_bytes(std::span<const std::byte> bytes);
  /// [bytes] or [value] as `value` describes it: null, not set or its bytes.
  void write_value(const value_view& value);
  /// A null [bytes] / [value] (length -1) and a not-set [value] (length -2).
  void write_null() { write_int(null_length); }
  void write_not_set() { write_int(not_set_length); }
  /// [short bytes] (at most 65535 bytes).
  void write_short_bytes(std::span<const std::byte> bytes);

  void write_string_list(const string_list& list);
  void write_string_map(const string_map& map);
  void write_string_multimap(const string_multimap& map);
  void write_bytes_map(const bytes_map& map);

  /// Overwrites the [int] at `position` (from the start of the buffer), which must have been
  /// written already: how a length or a count is filled in once known.
  void patch_int(std::size_t position, std::int32_t v) noexcept;

private:
  template <wire_integer T>
  void append_be(T v) {
    std::array<std::byte, sizeof(T)> bytes{};
    store_be(v, bytes);
    for (const std::byte b : bytes) {  // not insert(): GCC 12 at -O3 warns falsely on it
      out_->push_back(b);
    }
  }

  std::vector<std::byte>* out_;
};

}  // namespace scopekit::cql
