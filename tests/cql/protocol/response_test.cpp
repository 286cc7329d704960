// Tests for scopekit/cql/protocol/response.hpp: ERROR for every code, READY, SUPPORTED, every
// RESULT kind, byte-exact both ways; response frames with tracing, warnings and custom payload.
#include "scopekit/cql/protocol/response.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace scopekit::cql::test {
namespace {

namespace vectors = scopekit::cql::test;

bytes encode_body(const response_message& m) {
  return written([&](byte_writer& w) { encode_response_body(w, m); });
}

bytes encode_frame(const response& r, std::uint8_t version = 0x84) {
  return written([&](byte_writer& w) { encode_response(w, r, version); });
}

frame frame_of(const bytes& whole) {
  frame f;
  f.header = scopekit::cql::decode_header(whole);
  f.body.assign(whole.begin() + 9, whole.end());
  return f;
}

response_message decode_body(opcode op, const bytes& body) {
  return decode_response_body(op, body);
}

error_response error_of(error_code code, std::string message,
                        scopekit::cql::error_details details = {}) {
  return error_response{code, std::move(message), std::move(details)};
}

std::vector<std::pair<const bytes*, error_response>> expected_errors() {
  return {
      {&vectors::error_server_body, error_of(error_code::server_error, "boom")},
      {&vectors::error_protocol_body,
       error_of(error_code::protocol_error,
                "Invalid or unsupported protocol version (5); supported versions are (3/v3, "
                "4/v4, 5/v5)")},
      {&vectors::error_authentication_body,
       error_of(error_code::authentication_error, "bad credentials")},
      {&vectors::error_unavailable_body,
       error_of(error_code::unavailable, "Cannot achieve consistency level QUORUM",
                unavailable_error{consistency::quorum, 2, 1})},
      {&vectors::error_overloaded_body, error_of(error_code::overloaded, "busy")},
      {&vectors::error_is_bootstrapping_body, error_of(error_code::is_bootstrapping, "joining")},
      {&vectors::error_truncate_body, error_of(error_code::truncate_error, "truncate")},
      {&vectors::error_write_timeout_body,
       error_of(error_code::write_timeout, "Operation timed out - received only 0 responses.",
                write_timeout_error{consistency::one, 0, 1, "SIMPLE"})},
      {&vectors::error_read_timeout_body,
       error_of(error_code::read_timeout, "timeout",
                read_timeout_error{consistency::quorum, 1, 2, false})},
      {&vectors::error_read_failure_body,
       error_of(error_code::read_failure, "failure",
                read_failure_error{consistency::local_quorum, 1, 2, 1, true})},
      {&vectors::error_function_failure_body,
       error_of(error_code::function_failure, "oops",
                function_failure_error{"demo", "f", {"int"}})},
      {&vectors::error_write_failure_body,
       error_of(error_code::write_failure, "failure",
                write_failure_error{consistency::one, 0, 1, 1, "BATCH_LOG"})},
      {&vectors::error_syntax_body,
       error_of(error_code::syntax_error, "line 1:7 no viable alternative at input 'FORM'")},
      {&vectors::error_unauthorized_body, error_of(error_code::unauthorized, "nope")},
      {&vectors::error_invalid_body, error_of(error_code::invalid, "unconfigured table nope")},
      {&vectors::error_config_body, error_of(error_code::config_error, "config")},
      {&vectors::error_already_exists_body,
       error_of(error_code::already_exists, "Keyspace demo already exists",
                already_exists_error{"demo", ""})},
      {&vectors::error_unprepared_body,
       error_of(error_code::unprepared, "Prepared query with ID abcd not found",
                unprepared_error{b({0xAB, 0xCD})})},
  };
}

prepared_result expected_prepared_select() {
  prepared_result p;
  p.id = b({0xAB, 0xCD});
  p.variables.global_table = table_spec{"demo", "t"};
  p.variables.partition_key_indexes = {0};
  p.variables.columns = {{{"demo", "t"}, "k", type_id::int_}};
  p.result.column_count = 2;
  p.result.global_table = table_spec{"demo", "t"};
  p.result.columns = {{{"demo", "t"}, "k", type_id::int_}, {{"demo", "t"}, "v", type_id::varchar}};
  return p;
}

prepared_result expected_prepared_insert() {
  prepared_result p;
  p.id = b({0x07});
  p.variables.partition_key_indexes = {0};
  p.variables.columns = {{{"demo", "t"}, "k", type_id::int_},
                         {{"demo", "t"}, "v", type_id::varchar}};
  p.result.no_metadata = true;
  return p;
}

std::vector<std::pair<const bytes*, response_message>> expected_others() {
  return {
      {&vectors::ready_body, ready_response{}},
      {&vectors::supported_body,
       supported_response{{{"CQL_VERSION", {"3.4.4"}}, {"COMPRESSION", {}}}}},
      {&vectors::result_void_body, void_result{}},
      {&vectors::result_set_keyspace_body, set_keyspace_result{"demo"}},
      {&vectors::result_schema_change_table_body,
       schema_change_result{"CREATED", "TABLE", "demo", "rows", {}}},
      {&vectors::result_schema_change_keyspace_body,
       schema_change_result{"DROPPED", "KEYSPACE", "demo", "", {}}},
      {&vectors::result_schema_change_function_body,
       schema_change_result{"UPDATED", "FUNCTION", "demo", "f", {"int", "text"}}},
      {&vectors::result_prepared_body, expected_prepared_select()},
      {&vectors::result_prepared_insert_body, expected_prepared_insert()},
  };
}

TEST(ErrorResponse, EveryCodeDecodesWithItsFields) {
  const auto expected = expected_errors();
  ASSERT_EQ(expected.size(), vectors::error_bodies.size());
  for (const auto& [wire, error] : expected) {
    EXPECT_EQ(decode_body(opcode::error, *wire), response_message(error)) << to_string(error.code);
  }
}

TEST(ErrorResponse, EveryCodeEncodesByteExact) {
  for (const auto& [wire, error] : expected_errors()) {
    EXPECT_EQ(encode_body(error), *wire) << to_string(error.code);
  }
}

TEST(ErrorResponse, DetailsMustMatchTheCode) {
  EXPECT_THROW(encode_body(error_of(error_code::unavailable, "x")), std::invalid_argument);
  EXPECT_THROW(encode_body(error_of(error_code::invalid, "x", unprepared_error{})),
               std::invalid_argument);
  EXPECT_EQ(scopekit::cql::details_index_for(error_code::syntax_error), 0U);
}

TEST(ErrorResponse, UnknownCodeHasNoDetails) {
  const bytes wire = cat({b({0x00, 0x00, 0x77, 0x77}), b({0x00, 0x01}), str("?")});
  const auto e = std::get<error_response>(decode_body(opcode::error, wire));
  EXPECT_EQ(static_cast<int>(e.code), 0x7777);
  EXPECT_EQ(e.details.index(), 0U);
}

TEST(ErrorResponse, BadConsistencyInDetailsIsAnError) {
  bytes wire = vectors::error_unavailable_body;
  const std::size_t cl_at = 4 + 2 + 39;
  wire[cl_at + 1] = std::byte{0x0B};
  EXPECT_STREQ(protocol_error_from([&] { decode_body(opcode::error, wire); }).what(),
               "error.consistency: unknown consistency 0x000b at offset 45");
}

TEST(Response, EveryOtherVectorDecodesToItsMessage) {
  for (const auto& [wire, message] : expected_others()) {
    EXPECT_EQ(decode_body(opcode_of(message), *wire), message) << to_string(opcode_of(message));
  }
}

TEST(Response, EveryOtherMessageEncodesToItsVector) {
  for (const auto& [wire, message] : expected_others()) {
    EXPECT_EQ(encode_body(message), *wire) << to_string(opcode_of(message));
  }
}

TEST(Response, RowsResultsRoundTripThroughTheVariant) {
  for (const auto& v : vectors::rows_bodies) {
    const response_message m = decode_body(opcode::result, *v.body);
    ASSERT_TRUE(std::holds_alternative<rows_result>(m)) << v.name;
    EXPECT_EQ(encode_body(m), *v.body) << v.name;
  }
}

TEST(Response, EveryStrictPrefixIsAProtocolError) {
  for (const auto& v : vectors::all_response_bodies()) {
    for (std::size_t n = 0; n < v.body->size(); ++n) {
      const bytes prefix(v.body->begin(), v.body->begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_THROW(decode_body(static_cast<opcode>(v.opcode), prefix), protocol_error)
          << v.name << " prefix " << n;
    }
  }
}

TEST(Response, TrailingBytesAreIgnored) {
  // §4.2: clients should ignore what they do not know at the end of a body.
  for (const auto& v : vectors::all_response_bodies()) {
    const bytes longer = cat({*v.body, b({0x00, 0x01})});
    EXPECT_EQ(decode_body(static_cast<opcode>(v.opcode), longer),
              decode_body(static_cast<opcode>(v.opcode), *v.body))
        << v.name;
  }
}

TEST(Response, UnknownResultKindAndTarget) {
  EXPECT_STREQ(protocol_error_from([] {
                 decode_body(opcode::result, b({0, 0, 0, 9}));
               }).what(),
               "result.kind: unknown result kind 9 at offset 0");
  const bytes bad_target = cat(
      {b({0, 0, 0, 5}), b({0, 7}), str("CREATED"), b({0, 5}), str("INDEX"), b({0, 1}), str("k")});
  EXPECT_STREQ(protocol_error_from([&] { decode_body(opcode::result, bad_target); }).what(),
               "schema_change.target: unknown target \"INDEX\" at offset 13");
}

TEST(Response, PreparedMetadataHostileCounts) {
  const bytes many_pk = cat({b({0, 0, 0, 4}), b({0, 1, 0x01}), b({0, 0, 0, 0}), b({0, 0, 0, 0}),
                             b({0x7F, 0xFF, 0xFF, 0xFF}), b({0, 0})});
  EXPECT_EQ(protocol_error_from([&] { decode_body(opcode::result, many_pk); }).field(),
            "prepared.variables.pk_indexes");
  const bytes many_columns = cat({b({0, 0, 0, 4}), b({0, 1, 0x01}), b({0, 0, 0, 0}),
                                  b({0x7F, 0xFF, 0xFF, 0xFF}), b({0, 0, 0, 0})});
  EXPECT_EQ(protocol_error_from([&] { decode_body(opcode::result, many_columns); }).field(),
            "prepared.variables.column_count");
}

TEST(Response, EventIsKeptOpaque) {
  const bytes body = cat({b({0x00, 0x0D}), str("STATUS_CHANGE"), b({0x00, 0x02}), str("UP"),
                          b({0x04, 127, 0, 0, 1, 0x00, 0x00, 0x23, 0x52})});
  const auto m = decode_body(opcode::event, body);
  EXPECT_EQ(std::get<event_response>(m).body, body);
  EXPECT_EQ(encode_body(m), body);
}

TEST(Response, AuthenticateNamesTheAuthenticator) {
  const std::string name = "org.apache.cassandra.auth.PasswordAuthenticator";
  const bytes body = cat({b({0x00, static_cast<std::uint8_t>(name.size())}), str(name)});
  const response_message m = authenticate_response{name};
  EXPECT_EQ(opcode_of(m), opcode::authenticate);
  EXPECT_EQ(encode_body(m), body);
  EXPECT_EQ(decode_body(opcode::authenticate, body), m);
}

TEST(Response, AuthSuccessAndChallengeCarryANullableToken) {
  const bytes null_token = b({0xFF, 0xFF, 0xFF, 0xFF});
  const bytes two_bytes = b({0x00, 0x00, 0x00, 0x02, 0xAB, 0xCD});
  EXPECT_EQ(decode_body(opcode::auth_success, null_token),
            response_message{auth_success_response{}});
  EXPECT_EQ(encode_body(auth_success_response{}), null_token);
  const response_message challenge = auth_challenge_response{b({0xAB, 0xCD})};
  EXPECT_EQ(opcode_of(challenge), opcode::auth_challenge);
  EXPECT_EQ(encode_body(challenge), two_bytes);
  EXPECT_EQ(decode_body(opcode::auth_challenge, two_bytes), challenge);
  EXPECT_EQ(protocol_error_from([&] {
              decode_body(opcode::auth_success, cat({null_token, b({0x00})}));
            }).field(),
            "auth_success");
}

TEST(Response, RequestOnlyOpcodesAreRejected) {
  for (const int op : {0x01, 0x07, 0x0F, 0x55}) {
    EXPECT_EQ(protocol_error_from([&] { decode_body(static_cast<opcode>(op), bytes{}); }).field(),
              "response.opcode");
  }
}

// ---- Frames ----------------------------------------------------------------------------------

TEST(ResponseFrame, ReadyFrame) {
  response r;
  r.stream = 1;
  r.message = ready_response{};
  const bytes wire = frame_bytes(0x84, 0, 1, 0x02, vectors::ready_body);
  EXPECT_EQ(encode_frame(r), wire);
  EXPECT_EQ(decode_response(frame_of(wire)), r);
}

TEST(ResponseFrame, TracingWarningsAndCustomPayloadPrecedeTheMessage) {
  response r;
  r.stream = 2;
  scopekit::cql::uuid id;
  id.bytes[0] = std::byte{0x11};
  id.bytes[15] = std::byte{0xFF};
  r.tracing_id = id;
  r.warnings = {"slow"};
  r.custom_payload = {{"p", std::nullopt}};
  r.message = void_result{};
  const bytes body = cat({b({0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF}),  // tracing id
                          b({0x00, 0x01}), b({0x00, 0x04}), str("slow"),              // warnings
                          b({0x00, 0x01}), b({0x00, 0x01}), str("p"),  // payload: "p"
                          b({0xFF, 0xFF, 0xFF, 0xFF}),                 //   -> null
                          vectors::result_void_body});
  const bytes wire = frame_bytes(0x84, 0x0E, 2, 0x08, body);
  EXPECT_EQ(encode_frame(r), wire);
  EXPECT_EQ(decode_response(frame_of(wire)), r);
}

TEST(ResponseFrame, RowsKeepOffsetsInTheWholeBody) {
  const bytes warnings = cat({b({0x00, 0x01}), b({0x00, 0x01}), str("w")});  // 5 bytes
  const bytes wire =
      frame_bytes(0x84, 0x08, 3, 0x08, cat({warnings, vectors::rows_no_metadata_body}));
  const response r = decode_response(frame_of(wire));
  const auto& rows = std::get<rows_result>(r.message);
  EXPECT_EQ(scopekit::cql::decode_int(rows.cell(0, 0)), 7);
  EXPECT_EQ(rows.cell(0, 0).offset(), 5 + vectors::rows_no_metadata_body.size() - 4);
  EXPECT_EQ(encode_frame(r), wire);
}

TEST(ResponseFrame, VersionRefusalFromAnotherVersionDecodes) {
  // A v3-only server answers a v4 STARTUP in its own version (0x83): still readable.
  const bytes wire = frame_bytes(0x83, 0, 0, 0x00, vectors::error_protocol_body);
  const response r = decode_response(frame_of(wire));
  EXPECT_EQ(std::get<error_response>(r.message).code, error_code::protocol_error);
  EXPECT_EQ(encode_frame(r, 0x83), wire);
}

TEST(ResponseFrame, RequestFramesAndCompressionAreRejected) {
  EXPECT_STREQ(protocol_error_from([] {
                 decode_response(frame_of(frame_bytes(0x04, 0, 0, 0x02, {})));
               }).what(),
               "frame.version: version byte 0x04 at offset 0 marks a request, expected a response");
  EXPECT_EQ(protocol_error_from([] {
              decode_response(frame_of(frame_bytes(0x84, 1, 0, 0x02, {})));
            }).field(),
            "frame.flags");
}

TEST(ResponseFrame, TruncatedTracingIdIsAnError) {
  const bytes wire = frame_bytes(0x84, 0x02, 0, 0x02, b({1, 2, 3}));
  EXPECT_STREQ(protocol_error_from([&] { decode_response(frame_of(wire)); }).what(),
               "response.tracing_id: needs 16 bytes at offset 0, only 3 left");
}

}  // namespace
}  // namespace scopekit::cql::test
