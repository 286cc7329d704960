// libFuzzer target: a byte stream from a peer, cut by frame_splitter (fed in uneven chunks), each
// frame decoded as a request or a response; and the whole input decoded directly as the body
// of every opcode. Whatever decodes must encode and decode back to the same message. Anything
// but a protocol_error is a bug (libFuzzer reports uncaught exceptions, ASan and UBSan the rest).
//
// Build and run: tests/fuzz/run_fuzzers.sh (preset `fuzz`, clang++-14).
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <utility>
#include <vector>

namespace {

namespace cql = scopekit::cql;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "frame_fuzzer: %s\n", what);
  std::abort();
}

cql::frame split_one(const std::vector<std::byte>& wire) {
  cql::frame_splitter splitter;
  if (splitter.feed(wire) != wire.size() || !splitter.has_frame()) {
    fail("an encoded frame did not come out of the splitter whole");
  }
  return splitter.take();
}

void check_request(const cql::frame& f) {
  cql::request r;
  try {
    r = cql::decode_request(f);
  } catch (const cql::protocol_error&) {
    return;
  }
  std::vector<std::byte> wire;
  cql::byte_writer out(wire);
  cql::encode_request(out, r);
  if (cql::decode_request(split_one(wire)) != r) {
    fail("request changed through encode + decode");
  }
}

void check_response(cql::frame f) {
  const std::uint8_t version = f.header.version;
  cql::response r;
  try {
    r = cql::decode_response(std::move(f));
  } catch (const cql::protocol_error&) {
    return;
  }
  std::vector<std::byte> wire;
  cql::byte_writer out(wire);
  cql::encode_response(out, r, version);
  if (cql::decode_response(split_one(wire)) != r) {
    fail("response changed through encode + decode");
  }
}

constexpr std::array<cql::opcode, 11> opcodes = {
    cql::opcode::error,     cql::opcode::startup,   cql::opcode::ready,  cql::opcode::options,
    cql::opcode::supported, cql::opcode::query,     cql::opcode::result, cql::opcode::prepare,
    cql::opcode::execute,   cql::opcode::register_, cql::opcode::event};

void check_bodies(std::span<const std::byte> input) {
  for (const cql::opcode op : opcodes) {
    try {
      const cql::request_message m = cql::decode_request_body(op, input);
      std::vector<std::byte> wire;
      cql::byte_writer out(wire);
      cql::encode_request_body(out, m);
      if (cql::decode_request_body(op, wire) != m) {
        fail("request body changed through encode + decode");
      }
    } catch (const cql::protocol_error&) {
    }
    try {
      const cql::response_message m =
          cql::decode_response_body(op, std::vector<std::byte>(input.begin(), input.end()));
      std::vector<std::byte> wire;
      cql::byte_writer out(wire);
      cql::encode_response_body(out, m);
      if (cql::decode_response_body(op, wire) != m) {
        fail("response body changed through encode + decode");
      }
    } catch (const cql::protocol_error&) {
    }
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(
      reinterpret_cast<const std::byte*>(data),  // NOLINT(*-reinterpret-cast)
      size);
  cql::frame_splitter splitter(std::size_t{1} << 20U);
  std::size_t chunk = 1 + size % 13;
  try {
    for (std::size_t at = 0; at < size;) {
      const std::size_t n = std::min(chunk, size - at);
      splitter.feed_all(input.subspan(at, n), [](cql::frame&& f) {
        if (f.header.is_response()) {
          check_response(std::move(f));
        } else {
          check_request(f);
        }
      });
      at += n;
      chunk = chunk * 5 % 61 + 1;
    }
  } catch (const cql::protocol_error&) {
    // A bad header ends the stream, as it ends a connection.
  }
  check_bodies(input);
  return 0;
}
