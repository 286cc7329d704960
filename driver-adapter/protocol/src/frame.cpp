// Frame headers and the frame splitter (spec §2).
#include "scopekit/cql/protocol/frame.hpp"

#include "format.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace scopekit::cql {

std::string_view to_string(opcode op) noexcept {
  switch (op) {
    case opcode::error:
      return "ERROR";
    case opcode::startup:
      return "STARTUP";
    case opcode::ready:
      return "READY";
    case opcode::authenticate:
      return "AUTHENTICATE";
    case opcode::options:
      return "OPTIONS";
    case opcode::supported:
      return "SUPPORTED";
    case opcode::query:
      return "QUERY";
    case opcode::result:
      return "RESULT";
    case opcode::prepare:
      return "PREPARE";
    case opcode::execute:
      return "EXECUTE";
    case opcode::register_:
      return "REGISTER";
    case opcode::event:
      return "EVENT";
    case opcode::batch:
      return "BATCH";
    case opcode::auth_challenge:
      return "AUTH_CHALLENGE";
    case opcode::auth_response:
      return "AUTH_RESPONSE";
    case opcode::auth_success:
      return "AUTH_SUCCESS";
  }
  return "unknown opcode";
}

void encode_header(byte_writer& out, const frame_header& header) {
  out.write_byte(header.version);
  out.write_byte(header.flags);
  out.write_short(static_cast<std::uint16_t>(header.stream));
  out.write_byte(static_cast<std::uint8_t>(header.op));
  out.write_int(header.length);
}

frame_header decode_header(std::span<const std::byte> bytes, std::size_t max_body_size) {
  byte_reader in(bytes);
  if (bytes.size() < header_size) {
    in.read_raw(header_size, "frame.header");  // throws: fewer than 9 bytes
  }
  frame_header h;
  h.version = in.read_byte("frame.version");
  h.flags = in.read_byte("frame.flags");
  h.stream = static_cast<std::int16_t>(in.read_short("frame.stream"));
  h.op = static_cast<opcode>(in.read_byte("frame.opcode"));
  const std::size_t length_offset = in.offset();
  h.length = in.read_int("frame.length");
  if (h.length < 0) {
    byte_reader::fail(
        "frame.length", length_offset,
        "negative body length " + std::to_string(h.length) + detail::at(length_offset));
  }
  if (static_cast<std::size_t>(h.length) > max_body_size) {
    byte_reader::fail("frame.length", length_offset,
                      "body length " + std::to_string(h.length) + detail::at(length_offset) +
                          " exceeds the limit of " + std::to_string(max_body_size) + " bytes");
  }
  return h;
}

std::size_t begin_frame(byte_writer& out, std::uint8_t version, std::uint8_t flags,
                        std::int16_t stream, opcode op) {
  const std::size_t start = out.size();
  encode_header(out, frame_header{version, flags, stream, op, 0});
  return start;
}

void end_frame(byte_writer& out, std::size_t frame_start) {
  const std::size_t body = out.size() - frame_start - header_size;
  if (body > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("scopekit::cql: a frame body of " + std::to_string(body) +
                            " bytes does not fit the header's [int] length");
  }
  out.patch_int(frame_start + 5, static_cast<std::int32_t>(body));
}

void encode_frame(byte_writer& out, const frame_header& header, std::span<const std::byte> body) {
  const std::size_t start =
      begin_frame(out, header.version, header.flags, header.stream, header.op);
  out.write_raw(body);
  end_frame(out, start);
}

// ---- frame_splitter -------------------------------------------------------------------------

namespace {
// A body's bytes are committed as they arrive: body_space() offers room for what has been
// received again (at least this much), so a peer that announces a large body must send it
// before the memory is committed.
constexpr std::size_t min_body_step = std::size_t{64} * 1024;
constexpr std::size_t first_reserve = std::size_t{1} << 20U;
}  // namespace

std::size_t frame_splitter::feed(std::span<const std::byte> bytes) {
  if (error_) {
    throw protocol_error(*error_);  // the same error, for every later call
  }
  if (complete_) {
    return 0;
  }
  std::size_t used = 0;
  if (!header_done_) {
    const std::size_t n = std::min(header_size - header_filled_, bytes.size());
    std::copy_n(bytes.begin(), n,
                header_bytes_.begin() + static_cast<std::ptrdiff_t>(header_filled_));
    header_filled_ += n;
    used = n;
    if (header_filled_ < header_size) {
      return used;
    }
    try {
      current_.header = decode_header(header_bytes_, max_body_size_);
    } catch (const protocol_error& e) {
      error_ = e;
      throw;
    }
    start_body();
  }
  while (used < bytes.size() && !complete_) {
    const std::span<std::byte> room = body_space();
    const std::size_t n = std::min(room.size(), bytes.size() - used);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(used), n, room.begin());
    commit(n);
    used += n;
  }
  return used;
}

void frame_splitter::start_body() {
  header_done_ = true;
  filled_ = 0;
  const auto length = static_cast<std::size_t>(current_.header.length);
  if (length >= reuse_threshold && has_spare()) {
    if (spare_.capacity() >= length) {
      current_.body = std::move(spare_);
      if (current_.body.size() > length) {
        current_.body.resize(length);  // shrinking: nothing is written
      }
    }
    // Used, or too small: freed before a larger one is allocated, never copied. (Not
    // `spare_ = {}`, which would keep the capacity.)
    std::vector<std::byte>().swap(spare_);
  }
  complete_ = length == 0;
}

std::span<std::byte> frame_splitter::body_space() {
  if (!header_done_ || complete_) {
    return {};
  }
  std::vector<std::byte>& body = current_.body;
  const auto length = static_cast<std::size_t>(current_.header.length);
  if (body.size() == filled_) {
    // Grow: room for at least what was received so far, within the announced length. Bytes of
    // a recycled buffer beyond its old size are the only ones written here (zeroed).
    const std::size_t target = std::min(length, filled_ + std::max(min_body_step, filled_));
    if (target > body.capacity()) {
      // Capacity is only address space until written: reserve ahead to copy less on growth.
      // A body that may be recycled gets an eighth more than it needs, so that its buffer
      // also takes the slightly longer bodies that follow (pages differ by a few bytes).
      const std::size_t most = length >= reuse_threshold ? length + length / 8 : length;
      body.reserve(std::min(most, std::max({target, body.capacity() * 2, first_reserve})));
    }
    body.resize(target);
  }
  return std::span<std::byte>(body).subspan(filled_);
}

void frame_splitter::commit(std::size_t n) noexcept {
  filled_ += n;
  complete_ = filled_ == static_cast<std::size_t>(current_.header.length);
}

frame frame_splitter::take() noexcept {
  current_.body.resize(filled_);  // drops the room not written (never grows: no throw)
  frame out = std::move(current_);
  current_ = frame{};
  filled_ = 0;
  header_filled_ = 0;
  header_done_ = false;
  complete_ = false;
  return out;
}

}  // namespace scopekit::cql
