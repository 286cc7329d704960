// exceptions.cpp - ERROR responses to typed exceptions.
#include "scopekit/cql/client/exceptions.hpp"

#include <array>
#include <cstdio>
#include <string>
#include <utility>

namespace scopekit::cql {
namespace {

std::string describe(const error_response& e) {
  std::array<char, 16> code{};
  std::snprintf(code.data(), code.size(), "0x%04X", static_cast<unsigned>(e.code));
  std::string out = e.message;
  out.append(" (error ").append(code.data()).append(")");
  return out;
}

}  // namespace

operation_timed_out::operation_timed_out(std::string node, std::chrono::milliseconds timeout,
                                         std::string_view request)
    : timeout_error("no answer from " + node + " within " + std::to_string(timeout.count()) +
                    " ms to " + std::string(request)),
      node_(std::move(node)),
      timeout_(timeout) {}

std::string detail::describe_statement(std::string_view op, std::string_view statement) {
  constexpr std::size_t longest = 200;
  std::string out{op};
  out.append(" \"").append(statement.substr(0, longest));
  out.append(statement.size() > longest ? "...\"" : "\"");
  return out;
}

server_error::server_error(error_response e)
    : std::runtime_error(describe(e)), error_(std::move(e)) {}

std::exception_ptr make_server_error(const error_response& e) {
  try {
    throw_server_error(e);
  } catch (...) {
    return std::current_exception();
  }
}

void throw_server_error(const error_response& e) {
  switch (e.code) {
    case error_code::syntax_error:
      throw syntax_exception(e);
    case error_code::invalid:
    case error_code::config_error:
    case error_code::unauthorized:
      throw invalid_request(e);
    case error_code::already_exists:
      throw already_exists(e);
    case error_code::unprepared:
      throw unprepared_exception(e);
    case error_code::unavailable:
      throw unavailable_exception(e);
    case error_code::write_timeout:
    case error_code::read_timeout:
    case error_code::read_failure:
    case error_code::write_failure:
      throw request_timeout_exception(e);
    case error_code::overloaded:
    case error_code::is_bootstrapping:
      throw overloaded_exception(e);
    default:
      throw server_error(e);
  }
}

}  // namespace scopekit::cql
