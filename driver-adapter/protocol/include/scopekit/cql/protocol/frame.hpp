// scopekit/cql/protocol/frame.hpp - CQL v4 frames (spec §1-§2): the 9-byte header, opcodes, flags,
// and frame_splitter, which cuts a byte stream from a socket into whole frames.
//
// decode_header() checks the body length against a limit (default 256 MB, the spec's cap)
// before anyone allocates for the body. frame_splitter copies each body once, from the bytes
// fed to it into the frame's own vector, and grows that vector with the bytes that actually
// arrive (never past the announced length), so a header announcing a huge body costs at most
// 1 MiB until the bytes come. It does not interpret bodies; see request.hpp and response.hpp.
// Not thread-safe: one splitter per connection, used by one thread at a time.
//
//   scopekit::cql::frame_splitter splitter;            // 256 MB limit
//   splitter.feed_all(received, [&](scopekit::cql::frame&& f) { handle(std::move(f)); });
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/error.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace scopekit::cql {

/// The message a frame carries (spec §2.4). Values outside the list can be held too: a
/// decoded header keeps whatever byte it found, and the message decoders reject it.
enum class opcode : std::uint8_t {
  error = 0x00,
  startup = 0x01,
  ready = 0x02,
  authenticate = 0x03,
  options = 0x05,
  supported = 0x06,
  query = 0x07,
  result = 0x08,
  prepare = 0x09,
  execute = 0x0A,
  register_ = 0x0B,  // REGISTER ("register" is a C++ keyword)
  event = 0x0C,
  batch = 0x0D,
  auth_challenge = 0x0E,
  auth_response = 0x0F,
  auth_success = 0x10,
};

/// The spec's name ("QUERY", "REGISTER"), or "unknown opcode".
std::string_view to_string(opcode op) noexcept;

/// Header flag bits (spec §2.2).
namespace frame_flags {
inline constexpr std::uint8_t compressed = 0x01;
inline constexpr std::uint8_t tracing = 0x02;
inline constexpr std::uint8_t custom_payload = 0x04;
inline constexpr std::uint8_t warning = 0x08;
}  // namespace frame_flags

/// The version byte of a v4 request and of a v4 response (spec §2.1).
inline constexpr std::uint8_t request_version = 0x04;
inline constexpr std::uint8_t response_version = 0x84;
inline constexpr std::size_t header_size = 9;
/// The spec's cap on a body (§2.5), the default limit of decode_header and frame_splitter.
inline constexpr std::size_t default_max_body_size = std::size_t{256} * 1024 * 1024;

/// The 9-byte frame header: version, flags, stream, opcode, body length.
struct frame_header {
  std::uint8_t version = request_version;
  std::uint8_t flags = 0;
  std::int16_t stream = 0;
  opcode op = opcode::options;
  std::int32_t length = 0;

  /// The direction bit of the version byte: set in responses.
  constexpr bool is_response() const noexcept { return (version & 0x80U) != 0; }
  /// The version without the direction bit (4 for this protocol).
  constexpr std::uint8_t protocol_version() const noexcept {
    return static_cast<std::uint8_t>(version & 0x7FU);
  }

  friend bool operator==(const frame_header&, const frame_header&) = default;
};

/// A whole frame: its header and its body (header.length bytes).
struct frame {
  frame_header header;
  std::vector<std::byte> body;

  friend bool operator==(const frame&, const frame&) = default;
};

/// Appends the 9 header bytes.
void encode_header(byte_writer& out, const frame_header& header);

/// Decodes the first 9 bytes of `bytes`. protocol_error if fewer than 9 bytes are given, if the
/// length is negative or if it exceeds `max_body_size`. Any version, flags and opcode byte is
/// accepted: checking them is the message decoders' job (a server must still answer a frame
/// of another version, see the notes on version negotiation).
frame_header decode_header(std::span<const std::byte> bytes,
                           std::size_t max_body_size = default_max_body_size);

/// Appends a header with a zero length and returns where the frame starts; append the body
/// after it, then call end_frame(out, start) to fill in the length.
std::size_t begin_frame(byte_writer& out, std::uint8_t version, std::uint8_t flags,
                        std::int16_t stream, opcode op);
/// Fills in the length of the frame begun at `frame_start`. std::length_error if the body is
/// longer than 2^31 - 1 bytes.
void end_frame(byte_writer& out, std::size_t frame_start);

/// Appends a whole frame (header.length is ignored and written as body.size()).
void encode_frame(byte_writer& out, const frame_header& header, std::span<const std::byte> body);

/// Cuts an incoming byte stream into frames. Feed it bytes as they arrive, in chunks of any
/// size; take each frame once has_frame() says it is complete.
class frame_splitter {
public:
  /// `max_body_size`: the longest body accepted; a header announcing more is a protocol_error.
  explicit frame_splitter(std::size_t max_body_size = default_max_body_size) noexcept
      : max_body_size_(max_body_size) {}

  /// Consumes bytes until one frame is complete or `bytes` is exhausted, and returns how many
  /// it consumed (0 while a complete frame waits to be taken). Throws protocol_error for a bad
  /// header (see decode_header); the splitter is then failed and every later feed() throws the
  /// same error, since the stream cannot be resynchronised. If growing the body throws
  /// std::bad_alloc, the bytes consumed before are not reported: drop the connection.
  std::size_t feed(std::span<const std::byte> bytes);

  /// Feeds all of `bytes`, calling `on_frame(frame&&)` for each frame completed (first for a
  /// frame already waiting). What on_frame throws propagates; the bytes not yet fed are lost.
  template <class F>
    requires std::invocable<F&, frame&&>
  void feed_all(std::span<const std::byte> bytes, F&& on_frame) {
    for (;;) {
      if (has_frame()) {
        std::invoke(on_frame, take());
      }
      if (bytes.empty()) {
        return;
      }
      bytes = bytes.subspan(feed(bytes));
    }
  }

  /// Where the next bytes of the current frame's body go, for a caller that receives straight
  /// into place (one copy less than feed()): empty unless a header has been read and its body is
  /// incomplete. Write at most its size there, then call commit(). Memory is committed as bytes
  /// arrive (the span grows with what was received, from 64 KiB), not when a header announces a
  /// large body. May throw std::bad_alloc.
  std::span<std::byte> body_space();
  /// Records that the first `n` bytes of body_space() have been written.
  /// Precondition: n <= body_space().size().
  void commit(std::size_t n) noexcept;

  /// Gives the splitter memory to receive a later body into: a buffer whose contents no longer
  /// matter, such as the body of a frame already decoded. The splitter keeps one such buffer and
  /// uses it for the next body of at least `reuse_threshold` bytes, so that a steady stream of
  /// large frames allocates nothing. A buffer given while one is kept replaces it.
  void recycle(std::vector<std::byte> buffer) noexcept { spare_ = std::move(buffer); }
  /// A buffer given to recycle() waits to be used.
  bool has_spare() const noexcept { return spare_.capacity() != 0; }
  /// Bodies shorter than this are not received into a recycled buffer.
  static constexpr std::size_t reuse_threshold = std::size_t{16} * 1024;

  /// Bytes of the current frame's body still to come: 0 before its header is complete and once
  /// the frame is.
  std::size_t body_missing() const noexcept {
    return header_done_ && !complete_ ? static_cast<std::size_t>(current_.header.length) - filled_
                                      : 0;
  }

  /// A complete frame waits to be taken.
  bool has_frame() const noexcept { return complete_; }

  /// Takes the complete frame. Precondition: has_frame().
  frame take() noexcept;

  /// Bytes of the incomplete next frame received so far (header included).
  std::size_t buffered() const noexcept {
    return header_filled_ + (header_done_ ? filled_ : 0);
  }

  std::size_t max_body_size() const noexcept { return max_body_size_; }

private:
  void start_body();

  std::size_t max_body_size_;
  std::array<std::byte, header_size> header_bytes_{};
  std::size_t header_filled_ = 0;
  bool header_done_ = false;
  bool complete_ = false;
  frame current_;            // current_.body.size() may run ahead of filled_
  std::size_t filled_ = 0;   // body bytes received
  std::vector<std::byte> spare_;
  std::optional<protocol_error> error_;
};

}  // namespace scopekit::cql
