// scopekit/scope_error.hpp - every error that left a scope, none lost.
//
// When a scope's body and its cleanups (or several cleanups, or several children) fail, C++
// can propagate only one exception, and it cannot attach anything to an exception object of
// an arbitrary type. scopekit's rule:
//
// - exactly one error: it is rethrown unchanged (same object, same type);
// - several: scope_error is thrown. Its nested exception (std::nested_exception) is the
//   primary error - the body's, else the first cleanup's or child's - so
//   std::rethrow_if_nested(e) and rethrow_primary() rethrow it with its own type, and
//   secondary() lists every other error in the order they happened.
//
// Python's AsyncExitStack loses the chain when a cancellation arrives during cleanup; here a
// cancellation is only ever one more entry in the list.
//
//   try { co_await stack.close(); }
//   catch (const scopekit::scope_error& e) {
//     log(e.what());  // "3 errors left the scope; first: ..."
//     for (auto& other : e.secondary()) log_exception(other);
//     e.rethrow_primary();                 // handle the primary by its own type
//   }
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace scopekit {

/// Several errors left one scope. The nested exception is the primary one.
class scope_error : public std::runtime_error, public std::nested_exception {
public:
  /// Must be constructed inside a handler of `primary` (its nested exception is the current
  /// exception); use throw_errors(), which does that.
  scope_error(std::exception_ptr primary, std::vector<std::exception_ptr> secondary)
      : std::runtime_error(describe(primary, secondary.size())),
        primary_(std::move(primary)),
        secondary_(std::move(secondary)) {}

  /// The primary error: the body's, else the first cleanup's or child's.
  [[nodiscard]] const std::exception_ptr& primary() const noexcept { return primary_; }
  /// Every other error, in the order they happened. Never empty.
  [[nodiscard]] const std::vector<std::exception_ptr>& secondary() const noexcept {
    return secondary_;
  }
  /// Rethrows the primary error with its own type.
  [[noreturn]] void rethrow_primary() const { std::rethrow_exception(primary_); }

private:
  static std::string describe(const std::exception_ptr& primary, std::size_t others) {
    std::string text = std::to_string(others + 1) + " errors left the scope; first: ";
    try {
      std::rethrow_exception(primary);
    } catch (const std::exception& e) {
      text += e.what();
    } catch (...) {
      text += "an exception not derived from std::exception";
    }
    return text;
  }

  std::exception_ptr primary_;
  std::vector<std::exception_ptr> secondary_;
};

/// Throws `errors` by the rule above: nothing if empty, the only error unchanged, else a
/// scope_error whose nested exception is errors.front().
inline void throw_errors(std::vector<std::exception_ptr> errors) {
  if (errors.empty()) {
    return;
  }
  if (errors.size() == 1) {
    std::rethrow_exception(errors.front());
  }
  std::exception_ptr primary = errors.front();
  errors.erase(errors.begin());
  try {
    std::rethrow_exception(primary);
  } catch (...) {
    // Inside the handler, so std::nested_exception captures the primary as the nested one.
    throw scope_error(std::move(primary), std::move(errors));
  }
}

}  // namespace scopekit
