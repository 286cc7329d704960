// tests/fuzz/server_fixture.hpp - the server state the server_request fuzzer starts each input
// from, and request frame builders. Shared with server_request_seeds.cpp, which writes the seed
// corpus, so that the seeds' statements find the tables, and their EXECUTE ids and paging states
// are the ones this server hands out.
//
// The fixture is the protocol core without sockets (server_detail::connection_session over a
// server_detail::server_shared, see driver-adapter/server/src/connection_session.hpp): the
// synthetic table demo.rows (50 rows) and keyspace ks with table ks.t (one column of most types,
// two rows), created by statements.
#pragma once

#include "database.hpp"
#include "connection_session.hpp"

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql::fuzz {

using bytes = std::vector<std::byte>;

/// Rows of the synthetic table demo.rows.
inline constexpr std::int64_t demo_rows = 50;
/// The frame body limit of an input whose control byte asks for a small one: small enough that
/// an unpaged `SELECT * FROM demo.rows` (50 rows of 130 bytes) does not fit.
inline constexpr std::size_t small_frame_limit = 4096;

[[noreturn]] inline void fail(const char* who, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", who, what.c_str());
  std::abort();
}

/// The whole frame of `message` on `stream`.
inline bytes request_frame(std::int16_t stream, request_message message) {
  request r;
  r.stream = stream;
  r.message = std::move(message);
  bytes out;
  byte_writer w{out};
  encode_request(w, r);
  return out;
}

inline bytes query_frame(std::int16_t stream, std::string text, query_parameters parameters = {}) {
  return request_frame(stream, query_request{std::move(text), std::move(parameters)});
}

/// STARTUP {CQL_VERSION: 3.0.0} on stream 0.
inline const bytes& startup_frame() {
  static const bytes frame = request_frame(0, startup_request{{{"CQL_VERSION", "3.0.0"}}});
  return frame;
}

/// The concatenation of `frames`.
inline bytes stream_of(std::initializer_list<bytes> frames) {
  bytes out;
  for (const bytes& f : frames) {
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

/// Cuts `out` (what a session wrote) into response frames and decodes each one. Calls fail()
/// for a frame that is cut short, is not a v4 response or does not decode.
inline std::vector<response> decode_responses(std::span<const std::byte> out, const char* who) {
  std::vector<response> responses;
  frame_splitter splitter;
  try {
    splitter.feed_all(out, [&](frame&& f) {
      if (f.header.version != response_version) {
        fail(who, "a response frame with version byte " + std::to_string(f.header.version));
      }
      responses.push_back(decode_response(std::move(f)));
    });
  } catch (const protocol_error& e) {
    fail(who, std::string("a response that does not decode: ") + e.what());
  }
  if (splitter.buffered() != 0) {
    fail(who, "the output ends with " + std::to_string(splitter.buffered()) +
                  " bytes of an incomplete frame");
  }
  return responses;
}

/// A server_shared in the state every input starts from. Not copyable, not movable.
class fixture {
public:
  explicit fixture(std::size_t max_frame_body = default_max_body_size) {
    context_.local_address.bytes[0] = std::byte{127};
    context_.local_address.bytes[3] = std::byte{1};
    context_.max_frame_body = max_frame_body;
    server_detail::add_synthetic_table(shared_.db, "demo", "rows", demo_rows);
    server_detail::connection_session s{context_, shared_};
    bytes out;
    std::vector<server_detail::deferred_response> later;
    if (!s.consume(setup(), out, later)) {
      fail("fixture", "the setup statements closed the connection");
    }
    for (const response& r : decode_responses(out, "fixture")) {
      if (const auto* e = std::get_if<error_response>(&r.message)) {
        fail("fixture", "a setup statement failed: " + e->message);
      }
    }
  }

  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;
  fixture(fixture&&) = delete;
  fixture& operator=(fixture&&) = delete;
  ~fixture() = default;

  server_detail::server_shared& shared() noexcept { return shared_; }
  const server_detail::connection_context& context() const noexcept { return context_; }

  /// A fresh connection to this server.
  server_detail::connection_session connect() {
    return server_detail::connection_session{context_, shared_};
  }

private:
  static const bytes& setup() {
    static const bytes frames = stream_of({
        startup_frame(),
        query_frame(1, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                       "'replication_factor': 1}"),
        query_frame(2, "CREATE TABLE ks.t (k int PRIMARY KEY, v text, n bigint, b blob, "
                       "d double, f float, ok boolean, u uuid, tu timeuuid, ts timestamp, "
                       "ip inet, a ascii, l list<int>, s set<text>, m map<text, int>, "
                       "fl frozen<list<bigint>>)"),
        query_frame(3, "INSERT INTO ks.t (k, v, n, b, d, f, ok, u, tu, ts, ip, a, l, s, m, fl) "
                       "VALUES (1, 'one', 10, 0xcafe, 1.5, -2.25, true, "
                       "123e4567-e89b-42d3-a456-426614174000, "
                       "d2177dd0-eaa2-11de-a572-001b779c76e3, 1234567890123, '10.0.0.1', "
                       "'ascii', [1, 2, 3], {'a', 'b'}, {'x': 1, 'y': 2}, [7, 8])"),
        query_frame(4, "INSERT INTO ks.t (k, v) VALUES (2, 'two')"),
    });
    return frames;
  }

  server_detail::server_shared shared_;
  server_detail::connection_context context_;
};

}  // namespace scopekit::cql::fuzz
