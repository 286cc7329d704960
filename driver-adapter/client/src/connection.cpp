// connection.cpp - the socket, the handshake and the I/O thread: a poll loop over the socket
// and an eventfd that send() and close() use to wake it.
#include "scopekit/cql/client/connection.hpp"

#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/cql/net/socket.hpp"
#include "scopekit/cql/net/unique_fd.hpp"
#include "scopekit/oneshot.hpp"
#include "scopekit/scope_exit.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <string_view>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

namespace scopekit::cql {

void response_future::complete(response_result result) noexcept {
  {
    const std::lock_guard lock{mutex_};
    if (done_) {
      return;
    }
    done_ = true;
    result_ = std::move(result);
  }
  callbacks_.invoke(result_);
  callbacks_.close();  // nothing is called twice; callables are destroyed now
}

namespace detail {
namespace {

constexpr std::size_t stream_count = 32768;  // ids 0 to 32767 (spec §2.3)
// Headers and small frames are read through this buffer (large bodies go straight into place).
constexpr std::size_t read_chunk = std::size_t{16} * 1024;
// A body with at least this much left is received straight into place, not through read_buffer.
constexpr std::size_t direct_read_min = std::size_t{4} * 1024;
// The most poll waits for before it wakes the I/O thread in the middle of a large body.
constexpr std::size_t max_receive_low_water = std::size_t{128} * 1024;
// Recycled body buffers kept for the I/O thread (connection::recycle), and the largest kept:
// one stream cycles two buffers, one of them in the splitter, so a little more is enough.
constexpr std::size_t max_spare_bodies = 2;
constexpr std::size_t max_spare_capacity = std::size_t{8} << 20U;

using net::errno_text;

}  // namespace

/// Everything the I/O thread touches; kept alive by the thread and by the connection.
struct connection_io {
  explicit connection_io(connection_options o)
      : options(std::move(o)), wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        splitter(options.max_frame_body) {
    if (!wake_fd) {
      throw std::system_error(errno, std::system_category(), "scopekit::cql::connection: eventfd");
    }
    peer = options.host;
    peer.append(":").append(std::to_string(options.port));
    spare_bodies.reserve(max_spare_bodies);
  }
  connection_io(const connection_io&) = delete;
  connection_io& operator=(const connection_io&) = delete;
  connection_io(connection_io&&) = delete;
  connection_io& operator=(connection_io&&) = delete;
  ~connection_io() = default;

  using clock = std::chrono::steady_clock;

  /// A request sent and not answered yet. Its future stays here after a timeout failed it,
  /// so that its stream id is freed only when (if ever) the answer comes.
  struct sent_request {
    std::shared_ptr<response_future> future;
    clock::time_point deadline = clock::time_point::max();  // max: none, or already failed
    std::chrono::milliseconds timeout{0};
    opcode op = opcode::options;
  };
  /// A request waiting for a free stream id.
  struct waiting_request {
    request_message message;
    std::shared_ptr<response_future> future;
    clock::time_point deadline = clock::time_point::max();
    std::chrono::milliseconds timeout{0};
  };

  // ---- Any thread, under mutex ----
  void enqueue(std::int16_t stream, const request_message& message,
               const std::shared_ptr<response_future>& future, clock::time_point deadline,
               std::chrono::milliseconds timeout);
  void wake() const noexcept;

  // ---- The I/O thread ----
  void run(oneshot_sender<bool> ready) noexcept;
  void handshake();
  void loop();
  bool flush();        // writes what it can; false if the socket failed
  void read_frames();  // throws protocol_error / connection_error
  void update_receive_low_water() noexcept;
  void deliver(frame&& f);
  void fail_all(const std::exception_ptr& error) noexcept;
  static int poll_timeout(clock::time_point expiry);  // until `expiry`, in ms; -1 for none
  void expire_requests();  // fails the requests whose deadline has passed

  connection_options options;
  std::string peer;
  // Declared in this order so that the socket is closed first and the eventfd last.
  net::unique_fd wake_fd;  // created first, closed last
  net::unique_fd fd;       // the I/O thread's (and the destructor's)
  frame_splitter splitter;
  std::vector<std::byte> read_buffer;  // the I/O thread's
  std::vector<std::byte> writing;      // the I/O thread's bytes being written
  std::size_t written = 0;         // of `writing`
  int receive_low_water = 1;       // SO_RCVLOWAT of fd

  mutable std::mutex mutex;
  std::vector<std::byte> outgoing;  // frames queued by send()
  // Indexed by stream id, grown as ids are first used: ids are taken lowest first and reused
  // last-freed first, so a connection with few requests in flight keeps this small.
  std::vector<sent_request> in_flight;
  std::vector<std::int16_t> free_ids;
  std::deque<waiting_request> waiting;
  // The earliest deadline of a request in `in_flight` or `waiting` (it may have been answered
  // since: expire_requests() then finds nothing to fail and looks for the next one).
  clock::time_point next_expiry = clock::time_point::max();
  std::vector<std::vector<std::byte>> spare_bodies;  // connection::recycle, for the splitter
  std::exception_ptr failure;  // set once the connection is closed or lost
  bool closing = false;
  std::atomic<std::size_t> pending{0};
  std::atomic<bool> open{false};
  std::mutex join_mutex;  // serializes joining (or detaching) `thread`
  std::thread thread;
};

void connection_io::wake() const noexcept {
  const std::uint64_t one = 1;
  while (::write(wake_fd.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void connection_io::enqueue(std::int16_t stream, const request_message& message,
                            const std::shared_ptr<response_future>& future,
                            clock::time_point deadline, std::chrono::milliseconds timeout) {
  const std::size_t mark = outgoing.size();
  try {
    request r;
    r.stream = stream;
    r.message = message;
    byte_writer w{outgoing};
    encode_request(w, r);
    const auto id = static_cast<std::size_t>(stream);
    if (id >= in_flight.size()) {
      in_flight.resize(std::min(stream_count, std::max(id + 1, in_flight.size() * 2)));
    }
    in_flight[id] = sent_request{future, deadline, timeout, opcode_of(message)};
    next_expiry = std::min(next_expiry, deadline);
  } catch (...) {
    outgoing.resize(mark);
    free_ids.push_back(stream);
    throw;
  }
}

void connection_io::run(oneshot_sender<bool> ready) noexcept {
  try {
    handshake();
  } catch (...) {
    ready.set_exception(std::current_exception());
    return;
  }
  open.store(true);
  ready.set_value(true);
  std::exception_ptr error;
  try {
    loop();
  } catch (...) {
    error = std::current_exception();
  }
  open.store(false);
  if (!error) {
    error = std::make_exception_ptr(connection_error("connection to " + peer + " closed"));
  }
  fail_all(error);
  ::shutdown(fd.get(), SHUT_RDWR);
}

void connection_io::fail_all(const std::exception_ptr& error) noexcept {
  std::vector<std::shared_ptr<response_future>> failed;
  {
    const std::lock_guard lock{mutex};
    if (!failure) {
      failure = error;
    }
    for (auto& r : in_flight) {
      if (r.future) {
        failed.push_back(std::move(r.future));
      }
    }
    for (auto& w : waiting) {
      failed.push_back(std::move(w.future));
    }
    waiting.clear();
    outgoing.clear();
    spare_bodies.clear();
  }
  for (const auto& f : failed) {
    pending.fetch_sub(1);  // before complete(), as in deliver(): a woken waiter sees it gone
    f->complete(response_result{std::nullopt, error});
  }
}

// ---- Handshake (blocking, with a deadline) ----------------------------------------------------

namespace {

using clock = std::chrono::steady_clock;

int milliseconds_left(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

// Waits for `events` on fd until the deadline; connection_error on timeout, or when close()
// writes to `wake`.
void wait_for(int fd, short events, int wake, clock::time_point deadline,
              const std::string& what) {
  for (;;) {
    std::array<pollfd, 2> p{pollfd{fd, events, 0}, pollfd{wake, POLLIN, 0}};
    const int n = ::poll(p.data(), p.size(), milliseconds_left(deadline));
    if (n > 0 && p[1].revents != 0) {
      throw connection_error(what + ": the connection was closed");
    }
    if (n > 0) {
      return;
    }
    if (n == 0) {
      throw connection_error(what + ": timed out");
    }
    if (errno != EINTR) {
      throw connection_error(what + ": " + errno_text(errno));
    }
  }
}

net::unique_fd connect_socket(const connection_options& options, const std::string& peer,
                              int wake, clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  const int rc = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    throw connection_error("cannot resolve " + options.host + ": " + ::gai_strerror(rc));
  }
  const scope_exit free_found{[found]() noexcept { ::freeaddrinfo(found); }};
  std::string last_error = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    net::unique_fd fd{
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol)};
    if (!fd) {
      last_error = errno_text(errno);
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = errno_text(errno);
      continue;
    }
    wait_for(fd.get(), POLLOUT, wake, deadline, "connect to " + peer);
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) {
      last_error = errno_text(error);
      continue;
    }
    net::set_no_delay(fd.get());
    return fd;
  }
  throw connection_error("cannot connect to " + peer + ": " + last_error);
}

// Sends all of `bytes` on a non-blocking socket before the deadline.
void send_before(int fd, int wake, std::span<const std::byte> bytes,
                 clock::time_point deadline, const std::string& peer) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      wait_for(fd, POLLOUT, wake, deadline, "handshake with " + peer);
    } else {
      throw connection_error("handshake with " + peer + ": " + errno_text(errno));
    }
  }
}

}  // namespace

void connection_io::handshake() {
  const auto deadline = clock::now() + options.connect_timeout;
  fd = connect_socket(options, peer, wake_fd.get(), deadline);

  auto exchange = [&](request_message message) -> response {
    request r;
    r.stream = 0;
    r.message = std::move(message);
    std::vector<std::byte> bytes;
    byte_writer w{bytes};
    encode_request(w, r);
    send_before(fd.get(), wake_fd.get(), bytes, deadline, peer);
    std::array<std::byte, 4096> buffer{};
    while (!splitter.has_frame()) {
      const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
      if (n > 0) {
        std::span<const std::byte> in(buffer.data(), static_cast<std::size_t>(n));
        while (!in.empty()) {
          in = in.subspan(splitter.feed(in));
          if (splitter.has_frame() && !in.empty()) {
            throw connection_error("handshake with " + peer + ": unexpected extra bytes");
          }
        }
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        wait_for(fd.get(), POLLIN, wake_fd.get(), deadline, "handshake with " + peer);
      } else {
        throw connection_error("handshake with " + peer + ": " +
                               (n == 0 ? std::string("the server closed the connection")
                                       : errno_text(errno)));
      }
    }
    return decode_response(splitter.take());
  };
  auto refuse = [&](const response& r, std::string_view step) {
    std::string message = "handshake with ";
    message.append(peer).append(" refused at ").append(step).append(": ");
    if (const auto* e = std::get_if<error_response>(&r.message)) {
      message.append(e->message);
      if (e->code == error_code::protocol_error) {
        message.append(" (scopekit speaks CQL native protocol v4 only)");
      }
    } else {
      message.append("unexpected response");
    }
    throw connection_error(message);
  };

  try {
    const response supported = exchange(options_request{});
    const auto* s = std::get_if<supported_response>(&supported.message);
    if (s == nullptr) {
      refuse(supported, "OPTIONS");
    }
    const response ready = exchange(startup_request{{{"CQL_VERSION", "3.0.0"}}});
    if (const auto* asked = std::get_if<authenticate_response>(&ready.message)) {
      if (options.user.empty()) {
        throw authentication_error("handshake with " + peer + ": the server requires "
                                   "authentication (" + asked->authenticator +
                                   "); set a user and a password");
      }
      // SASL PLAIN in one step, as PasswordAuthenticator expects.
      const response answer =
          exchange(auth_response_request{plain_sasl_token(options.user, options.password)});
      const auto* e = std::get_if<error_response>(&answer.message);
      if (e != nullptr && e->code == error_code::authentication_error) {
        throw authentication_error("handshake with " + peer + ": " + e->message);
      }
      if (std::holds_alternative<auth_challenge_response>(answer.message)) {
        throw authentication_error("handshake with " + peer + ": the server's authenticator (" +
                                   asked->authenticator +
                                   ") sent a SASL challenge; scopekit speaks PLAIN in one step "
                                   "(PasswordAuthenticator) only");
      }
      if (!std::holds_alternative<auth_success_response>(answer.message)) {
        refuse(answer, "AUTH_RESPONSE");
      }
    } else if (!std::holds_alternative<ready_response>(ready.message)) {
      refuse(ready, "STARTUP");
    }
  } catch (const protocol_error& e) {
    // A v5-only server answering in another framing, garbage: all refused here.
    throw connection_error("handshake with " + peer + ": " + e.what());
  }
  free_ids.reserve(stream_count);
  for (std::size_t id = stream_count; id-- > 0;) {
    free_ids.push_back(static_cast<std::int16_t>(id));  // 0 is at the back: taken first
  }
}

// ---- The loop -----------------------------------------------------------------------------------

bool connection_io::flush() {
  {
    const std::lock_guard lock{mutex};
    if (!outgoing.empty()) {
      if (written == writing.size()) {
        writing.clear();
        written = 0;
        writing.swap(outgoing);
      } else {
        writing.insert(writing.end(), outgoing.begin(), outgoing.end());
        outgoing.clear();
      }
    }
  }
  while (written < writing.size()) {
    const ssize_t n = ::send(fd.get(), writing.data() + written, writing.size() - written,
                             MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return true;
    } else {
      return false;
    }
  }
  return true;
}

void connection_io::deliver(frame&& f) {
  const std::int16_t stream = f.header.stream;
  if (stream < 0) {
    return;  // EVENT (-1): not registered for, ignored
  }
  response r = decode_response(std::move(f));  // protocol_error closes the connection
  std::shared_ptr<response_future> future;
  {
    const std::lock_guard lock{mutex};
    if (static_cast<std::size_t>(stream) < in_flight.size()) {
      future = std::move(in_flight[static_cast<std::size_t>(stream)].future);
    }
    if (!future) {
      throw protocol_error("header.stream", 2,
                           "a response on stream " + std::to_string(stream) +
                               " which has no request in flight");
    }
    // The id is free now: give it to a request waiting for one, if any.
    if (waiting.empty()) {
      free_ids.push_back(stream);
    } else {
      waiting_request next = std::move(waiting.front());
      waiting.pop_front();
      try {
        enqueue(stream, next.message, next.future, next.deadline, next.timeout);
      } catch (...) {
        pending.fetch_sub(1);
        next.future->complete(response_result{std::nullopt, std::current_exception()});
      }
    }
  }
  pending.fetch_sub(1);
  future->complete(response_result{std::move(r), nullptr});
}

void connection_io::read_frames() {
  if (read_buffer.empty()) {
    read_buffer.resize(read_chunk);  // once: the loop reuses it
  }
  for (;;) {
    if (!splitter.has_spare()) {
      std::vector<std::byte> spare;
      {
        const std::lock_guard lock{mutex};
        if (!spare_bodies.empty()) {
          spare = std::move(spare_bodies.back());
          spare_bodies.pop_back();
        }
      }
      splitter.recycle(std::move(spare));
    }
    // The rest of a large body goes straight into place; headers and small frames through
    // read_buffer, which may hold several of them.
    std::span<std::byte> target = splitter.body_space();
    const bool direct = target.size() >= direct_read_min;
    if (!direct) {
      target = read_buffer;
    }
    const ssize_t n = ::recv(fd.get(), target.data(), target.size(), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      update_receive_low_water();
      return;
    }
    if (n <= 0) {
      throw connection_error("connection to " + peer + " lost: " +
                             (n == 0 ? std::string("closed by the server") : errno_text(errno)));
    }
    const auto received = static_cast<std::size_t>(n);
    if (direct) {
      splitter.commit(received);
      if (splitter.has_frame()) {
        deliver(splitter.take());
      }
    } else {
      std::span<const std::byte> in(read_buffer.data(), received);
      while (!in.empty()) {
        in = in.subspan(splitter.feed(in));
        while (splitter.has_frame()) {
          deliver(splitter.take());
        }
      }
    }
    if (received < target.size()) {
      update_receive_low_water();
      return;  // drained: back to poll
    }
  }
}

// Before going back to poll: while a large body is incomplete, poll need not wake for less than
// a good part of what is missing, since the rest of the frame comes before anything else on
// this socket. Otherwise (between frames) any byte wakes it.
void connection_io::update_receive_low_water() noexcept {
  const std::size_t bytes = std::min(splitter.body_missing(), max_receive_low_water);
  const int value = static_cast<int>(std::max<std::size_t>(bytes, 1));
  if (value != receive_low_water) {
    // Only fewer wake-ups are at stake: if the system refuses, poll wakes as it did.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value) == 0) {
      receive_low_water = value;
    }
  }
}

void connection_io::loop() {
  for (;;) {
    bool want_write = false;
    clock::time_point expiry;
    {
      const std::lock_guard lock{mutex};
      if (closing) {
        return;
      }
      want_write = !outgoing.empty();
      expiry = next_expiry;  // an earlier one set meanwhile wakes poll (submit)
    }
    want_write = want_write || written < writing.size();
    std::array<pollfd, 2> fds{
        pollfd{fd.get(), static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0},
        pollfd{wake_fd.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), poll_timeout(expiry)) < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw connection_error("poll: " + errno_text(errno));
    }
    if (fds[1].revents != 0) {
      std::uint64_t count = 0;
      static_cast<void>(::read(wake_fd.get(), &count, sizeof count));
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      read_frames();
    }
    if (!flush()) {
      throw connection_error("connection to " + peer + " lost: " + errno_text(errno));
    }
    if (expiry != clock::time_point::max() && clock::now() >= expiry) {
      expire_requests();
    }
  }
}

int connection_io::poll_timeout(clock::time_point expiry) {
  if (expiry == clock::time_point::max()) {
    return -1;
  }
  // Rounded up, so that poll does not wake a little early and spin until the deadline.
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(expiry - clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 60'000));
}

// A scan of the table, only when the earliest deadline has passed: with one timeout for
// every request, that is about once per timeout, however many requests are answered.
void connection_io::expire_requests() {
  struct expired {
    std::shared_ptr<response_future> future;
    std::chrono::milliseconds timeout;
    std::string request;
  };
  std::vector<expired> failed;
  {
    const std::lock_guard lock{mutex};
    const auto now = clock::now();
    if (now < next_expiry) {
      return;
    }
    next_expiry = clock::time_point::max();
    for (std::size_t id = 0; id < in_flight.size(); ++id) {
      sent_request& r = in_flight[id];
      if (!r.future || r.deadline == clock::time_point::max()) {
        continue;
      }
      if (r.deadline <= now) {
        r.deadline = clock::time_point::max();  // failed once; the future stays for the id
        failed.push_back({r.future, r.timeout,
                          std::string(to_string(r.op)) + " (stream " + std::to_string(id) + ")"});
      } else {
        next_expiry = std::min(next_expiry, r.deadline);
      }
    }
    for (auto w = waiting.begin(); w != waiting.end();) {
      if (w->deadline <= now) {
        failed.push_back(
            {std::move(w->future), w->timeout,
             std::string(to_string(opcode_of(w->message))) + " (waiting for a free stream id)"});
        w = waiting.erase(w);
        pending.fetch_sub(1);  // never sent: no answer will come for it
      } else {
        next_expiry = std::min(next_expiry, w->deadline);
        ++w;
      }
    }
  }
  for (expired& e : failed) {
    e.future->complete(response_result{
        std::nullopt, std::make_exception_ptr(operation_timed_out(peer, e.timeout, e.request))});
  }
}

}  // namespace detail

// ---- connection ---------------------------------------------------------------------------------

connection::connection(std::shared_ptr<detail::connection_io> io) : io_(std::move(io)) {}

connection::~connection() {
  close();
}

task<std::shared_ptr<connection>> connection::connect(connection_options options) {
  auto io = std::make_shared<detail::connection_io>(std::move(options));
  auto [ready_tx, ready_rx] = make_oneshot<bool>();
  // The thread keeps its own reference: it may outlive the connection object (see close()).
  io->thread = std::thread([io, tx = std::move(ready_tx)]() mutable { io->run(std::move(tx)); });
  std::shared_ptr<connection> out{new connection(io)};  // private constructor
  co_await std::move(ready_rx);  // throws the handshake's connection_error; ~connection joins
  co_return out;
}

std::shared_ptr<response_future> connection::send(request_message message) {
  return submit(message, false, io_->options.request_timeout);
}

std::shared_ptr<response_future> connection::send(request_message message,
                                                  std::chrono::milliseconds timeout) {
  return submit(message, false, timeout);
}

std::shared_ptr<response_future> connection::submit(request_message& message, bool keep,
                                                    std::chrono::milliseconds timeout) {
  using clock = detail::connection_io::clock;
  const clock::time_point deadline =
      timeout.count() > 0 ? clock::now() + timeout : clock::time_point::max();
  auto future = std::make_shared<response_future>();
  detail::connection_io& io = *io_;
  std::exception_ptr error;
  bool wake = false;
  {
    const std::lock_guard lock{io.mutex};
    if (io.failure || io.closing || !io.open.load()) {
      error = io.failure ? io.failure
                         : std::make_exception_ptr(
                               connection_error("connection to " + io.peer + " is closed"));
    } else {
      io.pending.fetch_add(1);
      // The I/O thread must recompute how long it may sleep when this deadline is the first.
      wake = deadline < io.next_expiry;
      if (io.free_ids.empty()) {
        io.waiting.push_back({keep ? message : std::move(message), future, deadline, timeout});
        io.next_expiry = std::min(io.next_expiry, deadline);
      } else {
        const std::int16_t id = io.free_ids.back();
        io.free_ids.pop_back();
        try {
          wake = wake || io.outgoing.empty();
          io.enqueue(id, message, future, deadline, timeout);
        } catch (...) {
          io.pending.fetch_sub(1);
          error = std::current_exception();
          wake = false;
        }
      }
    }
  }
  if (error) {
    future->complete(response_result{std::nullopt, error});
  } else if (wake) {
    io.wake();
  }
  return future;
}

task<response> connection::request(request_message message) {
  const std::shared_ptr<response_future> future =
      submit(message, true, io_->options.request_timeout);
  auto [tx, rx] = make_oneshot<response>();
  const callback_registration keep = future->on_complete(
      [tx = std::move(tx)](response_result& r) mutable noexcept {
        try {
          if (r.error) {
            tx.set_exception(r.error);
          } else {
            tx.set_value(std::move(*r.value));
          }
        } catch (...) {
          tx.set_exception(std::current_exception());
        }
      });
  try {
    co_return co_await std::move(rx);
  } catch (const operation_timed_out& e) {
    // The I/O thread knows the opcode only; this frame still has the statement.
    std::string asked;
    if (const auto* q = std::get_if<query_request>(&message)) {
      asked = detail::describe_statement("QUERY", q->statement);
    } else if (const auto* p = std::get_if<prepare_request>(&message)) {
      asked = detail::describe_statement("PREPARE", p->statement);
    } else {
      throw;
    }
    throw operation_timed_out(e.node(), e.timeout(), asked);
  }
}

void connection::close() noexcept {
  detail::connection_io& io = *io_;
  {
    const std::lock_guard lock{io.mutex};
    io.closing = true;
  }
  io.wake();  // out of poll, in the loop or in the handshake
  const std::lock_guard join_lock{io.join_mutex};  // two close() calls do not both join
  if (io.thread.joinable()) {
    if (io.thread.get_id() == std::this_thread::get_id()) {
      io.thread.detach();  // closing from a callback on the I/O thread: it ends on its own
    } else {
      io.thread.join();
    }
  }
}

void connection::recycle(std::vector<std::byte> body) noexcept {
  if (body.capacity() < frame_splitter::reuse_threshold ||
      body.capacity() > detail::max_spare_capacity) {
    return;
  }
  detail::connection_io& io = *io_;
  const std::lock_guard lock{io.mutex};
  if (io.spare_bodies.size() < detail::max_spare_bodies && !io.failure) {
    io.spare_bodies.push_back(std::move(body));  // capacity reserved: does not throw
  }
  // A body not kept is freed on return, after the lock is released.
}

bool connection::is_open() const noexcept {
  return io_->open.load();
}

std::size_t connection::pending() const noexcept {
  return io_->pending.load();
}

const std::string& connection::peer() const noexcept {
  return io_->peer;
}

std::chrono::milliseconds connection::request_timeout() const noexcept {
  return io_->options.request_timeout;
}

}  // namespace scopekit::cql
