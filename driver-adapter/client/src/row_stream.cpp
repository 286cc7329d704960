// row_stream.cpp - the shared state between the consumer of a stream and the connection's I/O
// thread: the pages that arrived, the request in flight, the waiting consumer.
//
// Lock discipline: stream_state::mutex guards the fields below it; nobody holds it while
// sending, posting, resetting a registration or destroying a stop callback (each of those may
// wait for, or run, code that takes it).
#include "scopekit/cql/client/row_stream.hpp"

#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/stopped_error.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql {
namespace detail {
namespace {
std::atomic<std::size_t> live_states{0};
}  // namespace

struct stream_state : std::enable_shared_from_this<stream_state> {
  using clock = std::chrono::steady_clock;

  struct stop_waker {
    stream_state* state;
    void operator()() const noexcept { state->wake_with(std::make_exception_ptr(stopped_error{})); }
  };
  struct deadline_timer : timer_node {
    stream_state* owner = nullptr;
  };

  stream_state(std::shared_ptr<connection> c, request_message r, stream_options o, std::string w)
      : conn(std::move(c)),
        what(std::move(w)),
        page_timeout(o.page_timeout.value_or(conn->request_timeout())),
        request(std::move(r)),
        options(std::move(o)) {
    live_states.fetch_add(1, std::memory_order_relaxed);
    if (options.total_timeout) {
      total_deadline = clock::now() + *options.total_timeout;
    }
    timer.owner = this;
    timer.fire = &on_timer;
  }
  stream_state(const stream_state&) = delete;
  stream_state& operator=(const stream_state&) = delete;
  stream_state(stream_state&&) = delete;
  stream_state& operator=(stream_state&&) = delete;
  ~stream_state() { live_states.fetch_sub(1, std::memory_order_relaxed); }

  query_parameters& parameters() {
    if (auto* q = std::get_if<query_request>(&request)) {
      return q->parameters;
    }
    return std::get<execute_request>(request).parameters;
  }

  // Sends the request for the next page; the caller has set in_flight under the lock and got
  // `seq` for it.
  void send_next(std::uint64_t seq) {
    request_message message;
    {
      const std::lock_guard lock{mutex};
      message = request;
    }
    const std::shared_ptr<response_future> future = conn->send(std::move(message), page_timeout);
    callback_registration registered = future->on_complete(
        [self = shared_from_this()](response_result& r) noexcept { self->on_response(r); });
    callback_registration stale;
    {
      const std::lock_guard lock{mutex};
      if (!closed && seq == request_seq && in_flight) {
        // The registration replaced may be that of the callback running this very call (on
        // the I/O thread, from on_response): reset here, inside its own invocation, it would
        // not wait, and the running callback would keep this state alive after a concurrent
        // close_now() returned. It is kept until the next swap or close_now(), which waits.
        stale = std::exchange(previous_registration,
                              std::exchange(registration, std::move(registered)));
      } else {
        stale = std::move(registered);  // already answered (or closed): nothing to keep
      }
    }
  }

  // On the I/O thread (or inline in send_next when sending failed at once).
  void on_response(response_result& r) noexcept {
    std::uint64_t more = 0;
    std::coroutine_handle<> h;
    executor* ex = nullptr;
    {
      const std::lock_guard lock{mutex};
      in_flight = false;
      if (closed || error || page_error) {
        return;  // a late page: dropped
      }
      try {
        // A page's error waits for the pages that came before it to be read (advance()).
        if (r.error) {
          page_error = with_page(r.error);
          exhausted = true;
        } else if (const auto* e = std::get_if<error_response>(&r.value->message)) {
          page_error = make_server_error(*e);
          exhausted = true;
        } else if (auto* rows = std::get_if<rows_result>(&r.value->message)) {
          const std::size_t n = rows->row_count();
          const std::size_t page = pages.fetch_add(1, std::memory_order_relaxed) + 1;
          const auto& next_state = rows->metadata().paging_state;
          const bool capped = options.max_pages && page >= *options.max_pages;
          if (next_state && next_state == parameters().paging_state) {
            // The state this page was asked with: following it would ask for this page again,
            // for ever. The page's rows are not delivered (they may repeat the last page's).
            page_error = repeated_paging_state(page, *next_state);
            exhausted = true;
          } else {
            rows_received.fetch_add(n, std::memory_order_relaxed);
            if (next_state && !capped) {
              parameters().paging_state = *next_state;
            } else {
              exhausted = true;
            }
            if (n > 0) {
              ready.push_back(std::make_unique<rows_result>(std::move(*rows)));
            }
          }
          // Follow an empty page at once (it holds nothing); otherwise read ahead as allowed.
          // A consumer waiting now takes the first ready page at once (it holds none while it
          // waits), so that page counts as the one being read: asking for the next one here
          // rather than when the consumer wakes saves a round of wake-ups per page.
          const std::size_t ahead = ready.size() - (waiter && !ready.empty() ? 1 : 0);
          if (!exhausted && (n == 0 || ahead < options.prefetch_pages)) {
            in_flight = true;
            more = ++request_seq;
          }
        } else {
          exhausted = true;  // a statement that returns no rows
        }
      } catch (...) {
        error = std::current_exception();
      }
      if (error || !ready.empty() || (exhausted && !in_flight)) {
        h = std::exchange(waiter, {});
        ex = exec;
      }
    }
    if (more != 0) {
      try {
        send_next(more);
      } catch (...) {
        wake_with(std::current_exception());
        return;
      }
    }
    if (h) {
      post_or_resume(ex, h);
    }
  }

  // A request's timeout says which page of which statement did not come, and whose limit it
  // was; other errors are given as they are.
  std::exception_ptr with_page(const std::exception_ptr& failure) const {
    try {
      std::rethrow_exception(failure);
    } catch (const operation_timed_out& e) {
      return std::make_exception_ptr(operation_timed_out(
          e.node(), e.timeout(),
          "page " + std::to_string(pages.load(std::memory_order_relaxed) + 1) + " of " + what +
              (options.page_timeout ? " (the stream's page timeout)"
                                    : " (the session's request timeout)")));
    } catch (...) {
      return failure;
    }
  }

  // The error of a page whose paging state is the one it was asked with.
  std::exception_ptr repeated_paging_state(std::size_t page,
                                           const std::vector<std::byte>& state) const {
    return std::make_exception_ptr(protocol_error(
        "rows.paging_state", 0,
        "page " + std::to_string(page) + " from " + conn->peer() +
            " repeats the paging state it was asked with (" + std::to_string(state.size()) +
            " bytes): following it would never end the stream"));
  }

  // Fails the stream with `e` (unless it failed or closed before) and wakes the consumer.
  void wake_with(const std::exception_ptr& e) noexcept {
    std::coroutine_handle<> h;
    executor* ex = nullptr;
    {
      const std::lock_guard lock{mutex};
      if (!closed && !error) {
        error = e;
      }
      h = std::exchange(waiter, {});
      ex = exec;
    }
    if (h) {
      post_or_resume(ex, h);
    }
  }

  static void post_or_resume(executor* ex, std::coroutine_handle<> h) noexcept {
    try {
      ex->post(h);
    } catch (...) {
      // Out of memory in the executor's queue: the consumer must not stay suspended forever.
      std::terminate();
    }
  }

  // The total deadline (a page's own timeout is the connection's: send_next).
  static void on_timer(timer_node& node) noexcept {
    auto& self = *static_cast<deadline_timer&>(node).owner;
    self.wake_with(std::make_exception_ptr(
        timeout_error("scopekit::cql::row_stream: the stream's total deadline passed")));
    self.timer_done.store(true, std::memory_order_release);
  }

  // Consumer side ------------------------------------------------------------------------------

  const std::shared_ptr<connection> conn;
  const std::string what;                        // the statement, for errors
  const std::chrono::milliseconds page_timeout;  // each page request's (<= 0: none)
  std::optional<clock::time_point> total_deadline;

  // Consumer-owned (only the consumer's thread touches these).
  std::optional<std::stop_callback<stop_waker>> stop_from_coroutine;
  std::optional<std::stop_callback<stop_waker>> stop_from_options;
  deadline_timer timer;
  bool timer_armed = false;
  std::atomic<bool> timer_done{false};
  executor* timer_executor = nullptr;

  std::atomic<std::size_t> pages{0};
  std::atomic<std::uint64_t> rows_received{0};

  std::mutex mutex;
  request_message request;  // a copy of the caller's, with page size and paging state
  const stream_options options;
  std::deque<std::unique_ptr<rows_result>> ready;
  bool in_flight = false;
  bool exhausted = false;
  bool closed = false;
  std::exception_ptr error;       // the stream has failed: every next() throws it
  std::exception_ptr page_error;  // the answer to the last request: error once `ready` is read
  std::uint64_t request_seq = 0;
  callback_registration registration;  // on the future of the request in flight
  callback_registration previous_registration;  // the one before (its callback may be running)
  std::coroutine_handle<> waiter;
  executor* exec = nullptr;
};

std::shared_ptr<stream_state> start_stream(std::shared_ptr<connection> connection,
                                           request_message request, stream_options options,
                                           std::string what) {
  if (options.page_size <= 0) {
    throw std::invalid_argument("scopekit::cql::stream_options: page_size must be positive");
  }
  auto state = std::make_shared<stream_state>(std::move(connection), std::move(request),
                                              std::move(options), std::move(what));
  std::uint64_t seq = 0;
  {
    const std::lock_guard lock{state->mutex};
    query_parameters& p = state->parameters();
    p.page_size = state->options.page_size;
    p.paging_state.reset();
    p.skip_metadata = false;
    state->in_flight = true;
    seq = ++state->request_seq;
  }
  state->send_next(seq);
  return state;
}

}  // namespace detail

std::size_t diagnostics::live_row_streams() noexcept {
  return detail::live_states.load(std::memory_order_relaxed);
}

row_stream::row_stream(std::shared_ptr<detail::stream_state> state) noexcept
    : state_(std::move(state)) {}

row_stream::row_stream(row_stream&& other) noexcept
    : state_(std::move(other.state_)),
      current_(std::move(other.current_)),
      position_(std::exchange(other.position_, 0)),
      page_number_(std::exchange(other.page_number_, 0)) {}

row_stream& row_stream::operator=(row_stream&& other) noexcept {
  if (this != &other) {
    close_now();
    state_ = std::move(other.state_);
    current_ = std::move(other.current_);
    position_ = std::exchange(other.position_, 0);
    page_number_ = std::exchange(other.page_number_, 0);
  }
  return *this;
}

row_stream::~row_stream() {
  close_now();
}

std::size_t row_stream::pages_fetched() const noexcept {
  return state_ ? state_->pages.load(std::memory_order_relaxed) : 0;
}

std::uint64_t row_stream::rows_fetched() const noexcept {
  return state_ ? state_->rows_received.load(std::memory_order_relaxed) : 0;
}

row_stream::step row_stream::advance() {
  if (!state_) {
    return step::end;
  }
  detail::stream_state& st = *state_;
  if (current_) {
    // Used up: its memory goes back to the connection before the next page is asked for, so a
    // stream holds at most prefetch_pages + 1 pages and steady streaming allocates none.
    st.conn->recycle(std::move(*current_).take_body());
    current_.reset();
  }
  std::unique_ptr<rows_result> page;
  std::exception_ptr error;
  std::uint64_t more = 0;
  {
    const std::lock_guard lock{st.mutex};
    if (!st.error && st.total_deadline &&
        detail::stream_state::clock::now() >= *st.total_deadline) {
      st.error = std::make_exception_ptr(
          timeout_error("scopekit::cql::row_stream: the stream's total deadline passed"));
    }
    if (!st.error && st.options.stop_token.stop_requested()) {
      st.error = std::make_exception_ptr(stopped_error{});
    }
    if (!st.error && st.page_error && st.ready.empty()) {
      st.error = st.page_error;  // the pages before the failed one have been read
    }
    if (st.error) {
      error = st.error;
    } else if (!st.ready.empty()) {
      page = std::move(st.ready.front());
      st.ready.pop_front();
      if (!st.in_flight && !st.exhausted && st.ready.size() < st.options.prefetch_pages) {
        st.in_flight = true;
        more = ++st.request_seq;
      }
    } else if (st.exhausted && !st.in_flight) {
      current_.reset();
      return step::end;
    } else if (!st.in_flight && !st.exhausted) {
      st.in_flight = true;  // prefetch 0: the next page is asked for only now
      more = ++st.request_seq;
    }
  }
  if (error) {
    current_.reset();
    std::rethrow_exception(error);
  }
  if (more != 0) {
    st.send_next(more);
  }
  if (!page) {
    return step::wait;
  }
  current_ = std::move(page);
  position_ = 0;
  ++page_number_;
  if (st.options.on_page) {
    const std::shared_ptr<detail::stream_state> keep = state_;  // on_page may close the stream
    try {
      st.options.on_page(page_info{page_number_, current_->row_count(), current_->body().size()});
    } catch (...) {
      current_.reset();
      st.wake_with(std::current_exception());
      throw;
    }
    if (!state_) {
      return step::end;  // on_page closed the stream
    }
  }
  return step::ready;
}

bool row_stream::suspend(std::coroutine_handle<> h,
                         const scopekit::detail::coroutine_context& ctx) {
  if (state_ && ctx.stop.stop_requested()) {
    state_->wake_with(std::make_exception_ptr(stopped_error{}));
  }
  if (advance() != step::wait) {
    return false;
  }
  detail::stream_state& st = *state_;
  if (ctx.exec == nullptr) {
    throw std::logic_error(
        "scopekit::cql::row_stream: next() must be awaited from a scopekit coroutine that runs "
        "on an executor (a task under sync_wait, an async_scope...)");
  }
  // Stop callbacks and the timer first: any of them may fire at once and fail the stream, which
  // the check under the lock then sees.
  st.stop_from_coroutine.emplace(ctx.stop, detail::stream_state::stop_waker{&st});
  st.stop_from_options.emplace(st.options.stop_token, detail::stream_state::stop_waker{&st});
  const std::optional<detail::stream_state::clock::time_point> deadline = st.total_deadline;
  if (deadline) {
    st.timer.deadline = *deadline;
    st.timer_done.store(false, std::memory_order_relaxed);
    st.timer_executor = ctx.exec;
    st.timer_armed = true;
    ctx.exec->schedule(st.timer);
  }
  {
    const std::lock_guard lock{st.mutex};
    if (st.error || !st.ready.empty() || (st.exhausted && !st.in_flight) || st.closed) {
      // Something came in meanwhile: do not suspend (resume() disarms what was armed).
    } else {
      st.waiter = h;
      st.exec = ctx.exec;
      return true;  // from here on the coroutine may be resumed on another thread
    }
  }
  return false;
}

namespace {
void disarm(detail::stream_state& st) noexcept {
  if (st.timer_armed) {
    st.timer_armed = false;
    if (!st.timer_executor->cancel(st.timer)) {
      // It fired, or is firing on another thread: wait for it to let go of the node.
      while (!st.timer_done.load(std::memory_order_acquire)) {
        std::this_thread::yield();
      }
    }
  }
  st.stop_from_coroutine.reset();  // waits for a stop callback running on another thread
  st.stop_from_options.reset();
}
}  // namespace

row_stream::step row_stream::resume() {
  if (!state_) {
    return step::end;  // closed while waiting
  }
  disarm(*state_);
  return advance();
}

task<void> row_stream::close() {
  close_now();
  co_return;
}

void row_stream::close_now() noexcept {
  if (!state_) {
    return;
  }
  const std::shared_ptr<detail::stream_state> st = std::move(state_);
  callback_registration registration;
  callback_registration previous_registration;
  std::deque<std::unique_ptr<rows_result>> pages;
  std::coroutine_handle<> h;
  executor* ex = nullptr;
  {
    const std::lock_guard lock{st->mutex};
    st->closed = true;
    registration = std::move(st->registration);
    previous_registration = std::move(st->previous_registration);
    pages.swap(st->ready);
    h = std::exchange(st->waiter, {});
    ex = st->exec;
  }
  registration.reset();  // the callbacks are gone (and waited for) before this returns
  previous_registration.reset();
  disarm(*st);
  current_.reset();
  position_ = 0;
  if (h) {
    detail::stream_state::post_or_resume(ex, h);  // a next() waiting elsewhere ends
  }
}

}  // namespace scopekit::cql
