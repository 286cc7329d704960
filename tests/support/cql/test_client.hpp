// tests/support/cql/test_client.hpp - a small blocking CQL client for the tests of the embedded
// server (scopekit/cql/server/server.hpp), built on the codec: request frames out, decoded
// responses in. Every read has a receive timeout, so a server that fails to answer makes a test
// fail instead of hanging. Failures are reported with ADD_FAILURE/EXPECT, so the helpers may be
// called from any thread of a test.
//
//   scopekit::cql::server srv;
//   srv.start();
//   scopekit::cql::test::client c{srv.port()};
//   c.start();                                          // STARTUP, expects READY
//   const auto rows = rows_of(c.query("SELECT * FROM system.local"));
//   EXPECT_EQ(rows.row_count(), 1U);
#pragma once

#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cerrno>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql::test {

using bytes = std::vector<std::byte>;

/// How long a read waits for the server before the test fails.
inline constexpr int receive_timeout_seconds = 5;

/// A connected TCP socket to 127.0.0.1:port with a receive timeout, or -1 (errno says why).
inline int connect_to(std::uint16_t port, const char* ipv4 = "127.0.0.1") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, ipv4, &address.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {  // NOLINT
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  const timeval timeout{receive_timeout_seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

/// The whole request frame of `message` on `stream`.
inline bytes encode(std::int16_t stream, request_message message) {
  request r;
  r.stream = stream;
  r.message = std::move(message);
  bytes out;
  byte_writer w{out};
  encode_request(w, r);
  return out;
}

/// A QUERY frame.
inline bytes query(std::int16_t stream, std::string statement, query_parameters parameters = {}) {
  return encode(stream, query_request{std::move(statement), std::move(parameters)});
}

/// A PREPARE frame.
inline bytes prepare(std::int16_t stream, std::string statement) {
  return encode(stream, prepare_request{std::move(statement)});
}

/// An EXECUTE frame.
inline bytes execute(std::int16_t stream, std::vector<std::byte> id,
                     query_parameters parameters = {}) {
  return encode(stream, execute_request{std::move(id), std::move(parameters)});
}

/// A STARTUP frame with CQL_VERSION 3.0.0.
inline bytes startup(std::int16_t stream = 0) {
  return encode(stream, startup_request{{{"CQL_VERSION", "3.0.0"}}});
}

/// What a response is, for failure messages: "ERROR 0x2200: <message>", "RESULT Rows", ...
inline std::string describe(const response& r) {
  if (const auto* e = std::get_if<error_response>(&r.message)) {
    static constexpr std::string_view digits = "0123456789ABCDEF";
    const auto code = static_cast<std::uint32_t>(e->code);
    std::string out = "ERROR 0x";
    for (unsigned shift = 12;; shift -= 4) {
      out += digits[(code >> shift) & 0xFU];
      if (shift == 0) {
        break;
      }
    }
    return out.append(": ").append(e->message);
  }
  static constexpr std::array<std::string_view, std::variant_size_v<response_message>> names = {
      "ERROR",
      "READY",
      "SUPPORTED",
      "RESULT Void",
      "RESULT Rows",
      "RESULT Set_keyspace",
      "RESULT Prepared",
      "RESULT Schema_change",
      "EVENT",
      "AUTHENTICATE",
      "AUTH_CHALLENGE",
      "AUTH_SUCCESS"};
  return std::string(names.at(r.message.index()));
}

/// A blocking client: raw bytes out, frames in.
class client {
public:
  /// Connects (a failure to connect is a test failure).
  explicit client(std::uint16_t port, const char* ipv4 = "127.0.0.1")
      : fd_(connect_to(port, ipv4)) {
    if (fd_ < 0) {
      ADD_FAILURE() << "cannot connect to " << ipv4 << ':' << port << ": " << std::strerror(errno);
    }
  }
  ~client() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  client(client&&) = delete;
  client& operator=(client&&) = delete;

  void send(std::span<const std::byte> data) const {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        ADD_FAILURE() << "send failed: " << std::strerror(errno);
        return;
      }
      data = data.subspan(static_cast<std::size_t>(n));
    }
  }

  /// The next frame, or nullopt if the server closed the connection first. A timeout or a
  /// socket error is a test failure (and gives nullopt).
  std::optional<frame> read_frame() {
    for (;;) {
      if (splitter_.has_frame()) {
        return splitter_.take();
      }
      if (!pending_.empty()) {
        pending_.erase(pending_.begin(),
                       pending_.begin() + static_cast<std::ptrdiff_t>(splitter_.feed(pending_)));
        continue;
      }
      std::array<std::byte, 4096> buffer{};
      const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        return std::nullopt;
      }
      if (n < 0) {
        ADD_FAILURE() << "recv failed (timeout?): " << std::strerror(errno);
        return std::nullopt;
      }
      pending_.assign(buffer.begin(), buffer.begin() + n);
    }
  }

  /// The next response, decoded; a test failure (and an empty response) if there is none.
  /// protocol_error if the frame does not decode.
  response read_response() {
    std::optional<frame> f = read_frame();
    if (!f) {
      ADD_FAILURE() << "the connection closed before a response arrived";
      return {};
    }
    EXPECT_EQ(f->header.version, response_version);
    return decode_response(std::move(*f));
  }

  /// Sends each write at once (no Nagle), so that small writes arrive as separate segments.
  void no_delay() const {
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  /// True if the server closes the connection before sending anything more.
  bool closed_by_server() { return !read_frame().has_value(); }

  /// Sends STARTUP and expects READY.
  void start() {
    send(startup());
    const response r = read_response();
    EXPECT_TRUE(std::holds_alternative<ready_response>(r.message)) << describe(r);
  }

  /// A stream id not used by this client's earlier round trips (1 to 32767, then again).
  std::int16_t next_stream() noexcept {
    stream_ = stream_ == 32767 ? std::int16_t{1} : static_cast<std::int16_t>(stream_ + 1);
    return stream_;
  }

  /// Sends `request` (a whole frame on `stream`) and returns the next response, which must be
  /// on `stream`.
  response round_trip(std::int16_t stream, std::span<const std::byte> request) {
    send(request);
    response r = read_response();
    EXPECT_EQ(r.stream, stream) << describe(r);
    return r;
  }

  /// QUERY on a fresh stream, and its response.
  response query(std::string statement, query_parameters parameters = {}) {
    const std::int16_t stream = next_stream();
    return round_trip(stream, test::query(stream, std::move(statement), std::move(parameters)));
  }

  /// PREPARE on a fresh stream, and its response.
  response prepare(std::string statement) {
    const std::int16_t stream = next_stream();
    return round_trip(stream, test::prepare(stream, std::move(statement)));
  }

  /// EXECUTE on a fresh stream, and its response.
  response execute(std::vector<std::byte> id, query_parameters parameters = {}) {
    const std::int16_t stream = next_stream();
    return round_trip(stream, test::execute(stream, std::move(id), std::move(parameters)));
  }

private:
  int fd_;
  frame_splitter splitter_;
  bytes pending_;
  std::int16_t stream_ = 0;
};

/// The message of `r` if it is a `Message`; else a test failure and a default `Message`.
template <class Message>
Message message_of(const response& r) {
  const auto* m = std::get_if<Message>(&r.message);
  if (m == nullptr) {
    ADD_FAILURE() << "unexpected response: " << describe(r);
    return {};
  }
  return *m;
}

inline error_response error_of(const response& r) {
  return message_of<error_response>(r);
}

inline rows_result rows_of(const response& r) {
  return message_of<rows_result>(r);
}

/// The index of column `name`, or column_count() (and a failure) if there is none.
inline std::size_t column(const rows_result& rows, std::string_view name) {
  const auto& columns = rows.metadata().columns;
  const auto it = std::find_if(columns.begin(), columns.end(),
                               [&](const column_spec& c) { return c.name == name; });
  if (it == columns.end()) {
    ADD_FAILURE() << "no column " << name;
  }
  return static_cast<std::size_t>(it - columns.begin());
}

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// The number of rows of each page.
inline std::vector<std::size_t> row_counts_of(const std::vector<rows_result>& pages) {
  std::vector<std::size_t> out;
  out.reserve(pages.size());
  for (const rows_result& page : pages) {
    out.push_back(page.row_count());
  }
  return out;
}

/// Every page of a paged request, following the paging states from the first page to the one
/// without has_more_pages. `ask(parameters)` sends the request with those parameters and
/// returns its response; `parameters` gets `page_size` and each page's paging state. A response
/// that is not Rows, or more than `max_pages` pages (a server that never stops paging), is a
/// test failure and ends the list.
template <std::invocable<const query_parameters&> Ask>
std::vector<rows_result> fetch_pages(Ask ask, std::int32_t page_size,
                                     query_parameters parameters = {},
                                     std::size_t max_pages = 1000) {
  std::vector<rows_result> pages;
  parameters.page_size = page_size;
  parameters.paging_state.reset();
  for (;;) {
    if (pages.size() == max_pages) {
      ADD_FAILURE() << "still more pages after " << max_pages;
      return pages;
    }
    const response r = ask(std::as_const(parameters));
    if (!std::holds_alternative<rows_result>(r.message)) {
      ADD_FAILURE() << "page " << pages.size() << ": " << describe(r);
      return pages;
    }
    pages.push_back(std::get<rows_result>(r.message));
    if (!pages.back().metadata().has_more_pages()) {
      return pages;
    }
    parameters.paging_state = pages.back().metadata().paging_state;
  }
}

/// Every page of the QUERY `statement`, as above.
inline std::vector<rows_result> fetch_pages(client& c, const std::string& statement,
                                            std::int32_t page_size,
                                            query_parameters parameters = {},
                                            std::size_t max_pages = 1000) {
  return fetch_pages([&](const query_parameters& p) { return c.query(statement, p); }, page_size,
                     std::move(parameters), max_pages);
}

}  // namespace scopekit::cql::test
