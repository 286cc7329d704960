// scopekit/channel.hpp - a bounded async channel: producers send, consumers receive.
//
// channel<T> holds up to `capacity` values (0: every send waits for a receiver). co_await
// send(v) returns once v is buffered or handed to a receiver, and waits while the channel is
// full; co_await receive() yields the oldest value, waits while the channel is empty, and yields
// std::nullopt once the channel is closed and drained. close() is idempotent and wakes every
// waiter: receivers get std::nullopt, senders channel_closed. Waiters observe their stop token
// (stopped_error). A waiter is resumed on its own executor (inline on the waking thread if it
// has none).
//
// Guarantees: every value whose send completed is received exactly once (unless the channel is
// destroyed holding it); a send that throws delivered nothing. Thread safety: every member may
// be used from any thread; the channel must outlive the operations awaiting it. Allocation: the
// buffer (a std::deque); waiting allocates nothing (the waiter lives in the awaiting frame).
//
//   scopekit::channel<row> rows{64};
//   scope.push([&rows] { rows.close(); });          // an async_scope owns it
//   scope.spawn(produce(rows));                     // co_await rows.send(r); ...
//   while (auto r = co_await rows.receive()) { use(*r); }
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/stopped_error.hpp"

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <utility>

namespace scopekit {

/// Thrown by a send on a closed channel (or one waiting when it closed): nothing was sent.
class channel_closed : public std::logic_error {
public:
  channel_closed() : std::logic_error("scopekit: send on a closed channel") {}
};

template <std::move_constructible T>
class channel {
  enum class wait_result { pending, done, closed, stopped };

  struct waiter_list;

  // What a waiting send or receive leaves in the channel's lists. It lives in the awaiter.
  struct waiter {
    channel* owner = nullptr;
    waiter* next = nullptr;
    waiter* prev = nullptr;
    std::coroutine_handle<> awaiting;
    executor* home = nullptr;
    std::optional<T> slot;  // a sender's value, or the value handed to a receiver
    wait_result result = wait_result::pending;
    waiter_list* queued_in = nullptr;  // the list it waits in, if it does
    bool stop_seen = false;  // the stop came before the waiter was queued

    struct on_stop {
      waiter* self;
      void operator()() const noexcept { self->owner->stop_waiter(*self); }
    };
    std::optional<std::stop_callback<on_stop>> stop_callback;

    // Registers for stop before locking; returns false if stop was already requested.
    template <class P>
    bool prepare(channel& ch, std::coroutine_handle<P> h) {
      const coroutine_context& context = context_of(h);
      owner = &ch;
      awaiting = h;
      home = context.exec;
      if (context.stop.stop_requested()) {
        result = wait_result::stopped;
        return false;
      }
      stop_callback.emplace(context.stop, on_stop{this});
      return true;
    }
  };

  struct waiter_list {
    waiter* head = nullptr;
    waiter* tail = nullptr;
    void push(waiter& w) noexcept {
      w.prev = tail;
      w.next = nullptr;
      (tail != nullptr ? tail->next : head) = &w;
      tail = &w;
      w.queued_in = this;
    }
    void unlink(waiter& w) noexcept {
      (w.prev != nullptr ? w.prev->next : head) = w.next;
      (w.next != nullptr ? w.next->prev : tail) = w.prev;
      w.queued_in = nullptr;
    }
    waiter* pop() noexcept {
      waiter* w = head;
      if (w != nullptr) {
        unlink(*w);
      }
      return w;
    }
  };

public:
  /// A channel that buffers up to `capacity` values (0: sends wait for receivers).
  explicit channel(std::size_t capacity) noexcept : capacity_(capacity) {}
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;
  channel(channel&&) = delete;
  channel& operator=(channel&&) = delete;
  /// Destroys buffered values. Nothing may be waiting.
  ~channel() = default;

  class [[nodiscard]] send_awaiter {
  public:
    send_awaiter(channel& ch, T value) : channel_(&ch) { waiter_.slot.emplace(std::move(value)); }
    send_awaiter(send_awaiter&&) = delete;
    send_awaiter& operator=(send_awaiter&&) = delete;
    send_awaiter(const send_awaiter&) = delete;
    send_awaiter& operator=(const send_awaiter&) = delete;
    ~send_awaiter() = default;

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      return waiter_.prepare(*channel_, h) && channel_->start_send(waiter_);
    }
    /// Returns once sent; throws channel_closed or stopped_error if it was not.
    void await_resume() {
      waiter_.stop_callback.reset();  // waits for a stop callback running on another thread
      if (waiter_.result == wait_result::closed) {
        throw channel_closed();
      }
      if (waiter_.result == wait_result::stopped) {
        throw stopped_error();
      }
    }

  private:
    channel* channel_;
    waiter waiter_;
  };

  class [[nodiscard]] receive_awaiter {
  public:
    explicit receive_awaiter(channel& ch) noexcept : channel_(&ch) {}
    receive_awaiter(receive_awaiter&&) = delete;
    receive_awaiter& operator=(receive_awaiter&&) = delete;
    receive_awaiter(const receive_awaiter&) = delete;
    receive_awaiter& operator=(const receive_awaiter&) = delete;
    ~receive_awaiter() = default;

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      return waiter_.prepare(*channel_, h) && channel_->start_receive(waiter_);
    }
    /// The oldest value; std::nullopt once closed and drained; throws stopped_error.
    std::optional<T> await_resume() {
      waiter_.stop_callback.reset();
      if (waiter_.result == wait_result::stopped) {
        throw stopped_error();
      }
      return std::move(waiter_.slot);
    }

  private:
    channel* channel_;
    waiter waiter_;
  };

  /// Awaiting it sends `value` (see the top of this header). Throws what T's move throws.
  send_awaiter send(T value) { return send_awaiter{*this, std::move(value)}; }

  /// Awaiting it receives a value (see the top of this header).
  receive_awaiter receive() noexcept { return receive_awaiter{*this}; }

  /// Closes the channel: sends fail from now on, receivers drain the buffer and then get
  /// std::nullopt. Wakes every waiter. Idempotent, thread-safe.
  void close() noexcept {
    waiter* woken = nullptr;
    {
      std::lock_guard lock{mutex_};
      closed_ = true;
      for (waiter_list* list : {&receivers_, &senders_}) {
        while (waiter* w = list->pop()) {
          w->result = wait_result::closed;
          w->slot.reset();  // a sender's value was not sent; a receiver gets nothing
          w->next = woken;  // the list links are free again: chain the ones to wake
          woken = w;
        }
      }
    }
    while (woken != nullptr) {
      waiter* w = woken;
      woken = w->next;
      wake(*w);
    }
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
  // The send's fast paths under the lock; queues `w` and returns true if it must wait.
  bool start_send(waiter& w) {
    waiter* handed_to = nullptr;
    {
      std::unique_lock lock{mutex_};
      if (w.stop_seen) {
        w.result = wait_result::stopped;
        return false;
      }
      if (closed_) {
        w.result = wait_result::closed;
        return false;
      }
      if (waiter* r = receivers_.pop()) {
        r->slot.emplace(std::move(*w.slot));
        r->result = wait_result::done;
        handed_to = r;
      } else if (buffer_.size() < capacity_) {
        buffer_.push_back(std::move(*w.slot));
      } else {
        senders_.push(w);
        return true;  // from here another thread may resume the sender
      }
      w.result = wait_result::done;
    }
    if (handed_to != nullptr) {
      wake(*handed_to);
    }
    return false;
  }

  // The receive's fast paths under the lock; queues `w` and returns true if it must wait.
  bool start_receive(waiter& w) {
    waiter* sender = nullptr;
    {
      std::unique_lock lock{mutex_};
      if (w.stop_seen) {
        w.result = wait_result::stopped;
        return false;
      }
      if (!buffer_.empty()) {
        w.slot.emplace(std::move(buffer_.front()));
        buffer_.pop_front();
        if ((sender = senders_.pop()) != nullptr) {  // its value takes the freed place
          buffer_.push_back(std::move(*sender->slot));
        }
      } else if ((sender = senders_.pop()) != nullptr) {  // capacity 0: take it directly
        w.slot.emplace(std::move(*sender->slot));
      } else if (!closed_) {
        receivers_.push(w);
        return true;
      }
      w.result = closed_ && !w.slot ? wait_result::closed : wait_result::done;
      if (sender != nullptr) {
        sender->slot.reset();
        sender->result = wait_result::done;
      }
    }
    if (sender != nullptr) {
      wake(*sender);
    }
    return false;
  }

  // The stop callback of a waiter: unqueues and wakes it unless something else did first.
  void stop_waiter(waiter& w) noexcept {
    {
      std::lock_guard lock{mutex_};
      if (w.queued_in == nullptr) {
        w.stop_seen = w.result == wait_result::pending;  // not queued yet: await_suspend sees it
        return;
      }
      w.queued_in->unlink(w);
      w.result = wait_result::stopped;
    }
    wake(w);
  }

  // Resumes a waiter taken off a list. Nothing of it is touched after: it may be destroyed.
  static void wake(waiter& w) noexcept {
    executor* home = w.home;
    const std::coroutine_handle<> awaiting = w.awaiting;
    if (home != nullptr) {
      home->post(awaiting);
    } else {
      awaiting.resume();
    }
  }

  std::mutex mutex_;
  std::deque<T> buffer_;
  waiter_list senders_;
  waiter_list receivers_;
  std::size_t capacity_;
  bool closed_ = false;
};

}  // namespace scopekit
