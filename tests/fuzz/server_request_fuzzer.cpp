// libFuzzer target: the embedded CQL server's protocol core (server_detail::connection_session, no
// sockets) fed the byte stream of an untrusted client. Each input talks to a fresh server
// (server_fixture.hpp: demo.rows with 50 rows, ks.t with two rows).
//
// Input: byte 0 is a control byte, the rest is the client's stream.
//   bit 0     clear: a STARTUP frame is sent before the stream, so that most inputs get past the
//             handshake; set: the stream is sent as it is (the handshake is fuzzed too).
//   bits 1-2  the stream goes to consume() in 1 (0), 2 (1) or 3 (2, 3) chunks;
//   bit 3     frame bodies are limited to 4096 bytes instead of 256 MB;
//   bits 4-7  where the chunks are cut (k: the first cut at (k + 1)/17 of the stream, the second
//             at (16 - k)/17 of the rest).
//
// Checked for every input (a failed check aborts with a message; libFuzzer reports uncaught
// exceptions, ASan and UBSan the rest):
//   - consume() does not throw, and once it has returned false it is not fed again;
//   - its output is whole frames, each a v4 response that decode_response() accepts;
//   - one response per complete request frame, on the request's stream and in request order; a
//     closed connection's last response is ERROR 0x000A (Protocol error), and an open
//     connection has answered every complete frame;
//   - no ERROR 0x0000 (Server error): the session answers it only when an unexpected exception
//     escaped a statement, i.e. a bug;
//   - nothing is deferred (no faults are injected);
//   - the chunked stream gets the same bytes back as the whole stream in one consume().
//
// Seeds: corpus/server_request_fuzzer/, written by server_request_seeds (see that file).
// Build and run: tests/fuzz/run_fuzzers.sh (preset `fuzz`, clang++-14).
#include "server_fixture.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace {

namespace cql = scopekit::cql;
namespace fuzz = scopekit::cql::fuzz;
using fuzz::bytes;

constexpr const char* who = "server_request_fuzzer";

[[noreturn]] void fail(const std::string& what) { fuzz::fail(who, what); }

struct outcome {
  bytes out;
  bool open = true;
};

// Feeds `stream` to a new connection of a fresh server, cut at `cuts` (ascending offsets).
outcome run(std::span<const std::byte> stream, std::span<const std::size_t> cuts,
            std::size_t max_frame_body) {
  fuzz::fixture server{max_frame_body};
  cql::server_detail::connection_session s = server.connect();
  outcome o;
  std::vector<cql::server_detail::deferred_response> later;
  std::size_t at = 0;
  for (std::size_t i = 0; i <= cuts.size() && o.open; ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : stream.size();
    try {
      o.open = s.consume(stream.subspan(at, end - at), o.out, later);
    } catch (const std::exception& e) {
      fail(std::string("consume() threw: ") + e.what());
    }
    at = end;
  }
  if (!later.empty()) {
    fail("a response was deferred, with no fault injected");
  }
  return o;
}

// What the session must answer, read from the stream the way the session reads it: the streams
// of the complete v4 frames in order, and whether the stream then has a header the session
// refuses (another version byte, a negative length or a body over the limit).
struct expected_answers {
  std::vector<std::int16_t> streams;
  bool bad_header = false;
};

expected_answers expect(std::span<const std::byte> in, std::size_t max_frame_body) {
  auto byte_at = [&](std::size_t i) { return std::to_integer<std::uint32_t>(in[i]); };
  expected_answers e;
  std::size_t at = 0;
  while (in.size() - at >= 4) {
    if (byte_at(at) != cql::request_version) {
      e.bad_header = true;
      break;
    }
    if (in.size() - at < cql::header_size) {
      break;
    }
    const auto length = static_cast<std::int32_t>(byte_at(at + 5) << 24U | byte_at(at + 6) << 16U |
                                                  byte_at(at + 7) << 8U | byte_at(at + 8));
    if (length < 0 || static_cast<std::size_t>(length) > max_frame_body) {
      e.bad_header = true;
      break;
    }
    if (in.size() - at - cql::header_size < static_cast<std::size_t>(length)) {
      break;
    }
    e.streams.push_back(static_cast<std::int16_t>(
        static_cast<std::uint16_t>(byte_at(at + 2) << 8U | byte_at(at + 3))));
    at += cql::header_size + static_cast<std::size_t>(length);
  }
  return e;
}

void check(const outcome& o, std::span<const std::byte> stream, std::size_t max_frame_body) {
  const std::vector<cql::response> responses = fuzz::decode_responses(o.out, who);
  for (const cql::response& r : responses) {
    const auto* e = std::get_if<cql::error_response>(&r.message);
    if (e != nullptr && e->code == cql::error_code::server_error) {
      fail("ERROR 0x0000 (Server error) on stream " + std::to_string(r.stream) + ": " +
           e->message);
    }
  }
  const expected_answers expected = expect(stream, max_frame_body);
  const std::size_t n = responses.size();
  const std::size_t paired = o.open ? n : n - 1;  // a closed connection's last answer: see below
  if (!o.open) {
    const auto* e = n == 0 ? nullptr : std::get_if<cql::error_response>(&responses.back().message);
    if (e == nullptr || e->code != cql::error_code::protocol_error) {
      fail("the connection was closed without an ERROR 0x000A as its last response");
    }
  }
  if (paired > expected.streams.size()) {
    fail(std::to_string(n) + " responses to " + std::to_string(expected.streams.size()) +
         " complete request frames");
  }
  if (o.open && (paired != expected.streams.size() || expected.bad_header)) {
    fail("the connection is open after " + std::to_string(n) + " responses, for " +
         std::to_string(expected.streams.size()) + " complete request frames" +
         (expected.bad_header ? " and a header it must refuse" : ""));
  }
  for (std::size_t i = 0; i < std::min(n, expected.streams.size()); ++i) {
    if (responses[i].stream != expected.streams[i]) {
      fail("response " + std::to_string(i) + " is on stream " +
           std::to_string(responses[i].stream) + ", its request on stream " +
           std::to_string(expected.streams[i]));
    }
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t control = data[0];
  // NOLINTNEXTLINE(*-reinterpret-cast): libFuzzer's bytes, viewed as std::byte
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  const std::span<const std::byte> rest = input.subspan(1);

  bytes stream;
  if ((control & 0x01U) == 0) {
    stream = fuzz::startup_frame();
  }
  stream.insert(stream.end(), rest.begin(), rest.end());

  const std::size_t chunks = std::min<std::size_t>(1 + ((control >> 1U) & 0x03U), 3);
  const std::size_t max_frame_body =
      (control & 0x08U) != 0 ? fuzz::small_frame_limit : cql::default_max_body_size;
  const std::size_t k = control >> 4U;
  std::array<std::size_t, 2> cuts{};
  cuts[0] = stream.size() * (k + 1) / 17;
  cuts[1] = cuts[0] + (stream.size() - cuts[0]) * (16 - k) / 17;

  const outcome whole = run(stream, {}, max_frame_body);
  check(whole, stream, max_frame_body);
  if (chunks > 1) {
    const outcome chunked =
        run(stream, std::span<const std::size_t>(cuts.data(), chunks - 1), max_frame_body);
    if (chunked.out != whole.out || chunked.open != whole.open) {
      fail("the stream cut into " + std::to_string(chunks) +
           " chunks got another answer than in one piece");
    }
  }
  return 0;
}
