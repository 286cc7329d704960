// scopekit/detail/callback_registry_core.hpp - the shared state behind callback_registry and
// callback_registration: the list of nodes, the lock, the free list, and the removal protocol.
// Internal: no promises beyond what scopekit/callback_registry.hpp documents.
//
// One registry_core is allocated per registry. It is reference-counted under its own mutex: the
// registry holds one reference, every node that is not on the free list holds one, and invoke()
// and close() hold one while they run (a callback may destroy the registry under them). The
// last reference to go deletes the core and its free nodes.
//
// A node's callable lives in `storage` (or on the heap, a pointer in `storage`, when it is too
// big). Its states, all read and written under the core's mutex:
//
//   live        linked, callable alive, invoke() calls it;
//   doomed      removed (by its registration or by close()); still linked and alive while
//               invocations of it are under way; no new invocation starts;
//   destroying  its callable is being destroyed, outside the lock, by one thread; still linked
//               so that invokers' cursors stay valid;
//   dead        callable destroyed, unlinked; the node's memory goes back to the free list
//               once its registration has let go of it (`held` false).
//
// Whoever turns a node dead returns its memory if no registration holds it any more; a
// registration letting go of a node that is not dead yet just clears `held`.
//
// Removal (retire, close) waits on `idle` for invocations under way and for another thread's
// destruction of the callable, except on a thread that has a busy_frame for this core (it runs
// a callback or a callable's destructor of this registry): that thread never waits, so removal
// from inside a callback cannot deadlock, even against the same removal on another thread. A
// node left behind that way is finished by its last invoker, or by a waiting remover.
//
// User code (a callable's call, its construction or its destruction) never runs with the mutex
// held, except constructions and destructions the type system proves trivial.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

namespace scopekit::detail {

class registry_core;

/// How a node's callable is destroyed; `destroy` is null when destroying it runs no code.
struct callable_destroy_ops {
  void (*destroy)(void* storage) noexcept;
};

enum class node_state : unsigned char { live, doomed, destroying, dead };

/// One registered callback.
struct registry_node {
  static constexpr std::size_t inline_size = 4 * sizeof(void*);

  registry_node* prev = nullptr;
  registry_node* next = nullptr;  // also the free list's link
  registry_core* core = nullptr;
  const callable_destroy_ops* ops = nullptr;  // really a callable_ops<NX, Args...>, see below
  std::uint64_t seq = 0;                      // order of linking; invoke() skips newer nodes
  std::uint32_t running = 0;                  // invocations under way, on any thread
  node_state state = node_state::dead;
  bool held = false;    // a callback_registration still refers to this node
  bool waited = false;  // a thread waits on `idle` for this node to become idle or dead
  std::atomic<bool> registered{false};  // state == live, readable without the lock
  alignas(std::max_align_t) std::array<std::byte, inline_size> storage{};
};

/// A frame on the per-thread stack of registries whose user code this thread is running: a
/// callback call (invoke) or a callable's destruction. A thread with such a frame never blocks
/// in removal on that registry, which is what makes re-entrant removal deadlock-free.
struct busy_frame {
  const registry_core* core;
  busy_frame* below;
};

inline thread_local busy_frame* busy_top = nullptr;

/// Pushes a busy_frame for its lifetime.
class busy_scope {
public:
  explicit busy_scope(const registry_core& core) noexcept : frame_{&core, busy_top} {
    busy_top = &frame_;
  }
  busy_scope(const busy_scope&) = delete;
  busy_scope(busy_scope&&) = delete;
  busy_scope& operator=(const busy_scope&) = delete;
  busy_scope& operator=(busy_scope&&) = delete;
  ~busy_scope() { busy_top = frame_.below; }

private:
  busy_frame frame_;
};

/// Is this thread running user code of `core` (a callback, or a callable's destructor)?
[[nodiscard]] inline bool busy_here(const registry_core& core) noexcept {
  for (const busy_frame* f = busy_top; f != nullptr; f = f->below) {
    if (f->core == &core) {
      return true;
    }
  }
  return false;
}

class registry_core {
public:
  static constexpr std::size_t max_free_nodes = 32;
  using lock_type = std::unique_lock<std::mutex>;

  registry_core() = default;
  registry_core(const registry_core&) = delete;
  registry_core(registry_core&&) = delete;
  registry_core& operator=(const registry_core&) = delete;
  registry_core& operator=(registry_core&&) = delete;
  ~registry_core() {
    while (free_list_ != nullptr) {
      delete std::exchange(free_list_, free_list_->next);
    }
  }

  std::mutex mutex;
  registry_node* head = nullptr;
  bool closed = false;

  /// A node from the free list, or null. Lock held.
  [[nodiscard]] registry_node* pop_free() noexcept {
    registry_node* n = free_list_;
    if (n != nullptr) {
      free_list_ = n->next;
      --free_count_;
    }
    return n;
  }

  /// Appends `n` (its callable and ops already in place) as a live node held by a
  /// registration, and takes a reference for it. Lock held.
  void link(registry_node& n) noexcept {
    n.core = this;
    n.seq = next_seq_++;
    n.running = 0;
    n.state = node_state::live;
    n.held = true;
    n.waited = false;
    n.registered.store(true, std::memory_order_release);
    n.next = nullptr;
    n.prev = tail_;
    (tail_ != nullptr ? tail_->next : head) = &n;
    tail_ = &n;
    ++refs_;
  }

  /// The sequence number the next linked node will get: invoke() calls only older ones.
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return next_seq_; }

  /// Takes a reference that keeps the core alive across user code. Lock held.
  void pin() noexcept { ++refs_; }

  /// Drops a reference; true if it was the last, and then the caller must delete the core once
  /// it has released the lock. Lock held.
  [[nodiscard]] bool unpin() noexcept { return --refs_ == 0; }

  /// Returns a dead node's memory and drops its reference (see unpin). Lock held.
  [[nodiscard]] bool release_node(registry_node& n) noexcept {
    if (free_count_ < max_free_nodes) {
      n.next = free_list_;
      free_list_ = &n;
      ++free_count_;
    } else {
      delete &n;
    }
    return unpin();
  }

  /// Stops new invocations of a live node.
  static void doom(registry_node& n) noexcept {
    n.state = node_state::doomed;
    n.registered.store(false, std::memory_order_release);
  }

  /// Destroys the callable of a doomed node with no invocation under way, then unlinks it and
  /// marks it dead. Unlocks around a destructor that runs code. Returns the node that followed
  /// it. Lock held on entry and on return.
  registry_node* destroy_and_unlink(registry_node& n, lock_type& lock) noexcept {
    n.state = node_state::destroying;
    if (n.ops->destroy != nullptr) {
      const busy_scope busy{*this};
      lock.unlock();
      n.ops->destroy(n.storage.data());
      lock.lock();
    }
    registry_node* const after = n.next;
    (n.prev != nullptr ? n.prev->next : head) = n.next;
    (n.next != nullptr ? n.next->prev : tail_) = n.prev;
    n.state = node_state::dead;
    if (n.waited) {
      n.waited = false;
      idle_.notify_all();
    }
    return after;
  }

  /// Called by an invoker when a call of `n` has returned; returns the next node to look at.
  /// The last invocation of a doomed node destroys it, unless a remover waits to do that.
  /// Lock held on entry and on return.
  registry_node* finish_call(registry_node& n, lock_type& lock) noexcept {
    if (--n.running != 0 || n.state != node_state::doomed) {
      return n.next;
    }
    if (n.waited) {
      n.waited = false;
      idle_.notify_all();
      return n.next;
    }
    registry_node* const after = destroy_and_unlink(n, lock);
    if (!n.held) {
      static_cast<void>(release_node(n));  // never the last reference: the invoker pins
    }
    return after;
  }

  enum class retire_outcome { destroyed, deferred };

  /// Removes `n` (any state): afterwards it is dead (`destroyed`), or, when this thread runs
  /// user code of this registry, possibly still running or being destroyed elsewhere
  /// (`deferred`: whoever finishes it will see `held` and free it). Otherwise waits for
  /// invocations under way and for another thread's destruction of it. Lock held throughout,
  /// except while waiting or destroying.
  retire_outcome retire(registry_node& n, lock_type& lock) noexcept {
    if (n.state == node_state::live) {
      doom(n);
    }
    for (;;) {
      if (n.state == node_state::dead) {
        return retire_outcome::destroyed;
      }
      if (n.state == node_state::doomed && n.running == 0) {
        static_cast<void>(destroy_and_unlink(n, lock));
        return retire_outcome::destroyed;
      }
      if (busy_here(*this)) {
        return retire_outcome::deferred;
      }
      n.waited = true;
      idle_.wait(lock);
    }
  }

  /// Closes the registry: no new node is linked, every node is removed. Waits like retire()
  /// unless this thread runs user code of this registry. Lock held on entry and on return.
  void close(lock_type& lock) noexcept {
    if (!closed) {
      closed = true;
      for (registry_node* n = head; n != nullptr; n = n->next) {
        if (n->state == node_state::live) {
          doom(*n);
        }
      }
    }
    const bool never_wait = busy_here(*this);
    for (;;) {
      registry_node* target = nullptr;
      bool must_wait = false;
      for (registry_node* n = head; n != nullptr; n = n->next) {
        if (n->state == node_state::doomed && n->running == 0) {
          target = n;
          break;
        }
        if (!never_wait) {
          n->waited = true;
          must_wait = true;
        }
      }
      if (target != nullptr) {
        static_cast<void>(destroy_and_unlink(*target, lock));
        if (!target->held) {
          static_cast<void>(release_node(*target));  // never the last: close() pins
        }
      } else if (must_wait) {
        idle_.wait(lock);
      } else {
        return;
      }
    }
  }

private:
  std::condition_variable idle_;  // a waited-on node became idle (running 0) or dead
  registry_node* tail_ = nullptr;
  registry_node* free_list_ = nullptr;
  std::size_t free_count_ = 0;
  std::size_t refs_ = 1;  // the registry's own reference
  std::uint64_t next_seq_ = 0;
};

/// How a parameter of type A reaches each callback: a reference parameter as itself, a value
/// parameter as a const lvalue (every callback sees the same, unchanged value).
template <class A>
using registry_arg_t = std::conditional_t<std::is_reference_v<A>, A, const A&>;

/// The full operations of a callable stored for a registry of signature void(Args...)
/// noexcept(NX).
template <bool NX, class... Args>
struct callable_ops : callable_destroy_ops {
  void (*call)(void* storage, registry_arg_t<Args>... args) noexcept(NX);
};

/// Whether a callable of type D is stored in the node itself rather than on the heap.
template <class D>
inline constexpr bool stored_inline =
    std::conjunction_v<std::bool_constant<(sizeof(D) <= registry_node::inline_size)>,
                       std::bool_constant<(alignof(D) <= alignof(std::max_align_t))>>;

template <class D>
[[nodiscard]] D& stored(void* storage) noexcept {
  if constexpr (stored_inline<D>) {
    return *std::launder(static_cast<D*>(storage));
  } else {
    return **std::launder(static_cast<D**>(storage));
  }
}

/// Builds the callable in `storage`; on throw, nothing is left to destroy.
template <class D, class F>
void construct_stored(void* storage, F&& f) {
  if constexpr (stored_inline<D>) {
    ::new (storage) D(std::forward<F>(f));
  } else {
    ::new (storage) D*(new D(std::forward<F>(f)));
  }
}

template <class D>
void destroy_stored(void* storage) noexcept {
  if constexpr (stored_inline<D>) {
    std::destroy_at(&stored<D>(storage));
  } else {
    delete &stored<D>(storage);
  }
}

template <class D, bool NX, class... Args>
void call_stored(void* storage, registry_arg_t<Args>... args) noexcept(NX) {
  static_cast<void>(std::invoke(stored<D>(storage), args...));
}

template <class D, bool NX, class... Args>
inline constexpr callable_ops<NX, Args...> ops_for{
    {stored_inline<D> && std::is_trivially_destructible_v<D> ? nullptr : &destroy_stored<D>},
    &call_stored<D, NX, Args...>};

}  // namespace scopekit::detail
