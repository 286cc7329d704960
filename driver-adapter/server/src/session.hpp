// session.hpp (internal) - one client connection's protocol state: bytes in, response bytes
// out, and whether to close. No I/O and no threads, so it can be driven by a test or a fuzzer.
#pragma once

#include "scopekit/cql/buffer.hpp"
#include "scopekit/cql/frame.hpp"
#include "scopekit/cql/request.hpp"
#include "scopekit/cql/value.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace scopekit::cql::detail {

/// What a session knows about its connection.
struct session_context {
  /// The server's address on this connection, reported as rpc_address and friends.
  inet_address local_address;
  std::size_t max_frame_body = default_max_body_size;
};

/// The protocol state of one connection. Not thread-safe: one thread feeds it.
class session {
public:
  explicit session(const session_context& context);

  /// Consumes `in` and appends the responses to `out`, in request order. Returns false once
  /// the connection must be closed: `out` then ends with the ERROR to send before closing,
  /// and the session must not be fed again.
  bool consume(std::span<const std::byte> in, std::vector<std::byte>& out);

private:
  bool handle(frame&& f, byte_writer& out);
  bool dispatch(const request& r, byte_writer& out);
  std::int16_t stream_in_header() const noexcept;

  session_context context_;
  frame_splitter splitter_;
  std::array<std::byte, header_size> header_{};  // the header bytes of the frame being read
  bool started_ = false;                         // STARTUP answered with READY
};

/// Appends an ERROR frame on `stream` (version 0x84).
void write_error(byte_writer& out, std::int16_t stream, error_code code, std::string message);

/// Appends the response frame to a QUERY on `stream`: Rows for what the server knows, ERROR
/// 0x2000 / 0x2200 for the rest.
void answer_query(byte_writer& out, std::int16_t stream, const query_request& query,
                  const session_context& context);

}  // namespace scopekit::cql::detail
