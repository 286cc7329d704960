// scopekit/cql/client/connection.hpp - one TCP connection to a CQL server (native protocol v4),
// with an I/O thread that multiplexes many requests over stream ids.
//
// connection::connect() resolves the host, connects, and performs the OPTIONS / STARTUP
// handshake on the connection's own I/O thread (with PasswordAuthenticator's SASL PLAIN step when
// the server asks for it: connection_options::user and password); a server that does not speak
// v4 (or wants compression) is refused with a connection_error naming the reason. Then
// send() may be called from any thread: it takes a free stream id (or queues the request until
// one frees up; v4 has 32768), queues the frame, and returns a response_future. The I/O thread
// writes queued frames, reads responses in whatever order they come, completes the future of
// each by its stream id, and never runs user code: only the callbacks that scopekit's own
// layers register on the futures, which hand the response over and return.
//
// Failure: a frame that breaks the protocol closes the connection and fails every pending
// request with that protocol_error; a lost connection fails them with connection_error. No
// request waits for ever: one not answered within its timeout (request_timeout, 12 s by
// default) fails with operation_timed_out, and the connection goes on. A
// response for a request nobody waits for any more is discarded when it arrives, and its
// stream id freed then (an id is never reused while the server may still answer on it).
//
//   scopekit::cql::connection_options options;
//   options.port = port;
//   auto c = co_await scopekit::cql::connection::connect(options);
//   scopekit::cql::request_message query = scopekit::cql::query_request{"SELECT ...", {}};
//   scopekit::cql::response r = co_await c->request(std::move(query));
//
// The request types are aggregates: name a request before the co_await, as above. GCC 12
// destroys an aggregate temporary twice when it is an argument inside a co_await expression.
//   c->close();
#pragma once

#include "scopekit/callback_registry.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/task.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace scopekit::cql {

/// Where and how to connect.
struct connection_options {
  // Not an aggregate on purpose: GCC 12 destroys an aggregate temporary twice when it is an
  // argument inside a co_await expression (`co_await f(options_type{...})`), a double free for
  // members such as std::string. A user-declared constructor makes every use safe.
  connection_options() = default;

  /// A numeric address or a host name (resolved with getaddrinfo, first address that answers).
  std::string host = "127.0.0.1";
  std::uint16_t port = 9042;
  /// For the TCP connect and the whole handshake.
  std::chrono::milliseconds connect_timeout{5000};
  /// The largest response body accepted; a larger one is a protocol violation.
  std::size_t max_frame_body = default_max_body_size;
  /// The longest wait for the answer to a request, counted from send(): past it the request
  /// fails with operation_timed_out naming the node and the request, and the connection stays
  /// open. 12 s by default (the DataStax C++ driver's request timeout; the Python driver
  /// waits 10 s). Zero or negative: no limit.
  std::chrono::milliseconds request_timeout{12000};
  /// Credentials for a server that requires authentication (STARTUP answered AUTHENTICATE):
  /// sent as SASL PLAIN, what Cassandra's PasswordAuthenticator reads. Unused by a server that
  /// does not ask. A server that asks when `user` is empty, or refuses them, fails the connect
  /// with authentication_error.
  std::string user;
  std::string password;
};

/// The outcome of one request: its response, or the error that replaced it (connection_error,
/// protocol_error, or the encoding error of the request itself). An ERROR response is a
/// response, not an error, at this level.
struct response_result {
  std::optional<response> value;
  std::exception_ptr error;
};

/// The completion of one request, shared by the connection and whoever waits for it. Completed
/// once, on the connection's I/O thread (or on the sending thread if sending failed).
class response_future {
public:
  using callback_signature = void(response_result&) noexcept;

  response_future() = default;
  response_future(const response_future&) = delete;
  response_future& operator=(const response_future&) = delete;
  response_future(response_future&&) = delete;
  response_future& operator=(response_future&&) = delete;
  ~response_future() = default;

  /// Calls `f(result)` once the request completes, on the completing thread, and returns the
  /// registration that keeps it: resetting or destroying it removes the callback and destroys
  /// `f` at once (waiting for a call under way on another thread). If the request has already
  /// completed, `f` is called here, before on_complete returns, and the registration is empty
  /// (the DataStax C++ driver's CPP-190 behaviour, made explicit). A callback may move the
  /// response out: it is given to every callback, and there is normally one.
  template <callback_for<callback_signature> F>
  [[nodiscard]] callback_registration on_complete(F&& f) {
    std::unique_lock lock{mutex_};
    if (!done_) {
      return callbacks_.add(std::forward<F>(f));
    }
    lock.unlock();
    std::decay_t<F> call(std::forward<F>(f));
    call(result_);
    return {};
  }

  /// True once completed.
  bool ready() const {
    const std::lock_guard lock{mutex_};
    return done_;
  }

  /// Completes the future and calls the callbacks. The first call wins; later ones are ignored.
  void complete(response_result result) noexcept;

private:
  mutable std::mutex mutex_;
  bool done_ = false;
  response_result result_;
  callback_registry<callback_signature> callbacks_;
};

namespace detail {
struct connection_io;
}

/// A connection to one server. Created by connect(), shared (std::shared_ptr) by the layers that
/// send on it. All members are thread-safe.
class connection {
public:
  /// Connects and performs the handshake on a new I/O thread; resumes the awaiting coroutine on
  /// its executor. Throws connection_error (cannot resolve, cannot connect, timeout, a refused
  /// handshake such as a server without v4), or std::system_error if no thread can be started.
  static task<std::shared_ptr<connection>> connect(connection_options options);

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  connection(connection&&) = delete;
  connection& operator=(connection&&) = delete;
  /// Calls close().
  ~connection();

  /// Sends `message` on a free stream id and returns its future. Never throws for a failed
  /// connection or an unencodable message: the future is completed with the error instead
  /// (it may throw std::bad_alloc). The future fails with operation_timed_out if no answer
  /// comes within `timeout` (zero or negative: never), by default the connection's
  /// request_timeout; the stream id stays taken until the answer comes, if ever.
  std::shared_ptr<response_future> send(request_message message);
  std::shared_ptr<response_future> send(request_message message, std::chrono::milliseconds timeout);

  /// send(), then awaits the response; resumed on the awaiting coroutine's executor. Throws
  /// what the future completes with (operation_timed_out naming the statement of a QUERY or
  /// PREPARE); a stop request on the awaiting coroutine gives stopped_error (the response is
  /// discarded when it arrives). An ERROR response is returned, not thrown.
  task<response> request(request_message message);

  /// Closes the socket, fails every pending request with connection_error, and joins the I/O
  /// thread (called on the I/O thread itself, from a callback, it does not wait). Idempotent;
  /// concurrent calls are safe (one joins, the others wait for it).
  void close() noexcept;

  /// Gives back the memory of a response body its owner is done with (rows_result::take_body),
  /// for the I/O thread to receive a later large frame into, so that streaming pages allocates
  /// no page buffers once under way. Kept only while fewer than 2 wait and if its capacity is
  /// between frame_splitter::reuse_threshold (16 KiB) and 8 MiB; otherwise freed here. So a
  /// connection keeps at most 3 such buffers (2 waiting, 1 in its splitter). Any thread.
  void recycle(std::vector<std::byte> body) noexcept;

  /// False once closed or lost.
  bool is_open() const noexcept;
  /// Requests sent and not answered yet, including those waiting for a stream id.
  std::size_t pending() const noexcept;
  /// "host:port".
  const std::string& peer() const noexcept;
  /// connection_options::request_timeout.
  std::chrono::milliseconds request_timeout() const noexcept;

private:
  explicit connection(std::shared_ptr<detail::connection_io> io);
  // send(): `message` is moved into the queue of requests waiting for a stream id if
  // needed, or copied there when `keep` (request() keeps it to describe a timeout).
  std::shared_ptr<response_future> submit(request_message& message, bool keep,
                                          std::chrono::milliseconds timeout);
  std::shared_ptr<detail::connection_io> io_;
};

}  // namespace scopekit::cql
