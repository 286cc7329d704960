// scopekit/cql/protocol/response.hpp - the CQL v4 responses a server sends and a driver decodes:
// ERROR with the extra fields of every code (spec §9), READY, SUPPORTED, RESULT of every kind
// (Void, Rows, Set_keyspace, Prepared, Schema_change; §4.2.5) and EVENT, kept opaque.
//
// decode_response() takes the frame by value: a Rows result keeps its body without copying it
// (rows.hpp). It reads the tracing id, warnings and custom payload that the header flags
// announce, and ignores bytes after the message, as the spec asks of clients (§4.2).
// Malformed bytes throw protocol_error; encoding throws std::invalid_argument for a message
// that cannot be written as given (error details that do not belong to the code, for one).
//
//   scopekit::cql::response r = scopekit::cql::decode_response(std::move(frame));
//   if (auto* rows = std::get_if<scopekit::cql::rows_result>(&r.message)) { ... }
//   else if (auto* e = std::get_if<scopekit::cql::error_response>(&r.message)) { ... }
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/consistency.hpp"
#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/rows.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace scopekit::cql {

// ---- ERROR (§4.2.1, §9) ---------------------------------------------------------------------

/// 0x1000 Unavailable: `required` replicas needed for `consistency`, `alive` known alive.
struct unavailable_error {
  cql::consistency consistency = cql::consistency::one;
  std::int32_t required = 0;
  std::int32_t alive = 0;
  friend bool operator==(const unavailable_error&, const unavailable_error&) = default;
};

/// 0x1100 Write_timeout: `received` of `block_for` acknowledgements; write_type is "SIMPLE",
/// "BATCH", "UNLOGGED_BATCH", "COUNTER" or "BATCH_LOG".
struct write_timeout_error {
  cql::consistency consistency = cql::consistency::one;
  std::int32_t received = 0;
  std::int32_t block_for = 0;
  std::string write_type;
  friend bool operator==(const write_timeout_error&, const write_timeout_error&) = default;
};

/// 0x1200 Read_timeout: data_present says whether the replica asked for data answered.
struct read_timeout_error {
  cql::consistency consistency = cql::consistency::one;
  std::int32_t received = 0;
  std::int32_t block_for = 0;
  bool data_present = false;
  friend bool operator==(const read_timeout_error&, const read_timeout_error&) = default;
};

/// 0x1300 Read_failure.
struct read_failure_error {
  cql::consistency consistency = cql::consistency::one;
  std::int32_t received = 0;
  std::int32_t block_for = 0;
  std::int32_t failures = 0;
  bool data_present = false;
  friend bool operator==(const read_failure_error&, const read_failure_error&) = default;
};

/// 0x1400 Function_failure: the function that failed and its argument types (as CQL types).
struct function_failure_error {
  std::string keyspace;
  std::string function;
  string_list argument_types;
  friend bool operator==(const function_failure_error&, const function_failure_error&) = default;
};

/// 0x1500 Write_failure.
struct write_failure_error {
  cql::consistency consistency = cql::consistency::one;
  std::int32_t received = 0;
  std::int32_t block_for = 0;
  std::int32_t failures = 0;
  std::string write_type;
  friend bool operator==(const write_failure_error&, const write_failure_error&) = default;
};

/// 0x2400 Already_exists: the keyspace, and the table (empty when a keyspace already exists).
struct already_exists_error {
  std::string keyspace;
  std::string table;
  friend bool operator==(const already_exists_error&, const already_exists_error&) = default;
};

/// 0x2500 Unprepared: the statement id the server does not know.
struct unprepared_error {
  std::vector<std::byte> id;
  friend bool operator==(const unprepared_error&, const unprepared_error&) = default;
};

/// The extra fields after the message; std::monostate for the codes that have none.
using error_details =
    std::variant<std::monostate, unavailable_error, write_timeout_error, read_timeout_error,
                 read_failure_error, function_failure_error, write_failure_error,
                 already_exists_error, unprepared_error>;

/// ERROR: [int] code, [string] message, then the details the code calls for.
struct error_response {
  error_code code = error_code::server_error;
  std::string message;
  error_details details;
  friend bool operator==(const error_response&, const error_response&) = default;
};

/// The error_details alternative that `code` carries (0 for std::monostate).
std::size_t details_index_for(error_code code) noexcept;

// ---- READY, SUPPORTED, EVENT ----------------------------------------------------------------

/// READY (§4.2.2): empty body.
struct ready_response {
  friend bool operator==(const ready_response&, const ready_response&) = default;
};

/// SUPPORTED (§4.2.4): for each STARTUP option, the values the server accepts.
struct supported_response {
  string_multimap options;
  friend bool operator==(const supported_response&, const supported_response&) = default;
};

/// EVENT (§4.2.6), not interpreted: the body as received.
struct event_response {
  std::vector<std::byte> body;
  friend bool operator==(const event_response&, const event_response&) = default;
};

// ---- AUTHENTICATE, AUTH_CHALLENGE, AUTH_SUCCESS ---------------------------------------------

/// AUTHENTICATE (§4.2.3): the server requires authentication, by the authenticator this
/// [string] names ("org.apache.cassandra.auth.PasswordAuthenticator"); the client answers
/// with AUTH_RESPONSE.
struct authenticate_response {
  std::string authenticator;
  friend bool operator==(const authenticate_response&, const authenticate_response&) = default;
};

/// AUTH_CHALLENGE (§4.2.7): a SASL challenge ([bytes], null allowed); the client answers with
/// another AUTH_RESPONSE.
struct auth_challenge_response {
  std::optional<std::vector<std::byte>> token;
  friend bool operator==(const auth_challenge_response&, const auth_challenge_response&) =
      default;
};

/// AUTH_SUCCESS (§4.2.8): authentication is over and the connection is ready; the final SASL
/// token ([bytes], null allowed; PasswordAuthenticator sends null).
struct auth_success_response {
  std::optional<std::vector<std::byte>> token;
  friend bool operator==(const auth_success_response&, const auth_success_response&) = default;
};

// ---- RESULT (§4.2.5) ------------------------------------------------------------------------

/// The [int] kind that starts a RESULT body.
enum class result_kind : std::int32_t {
  void_ = 0x0001,
  rows = 0x0002,
  set_keyspace = 0x0003,
  prepared = 0x0004,
  schema_change = 0x0005,
};

/// Void (§4.2.5.1).
struct void_result {
  friend bool operator==(const void_result&, const void_result&) = default;
};

/// Set_keyspace (§4.2.5.3): the keyspace USE switched to.
struct set_keyspace_result {
  std::string keyspace;
  friend bool operator==(const set_keyspace_result&, const set_keyspace_result&) = default;
};

/// The bind-marker <metadata> of a Prepared result. Flag Global_tables_spec is written when
/// global_table is engaged (every column's table must then equal it).
struct prepared_metadata {
  std::optional<table_spec> global_table;
  /// For each partition key column, in key order, the index of its bind marker.
  std::vector<std::uint16_t> partition_key_indexes;
  std::vector<column_spec> columns;
  friend bool operator==(const prepared_metadata&, const prepared_metadata&) = default;
};

/// Prepared (§4.2.5.4): the statement id, its bind markers, and the metadata of the rows it
/// returns (for a statement that returns none: no_metadata and 0 columns).
struct prepared_result {
  std::vector<std::byte> id;
  prepared_metadata variables;
  result_metadata result;
  friend bool operator==(const prepared_result&, const prepared_result&) = default;
};

/// Schema_change (§4.2.5.5): change_type "CREATED", "UPDATED" or "DROPPED"; target
/// "KEYSPACE" (keyspace only), "TABLE" or "TYPE" (keyspace and name), "FUNCTION" or
/// "AGGREGATE" (keyspace, name and argument types).
struct schema_change_result {
  std::string change_type;
  std::string target;
  std::string keyspace;
  std::string name;
  string_list argument_types;
  friend bool operator==(const schema_change_result&, const schema_change_result&) = default;
};

// ---- Frames ---------------------------------------------------------------------------------

using response_message =
    std::variant<error_response, ready_response, supported_response, void_result, rows_result,
                 set_keyspace_result, prepared_result, schema_change_result, event_response,
                 authenticate_response, auth_challenge_response, auth_success_response>;

/// A response frame, decoded.
struct response {
  std::int16_t stream = 0;
  /// Header flag 0x02: the tracing session id that precedes the message.
  std::optional<uuid> tracing_id;
  /// Header flag 0x08: server warnings (written when non-empty).
  string_list warnings;
  /// Header flag 0x04: a [bytes map] (written when non-empty).
  bytes_map custom_payload;
  response_message message;
  friend bool operator==(const response&, const response&) = default;
};

/// The opcode that carries `message` (RESULT for the *_result and rows_result types).
opcode opcode_of(const response_message& message) noexcept;

/// Decodes the body of a response with opcode `op`; the message starts at `offset` in `body`
/// (a Rows result takes `body` over; offsets in errors count from the start of `body`).
/// protocol_error for an opcode that is not a response, an unknown result kind, an unknown Schema_change target or
/// anything malformed.
response_message decode_response_body(opcode op, std::vector<std::byte> body,
                                      std::size_t offset = 0);
/// Appends the body of `message`.
void encode_response_body(byte_writer& out, const response_message& message);

/// Decodes a response frame: its header must have the response bit (any version: a server
/// refusing our version answers in its own). A compressed body is a protocol_error.
response decode_response(frame f);
/// Appends the whole frame of `r`, with version `version` (0x84 by default).
void encode_response(byte_writer& out, const response& r,
                     std::uint8_t version = response_version);

}  // namespace scopekit::cql
