// Tests for scopekit/cql/protocol/request.hpp: every request byte-exact in both directions, query
// parameters with every flag, frames, and strict decoding of what a client sends.
#include "scopekit/cql/protocol/request.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace scopekit::cql::test {
namespace {

namespace vectors = scopekit::cql::test;

bytes encode_body(const request_message& m) {
  return written([&](byte_writer& w) { encode_request_body(w, m); });
}

bytes encode_frame(const request& r) {
  return written([&](byte_writer& w) { encode_request(w, r); });
}

frame frame_of(const bytes& whole) {
  frame f;
  f.header = scopekit::cql::decode_header(whole);
  f.body.assign(whole.begin() + 9, whole.end());
  return f;
}

// The expected message for each vector.
query_parameters all_flags_parameters() {
  query_parameters p;
  p.consistency = consistency::quorum;
  p.values = {query_value(b({0x00, 0x00, 0x00, 0x2A})), query_value(bytes{}), query_value::null(),
              query_value::not_set()};
  p.skip_metadata = true;
  p.page_size = 5000;
  p.paging_state = b({0x01, 0x02, 0x03});
  p.serial_consistency = consistency::local_serial;
  p.default_timestamp = 1700000000000000;
  return p;
}

std::vector<std::pair<const bytes*, request_message>> expected_requests() {
  query_request simple{"SELECT key FROM system.local", {}};
  simple.parameters.consistency = consistency::local_one;
  query_request named{"INSERT INTO t (k, v) VALUES (:k, :v)", {}};
  named.parameters.values = {query_value::of(std::int32_t{1}), query_value::of("hi")};
  named.parameters.names = {"k", "v"};
  execute_request execute{b({0xDE, 0xAD, 0xBE, 0xEF}), {}};
  execute.parameters.values = {query_value::of(std::int64_t{7})};
  execute.parameters.skip_metadata = true;
  execute.parameters.page_size = 100;
  return {
      {&vectors::startup_body,
       startup_request{{{"CQL_VERSION", "3.0.0"}, {"DRIVER_NAME", "scopekit"}}}},
      {&vectors::options_body, options_request{}},
      {&vectors::query_simple_body, simple},
      {&vectors::query_all_flags_body,
       query_request{"SELECT * FROM t WHERE k = ?", all_flags_parameters()}},
      {&vectors::query_named_values_body, named},
      {&vectors::prepare_body, prepare_request{"SELECT * FROM t WHERE k = ?"}},
      {&vectors::execute_body, execute},
      {&vectors::register_body,
       register_request{{"TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"}}},
  };
}

TEST(Request, EveryVectorDecodesToItsMessage) {
  for (const auto& [wire, message] : expected_requests()) {
    EXPECT_EQ(decode_request_body(opcode_of(message), *wire), message)
        << to_string(opcode_of(message));
  }
}

TEST(Request, EveryMessageEncodesToItsVector) {
  for (const auto& [wire, message] : expected_requests()) {
    EXPECT_EQ(encode_body(message), *wire) << to_string(opcode_of(message));
  }
}

TEST(Request, CatalogueMatchesOpcodes) {
  const auto expected = expected_requests();
  ASSERT_EQ(expected.size(), vectors::request_bodies.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(vectors::request_bodies[i].body, expected[i].first);
    EXPECT_EQ(vectors::request_bodies[i].opcode, static_cast<int>(opcode_of(expected[i].second)));
  }
}

TEST(Request, EveryStrictPrefixIsAProtocolError) {
  for (const auto& v : vectors::request_bodies) {
    for (std::size_t n = 0; n < v.body->size(); ++n) {
      EXPECT_THROW(decode_request_body(static_cast<opcode>(v.opcode),
                                       std::span<const std::byte>(*v.body).first(n)),
                   protocol_error)
          << v.name << " prefix " << n;
    }
  }
}

TEST(Request, TrailingBytesAreAnError) {
  for (const auto& v : vectors::request_bodies) {
    const bytes longer = cat({*v.body, b({0x00})});
    const auto e =
        protocol_error_from([&] { decode_request_body(static_cast<opcode>(v.opcode), longer); });
    EXPECT_EQ(e.offset(), v.body->size()) << v.name;
  }
}

// ---- Query parameters -----------------------------------------------------------------------

TEST(QueryParameters, AllFlagsDecodeInSpecOrder) {
  const auto m =
      std::get<query_request>(decode_request_body(opcode::query, vectors::query_all_flags_body));
  const query_parameters& p = m.parameters;
  EXPECT_EQ(p.consistency, consistency::quorum);
  ASSERT_EQ(p.values.size(), 4U);
  EXPECT_EQ(p.values[0].bytes(), b({0x00, 0x00, 0x00, 0x2A}));
  EXPECT_FALSE(p.values[1].is_null());  // empty ...
  EXPECT_TRUE(p.values[1].bytes().empty());
  EXPECT_TRUE(p.values[2].is_null());     // ... null ...
  EXPECT_TRUE(p.values[3].is_not_set());  // ... and not set are three things
  EXPECT_TRUE(p.names.empty());
  EXPECT_TRUE(p.skip_metadata);
  EXPECT_EQ(p.page_size, 5000);
  EXPECT_EQ(p.paging_state, b({0x01, 0x02, 0x03}));
  EXPECT_EQ(p.serial_consistency, consistency::local_serial);
  EXPECT_EQ(p.default_timestamp, 1700000000000000);
}

TEST(QueryParameters, EachFlagAlone) {
  // statement "", consistency ONE, then one flag at a time.
  const bytes prefix = b({0, 0, 0, 0, 0x00, 0x01});
  const std::vector<std::pair<bytes, query_parameters>> cases = [] {
    std::vector<std::pair<bytes, query_parameters>> out;
    query_parameters p;
    p.values = {query_value::null()};
    out.emplace_back(b({0x01, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF}), p);
    p = {};
    p.skip_metadata = true;
    out.emplace_back(b({0x02}), p);
    p = {};
    p.page_size = -1;
    out.emplace_back(b({0x04, 0xFF, 0xFF, 0xFF, 0xFF}), p);
    p = {};
    p.paging_state = bytes{};
    out.emplace_back(b({0x08, 0x00, 0x00, 0x00, 0x00}), p);
    p = {};
    p.serial_consistency = consistency::serial;
    out.emplace_back(b({0x10, 0x00, 0x08}), p);
    p = {};
    p.default_timestamp = 0;
    out.emplace_back(b({0x20, 0, 0, 0, 0, 0, 0, 0, 0}), p);
    return out;
  }();
  for (const auto& [wire, parameters] : cases) {
    const bytes body = cat({prefix, wire});
    const query_request expected{"", parameters};
    EXPECT_EQ(decode_request_body(opcode::query, body), request_message(expected));
    EXPECT_EQ(encode_body(expected), body);
  }
}

TEST(QueryParameters, NamesWithoutValuesAreIgnored) {
  const bytes body = b({0, 0, 0, 0, 0x00, 0x01, 0x40});  // flag 0x40 alone
  const auto m = std::get<query_request>(decode_request_body(opcode::query, body));
  EXPECT_TRUE(m.parameters.values.empty());
  EXPECT_TRUE(m.parameters.names.empty());
}

TEST(QueryParameters, UnknownFlagIsAnError) {
  const bytes body = b({0, 0, 0, 0, 0x00, 0x01, 0x80});
  EXPECT_STREQ(protocol_error_from([&] { decode_request_body(opcode::query, body); }).what(),
               "query.flags: unknown flag bits 0x80 at offset 6");
}

TEST(QueryParameters, NegativeTimestampIsAnError) {
  const bytes body =
      b({0, 0, 0, 0, 0x00, 0x01, 0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  EXPECT_STREQ(protocol_error_from([&] { decode_request_body(opcode::query, body); }).what(),
               "query.timestamp: negative timestamp -1 at offset 7");
}

TEST(QueryParameters, InvalidValueLengthIsAnError) {
  const bytes body = b({0, 0, 0, 0, 0x00, 0x01, 0x01, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFD});
  EXPECT_STREQ(protocol_error_from([&] { decode_request_body(opcode::query, body); }).what(),
               "query.values[0]: invalid length -3 at offset 9");
}

TEST(QueryParameters, HugeValueCountIsAnError) {
  const bytes body = b({0, 0, 0, 0, 0x00, 0x01, 0x41, 0xFF, 0xFF, 0x00, 0x00});
  EXPECT_STREQ(protocol_error_from([&] { decode_request_body(opcode::query, body); }).what(),
               "query.values: count 65535 at offset 7 needs at least 6 bytes each, only 2 left");
}

TEST(QueryParameters, UnknownConsistencyIsAnError) {
  const bytes body = cat({b({0x00, 0x02, 0xAB, 0xCD}), b({0x00, 0x63, 0x00})});
  EXPECT_STREQ(protocol_error_from([&] { decode_request_body(opcode::execute, body); }).what(),
               "execute.consistency: unknown consistency 0x0063 at offset 4");
}

TEST(QueryParameters, EncodingChecksNamesAndTimestamp) {
  bytes out;
  byte_writer w(out);
  query_parameters p;
  p.values = {query_value::null()};
  p.names = {"a", "b"};
  EXPECT_THROW(write_query_parameters(w, p), std::invalid_argument);
  query_parameters q;
  q.default_timestamp = -5;
  EXPECT_THROW(write_query_parameters(w, q), std::invalid_argument);
}

TEST(QueryValue, FromTypedValues) {
  EXPECT_EQ(query_value::of(std::int32_t{1}).bytes(), b({0, 0, 0, 1}));
  EXPECT_EQ(query_value::of(std::int64_t{1}).bytes(), b({0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(query_value::of("hi").bytes(), str("hi"));
  EXPECT_TRUE(query_value::of(scopekit::cql::type_id::int_, scopekit::cql::value{}).is_null());
  EXPECT_TRUE(query_value::not_set().view().is_not_set());
  EXPECT_TRUE(query_value().view().is_null());
  EXPECT_TRUE(query_value(bytes{}).view().is_empty());
}

// ---- Frames ----------------------------------------------------------------------------------

TEST(RequestFrame, EncodesHeaderAndBody) {
  request r;
  r.stream = 5;
  r.message = startup_request{{{"CQL_VERSION", "3.0.0"}, {"DRIVER_NAME", "scopekit"}}};
  EXPECT_EQ(encode_frame(r), frame_bytes(0x04, 0x00, 5, 0x01, vectors::startup_body));
  EXPECT_EQ(decode_request(frame_of(encode_frame(r))), r);
}

TEST(RequestFrame, OptionsFrameIsTheHeaderVector) {
  request r;
  r.stream = 1;
  r.message = options_request{};
  EXPECT_EQ(encode_frame(r), vectors::options_header);
}

TEST(RequestFrame, TracingAndCustomPayload) {
  request r;
  r.stream = 300;
  r.tracing = true;
  r.custom_payload = {{"k", b({0x01})}};
  r.message = prepare_request{"SELECT * FROM t WHERE k = ?"};
  const bytes payload = cat({b({0x00, 0x01}), b({0x00, 0x01}), str("k"), b({0, 0, 0, 1, 0x01})});
  const bytes wire = frame_bytes(0x04, 0x06, 300, 0x09, cat({payload, vectors::prepare_body}));
  EXPECT_EQ(encode_frame(r), wire);
  EXPECT_EQ(decode_request(frame_of(wire)), r);
}

TEST(RequestFrame, ErrorsInTheMessageCountFromTheBodyStart) {
  const bytes payload = cat({b({0x00, 0x00})});  // empty custom payload, 2 bytes
  const bytes wire = frame_bytes(0x04, 0x04, 0, 0x07, cat({payload, b({0x00, 0x00, 0x00, 0x09})}));
  const auto e = protocol_error_from([&] { decode_request(frame_of(wire)); });
  EXPECT_STREQ(e.what(), "query.statement: length 9 at offset 2 exceeds the 0 bytes left");
}

TEST(RequestFrame, ResponseFramesAreRejected) {
  const bytes wire = frame_bytes(0x84, 0, 0, 0x05, vectors::options_body);
  EXPECT_STREQ(protocol_error_from([&] { decode_request(frame_of(wire)); }).what(),
               "frame.version: version byte 0x84 at offset 0 marks a response, expected a request");
}

TEST(RequestFrame, CompressedBodiesAreRejected) {
  const bytes wire = frame_bytes(0x04, 0x01, 0, 0x05, vectors::options_body);
  EXPECT_EQ(protocol_error_from([&] { decode_request(frame_of(wire)); }).field(), "frame.flags");
}

TEST(Request, AuthResponseCarriesTheSaslToken) {
  const bytes token = plain_sasl_token("cassandra", "pa:ss");
  // SASL PLAIN: NUL, the user, NUL, the password.
  EXPECT_EQ(token, cat({b({0x00}), str("cassandra"), b({0x00}), str("pa:ss")}));
  const bytes body = cat({b({0x00, 0x00, 0x00, 0x10}), token});
  const request_message m = auth_response_request{token};
  EXPECT_EQ(opcode_of(m), opcode::auth_response);
  bytes out;
  byte_writer w{out};
  encode_request_body(w, m);
  EXPECT_EQ(out, body);
  EXPECT_EQ(decode_request_body(opcode::auth_response, body), m);
}

TEST(Request, AuthResponseMayBeNullButNotTruncated) {
  const bytes null_token = b({0xFF, 0xFF, 0xFF, 0xFF});
  EXPECT_EQ(decode_request_body(opcode::auth_response, null_token),
            request_message{auth_response_request{}});
  const bytes truncated = b({0x00, 0x00, 0x00, 0x05, 0x00, 0x61});
  EXPECT_EQ(protocol_error_from([&] { decode_request_body(opcode::auth_response, truncated); })
                .field(),
            "auth_response.token");
}

TEST(RequestFrame, UnsupportedOpcodesAreRejected) {
  for (const int op : {0x0D, 0x08, 0x00, 0x42}) {
    const bytes wire = frame_bytes(0x04, 0, 0, op, bytes{});
    EXPECT_EQ(protocol_error_from([&] { decode_request(frame_of(wire)); }).field(),
              "request.opcode");
  }
  const bytes batch = frame_bytes(0x04, 0, 0, 0x0D, bytes{});
  EXPECT_STREQ(protocol_error_from([&] { decode_request(frame_of(batch)); }).what(),
               "request.opcode: opcode BATCH (0x0d) is not a supported request");
}

}  // namespace
}  // namespace scopekit::cql::test
