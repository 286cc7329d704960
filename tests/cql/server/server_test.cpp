// Tests for scopekit/cql/server/server.hpp: an in-process server on an ephemeral port, driven by
// the small blocking client of test_client.hpp. Every read has a receive timeout, so a server that
// fails to answer makes a test fail instead of hanging. The statements and the faults have test
// files of their own (statements_test.cpp, faults_test.cpp).
#include "scopekit/cql/server/server.hpp"

#include "support/cql/test_client.hpp"

#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <variant>
#include <vector>

namespace scopekit::cql::test {
namespace {

static_assert(!std::is_copy_constructible_v<server>);
static_assert(!std::is_move_constructible_v<server>);
static_assert(std::is_nothrow_destructible_v<server>);

class CqlServer : public ::testing::Test {
protected:
  void SetUp() override { srv_.start(); }

  std::uint16_t port() const { return srv_.port(); }

  server srv_;
};

TEST_F(CqlServer, ListensOnAnEphemeralPort) {
  EXPECT_NE(port(), 0);  // port 0 asks for any port; port() must report the one chosen
  client c{port()};
  c.send(encode(0, options_request{}));
  EXPECT_TRUE(std::holds_alternative<supported_response>(c.read_response().message));
}

TEST_F(CqlServer, OptionsAnswersSupportedWithCqlVersionAndCompression) {
  client c{port()};
  c.send(encode(3, options_request{}));
  const response r = c.read_response();
  EXPECT_EQ(r.stream, 3);
  const auto* supported = std::get_if<supported_response>(&r.message);
  ASSERT_NE(supported, nullptr);
  const string_multimap expected = {{"CQL_VERSION", {"3.4.4"}}, {"COMPRESSION", {}}};
  EXPECT_EQ(supported->options, expected);  // the Python driver crashes without COMPRESSION
}

TEST_F(CqlServer, StartupAnswersReadyAndRegisterToo) {
  client c{port()};
  c.send(startup(1));
  const response ready = c.read_response();
  EXPECT_EQ(ready.stream, 1);
  EXPECT_TRUE(std::holds_alternative<ready_response>(ready.message));
  c.send(encode(2, register_request{{"TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"}}));
  const response registered = c.read_response();
  EXPECT_EQ(registered.stream, 2);
  EXPECT_TRUE(std::holds_alternative<ready_response>(registered.message));
}

TEST_F(CqlServer, StartupWithCompressionIsRefused) {
  client c{port()};
  c.send(encode(4, startup_request{{{"CQL_VERSION", "3.0.0"}, {"COMPRESSION", "lz4"}}}));
  const response r = c.read_response();
  EXPECT_EQ(r.stream, 4);
  const error_response e = error_of(r);
  EXPECT_EQ(e.code, error_code::protocol_error);
  EXPECT_TRUE(contains(e.message, "ompression is not supported")) << e.message;
}

TEST_F(CqlServer, QueryBeforeStartupIsAProtocolError) {
  client c{port()};
  c.send(query(5, "SELECT * FROM system.local"));
  const error_response e = error_of(c.read_response());
  EXPECT_EQ(e.code, error_code::protocol_error);
  EXPECT_TRUE(contains(e.message, "expecting STARTUP")) << e.message;
}

TEST_F(CqlServer, OtherProtocolVersionsAreRefusedInV4) {
  for (const std::uint8_t version : {std::uint8_t{5}, std::uint8_t{3}, std::uint8_t{0x45}}) {
    SCOPED_TRACE(static_cast<int>(version));
    client c{port()};
    // OPTIONS on stream 7 with an empty body, in the frame layout v3-v5 share.
    const bytes frame_bytes = {std::byte{version}, std::byte{0},    std::byte{0},
                               std::byte{7},       std::byte{0x05}, std::byte{0},
                               std::byte{0},       std::byte{0},    std::byte{0}};
    c.send(frame_bytes);
    const std::optional<frame> f = c.read_frame();
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->header.version, 0x84);  // drivers read the server's version from the header
    EXPECT_EQ(f->header.stream, 7);
    const error_response e = error_of(decode_response(*f));
    EXPECT_EQ(e.code, error_code::protocol_error);
    EXPECT_EQ(e.message, "Invalid or unsupported protocol version (" +
                             std::to_string(version & 0x7F) + "); supported versions are (4/v4)");
    EXPECT_TRUE(c.closed_by_server());
  }
}

TEST_F(CqlServer, SystemLocalHasOneTypedRow) {
  for (const char* statement :
       {"SELECT * FROM system.local WHERE key='local'", "select * from system.local",
        R"(SELECT * FROM "system"."local" WHERE key = 'local';)"}) {
    SCOPED_TRACE(statement);
    client c{port()};
    c.start();
    c.send(query(9, statement));
    const response r = c.read_response();
    EXPECT_EQ(r.stream, 9);
    const rows_result rows = rows_of(r);
    ASSERT_EQ(rows.row_count(), 1U);
    ASSERT_EQ(rows.column_count(), 15U);
    EXPECT_EQ(rows.metadata().global_table, (table_spec{"system", "local"}));

    const std::size_t cluster = column(rows, "cluster_name");
    ASSERT_LT(cluster, rows.column_count());
    EXPECT_EQ(rows.metadata().columns[cluster].type, data_type{type_id::varchar});
    EXPECT_EQ(decode_text(rows.cell(0, cluster)), "scopekit");

    const std::size_t release = column(rows, "release_version");
    ASSERT_LT(release, rows.column_count());
    EXPECT_EQ(decode_text(rows.cell(0, release)), "3.11.16");

    const std::size_t rpc = column(rows, "rpc_address");
    ASSERT_LT(rpc, rows.column_count());
    EXPECT_EQ(rows.metadata().columns[rpc].type, data_type{type_id::inet});
    EXPECT_EQ(to_string(decode_inet(rows.cell(0, rpc))), "127.0.0.1");

    const std::size_t host = column(rows, "host_id");
    ASSERT_LT(host, rows.column_count());
    EXPECT_EQ(rows.metadata().columns[host].type, data_type{type_id::uuid});
    EXPECT_NO_THROW((void)decode_uuid(rows.cell(0, host)));

    const std::size_t tokens = column(rows, "tokens");
    ASSERT_LT(tokens, rows.column_count());
    const data_type set_of_text = data_type::set(type_id::varchar);
    EXPECT_EQ(rows.metadata().columns[tokens].type, set_of_text);
    const value token_set = decode_value(set_of_text, rows.cell(0, tokens));
    ASSERT_TRUE(token_set.holds<value::list>());
    EXPECT_EQ(token_set.get<value::list>().size(), server_options{}.num_tokens);

    const std::size_t protocol = column(rows, "native_protocol_version");
    ASSERT_LT(protocol, rows.column_count());
    EXPECT_EQ(decode_text(rows.cell(0, protocol)), "4");
  }
}

TEST_F(CqlServer, SystemLocalWithAnotherKeyIsEmpty) {
  client c{port()};
  c.start();
  c.send(query(1, "SELECT * FROM system.local WHERE key='elsewhere'"));
  const rows_result rows = rows_of(c.read_response());
  EXPECT_EQ(rows.row_count(), 0U);
  EXPECT_EQ(rows.column_count(), 15U);
}

TEST_F(CqlServer, SelectedColumnsComeInTheOrderAsked) {
  client c{port()};
  c.start();
  c.send(query(1, "SELECT release_version, cluster_name FROM system.local"));
  const rows_result rows = rows_of(c.read_response());
  ASSERT_EQ(rows.column_count(), 2U);
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(rows.metadata().columns[0].name, "release_version");
  EXPECT_EQ(decode_text(rows.cell(0, 1)), "scopekit");
}

TEST_F(CqlServer, SystemPeersIsEmptyWithColumnSpecs) {
  client c{port()};
  c.start();
  c.send(query(2, "SELECT * FROM system.peers"));
  const rows_result rows = rows_of(c.read_response());
  EXPECT_EQ(rows.row_count(), 0U);
  ASSERT_EQ(rows.column_count(), 9U);  // an empty page still describes its columns
  ASSERT_EQ(rows.metadata().columns.size(), 9U);
  EXPECT_EQ(rows.metadata().columns[column(rows, "peer")].type, data_type{type_id::inet});
  EXPECT_EQ(rows.metadata().columns[column(rows, "tokens")].type, data_type::set(type_id::varchar));
}

TEST_F(CqlServer, PeersV2IsAnUnconfiguredTable) {
  client c{port()};
  c.start();
  c.send(query(3, "SELECT * FROM system.peers_v2"));
  const response r = c.read_response();
  EXPECT_EQ(r.stream, 3);
  const error_response e = error_of(r);
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_EQ(e.message, "unconfigured table peers_v2");
}

TEST_F(CqlServer, UnsupportedStatementsSaySo) {
  client c{port()};
  c.start();
  c.send(query(1, "UPDATE ks.t SET v = 1 WHERE id = 1"));
  const error_response update = error_of(c.read_response());
  EXPECT_EQ(update.code, error_code::invalid);
  EXPECT_TRUE(contains(update.message, "UPDATE is not supported")) << update.message;

  c.send(query(2, "HELLO world"));
  const error_response hello = error_of(c.read_response());
  EXPECT_EQ(hello.code, error_code::syntax_error);
  EXPECT_TRUE(contains(hello.message, "'hello'")) << hello.message;

  c.send(query(3, "SELECT * FROM ks.t"));
  const error_response user_table = error_of(c.read_response());
  EXPECT_EQ(user_table.code, error_code::invalid);
  EXPECT_EQ(user_table.message, "Keyspace ks does not exist");

  c.send(query(4, "SELECT * FROM system.local WHERE"));
  EXPECT_EQ(error_of(c.read_response()).code, error_code::syntax_error);

  c.send(query(5, "SELECT * FROM system.local WHERE key = 'unterminated"));
  EXPECT_EQ(error_of(c.read_response()).code, error_code::syntax_error);

  c.send(query(6, "SELECT count(*) FROM system.local"));
  const error_response function = error_of(c.read_response());
  EXPECT_EQ(function.code, error_code::invalid);
  EXPECT_TRUE(contains(function.message, "function call other than token() in a selection is not supported"))
      << function.message;
}

TEST_F(CqlServer, PipelinedRequestsAreAnsweredOnTheirStreams) {
  client c{port()};
  bytes batch = startup(100);
  std::set<std::int16_t> sent;
  for (std::int16_t stream = 1; stream <= 20; ++stream) {
    const bytes one = (stream % 2 == 0) ? encode(stream, options_request{})
                                        : query(stream, "SELECT * FROM system.local");
    batch.insert(batch.end(), one.begin(), one.end());
    sent.insert(stream);
  }
  c.send(batch);  // one write: 21 frames
  const response ready = c.read_response();
  EXPECT_EQ(ready.stream, 100);
  EXPECT_TRUE(std::holds_alternative<ready_response>(ready.message));
  std::set<std::int16_t> answered;
  for (int i = 0; i < 20; ++i) {
    const response r = c.read_response();
    const bool expect_rows = r.stream % 2 != 0;
    EXPECT_EQ(std::holds_alternative<rows_result>(r.message), expect_rows) << r.stream;
    answered.insert(r.stream);
  }
  EXPECT_EQ(answered, sent);
}

TEST_F(CqlServer, TwoConnectionsAreServedConcurrently) {
  client a{port()};
  client b{port()};
  a.send(encode(1, options_request{}));
  b.send(encode(2, options_request{}));
  // b is answered while a stays open and unread: a server serving one connection at a time
  // would time out here.
  const response rb = b.read_response();
  EXPECT_EQ(rb.stream, 2);
  const response ra = a.read_response();
  EXPECT_EQ(ra.stream, 1);
  EXPECT_TRUE(std::holds_alternative<supported_response>(ra.message));
  EXPECT_TRUE(std::holds_alternative<supported_response>(rb.message));
}

TEST_F(CqlServer, MalformedInputClosesTheConnectionAndTheServerGoesOn) {
  struct malformed {
    const char* name;
    bytes data;
    std::optional<std::int16_t> stream;  // the stream the ERROR comes on, if known
  };
  auto raw = [](std::initializer_list<int> values) {
    bytes out;
    for (const int v : values) {
      out.push_back(static_cast<std::byte>(v));
    }
    return out;
  };
  std::vector<malformed> cases;
  const std::string http = "GET / HTTP/1.1\r\n\r\n";
  cases.push_back({"http",
                   bytes(reinterpret_cast<const std::byte*>(http.data()),   // NOLINT
                         reinterpret_cast<const std::byte*>(http.data()) +  // NOLINT
                             http.size()),
                   std::nullopt});
  cases.push_back({"negative length", raw({4, 0, 0, 11, 5, 0xFF, 0xFF, 0xFF, 0xF0}), 11});
  // QUERY whose [long string] announces 255 bytes in a 3-byte body.
  cases.push_back({"truncated query", raw({4, 0, 0, 12, 7, 0, 0, 0, 4, 0, 0, 0, 0xFF}), 12});
  cases.push_back({"unknown opcode", raw({4, 0, 0, 13, 0x42, 0, 0, 0, 0}), 13});
  for (const malformed& m : cases) {
    SCOPED_TRACE(m.name);
    client bad{port()};
    bad.send(m.data);
    const std::optional<frame> f = bad.read_frame();
    ASSERT_TRUE(f.has_value());
    if (m.stream) {
      EXPECT_EQ(f->header.stream, *m.stream);
    }
    EXPECT_EQ(error_of(decode_response(*f)).code, error_code::protocol_error);
    EXPECT_TRUE(bad.closed_by_server());

    client good{port()};
    good.send(encode(1, options_request{}));
    EXPECT_TRUE(std::holds_alternative<supported_response>(good.read_response().message));
  }
}

TEST_F(CqlServer, FramesSentByteByByteAreReassembled) {
  client c{port()};
  c.no_delay();
  bytes both = startup(1);
  const bytes select = query(2, "SELECT * FROM system.local");
  both.insert(both.end(), select.begin(), select.end());
  for (const std::byte b : both) {
    c.send(std::span<const std::byte>(&b, 1));
  }
  EXPECT_TRUE(std::holds_alternative<ready_response>(c.read_response().message));
  const response r = c.read_response();
  EXPECT_EQ(r.stream, 2);
  EXPECT_EQ(rows_of(r).row_count(), 1U);
}

TEST_F(CqlServer, AVersionSentByteByByteIsStillRefused) {
  client c{port()};
  c.no_delay();
  // The version byte, the flags and the two stream bytes: the server answers and closes as soon
  // as it has them (it cannot know the framing of another version's body), so the rest of the
  // header is never sent: a send after the close could fail with EPIPE.
  const bytes v5_version_and_stream = {std::byte{5}, std::byte{0}, std::byte{0}, std::byte{8}};
  for (const std::byte b : v5_version_and_stream) {
    c.send(std::span<const std::byte>(&b, 1));
  }
  const std::optional<frame> f = c.read_frame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, 8);
  EXPECT_EQ(error_of(decode_response(*f)).code, error_code::protocol_error);
}

TEST(CqlServerLimits, AFrameOverTheLimitIsRefusedOnItsStream) {
  server_options options;
  options.max_frame_body = 64;
  server srv{options};
  srv.start();
  client c{srv.port()};
  c.start();
  c.send(query(21, "SELECT * FROM system.local WHERE key = '" + std::string(100, 'x') + "'"));
  const std::optional<frame> f = c.read_frame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, 21);
  const error_response e = error_of(decode_response(*f));
  EXPECT_EQ(e.code, error_code::protocol_error);
  EXPECT_TRUE(c.closed_by_server());  // the stream cannot be resynchronised
}

TEST(CqlServerLifetime, StopWithOpenConnectionsReturnsAndRefusesNewOnes) {
  server srv;
  srv.start();
  const std::uint16_t port = srv.port();
  client idle{port};
  idle.start();
  client halfway{port};
  halfway.send(bytes{std::byte{4}, std::byte{0}});  // half a header: its thread is in recv()
  srv.stop();
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_TRUE(halfway.closed_by_server());
  EXPECT_EQ(connect_to(port), -1);  // the listener is closed
  srv.stop();                       // idempotent
}

TEST(CqlServerLifetime, StopBeforeStartDoesNothing) {
  server srv;
  srv.stop();
  EXPECT_EQ(srv.port(), 0);
}

TEST(CqlServerLifetime, StartTwiceIsALogicError) {
  server srv;
  srv.start();
  EXPECT_THROW(srv.start(), std::logic_error);
}

TEST(CqlServerLifetime, BusyPortThrowsSystemError) {
  server first;
  first.start();
  server_options options;
  options.port = first.port();
  server second{options};
  EXPECT_THROW(second.start(), std::system_error);
  EXPECT_EQ(second.port(), 0);
}

TEST(CqlServerLifetime, BadBindAddressThrowsSystemError) {
  server_options options;
  options.bind_address = "not-an-address";
  server srv{options};
  EXPECT_THROW(srv.start(), std::system_error);
}

}  // namespace
}  // namespace scopekit::cql::test
