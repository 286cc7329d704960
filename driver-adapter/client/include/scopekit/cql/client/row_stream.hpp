// scopekit/cql/client/row_stream.hpp - the rows of a query, page by page, with bounded read-ahead,
// deadlines and cancellation; an async_closeable resource.
//
// session::execute_stream() sends the first page request and returns a row_stream; `co_await
// rows.next()` yields each row (a view valid until the next call) and std::nullopt at the end.
// While the consumer works on one page, up to `prefetch_pages` more are fetched (0: strictly
// one page at a time), so memory stays within prefetch_pages + 1 pages whatever the table
// size. Empty pages that say more follows are followed, never taken for the end.
//
// Errors: the first page's error (even one raised while sending) comes out of the first
// next(), a later page's out of the next() that needs that page; a server ERROR as the
// server_error subclass of its code, a lost connection as connection_error, a protocol
// violation as protocol_error (so is a page that returns the paging state it was asked with,
// which would otherwise be followed for ever), a deadline as timeout_error, a stop request as
// stopped_error, an on_page callback's exception as itself. Once failed, every next() throws the
// same error.
//
// Closing: close() (or the destructor) unregisters the stream's callback from the pending
// request synchronously, drops the pages it holds, wakes a waiting next() (which then returns
// std::nullopt) and makes a late page be discarded; the connection frees the stream id when
// that page arrives. Other streams on the connection are not affected.
//
// Threads: next() and close() belong to the consumer (one coroutine at a time); pages arrive
// on the connection's I/O thread, which only queues them and wakes the consumer on its own
// executor; on_page runs on the consumer's executor, inside next().
//
//   scopekit::cql::stream_options options;
//   options.page_size = 1000;
//   auto& rows = co_await scope.enter(session.execute_stream("SELECT * FROM ks.t", options));
//   while (auto row = co_await rows.next()) handle(row->get<std::int64_t>("id"));
#pragma once

#include "scopekit/cql/client/connection.hpp"
#include "scopekit/cql/client/row.hpp"
#include "scopekit/cql/protocol/rows.hpp"
#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/task.hpp"

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace scopekit::cql {

/// What on_page is told about a page as the consumer takes it.
struct page_info {
  /// 1 for the first page with rows, 2 for the next one with rows (empty pages that were
  /// followed are not counted here; pages_fetched() counts them).
  std::size_t number = 0;
  std::size_t rows = 0;
  /// The size of the page's frame body.
  std::size_t bytes = 0;
};

/// How a stream fetches.
struct stream_options {
  // Not an aggregate on purpose: GCC 12 destroys an aggregate temporary twice when it is an
  // argument inside a co_await expression (`co_await f(options_type{...})`), a double free for
  // members such as std::string. A user-declared constructor makes every use safe.
  stream_options() = default;

  /// Rows per page asked of the server (> 0).
  std::int32_t page_size = 5000;
  /// Pages fetched ahead of the one being read; 0 fetches the next page only when the current
  /// one is used up.
  std::size_t prefetch_pages = 1;
  /// Stop after this many pages, whatever the server has left.
  std::optional<std::size_t> max_pages;
  /// Longest wait for one page, counted from its request: operation_timed_out (a
  /// timeout_error) past it, naming the node, the page and the statement. Unset: the
  /// connection's request_timeout (session_options::request_timeout, 12 s by default).
  std::optional<std::chrono::milliseconds> page_timeout;
  /// Longest life of the whole stream, from execute_stream: timeout_error past it (checked when
  /// a page is needed and while waiting for one).
  std::optional<std::chrono::milliseconds> total_timeout;
  /// Called on the consumer's executor, inside next(), as each page with rows is taken; an
  /// exception fails the stream with it. It may close the stream (next() then ends), but must
  /// not move or destroy it.
  std::function<void(const page_info&)> on_page;
  /// Stops the stream (stopped_error from next()), in addition to the stop token of the
  /// coroutine that awaits next().
  std::stop_token stop_token;
};

namespace detail {
struct stream_state;
/// `what` names the statement in errors (`EXECUTE "SELECT ..."`).
std::shared_ptr<stream_state> start_stream(std::shared_ptr<connection> connection,
                                           request_message request, stream_options options,
                                           std::string what);
}  // namespace detail

namespace diagnostics {
/// row_stream states alive in the process (each holds a stream's pages and callbacks); for
/// tests that prove nothing outlives its scope.
std::size_t live_row_streams() noexcept;
}  // namespace diagnostics

/// A stream of rows. Move-only; a moved-from stream is closed.
class row_stream {
public:
  /// Used by session::execute_stream.
  explicit row_stream(std::shared_ptr<detail::stream_state> state) noexcept;
  row_stream(row_stream&& other) noexcept;
  row_stream& operator=(row_stream&& other) noexcept;
  row_stream(const row_stream&) = delete;
  row_stream& operator=(const row_stream&) = delete;
  /// Closes (synchronously; see close()).
  ~row_stream();

  class next_awaiter;
  class page_awaiter;

  /// `co_await next()`: the next row, std::nullopt at the end or after close().
  [[nodiscard]] next_awaiter next() noexcept;
  /// `co_await next_page()`: a page_view of the rest of the current page if next() has started
  /// it, else of the next page (never an empty one); std::nullopt at the end. The page stays
  /// valid until the next call to next() or next_page(). Errors as next().
  [[nodiscard]] page_awaiter next_page() noexcept;

  /// Closes the stream: see the header comment. Completes at once; an awaitable so that a
  /// row_stream is async_closeable. Idempotent.
  task<void> close();

  /// Pages received from the server so far (empty ones included).
  std::size_t pages_fetched() const noexcept;
  /// Rows received from the server so far (read or not).
  std::uint64_t rows_fetched() const noexcept;
  /// The number of the page next() is reading (0 before the first).
  std::size_t page_number() const noexcept { return page_number_; }
  bool is_closed() const noexcept { return state_ == nullptr; }

private:
  // What the slow path decided.
  enum class step : std::uint8_t { ready, end, wait };

  bool has_row() const noexcept { return current_ && position_ < current_->row_count(); }
  // Takes the next page into current_ if one is there; throws the stream's error.
  step advance();
  // Checks the stop tokens, advances, and if nothing is there yet publishes the waiter, arms
  // the deadline timer and the stop callbacks. False: do not suspend.
  bool suspend(std::coroutine_handle<> h, const scopekit::detail::coroutine_context& ctx);
  // After a suspension: the timer and the stop callbacks are gone, then advance().
  step resume();
  void close_now() noexcept;

  std::shared_ptr<detail::stream_state> state_;
  std::unique_ptr<rows_result> current_;  // the page being read (consumer-owned)
  std::size_t position_ = 0;               // the next row of current_
  std::size_t page_number_ = 0;
};

class row_stream::next_awaiter {
public:
  explicit next_awaiter(row_stream& s) noexcept : stream_(&s) {}
  /// The fast path: a row of the page in hand, no call out of line.
  bool await_ready() const noexcept { return stream_->has_row(); }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return stream_->suspend(h, scopekit::detail::context_of(h));
  }
  std::optional<row> await_resume() {
    row_stream& s = *stream_;
    if (s.has_row() || s.resume() == step::ready) {
      return row{*s.current_, s.position_++};
    }
    return std::nullopt;
  }

private:
  row_stream* stream_;
};

/// A page as next_page() gives it: the rows from `first` on are the ones not read by next().
struct page_view {
  const rows_result* rows = nullptr;
  std::size_t first = 0;
  std::size_t number = 0;
};

class row_stream::page_awaiter {
public:
  explicit page_awaiter(row_stream& s) noexcept : stream_(&s) {}
  bool await_ready() const noexcept { return stream_->has_row(); }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return stream_->suspend(h, scopekit::detail::context_of(h));
  }
  std::optional<page_view> await_resume() {
    row_stream& s = *stream_;
    if (!s.has_row() && s.resume() != step::ready) {
      return std::nullopt;
    }
    const std::size_t first = s.position_;
    s.position_ = s.current_->row_count();
    return page_view{s.current_.get(), first, s.page_number_};
  }

private:
  row_stream* stream_;
};

inline row_stream::next_awaiter row_stream::next() noexcept {
  return next_awaiter{*this};
}
inline row_stream::page_awaiter row_stream::next_page() noexcept {
  return page_awaiter{*this};
}

}  // namespace scopekit::cql
