// tests/support/cql/scripted_server.hpp - a CQL "server" that answers what a test scripts, for
// misbehaviours the embedded server cannot show (a paging state repeated for ever).
//
// It listens on 127.0.0.1 (a free port), accepts connections on one thread, answers OPTIONS
// with SUPPORTED and STARTUP with READY, and every other request with the frame body the
// test's `answer` function returns for it (called on the server's thread, with the request
// decoded). It stops, closing every socket, when destroyed.
//
//   scripted_server srv{[](const request& r) { return rows_page(1, same_state); }};
//   options.port = srv.port();
#pragma once

#include "scopekit/cql/net/unique_fd.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/rows.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace scopekit::cql::test {

/// The columns of every result here: one bigint column `id` of demo.rows.
inline result_metadata id_column() {
  result_metadata metadata;
  metadata.column_count = 1;
  metadata.global_table = table_spec{"demo", "rows"};
  metadata.columns.push_back(column_spec{{"demo", "rows"}, "id", type_id::bigint});
  return metadata;
}

/// The body of a RESULT Prepared frame for a statement without bind markers that returns
/// id_column().
inline std::vector<std::byte> prepared_body() {
  prepared_result prepared;
  prepared.id = {std::byte{0x1d}};
  prepared.result = id_column();
  std::vector<std::byte> body;
  byte_writer out{body};
  encode_response_body(out, prepared);
  return body;
}

/// The body of a RESULT Rows frame of id_column(), the ids `first .. first + count - 1`, and
/// `paging_state` if set.
inline std::vector<std::byte> rows_page(std::int64_t first, std::int32_t count,
                                        std::optional<std::vector<std::byte>> paging_state) {
  std::vector<std::byte> body;
  byte_writer out{body};
  out.write_int(0x0002);  // RESULT kind Rows (spec §4.2.5)
  result_metadata metadata = id_column();
  metadata.paging_state = std::move(paging_state);
  write_result_metadata(out, metadata);
  out.write_int(count);
  for (std::int64_t id = first; id < first + count; ++id) {
    out.write_int(8);
    out.write_long(id);
  }
  return body;
}

class scripted_server {
public:
  /// Called for each QUERY, EXECUTE or PREPARE: the body of the RESULT to send back.
  using script = std::function<std::vector<std::byte>(const request&)>;

  explicit scripted_server(script answer) : answer_(std::move(answer)) {
    listener_ = net::unique_fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    socklen_t size = sizeof address;
    if (!listener_ || ::bind(listener_.get(), generic, size) != 0 ||
        ::listen(listener_.get(), 8) != 0 || ::getsockname(listener_.get(), generic, &size) != 0) {
      ADD_FAILURE() << "scripted_server: cannot listen on a loopback port";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;
  scripted_server(scripted_server&&) = delete;
  scripted_server& operator=(scripted_server&&) = delete;
  ~scripted_server() {
    done_.store(true);
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  std::uint16_t port() const noexcept { return port_; }
  /// QUERY, EXECUTE and PREPARE requests answered so far.
  std::size_t answered() const noexcept { return answered_.load(); }

private:
  /// Polls the listener and the connections every 10 ms so that the destructor is seen.
  void serve() {
    std::vector<std::pair<net::unique_fd, frame_splitter>> connections;
    while (!done_.load()) {
      std::vector<pollfd> fds{pollfd{listener_.get(), POLLIN, 0}};
      for (const auto& c : connections) {
        fds.push_back(pollfd{c.first.get(), POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 10) <= 0) {
        continue;
      }
      for (std::size_t i = connections.size(); i-- > 0;) {
        if (fds[i + 1].revents != 0 &&
            !read_and_answer(connections[i].first.get(), connections[i].second)) {
          connections.erase(connections.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
      if ((fds[0].revents & POLLIN) != 0) {
        net::unique_fd c{::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC)};
        if (c) {
          connections.emplace_back(std::move(c), frame_splitter{});
        }
      }
    }
  }

  /// False when the connection is finished (closed by the client, or a frame we cannot read).
  bool read_and_answer(int fd, frame_splitter& splitter) {
    std::array<std::byte, 4096> buffer{};
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      return false;
    }
    try {
      std::vector<std::byte> out;
      byte_writer w{out};
      splitter.feed_all(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n)),
                        [&](frame f) { answer(w, decode_request(f)); });
      return send_all(fd, out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "scripted_server: " << e.what();
      return false;
    }
  }

  void answer(byte_writer& w, const request& r) {
    const std::size_t start =
        begin_frame(w, response_version, 0, r.stream,
                    opcode_of(r.message) == opcode::options   ? opcode::supported
                    : opcode_of(r.message) == opcode::startup ? opcode::ready
                                                              : opcode::result);
    if (opcode_of(r.message) == opcode::options) {
      w.write_string_multimap({{"CQL_VERSION", {"3.0.0"}}});
    } else if (opcode_of(r.message) != opcode::startup) {
      w.write_raw(answer_(r));
      answered_.fetch_add(1);
    }
    end_frame(w, start);
  }

  static bool send_all(int fd, std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return true;
  }

  script answer_;
  net::unique_fd listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<std::size_t> answered_{0};
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace scopekit::cql::test
