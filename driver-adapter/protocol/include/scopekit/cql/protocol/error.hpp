// scopekit/cql/protocol/error.hpp - what goes wrong on the wire: protocol_error for bytes that
// break the CQL native protocol v4, error_code for the errors a server reports (spec §9).
//
// Every decoder in scopekit::cql throws protocol_error, and only that, for malformed input: a
// truncated field, a length or count larger than the bytes left, an unknown opcode, type id or
// flag. The error names the field by its path and the byte offset where the offending bytes
// start, so that a hex dump of the frame shows the culprit at once. A field_path is built on the
// stack as decoding descends and costs nothing until an error formats it.
//
//   try {
//     auto request = scopekit::cql::decode_request(frame);
//   } catch (const scopekit::cql::protocol_error& e) {
//     // e.what(): "query.values[2]: length 1000 at offset 31 exceeds the 12 bytes left"
//     // e.field(): "query.values[2]", e.offset(): 31
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scopekit::cql {

/// The name of a field being decoded, as a chain of segments that live on the caller's stack:
/// `rows` -> `cell[3]` -> `[1]` prints as "rows.cell[3][1]". Cheap to build (three words, no
/// allocation); str() formats it only when an error is reported. A field_path refers to its
/// parent, so it must not outlive it: build it where it is used.
class field_path {
public:
  /// A root segment, such as "query". Implicit, so that a string literal names a field.
  constexpr field_path(const char* name) noexcept : name_(name) {}
  constexpr field_path(std::string_view name) noexcept : name_(name) {}

  /// `parent.name`, or `parent.name[index]` with an index.
  constexpr field_path(const field_path& parent, std::string_view name) noexcept
      : parent_(&parent), name_(name) {}
  constexpr field_path(const field_path& parent, std::string_view name, std::size_t index) noexcept
      : parent_(&parent), name_(name), index_(index), has_index_(true) {}

  /// `parent[index]`.
  constexpr field_path(const field_path& parent, std::size_t index) noexcept
      : parent_(&parent), index_(index), has_index_(true) {}

  /// The dotted path, for example "rows.cell[3][1]". Allocates; throws std::bad_alloc.
  std::string str() const;

private:
  void append_to(std::string& out) const;

  const field_path* parent_ = nullptr;
  std::string_view name_;
  std::size_t index_ = 0;
  bool has_index_ = false;
};

/// Bytes that do not form a valid CQL v4 frame or message. what() is "<field>: <problem>",
/// and the problem text gives the offset; field() and offset() give the parts. Offsets count
/// from the start of the buffer handed to the decoder (the frame body for the message
/// decoders; the 9 header bytes for header fields). Copying never throws.
class protocol_error : public std::runtime_error {
public:
  /// `detail` describes the problem and includes the offset, such as
  /// "length 1000 at offset 31 exceeds the 12 bytes left".
  protocol_error(std::string_view field, std::size_t offset, std::string_view detail);

  /// The path of the field that could not be decoded, such as "rows.cell[3][1]".
  std::string_view field() const noexcept { return {what(), field_size_}; }
  /// Where the offending bytes start.
  std::size_t offset() const noexcept { return offset_; }

private:
  std::size_t field_size_;
  std::size_t offset_;
};

/// The error codes of an ERROR response (spec §9). Codes marked "+" carry extra fields, see
/// response.hpp. Any other [int] is decoded as is and carries no extra fields.
enum class error_code : std::int32_t {
  server_error = 0x0000,
  protocol_error = 0x000A,
  authentication_error = 0x0100,
  unavailable = 0x1000,  // + consistency, required, alive
  overloaded = 0x1001,
  is_bootstrapping = 0x1002,
  truncate_error = 0x1003,
  write_timeout = 0x1100,     // + consistency, received, block_for, write_type
  read_timeout = 0x1200,      // + consistency, received, block_for, data_present
  read_failure = 0x1300,      // + consistency, received, block_for, failures, data_present
  function_failure = 0x1400,  // + keyspace, function, argument types
  write_failure = 0x1500,     // + consistency, received, block_for, failures, write_type
  syntax_error = 0x2000,
  unauthorized = 0x2100,
  invalid = 0x2200,
  config_error = 0x2300,
  already_exists = 0x2400,  // + keyspace, table
  unprepared = 0x2500,      // + statement id
};

/// The spec's name of a code ("Unavailable", "Write_timeout"), or "unknown error code".
std::string_view to_string(error_code code) noexcept;

}  // namespace scopekit::cql
