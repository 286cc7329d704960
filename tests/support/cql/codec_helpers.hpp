// tests/support/cql/codec_helpers.hpp - small helpers shared by the codec tests.
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/error.hpp"

#include <gtest/gtest.h>

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace scopekit::cql::test {

/// The bytes that `write` appends through a byte_writer to an empty buffer.
template <std::invocable<byte_writer&> F>
std::vector<std::byte> written(F&& write) {
  std::vector<std::byte> out;
  byte_writer w(out);
  std::forward<F>(write)(w);
  return out;
}

/// Runs `f` and returns the protocol_error it throws; records a failure (and returns an error
/// with an empty field) if it throws nothing or something else.
template <class F>
protocol_error protocol_error_from(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const protocol_error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected protocol_error, got another exception: " << e.what();
    return protocol_error("", 0, "wrong exception");
  }
  ADD_FAILURE() << "expected protocol_error, nothing was thrown";
  return protocol_error("", 0, "nothing thrown");
}

}  // namespace scopekit::cql::test
