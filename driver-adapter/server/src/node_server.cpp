// node_server.cpp - sockets and threads: a listener polled together with a wake-up pipe, and one
// thread per connection that feeds a session, sends what it answers, and sends the responses a
// fault delays when they are due.
#include "node_server.hpp"

#include "scopekit/cql/net/socket.hpp"
#include "scopekit/cql/net/unique_fd.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace scopekit::cql::server_detail {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Sends all of `bytes`; false if the peer is gone or the socket was shut down.
bool send_all(int fd, std::span<const std::byte> bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

inet_address local_address_of(int fd) {
  sockaddr_storage storage{};
  socklen_t size = sizeof storage;
  inet_address out;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0) {  // NOLINT
    out.bytes[0] = std::byte{127};
    out.bytes[3] = std::byte{1};
    return out;
  }
  if (storage.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);  // NOLINT
    std::memcpy(out.bytes.data(), &v6->sin6_addr, 16);
    out.size = 16;
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);  // NOLINT
    std::memcpy(out.bytes.data(), &v4->sin_addr, 4);
    out.size = 4;
  }
  return out;
}

}  // namespace

node_server::node_server(server_options options, std::shared_ptr<database> db,
                         std::shared_ptr<const topology> ring, std::size_t node_index,
                         std::shared_ptr<node_state> node)
    : options_(std::move(options)),
      shared_(options_.max_prepared_statements, std::move(db), std::move(ring), node_index,
              std::move(node), options_.users) {}

node_server::~node_server() {
  stop();
}

void node_server::serve(connection& c) noexcept {
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  try {
    connection_context context;
    context.local_address = local_address_of(c.fd.get());
    context.max_frame_body = options_.max_frame_body;
    context.max_query_bytes = options_.max_query_bytes;
    context.max_result_rows = options_.max_result_rows;
    context.max_pending_response_bytes = options_.max_pending_response_bytes;
    connection_session s{context, shared_};
    // Not zero-filled: an idle connection's buffer costs no resident memory until used.
    constexpr std::size_t in_size = std::size_t{64} * 1024;
    // A std::array or std::vector would be zero-filled (value-initialised).
    const auto in = std::make_unique_for_overwrite<std::byte[]>(in_size);  // NOLINT(*-c-arrays)
    std::vector<std::byte> out;
    std::vector<deferred_response> later;  // delayed responses, sorted by due time
    for (;;) {
      // Send what is due, then wait for a request or the next due time.
      const auto now = std::chrono::steady_clock::now();
      const auto due = std::find_if(later.begin(), later.end(),
                                    [&](const auto& d) { return d.due > now; });
      const bool sent = std::all_of(later.begin(), due,
                                    [&](const auto& d) { return send_all(c.fd.get(), d.bytes); });
      later.erase(later.begin(), due);
      if (!sent) {
        break;
      }
      int timeout = -1;
      if (!later.empty()) {
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(later.front().due - now);
        timeout = static_cast<int>(std::min<std::chrono::milliseconds::rep>(wait.count(), 60'000));
      }
      pollfd p{c.fd.get(), POLLIN, 0};
      const int ready = ::poll(&p, 1, timeout);
      if (ready < 0 && errno != EINTR) {
        break;
      }
      if (ready <= 0) {
        continue;
      }
      const ssize_t n = ::recv(c.fd.get(), in.get(), in_size, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        break;
      }
      if (!answer(s, std::span<const std::byte>(in.get(), static_cast<std::size_t>(n)), c, out,
                  later)) {
        break;
      }
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): an allocation failure drops this connection
  }
  // The peer sees the end of the stream now; stop() or the accept loop closes the descriptor
  // after joining, so it is never reused while this thread could still touch it.
  ::shutdown(c.fd.get(), SHUT_RDWR);
  c.done.store(true, std::memory_order_release);  // before the count: see admit()
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
}

// Answers the requests in `in` and sends the responses, at most
// options_.max_pending_response_bytes (and one response) at a time: while a client does not read,
// send() blocks and this connection's requests wait unread (backpressure). False once the
// connection must close.
bool node_server::answer(connection_session& s, std::span<const std::byte> in,
                           connection& c, std::vector<std::byte>& out,
                           std::vector<deferred_response>& later) {
  do {
    out.clear();
    const std::size_t delayed = later.size();
    const bool keep = s.consume(in, out, later);
    in = {};
    if (later.size() != delayed) {
      std::stable_sort(later.begin(), later.end(),
                       [](const auto& a, const auto& b) { return a.due < b.due; });
    }
    if (!send_all(c.fd.get(), out) || !keep) {
      return false;
    }
  } while (s.has_unanswered());
  return true;
}

void node_server::reap_finished() {
  std::list<connection> finished;
  {
    const std::lock_guard lock{mutex_};
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (it->done.load(std::memory_order_acquire)) {
        finished.splice(finished.end(), connections_, it);
      }
      it = next;
    }
  }
  for (connection& c : finished) {
    c.thread.join();  // then `finished` closes the descriptors
  }
}

// Serves `fd` on a thread of its own, or, beyond options_.max_connections, answers ERROR 0x1001
// (Overloaded) on stream 0 and closes it. Throws (and `fd` closes) if there is no memory or
// no thread for it.
void node_server::admit(net::unique_fd fd) {
  const std::lock_guard lock{mutex_};
  // A finished connection counts until reaped; its thread has said so before the count drops.
  const auto serving = static_cast<std::size_t>(std::count_if(
      connections_.begin(), connections_.end(),
      [](const connection& c) { return !c.done.load(std::memory_order_acquire); }));
  if (serving >= options_.max_connections) {
    std::vector<std::byte> refusal;
    byte_writer w{refusal};
    write_error(
        w, 0, error_code::overloaded,
        "Too many connections: scopekit's embedded CQL server serves at most " +
            std::to_string(options_.max_connections) +
            " at once (server_options::max_connections); try again later");
    send_all(fd.get(), refusal);  // a fresh socket's buffer holds it: this does not block
    return;                       // `fd` closes
  }
  net::set_no_delay(fd.get());
  connection& c = connections_.emplace_back();
  c.fd = std::move(fd);
  try {
    c.thread = std::thread([this, &c] { serve(c); });
  } catch (...) {
    connections_.pop_back();  // closes the descriptor
    throw;
  }
}

void node_server::accept_loop() noexcept {
  // After accept() fails for want of descriptors or memory, the listener stays readable: wait
  // this long (or for stop()) before trying again, instead of spinning.
  constexpr int backoff_ms = 50;
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{listen_fd_.get(), POLLIN, 0},
                              pollfd{wake_read_.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[1].revents != 0) {
      return;  // stop()
    }
    try {
      reap_finished();
    } catch (...) {  // NOLINT(bugprone-empty-catch): retried on the next connection
    }
    net::unique_fd fd{::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC)};
    if (!fd) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (::poll(&fds[1], 1, backoff_ms) > 0) {
          return;  // stop() while backing off
        }
      }
      continue;  // or the client gave up (ECONNABORTED)
    }
    try {
      admit(std::move(fd));
    } catch (...) {  // NOLINT(bugprone-empty-catch): no memory or thread: refuse this one
    }
  }
}

std::uint16_t node_server::port() const noexcept {
  return bound_port_;
}

std::size_t node_server::connection_count() const noexcept {
  return open_connections_.load(std::memory_order_relaxed);
}

void node_server::start() {
  if (started_) {
    throw std::logic_error("scopekit::cql::server::start: already started");
  }
  sockaddr_storage address{};
  socklen_t address_size = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);   // NOLINT
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);  // NOLINT
  if (::inet_pton(AF_INET, options_.bind_address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(options_.port);
    address_size = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, options_.bind_address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(options_.port);
    address_size = sizeof(sockaddr_in6);
  } else {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "scopekit::cql::server: bind address '" + options_.bind_address +
                                "' is not a numeric IPv4 or IPv6 address");
  }

  // Everything is acquired into locals first; if any step throws, they close themselves and
  // the server stays as it was (not started, port 0).
  net::unique_fd fd{::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd) {
    throw_errno("scopekit::cql::server: socket");
  }
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), address_size) != 0) {  // NOLINT
    throw_errno("scopekit::cql::server: bind");
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    throw_errno("scopekit::cql::server: listen");
  }
  sockaddr_storage bound{};
  socklen_t bound_size = sizeof bound;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_size) != 0) {  // NOLINT
    throw_errno("scopekit::cql::server: getsockname");
  }
  const auto* b4 = reinterpret_cast<const sockaddr_in*>(&bound);   // NOLINT
  const auto* b6 = reinterpret_cast<const sockaddr_in6*>(&bound);  // NOLINT
  std::array<int, 2> pipe_fds{-1, -1};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    throw_errno("scopekit::cql::server: pipe");
  }
  net::unique_fd wake_read{pipe_fds[0]};
  net::unique_fd wake_write{pipe_fds[1]};
  listen_fd_ = std::move(fd);
  wake_read_ = std::move(wake_read);
  wake_write_ = std::move(wake_write);
  try {
    acceptor_ = std::thread([this] { accept_loop(); });
  } catch (...) {
    listen_fd_.reset();
    wake_read_.reset();
    wake_write_.reset();
    throw;
  }
  bound_port_ = ntohs(bound.ss_family == AF_INET6 ? b6->sin6_port : b4->sin_port);
  started_ = true;
}

void node_server::stop() noexcept {
  if (!started_ || stopped_) {
    return;
  }
  stopped_ = true;
  const char byte = 0;
  while (::write(wake_write_.get(), &byte, 1) < 0 && errno == EINTR) {
  }
  acceptor_.join();
  listen_fd_.reset();
  wake_read_.reset();
  wake_write_.reset();
  // No thread adds connections any more. Wake every connection thread out of recv(), then
  // join it, then close its descriptor.
  std::list<connection> all;
  {
    const std::lock_guard lock{mutex_};
    all.splice(all.end(), connections_);
  }
  for (connection& c : all) {
    ::shutdown(c.fd.get(), SHUT_RDWR);
  }
  for (connection& c : all) {
    c.thread.join();  // then `all` closes the descriptors
  }
}

}  // namespace scopekit::cql::server_detail
