// session.cpp - framing, version checks and the dispatch of requests of one connection.
#include "session.hpp"

#include "scopekit/cql/error.hpp"
#include "scopekit/cql/response.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace scopekit::cql::detail {
namespace {

// Bytes of a header that identify the version and the stream: 4 for every version (v1 and v2
// have a one-byte stream at offset 2, later versions a two-byte one at offset 2).
constexpr std::size_t version_and_stream_size = 4;

std::string version_error_message(std::uint8_t version_byte) {
  if ((version_byte & 0x80U) != 0) {
    return "Invalid or unsupported protocol version: the frame has the response bit set "
           "(version byte " +
           std::to_string(version_byte) + "); supported versions are (4/v4)";
  }
  return "Invalid or unsupported protocol version (" + std::to_string(version_byte) +
         "); supported versions are (4/v4)";
}

bool has_option(const string_map& options, std::string_view key) {
  return std::any_of(options.begin(), options.end(),
                     [&](const auto& entry) { return entry.first == key; });
}

}  // namespace

void write_error(byte_writer& out, std::int16_t stream, error_code code, std::string message) {
  response r;
  r.stream = stream;
  r.message = error_response{code, std::move(message), {}};
  encode_response(out, r);
}

session::session(const session_context& context)
    : context_(context), splitter_(context.max_frame_body) {}

std::int16_t session::stream_in_header() const noexcept {
  const auto version = std::to_integer<unsigned>(header_[0]) & 0x7FU;
  if (version == 1 || version == 2) {
    return static_cast<std::int8_t>(std::to_integer<std::uint8_t>(header_[2]));
  }
  const auto high = std::to_integer<unsigned>(header_[2]);
  const auto low = std::to_integer<unsigned>(header_[3]);
  return static_cast<std::int16_t>(static_cast<std::uint16_t>((high << 8U) | low));
}

bool session::consume(std::span<const std::byte> in, std::vector<std::byte>& out) {
  byte_writer w{out};
  for (;;) {
    if (splitter_.has_frame()) {
      if (!handle(splitter_.take(), w)) {
        return false;
      }
      continue;
    }
    if (in.empty()) {
      return true;
    }
    // Keep a copy of the header as it arrives: the splitter does not give it back when it
    // refuses it, and a version check must not wait for a body of unknown framing.
    const std::size_t have = splitter_.buffered();
    if (have < header_size) {
      const std::size_t n = std::min(header_size - have, in.size());
      std::copy_n(in.begin(), n, header_.begin() + static_cast<std::ptrdiff_t>(have));
      if (have < version_and_stream_size && have + n >= version_and_stream_size &&
          header_[0] != std::byte{request_version}) {
        const auto version = std::to_integer<std::uint8_t>(header_[0]);
        write_error(w, stream_in_header(), error_code::protocol_error,
                    version_error_message(version));
        return false;
      }
    }
    try {
      in = in.subspan(splitter_.feed(in));
    } catch (const protocol_error& e) {
      write_error(w, stream_in_header(), error_code::protocol_error, e.what());
      return false;
    }
  }
}

bool session::handle(frame&& f, byte_writer& out) {
  const std::int16_t stream = f.header.stream;
  if (f.header.op == opcode::batch) {
    write_error(out, stream, error_code::invalid,
                "BATCH is not supported by this version of scopekit's embedded CQL server");
    return true;
  }
  const std::size_t mark = out.size();
  try {
    const request r = decode_request(f);
    return dispatch(r, out);
  } catch (const protocol_error& e) {
    out.buffer().resize(mark);
    write_error(out, stream, error_code::protocol_error, e.what());
    return false;
  } catch (const std::exception& e) {
    // A bug or an allocation failure while answering: drop the partial response, say so.
    out.buffer().resize(mark);
    write_error(out, stream, error_code::server_error, e.what());
    return true;
  }
}

bool session::dispatch(const request& r, byte_writer& out) {
  const std::int16_t stream = r.stream;
  auto answer = [&](response_message message) {
    response reply;
    reply.stream = stream;
    reply.message = std::move(message);
    encode_response(out, reply);
  };
  auto refuse = [&](error_code code, std::string message) {
    write_error(out, stream, code, std::move(message));
  };
  return std::visit(
      [&](const auto& m) -> bool {
        using message_type = std::remove_cvref_t<decltype(m)>;
        if constexpr (std::is_same_v<message_type, options_request>) {
          answer(supported_response{{{"CQL_VERSION", {"3.4.4"}}, {"COMPRESSION", {}}}});
        } else if constexpr (std::is_same_v<message_type, startup_request>) {
          if (started_) {
            refuse(error_code::protocol_error,
                   "Unexpected message STARTUP, the connection is already initialized");
          } else if (has_option(m.options, "COMPRESSION")) {
            refuse(error_code::protocol_error,
                   "Compression is not supported by scopekit's embedded CQL server; connect "
                   "without the COMPRESSION option");
          } else if (!has_option(m.options, "CQL_VERSION")) {
            refuse(error_code::protocol_error, "Missing value CQL_VERSION in STARTUP message");
          } else {
            started_ = true;
            answer(ready_response{});
          }
        } else if (!started_) {
          refuse(error_code::protocol_error,
                 std::string("Unexpected message ") +
                     std::string(to_string(opcode_of(request_message{m}))) +
                     ", expecting STARTUP or OPTIONS");
        } else if constexpr (std::is_same_v<message_type, register_request>) {
          answer(ready_response{});
        } else if constexpr (std::is_same_v<message_type, query_request>) {
          answer_query(out, stream, m, context_);
        } else if constexpr (std::is_same_v<message_type, prepare_request>) {
          refuse(error_code::invalid,
                 "PREPARE is not supported by this version of scopekit's embedded CQL server "
                 "(send the statement as a QUERY)");
        } else {
          static_assert(std::is_same_v<message_type, execute_request>);
          response reply;
          reply.stream = stream;
          reply.message = error_response{
              error_code::unprepared,
              "Prepared statement not found: this version of scopekit's embedded CQL server "
              "prepares no statements",
              unprepared_error{m.id}};
          encode_response(out, reply);
        }
        return true;
      },
      r.message);
}

}  // namespace scopekit::cql::detail
