// scopekit/cql/protocol/request.hpp - the CQL v4 requests a driver sends and a server decodes:
// STARTUP, OPTIONS, QUERY, PREPARE, EXECUTE, REGISTER (spec §4.1), with the query parameters and
// all their flags (§4.1.4).
//
// decode_request() turns a frame into a `request`; encode_request() appends the frame for one.
// Decoding is strict, since it parses what an untrusted client sent: bytes after the message,
// unknown query flag bits, a negative default timestamp, a [value] length below -2 and an
// unknown consistency are protocol_errors, as are a response frame, a compressed body (no
// compression is ever negotiated) and the opcodes not listed (BATCH, AUTH_RESPONSE). Values
// stay as bytes; decode them with the bind markers' types (value.hpp).
//
//   scopekit::cql::query_request q{"SELECT * FROM t WHERE id = ?", {}};
//   q.parameters.values.push_back(scopekit::cql::query_value::of(std::int32_t{7}));
//   scopekit::cql::request r;
//   r.stream = 1;
//   r.message = std::move(q);
//   std::vector<std::byte> out;
//   scopekit::cql::byte_writer w{out};
//   scopekit::cql::encode_request(w, r);  // the whole frame, header included
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/consistency.hpp"
#include "scopekit/cql/protocol/data_type.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql {

/// Flag bits of <query_parameters> (spec §4.1.4).
namespace query_flags {
inline constexpr std::uint8_t values = 0x01;
inline constexpr std::uint8_t skip_metadata = 0x02;
inline constexpr std::uint8_t page_size = 0x04;
inline constexpr std::uint8_t paging_state = 0x08;
inline constexpr std::uint8_t serial_consistency = 0x10;
inline constexpr std::uint8_t default_timestamp = 0x20;
inline constexpr std::uint8_t names_for_values = 0x40;
}  // namespace query_flags

/// A bound [value], owning its bytes: set (possibly empty), null, or "not set" (leave the
/// column unchanged).
class query_value {
public:
  /// A null value.
  query_value() = default;
  /// A value holding `bytes`, already serialized.
  explicit query_value(std::vector<std::byte> bytes) : bytes_(std::move(bytes)), kind_(set) {}
  /// Copies a value_view (a null or not-set view gives a null or not-set value).
  explicit query_value(const value_view& v);

  static query_value null() { return {}; }
  static query_value not_set() {
    query_value v;
    v.kind_ = unset;
    return v;
  }
  /// `v` serialized as `type` (null_value gives null); std::invalid_argument as write_value.
  static query_value of(const data_type& type, const value& v);
  /// Shorthands for the common scalars.
  static query_value of(std::int32_t v) { return of(type_id::int_, v); }
  static query_value of(std::int64_t v) { return of(type_id::bigint, v); }
  static query_value of(std::string_view text) { return of(type_id::varchar, text); }

  bool is_null() const noexcept { return kind_ == null_kind; }
  bool is_not_set() const noexcept { return kind_ == unset; }
  /// The bytes; empty for null and not set.
  const std::vector<std::byte>& bytes() const noexcept { return bytes_; }
  /// A view of this value, as decoders take it.
  value_view view() const noexcept;

  friend bool operator==(const query_value&, const query_value&) = default;

private:
  enum kind : std::uint8_t { set, null_kind, unset };
  std::vector<std::byte> bytes_;
  kind kind_ = null_kind;
};

/// <query_parameters> of QUERY and EXECUTE. Each optional part is written, with its flag, when
/// it is engaged (values: when non-empty), in the spec's order.
struct query_parameters {
  cql::consistency consistency = cql::consistency::one;
  /// Flag 0x01: bound values, by position (or by name, see `names`).
  std::vector<query_value> values;
  /// Flag 0x40: one name per value, if values are bound by name; else empty.
  std::vector<std::string> names;
  /// Flag 0x02: ask for Rows without metadata.
  bool skip_metadata = false;
  /// Flag 0x04: rows per page.
  std::optional<std::int32_t> page_size;
  /// Flag 0x08: where to resume, from a previous page's metadata (a null [bytes] decodes as
  /// empty).
  std::optional<std::vector<std::byte>> paging_state;
  /// Flag 0x10: the consistency of the serial phase of a conditional update.
  std::optional<cql::consistency> serial_consistency;
  /// Flag 0x20: the default timestamp, microseconds since the epoch (never negative).
  std::optional<std::int64_t> default_timestamp;

  friend bool operator==(const query_parameters&, const query_parameters&) = default;
};

/// Appends <query_parameters>. std::invalid_argument if `names` is neither empty nor one per
/// value, or the default timestamp is negative; std::length_error past 65535 values.
void write_query_parameters(byte_writer& out, const query_parameters& parameters);
/// Reads <query_parameters>; `field` names the message ("query", "execute").
query_parameters read_query_parameters(byte_reader& in, const field_path& field);

/// STARTUP (§4.1.1): a [string map] of options; CQL_VERSION is required by servers, not by
/// the codec.
struct startup_request {
  string_map options;

  friend bool operator==(const startup_request&, const startup_request&) = default;
};

/// OPTIONS (§4.1.3): empty body.
struct options_request {
  friend bool operator==(const options_request&, const options_request&) = default;
};

/// QUERY (§4.1.4): a [long string] statement and its parameters.
struct query_request {
  std::string statement;
  query_parameters parameters;

  friend bool operator==(const query_request&, const query_request&) = default;
};

/// PREPARE (§4.1.5): a [long string] statement.
struct prepare_request {
  std::string statement;

  friend bool operator==(const prepare_request&, const prepare_request&) = default;
};

/// EXECUTE (§4.1.6): a [short bytes] prepared id and the parameters.
struct execute_request {
  std::vector<std::byte> id;
  query_parameters parameters;

  friend bool operator==(const execute_request&, const execute_request&) = default;
};

/// REGISTER (§4.1.8): a [string list] of event types.
struct register_request {
  string_list event_types;

  friend bool operator==(const register_request&, const register_request&) = default;
};

/// AUTH_RESPONSE (§4.1.2): the client's SASL token ([bytes], null allowed), for the
/// authenticator named by AUTHENTICATE. For PasswordAuthenticator it is SASL PLAIN:
/// "\0user\0password" (plain_sasl_token builds it).
struct auth_response_request {
  std::optional<std::vector<std::byte>> token;

  friend bool operator==(const auth_response_request&, const auth_response_request&) = default;
};

/// The SASL PLAIN token (RFC 4616) for `user` and `password`, with no authorization identity:
/// a zero byte, the user, a zero byte, the password.
std::vector<std::byte> plain_sasl_token(std::string_view user, std::string_view password);

using request_message =
    std::variant<startup_request, options_request, query_request, prepare_request,
                 execute_request, register_request, auth_response_request>;

/// A request frame, decoded: header fields that matter, and the message.
struct request {
  std::int16_t stream = 0;
  /// Header flag 0x02: the client asks for tracing.
  bool tracing = false;
  /// Header flag 0x04: a [bytes map] before the message (written when non-empty).
  bytes_map custom_payload;
  request_message message;

  friend bool operator==(const request&, const request&) = default;
};

/// The opcode that carries `message`.
opcode opcode_of(const request_message& message) noexcept;

/// Decodes the body of a request with opcode `op`. `base_offset` is added to reported offsets.
request_message decode_request_body(opcode op, std::span<const std::byte> body,
                                    std::size_t base_offset = 0);
/// Appends the body of `message`.
void encode_request_body(byte_writer& out, const request_message& message);

/// Decodes a request frame (version byte 0x04, or any without the response bit: the caller
/// decides which versions it speaks). Offsets in errors count from the start of the body.
request decode_request(const frame& f);
/// Appends the whole frame of `r`, version 0x04.
void encode_request(byte_writer& out, const request& r);

}  // namespace scopekit::cql
