// scopekit/stopped_error.hpp - the exceptions that report cancellation and deadlines.
//
// Cancellation in scopekit is cooperative and uses std::stop_token. An operation that gives
// up because stop was requested throws stopped_error; async_scope reports such an exit as
// outcome::stopped rather than as a failure. A deadline that expires stops the work under it,
// and the deadline's owner reports timeout_error, which is a failure to its caller.
//
//   try { co_await scopekit::sleep_for(1s); }
//   catch (const scopekit::stopped_error&) { /* stop was requested while sleeping */ }
#pragma once

#include <stdexcept>

namespace scopekit {

/// Thrown by an operation that stopped early because stop was requested on its token.
class stopped_error : public std::runtime_error {
public:
  stopped_error() : std::runtime_error("scopekit: operation stopped") {}
  using std::runtime_error::runtime_error;
};

/// Thrown when a deadline expired before the work under it completed.
class timeout_error : public std::runtime_error {
public:
  timeout_error() : std::runtime_error("scopekit: deadline exceeded") {}
  using std::runtime_error::runtime_error;
};

}  // namespace scopekit
