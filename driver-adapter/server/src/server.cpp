// server.cpp - sockets and threads: a listener polled together with a wake-up pipe, and one
// thread per connection that feeds a session, sends what it answers, and sends the responses a
// fault delays when they are due.
#include "scopekit/cql/server/server.hpp"

#include "connection_session.hpp"

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

namespace scopekit::cql {
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

struct server::state {
  struct connection {
    net::unique_fd fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  explicit state(server_options o)
      : options(std::move(o)), shared(options.max_prepared_statements) {}

  void accept_loop() noexcept;
  void serve(connection& c) noexcept;
  void reap_finished();
  void admit(net::unique_fd fd);
  bool answer(server_detail::connection_session& s, std::span<const std::byte> in,
              connection& c, std::vector<std::byte>& out,
              std::vector<server_detail::deferred_response>& later);

  server_options options;
  server_detail::server_shared shared;
  std::atomic<std::size_t> open_connections{0};
  net::unique_fd listen_fd;
  net::unique_fd wake_read;   // a pipe: stop() writes to wake_write, the accept loop wakes up
  net::unique_fd wake_write;
  std::uint16_t bound_port = 0;
  bool started = false;
  bool stopped = false;
  std::thread acceptor;
  std::mutex mutex;                   // guards connections
  std::list<connection> connections;  // list: a connection does not move while served
};

void server::state::serve(connection& c) noexcept {
  open_connections.fetch_add(1, std::memory_order_relaxed);
  try {
    server_detail::connection_context context;
    context.local_address = local_address_of(c.fd.get());
    context.max_frame_body = options.max_frame_body;
    context.max_query_bytes = options.max_query_bytes;
    context.max_result_rows = options.max_result_rows;
    context.max_pending_response_bytes = options.max_pending_response_bytes;
    server_detail::connection_session s{context, shared};
    // Not zero-filled: an idle connection's buffer costs no resident memory until used.
    constexpr std::size_t in_size = std::size_t{64} * 1024;
    // A std::array or std::vector would be zero-filled (value-initialised).
    const auto in = std::make_unique_for_overwrite<std::byte[]>(in_size);  // NOLINT(*-c-arrays)
    std::vector<std::byte> out;
    std::vector<server_detail::deferred_response> later;  // delayed responses, sorted by due time
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
  open_connections.fetch_sub(1, std::memory_order_relaxed);
}

// Answers the requests in `in` and sends the responses, at most
// options.max_pending_response_bytes (and one response) at a time: while a client does not read,
// send() blocks and this connection's requests wait unread (backpressure). False once the
// connection must close.
bool server::state::answer(server_detail::connection_session& s, std::span<const std::byte> in,
                           connection& c, std::vector<std::byte>& out,
                           std::vector<server_detail::deferred_response>& later) {
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

void server::state::reap_finished() {
  std::list<connection> finished;
  {
    const std::lock_guard lock{mutex};
    for (auto it = connections.begin(); it != connections.end();) {
      auto next = std::next(it);
      if (it->done.load(std::memory_order_acquire)) {
        finished.splice(finished.end(), connections, it);
      }
      it = next;
    }
  }
  for (connection& c : finished) {
    c.thread.join();  // then `finished` closes the descriptors
  }
}

// Serves `fd` on a thread of its own, or, beyond options.max_connections, answers ERROR 0x1001
// (Overloaded) on stream 0 and closes it. Throws (and `fd` closes) if there is no memory or
// no thread for it.
void server::state::admit(net::unique_fd fd) {
  const std::lock_guard lock{mutex};
  // A finished connection counts until reaped; its thread has said so before the count drops.
  const auto serving = static_cast<std::size_t>(std::count_if(
      connections.begin(), connections.end(),
      [](const connection& c) { return !c.done.load(std::memory_order_acquire); }));
  if (serving >= options.max_connections) {
    std::vector<std::byte> refusal;
    byte_writer w{refusal};
    server_detail::write_error(
        w, 0, error_code::overloaded,
        "Too many connections: scopekit's embedded CQL server serves at most " +
            std::to_string(options.max_connections) +
            " at once (server_options::max_connections); try again later");
    send_all(fd.get(), refusal);  // a fresh socket's buffer holds it: this does not block
    return;                       // `fd` closes
  }
  net::set_no_delay(fd.get());
  connection& c = connections.emplace_back();
  c.fd = std::move(fd);
  try {
    c.thread = std::thread([this, &c] { serve(c); });
  } catch (...) {
    connections.pop_back();  // closes the descriptor
    throw;
  }
}

void server::state::accept_loop() noexcept {
  // After accept() fails for want of descriptors or memory, the listener stays readable: wait
  // this long (or for stop()) before trying again, instead of spinning.
  constexpr int backoff_ms = 50;
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{listen_fd.get(), POLLIN, 0},
                              pollfd{wake_read.get(), POLLIN, 0}};
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
    net::unique_fd fd{::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC)};
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

server::server(server_options options) : state_(std::make_unique<state>(std::move(options))) {}

server::~server() {
  stop();
}

std::uint16_t server::port() const noexcept {
  return state_->bound_port;
}

void server::add_synthetic_table(const std::string& keyspace, const std::string& table,
                                 std::int64_t rows) {
  server_detail::add_synthetic_table(state_->shared.db, keyspace, table, rows);
}

std::uint64_t server::inject(fault f) {
  return state_->shared.faults.add(std::move(f));
}

void server::remove_fault(std::uint64_t id) {
  state_->shared.faults.remove(id);
}

void server::clear_faults() {
  state_->shared.faults.clear();
}

std::size_t server::connection_count() const noexcept {
  return state_->open_connections.load(std::memory_order_relaxed);
}

void server::start() {
  state& s = *state_;
  if (s.started) {
    throw std::logic_error("scopekit::cql::server::start: already started");
  }
  sockaddr_storage address{};
  socklen_t address_size = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);   // NOLINT
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);  // NOLINT
  if (::inet_pton(AF_INET, s.options.bind_address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(s.options.port);
    address_size = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, s.options.bind_address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(s.options.port);
    address_size = sizeof(sockaddr_in6);
  } else {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "scopekit::cql::server: bind address '" + s.options.bind_address +
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
  s.listen_fd = std::move(fd);
  s.wake_read = std::move(wake_read);
  s.wake_write = std::move(wake_write);
  try {
    s.acceptor = std::thread([&s] { s.accept_loop(); });
  } catch (...) {
    s.listen_fd.reset();
    s.wake_read.reset();
    s.wake_write.reset();
    throw;
  }
  s.bound_port = ntohs(bound.ss_family == AF_INET6 ? b6->sin6_port : b4->sin_port);
  s.started = true;
}

void server::stop() noexcept {
  state& s = *state_;
  if (!s.started || s.stopped) {
    return;
  }
  s.stopped = true;
  const char byte = 0;
  while (::write(s.wake_write.get(), &byte, 1) < 0 && errno == EINTR) {
  }
  s.acceptor.join();
  s.listen_fd.reset();
  s.wake_read.reset();
  s.wake_write.reset();
  // No thread adds connections any more. Wake every connection thread out of recv(), then
  // join it, then close its descriptor.
  std::list<state::connection> all;
  {
    const std::lock_guard lock{s.mutex};
    all.splice(all.end(), s.connections);
  }
  for (state::connection& c : all) {
    ::shutdown(c.fd.get(), SHUT_RDWR);
  }
  for (state::connection& c : all) {
    c.thread.join();  // then `all` closes the descriptors
  }
}

}  // namespace scopekit::cql
