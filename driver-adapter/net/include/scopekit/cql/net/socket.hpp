// scopekit/cql/net/socket.hpp (internal to the CQL client and server, not installed) - the
// socket calls both sides make the same way.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>
#include <system_error>

namespace scopekit::cql::net {

/// The text of an errno value ("Connection refused").
inline std::string errno_text(int error) { return std::generic_category().message(error); }

/// Sends small frames at once (requests and short answers must not wait for Nagle's timer). A
/// failure only costs latency, so it is ignored.
inline void set_no_delay(int fd) noexcept {
  const int one = 1;
  static_cast<void>(::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
}

}  // namespace scopekit::cql::net
