// scopekit/cql/net/unique_fd.hpp (internal to the CQL client and server, not installed) - a POSIX
// file descriptor closed exactly once, when its owner goes away.
//
// unique_fd owns a descriptor or nothing (-1, what socket(), accept4() and eventfd() return on
// failure). Its destructor and reset() close the descriptor it owns; moving hands it over. It
// never allocates and nothing in it throws. It plays the part Boost.Scope's unique_fd plays:
// the one place that calls ::close, so that no error path of connect or listen can leak one.
//
//   scopekit::cql::net::unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
//   if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
//   if (::connect(fd.get(), address, size) != 0) return;  // closed here
//   return fd;                                            // or handed to the caller
#pragma once

#include <unistd.h>

#include <utility>

namespace scopekit::cql::net {

class [[nodiscard]] unique_fd {
public:
  /// Owns nothing.
  unique_fd() noexcept = default;
  /// Owns `fd`, unless it is negative.
  explicit unique_fd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  /// Closes what this one owned, then takes `other`'s descriptor.
  unique_fd& operator=(unique_fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  /// The descriptor, or -1.
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// Whether it owns a descriptor.
  explicit operator bool() const noexcept { return fd_ >= 0; }

  /// Closes the descriptor it owns (errors of close(2) are ignored: the descriptor is gone
  /// either way on Linux), then owns `fd` (negative: nothing).
  void reset(int fd = -1) noexcept {
    const int old = std::exchange(fd_, fd < 0 ? -1 : fd);
    if (old >= 0) {
      ::close(old);
    }
  }
  /// Gives the descriptor up without closing it; returns it (or -1).
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

private:
  int fd_ = -1;
};

}  // namespace scopekit::cql::net
