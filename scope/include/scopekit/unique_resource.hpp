// scopekit/unique_resource.hpp - own any resource handle and release it with a deleter.
//
// unique_resource<R, D> is unique_ptr for handles that are not pointers: file descriptors,
// C library handles, registrations. It follows P0052R10 / Library Fundamentals TS v3
// [scope.unique_resource]. It never allocates.
//
// Guarantees: a resource is released exactly once, by reset(), by assignment or by the
// destructor, unless release() gave it up. If building a unique_resource throws, the resource
// is released before the exception leaves (nothing leaks). make_unique_resource_checked never
// calls the deleter on the "invalid" value (-1 for a failed ::open, say).
//
// Exceptions: reset() and the destructor are noexcept, so a deleter that throws terminates.
//
//   auto fd = scopekit::make_unique_resource_checked(
//       ::open(path, O_RDONLY), -1, [](int f) noexcept { ::close(f); });
//   if (fd.get() == -1) throw std::system_error(errno, std::generic_category());
//   ::read(fd.get(), buf, sizeof buf);  // closed on every exit path
#pragma once

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

namespace scopekit {

namespace detail {
/// What unique_resource stores: the handle itself, or a reference_wrapper for a reference R.
template <class R>
using stored_resource_t =
    std::conditional_t<std::is_reference_v<R>, std::reference_wrapper<std::remove_reference_t<R>>,
                       R>;
}  // namespace detail

/// A resource handle type: an object type, or an lvalue reference to one, movable and, when
/// moving may throw, copyable ([scope.unique_resource]/1).
template <class R>
concept resource_handle =
    (std::is_object_v<R> || std::is_lvalue_reference_v<R>) &&
    std::move_constructible<std::remove_reference_t<R>> &&
    (std::is_nothrow_move_constructible_v<std::remove_reference_t<R>> ||
     std::is_copy_constructible_v<std::remove_reference_t<R>>);

/// A deleter for resource R: a movable function object callable with an lvalue of R.
template <class D, class R>
concept resource_deleter =
    std::is_object_v<D> && std::is_destructible_v<D> && std::move_constructible<D> &&
    (std::is_nothrow_move_constructible_v<D> || std::is_copy_constructible_v<D>) &&
    std::invocable<D&, std::remove_reference_t<R>&>;

template <resource_handle R, resource_deleter<R> D>
class unique_resource;

template <class R, class D, class S = std::decay_t<R>>
unique_resource<std::decay_t<R>, std::decay_t<D>> make_unique_resource_checked(
    R&& resource, const S& invalid, D&& deleter) noexcept(std::is_nothrow_constructible_v<
                                                              std::decay_t<R>, R> &&
                                                          std::is_nothrow_constructible_v<
                                                              std::decay_t<D>, D>);

/// Owns a resource handle and calls `deleter(handle)` once when it stops owning it.
/// Move-only. Thread safety: as for any object; distinct objects are independent.
template <resource_handle R, resource_deleter<R> D>
class [[nodiscard]] unique_resource {
  using stored_type = detail::stored_resource_t<R>;

public:
  /// Owns nothing; resource and deleter are value-initialised.
  unique_resource() noexcept(std::is_nothrow_default_constructible_v<stored_type> &&
                             std::is_nothrow_default_constructible_v<D>)
    requires std::default_initializable<stored_type> && std::default_initializable<D>
      : resource_(), deleter_() {}

  /// Owns `r`. Each member is moved in if that cannot throw, else copied. If storing the
  /// resource throws, calls `d(r)`; if storing the deleter throws, calls `d(resource)`; then
  /// rethrows. Either way the resource is released.
  template <class RR, class DD>
    requires std::is_constructible_v<stored_type, RR> && std::is_constructible_v<D, DD> &&
             (std::is_nothrow_constructible_v<stored_type, RR> ||
              std::is_constructible_v<stored_type, RR&>) &&
             (std::is_nothrow_constructible_v<D, DD> || std::is_constructible_v<D, DD&>)
  unique_resource(RR&& r, DD&& d) noexcept(
      (std::is_nothrow_constructible_v<stored_type, RR> ||
       std::is_nothrow_constructible_v<stored_type, RR&>) &&
      (std::is_nothrow_constructible_v<D, DD> || std::is_nothrow_constructible_v<D, DD&>))
      : unique_resource(std::forward<RR>(r), std::forward<DD>(d), true) {}

  /// Takes over `other`'s resource and deleter; `other` owns nothing afterwards. Members are
  /// moved if that cannot throw, else copied. If copying throws, `other` still owns the
  /// resource, except when the resource had already been moved out: then the resource is
  /// released with `other`'s deleter before the exception leaves.
  unique_resource(unique_resource&& other) noexcept(
      std::is_nothrow_move_constructible_v<stored_type> &&
      std::is_nothrow_move_constructible_v<D>)
      : resource_(move_or_copy(other.resource_)),
        deleter_(deleter_from(other)),
        owns_(std::exchange(other.owns_, false)) {}

  /// Releases the current resource, then takes over `other`'s (which owns nothing afterwards).
  /// If a member copy throws, `other` is left intact and `*this` owns nothing.
  /// Self-assignment leaves the object unchanged.
  unique_resource& operator=(unique_resource&& other) noexcept(
      std::is_nothrow_move_assignable_v<stored_type> && std::is_nothrow_move_assignable_v<D>)
    requires(std::is_nothrow_move_assignable_v<stored_type> ||
             std::is_copy_assignable_v<stored_type>) &&
            (std::is_nothrow_move_assignable_v<D> || std::is_copy_assignable_v<D>)
  {
    if (this == &other) {
      return *this;
    }
    reset();
    // Assign the member whose move cannot throw last, so that a throwing copy leaves `other`
    // intact ([scope.unique_resource.cons]).
    if constexpr (std::is_nothrow_move_assignable_v<stored_type>) {
      if constexpr (std::is_nothrow_move_assignable_v<D>) {
        resource_ = std::move(other.resource_);
        deleter_ = std::move(other.deleter_);
      } else {
        deleter_ = other.deleter_;
        resource_ = std::move(other.resource_);
      }
    } else {
      if constexpr (std::is_nothrow_move_assignable_v<D>) {
        resource_ = other.resource_;
        deleter_ = std::move(other.deleter_);
      } else {
        resource_ = other.resource_;
        deleter_ = other.deleter_;
      }
    }
    owns_ = std::exchange(other.owns_, false);
    return *this;
  }

  unique_resource(const unique_resource&) = delete;
  unique_resource& operator=(const unique_resource&) = delete;

  /// Equivalent to reset(). A deleter that throws terminates.
  ~unique_resource() { reset(); }

  /// If it owns a resource, stops owning it and calls the deleter on it.
  void reset() noexcept {
    if (owns_) {
      owns_ = false;
      deleter_(handle());
    }
  }

  /// Releases the current resource (as reset()), then owns `r`. If assigning `r` throws,
  /// calls the deleter on `r` and rethrows.
  template <class RR>
    requires std::is_assignable_v<stored_type&, RR> ||
             std::is_assignable_v<stored_type&, const std::remove_reference_t<RR>&>
  void reset(RR&& r) {
    reset();
    if constexpr (std::is_nothrow_assignable_v<stored_type&, RR>) {
      resource_ = std::forward<RR>(r);
    } else {
      try {
        resource_ = std::as_const(r);
      } catch (...) {
        deleter_(r);
        throw;
      }
    }
    owns_ = true;
  }

  /// Gives up ownership: the deleter will not be called for the current resource.
  void release() noexcept { owns_ = false; }

  /// The handle, whether or not it is owned.
  [[nodiscard]] const R& get() const noexcept { return resource_; }

  /// The pointee, for pointer handles to non-void types.
  [[nodiscard]] std::add_lvalue_reference_t<std::remove_pointer_t<R>> operator*() const noexcept
    requires std::is_pointer_v<R> && (!std::is_void_v<std::remove_pointer_t<R>>)
  {
    return *get();
  }

  /// The handle, for pointer handles.
  [[nodiscard]] R operator->() const noexcept
    requires std::is_pointer_v<R>
  {
    return get();
  }

  [[nodiscard]] const D& get_deleter() const noexcept { return deleter_; }

private:
  template <class R2, class D2, class S>
  friend unique_resource<std::decay_t<R2>, std::decay_t<D2>> make_unique_resource_checked(
      R2&&, const S&, D2&&) noexcept(std::is_nothrow_constructible_v<std::decay_t<R2>, R2> &&
                                     std::is_nothrow_constructible_v<std::decay_t<D2>, D2>);

  // The constructor behind the public one and make_unique_resource_checked: when `owns` is
  // false (the invalid value), a failure never calls the deleter.
  template <class RR, class DD>
  unique_resource(RR&& r, DD&& d, bool owns) noexcept(
      (std::is_nothrow_constructible_v<stored_type, RR> ||
       std::is_nothrow_constructible_v<stored_type, RR&>) &&
      (std::is_nothrow_constructible_v<D, DD> || std::is_nothrow_constructible_v<D, DD&>))
      : resource_(init_resource(std::forward<RR>(r), d, owns)),
        deleter_(init_deleter(std::forward<DD>(d), handle(), owns)),
        owns_(owns) {}

  // [scope.unique_resource.cons]: forward if that cannot throw, else copy; on failure release
  // the argument with the argument deleter.
  template <class RR, class DD>
  static decltype(auto) init_resource(RR&& r, DD& d, bool owns) {
    if constexpr (std::is_nothrow_constructible_v<stored_type, RR>) {
      return static_cast<RR&&>(r);
    } else {
      try {
        return stored_type(r);
      } catch (...) {
        if (owns) {
          d(r);
        }
        throw;
      }
    }
  }

  template <class DD>
  static decltype(auto) init_deleter(DD&& d, std::remove_reference_t<R>& resource, bool owns) {
    if constexpr (std::is_nothrow_constructible_v<D, DD>) {
      return static_cast<DD&&>(d);
    } else {
      try {
        return D(d);
      } catch (...) {
        if (owns) {
          d(resource);
        }
        throw;
      }
    }
  }

  static decltype(auto) move_or_copy(stored_type& r) noexcept {
    if constexpr (std::is_nothrow_move_constructible_v<stored_type>) {
      return static_cast<stored_type&&>(r);
    } else {
      return static_cast<stored_type&>(r);
    }
  }

  // Called after resource_ is built. If the deleter must be copied and the copy throws while
  // the resource was already moved out of `other`, nobody else can release it: do it now.
  decltype(auto) deleter_from(unique_resource& other) {
    if constexpr (std::is_nothrow_move_constructible_v<D>) {
      return static_cast<D&&>(other.deleter_);
    } else if constexpr (!std::is_nothrow_move_constructible_v<stored_type>) {
      return static_cast<D&>(other.deleter_);  // `other` still holds the resource on failure
    } else {
      try {
        return D(other.deleter_);
      } catch (...) {
        if (other.owns_) {
          other.deleter_(handle());  // resource_ is built: it holds what `other` owned
          other.release();
        }
        throw;
      }
    }
  }

  std::remove_reference_t<R>& handle() noexcept {
    if constexpr (std::is_reference_v<R>) {
      return resource_.get();
    } else {
      return resource_;
    }
  }

  [[no_unique_address]] stored_type resource_;
  [[no_unique_address]] D deleter_;
  bool owns_ = false;
};

template <class R, class D>
unique_resource(R, D) -> unique_resource<R, D>;

/// Owns `resource` unless it compares equal to `invalid` (a failed open returning -1, a null
/// handle). The deleter is never called on the invalid value, not even when building the
/// result throws.
template <class R, class D, class S>
unique_resource<std::decay_t<R>, std::decay_t<D>> make_unique_resource_checked(
    R&& resource, const S& invalid, D&& deleter) noexcept(std::is_nothrow_constructible_v<
                                                              std::decay_t<R>, R> &&
                                                          std::is_nothrow_constructible_v<
                                                              std::decay_t<D>, D>) {
  const bool valid = !static_cast<bool>(resource == invalid);
  return unique_resource<std::decay_t<R>, std::decay_t<D>>(std::forward<R>(resource),
                                                           std::forward<D>(deleter), valid);
}

}  // namespace scopekit
