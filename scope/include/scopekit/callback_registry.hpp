// scopekit/callback_registry.hpp - callbacks that other threads invoke, destroyed with whatever
// they captured as soon as their registration is reset or their registry closed.
//
// callback_registry<void(Args...)> stores callables. add() returns a callback_registration;
// resetting or destroying it removes the callback and destroys the callable at once. invoke()
// calls the callbacks; close() (the destructor too) destroys every callable and turns the
// registry off. Destroying callables is what breaks a shared_ptr cycle object -> registry ->
// callback -> object.
//
// Thread safety follows std::stop_callback ([thread.stopcallback]): any member may be called
// from any thread, concurrently with any other. Removing a callback waits until its invocations
// under way on other threads have returned, except on a thread that is itself inside a callback
// (or a callable's destructor) of the same registry, which never waits: a callback may remove
// itself or others, or close the registry. Allocation: one node per registration, recycled
// through a per-registry free list, so a warm registry adds without allocating; a callable
// larger than four pointers also takes one heap block. Exceptions: add() throws what
// allocating or building the callable throws; invoke() calls every callback, then rethrows
// their errors by throw_errors: one unchanged, several as a scope_error (for a noexcept
// signature it is noexcept and accepts only nothrow callables); removal and close() never
// throw.
//
//   scopekit::callback_registry<void(int) noexcept> on_page;
//   auto reg = on_page.add(scopekit::weak_bind(weak_from_this(), &stream::page_arrived));
//   on_page.invoke(42);  // from the driver's I/O thread: calls stream::page_arrived(42)
//   on_page.close();     // every callable destroyed, every registration inert
#pragma once

#include "scopekit/detail/callback_registry_core.hpp"
#include "scopekit/scope_error.hpp"

#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace scopekit {

namespace detail {

template <class Signature>
struct registry_signature_traits {
  static constexpr bool valid = false;
};

template <bool NX, class... Args>
struct registry_signature_traits<void(Args...) noexcept(NX)> {
  static constexpr bool valid = (!std::is_rvalue_reference_v<Args> && ...);
  template <class D>
  static constexpr bool callable = NX ? std::is_nothrow_invocable_v<D&, registry_arg_t<Args>...>
                                      : std::is_invocable_v<D&, registry_arg_t<Args>...>;
};

}  // namespace detail

/// A signature a callback_registry accepts: `void(Args...)` or `void(Args...) noexcept`, with
/// no rvalue-reference parameter. Every callback receives the same arguments: a reference
/// parameter as that reference, a value parameter as a const lvalue.
template <class Signature>
concept registry_signature = detail::registry_signature_traits<Signature>::valid;

/// A callable that callback_registry<Signature> can store: its decayed type is built from `F`,
/// has a non-throwing destructor, and is invocable as an lvalue with the arguments as
/// registry_signature describes (nothrow-invocable if the signature is noexcept). What it
/// returns is discarded.
template <class F, class Signature>
concept callback_for =
    registry_signature<Signature> && std::is_object_v<std::decay_t<F>> &&
    std::constructible_from<std::decay_t<F>, F> &&
    detail::registry_signature_traits<Signature>::template callable<std::decay_t<F>>;

template <registry_signature Signature>
class callback_registry;

/// Owns one callback registered in a callback_registry of any signature. Move-only, like
/// std::unique_ptr; an empty ("inert") registration owns nothing. A registration may outlive its
/// registry: the registry's destructor closes it, and its registrations become inert.
///
/// A registration itself is not synchronised: use one from one thread at a time. Distinct
/// registrations, and the registry, may be used concurrently.
class [[nodiscard]] callback_registration {
public:
  /// An inert registration.
  callback_registration() noexcept = default;

  /// Takes over `other`'s callback; `other` becomes inert.
  callback_registration(callback_registration&& other) noexcept
      : node_(std::exchange(other.node_, nullptr)) {}

  /// Removes this registration's callback (as reset() does), then takes over `other`'s.
  callback_registration& operator=(callback_registration&& other) noexcept {
    remove(std::exchange(node_, std::exchange(other.node_, nullptr)));
    return *this;
  }

  callback_registration(const callback_registration&) = delete;
  callback_registration& operator=(const callback_registration&) = delete;

  /// reset().
  ~callback_registration() { remove(std::exchange(node_, nullptr)); }

  /// Removes the callback and destroys its callable before returning (on this thread, unless a
  /// concurrent close() got there first); the registration becomes inert. If invocations of the
  /// callback are under way on other threads, waits for them to return first. Exception: on a
  /// thread that is running a callback (or a callable's destructor) of the same registry, it
  /// never waits; a callable still running (on this thread or another) is then destroyed by the
  /// thread that runs it, as soon as that invocation returns. No effect on an inert
  /// registration or after the registry was closed.
  void reset() noexcept { remove(std::exchange(node_, nullptr)); }

  /// True while the callback is registered: not reset, not moved from, registry not closed. A
  /// snapshot: another thread may close the registry right after.
  [[nodiscard]] bool active() const noexcept {
    return node_ != nullptr && node_->registered.load(std::memory_order_acquire);
  }

  /// active().
  explicit operator bool() const noexcept { return active(); }

private:
  template <registry_signature Signature>
  friend class callback_registry;

  explicit callback_registration(detail::registry_node& node) noexcept : node_(&node) {}

  // Works from locals only: destroying the callable may destroy this registration's owner.
  static void remove(detail::registry_node* node) noexcept {
    if (node == nullptr) {
      return;
    }
    detail::registry_core& core = *node->core;
    bool last = false;
    {
      detail::registry_core::lock_type lock{core.mutex};
      if (core.retire(*node, lock) == detail::registry_core::retire_outcome::destroyed) {
        last = core.release_node(*node);
      } else {
        node->held = false;  // whoever finishes the callable frees the node
      }
    }
    if (last) {
      delete &core;
    }
  }

  detail::registry_node* node_ = nullptr;
};

/// A list of callbacks of signature `void(Args...)` (optionally noexcept) that any thread may
/// add to, invoke, and close, built for callbacks called from a driver's I/O threads.
/// Neither copyable nor movable (registrations point to it).
template <bool NX, class... Args>
  requires registry_signature<void(Args...) noexcept(NX)>
class callback_registry<void(Args...) noexcept(NX)> {
public:
  using signature = void(Args...) noexcept(NX);
  using registration = callback_registration;

  /// An open, empty registry. Throws std::bad_alloc if its shared state cannot be allocated.
  callback_registry() : core_(new detail::registry_core) {}

  callback_registry(const callback_registry&) = delete;
  callback_registry(callback_registry&&) = delete;
  callback_registry& operator=(const callback_registry&) = delete;
  callback_registry& operator=(callback_registry&&) = delete;

  /// close(). Registrations may outlive the registry; they are inert from here on. Must not
  /// run while another thread calls a member of this registry (callbacks of this registry may
  /// destroy it, though: invoke() and close() keep what they need alive).
  ~callback_registry() {
    detail::registry_core& core = *core_;
    bool last = false;
    {
      detail::registry_core::lock_type lock{core.mutex};
      core.close(lock);
      last = core.unpin();
    }
    if (last) {
      delete &core;
    }
  }

  /// Registers a copy of `f` (moved in if `f` is an rvalue), built on this thread, and returns
  /// the registration that owns it. Callbacks are called in the order they were added. If the
  /// registry is closed, returns an inert registration and leaves `f` untouched. Never waits
  /// for callbacks. Throws what building the callable throws, or std::bad_alloc; then nothing
  /// is registered.
  template <callback_for<signature> F>
  [[nodiscard]] registration add(F&& f) {
    using stored_type = std::decay_t<F>;
    const detail::callable_destroy_ops* const ops = &detail::ops_for<stored_type, NX, Args...>;
    detail::registry_core& core = *core_;
    detail::registry_core::lock_type lock{core.mutex};
    if (core.closed) {
      return registration{};
    }
    detail::registry_node* const recycled = core.pop_free();
    if constexpr (detail::stored_inline<stored_type> &&
                  std::is_trivially_constructible_v<stored_type, F>) {
      if (recycled != nullptr) {  // no user code runs: build it under the lock
        detail::construct_stored<stored_type>(recycled->storage.data(), std::forward<F>(f));
        recycled->ops = ops;
        core.link(*recycled);
        return registration{*recycled};
      }
    }
    lock.unlock();
    std::unique_ptr<detail::registry_node> node{recycled != nullptr ? recycled
                                                                    : new detail::registry_node};
    detail::construct_stored<stored_type>(node->storage.data(), std::forward<F>(f));
    node->ops = ops;
    lock.lock();
    if (!core.closed) {
      core.link(*node);
      return registration{*node.release()};
    }
    lock.unlock();  // closed meanwhile: undo, outside the lock
    if (ops->destroy != nullptr) {
      ops->destroy(node->storage.data());
    }
    return registration{};
  }

  /// Calls, on this thread and in the order they were added, the callbacks registered when
  /// invoke() began that are still registered when their turn comes; each receives `args` (a
  /// value as a const lvalue, so all see the same value). Waits only for the registry's lock,
  /// which is not held during a call, so a callback may add, remove, invoke, close, or destroy
  /// the registry. Invocations on different threads may overlap, including two calls of the
  /// same callable: a callable used that way must be safe to call concurrently. Does nothing
  /// once the registry is closed, and stops calling when it gets closed. If a callback throws,
  /// the remaining callbacks still run, then the errors are rethrown by scopekit's rule
  /// (throw_errors): the only one unchanged, several as a scope_error listing them all, none
  /// dropped. Make the signature noexcept (as an I/O thread needs) and the compiler rules
  /// throwing callbacks out.
  void invoke(Args... args) noexcept(NX) {
    detail::registry_core& core = *core_;
    detail::registry_core::lock_type lock{core.mutex};
    if (core.closed || core.head == nullptr) {
      return;
    }
    core.pin();  // a callback may destroy the registry
    const std::uint64_t end = core.next_seq();
    [[maybe_unused]] std::exception_ptr first_error;          // copying it cannot throw
    [[maybe_unused]] std::vector<std::exception_ptr> later_errors;
    {
      const detail::busy_scope busy{core};
      detail::registry_node* node = core.head;
      while (node != nullptr && node->seq < end && !core.closed) {
        if (node->state != detail::node_state::live) {
          node = node->next;
          continue;
        }
        ++node->running;  // keeps the node linked and its callable alive
        const auto& ops = static_cast<const detail::callable_ops<NX, Args...>&>(*node->ops);
        lock.unlock();
        if constexpr (NX) {
          ops.call(node->storage.data(), args...);
        } else {
          try {
            ops.call(node->storage.data(), args...);
          } catch (...) {
            if (!first_error) {
              first_error = std::current_exception();
            } else {
              try {
                later_errors.push_back(std::current_exception());
              } catch (...) {  // out of memory: the first error and the others kept survive
              }
            }
          }
        }
        lock.lock();
        node = core.finish_call(*node, lock);
      }
    }
    const bool last = core.unpin();
    lock.unlock();
    if (last) {
      delete &core;
    }
    if constexpr (!NX) {
      if (first_error) {
        later_errors.insert(later_errors.begin(), std::move(first_error));
        throw_errors(std::move(later_errors));
      }
    }
  }

  /// Closes the registry: destroys every callable, and later add() calls return inert
  /// registrations, later invoke() calls do nothing. Waits, like reset(), for invocations under
  /// way on other threads, unless called from inside a callback (or a callable's destructor)
  /// of this registry: then it never waits, and callables still running are destroyed by the
  /// threads running them as their invocations return. Idempotent.
  void close() noexcept {
    detail::registry_core& core = *core_;
    bool last = false;
    {
      detail::registry_core::lock_type lock{core.mutex};
      core.pin();  // a callable's destructor may destroy the registry
      core.close(lock);
      last = core.unpin();
    }
    if (last) {
      delete &core;
    }
  }

  /// True once close() has begun (or the registry is being destroyed). A snapshot.
  [[nodiscard]] bool closed() const noexcept {
    const detail::registry_core::lock_type lock{core_->mutex};
    return core_->closed;
  }

private:
  detail::registry_core* core_;
};

/// The callable weak_bind() returns: calls `member` on the object if it is still alive.
template <class T, class Member>
  requires std::is_member_function_pointer_v<Member>
class weak_callback {
public:
  weak_callback(std::weak_ptr<T> object, Member member) noexcept
      : object_(std::move(object)), member_(member) {}

  /// Locks the weak_ptr; if the object is alive, calls `(object.*member)(args...)` and discards
  /// the result, else does nothing. The object is kept alive during the call; if that was its
  /// last owner, it is destroyed on this thread as the call returns.
  template <class... A>
    requires std::invocable<const Member&, T&, A...>
  void operator()(A&&... args) const
      noexcept(std::is_nothrow_invocable_v<const Member&, T&, A...>) {
    if (const std::shared_ptr<T> object = object_.lock()) {
      static_cast<void>(std::invoke(member_, *object, std::forward<A>(args)...));
    }
  }

private:
  std::weak_ptr<T> object_;
  Member member_;
};

/// A callable that calls `member` on `*object` while the object lives and does nothing
/// afterwards: a callback that does not keep its object alive, so no cycle can form. `member`
/// may belong to a base of T. Fits in a registry node without a heap block.
template <class T, class Member>
  requires std::is_member_function_pointer_v<Member>
[[nodiscard]] weak_callback<T, Member> weak_bind(std::weak_ptr<T> object, Member member) noexcept {
  return weak_callback<T, Member>{std::move(object), member};
}

/// weak_bind() from a shared_ptr, which it does not keep.
template <class T, class Member>
  requires std::is_member_function_pointer_v<Member>
[[nodiscard]] weak_callback<T, Member> weak_bind(const std::shared_ptr<T>& object,
                                                 Member member) noexcept {
  return weak_callback<T, Member>{object, member};
}

}  // namespace scopekit
