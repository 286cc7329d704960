// protocol_error, field_path formatting and the names of the server's error codes.
#include "scopekit/cql/protocol/error.hpp"

#include <string>

namespace scopekit::cql {

void field_path::append_to(std::string& out) const {
  if (parent_ != nullptr) {
    parent_->append_to(out);
  }
  if (!name_.empty()) {
    if (!out.empty()) {
      out += '.';
    }
    out += name_;
  }
  if (has_index_) {
    out += '[';
    out += std::to_string(index_);
    out += ']';
  }
}

std::string field_path::str() const {
  std::string out;
  append_to(out);
  return out;
}

namespace {
std::string join(std::string_view field, std::string_view detail) {
  std::string out;
  out.reserve(field.size() + 2 + detail.size());
  out += field;
  out += ": ";
  out += detail;
  return out;
}
}  // namespace

protocol_error::protocol_error(std::string_view field, std::size_t offset, std::string_view detail)
    : std::runtime_error(join(field, detail)), field_size_(field.size()), offset_(offset) {}

std::string_view to_string(error_code code) noexcept {
  switch (code) {
    case error_code::server_error:
      return "Server error";
    case error_code::protocol_error:
      return "Protocol error";
    case error_code::authentication_error:
      return "Authentication error";
    case error_code::unavailable:
      return "Unavailable";
    case error_code::overloaded:
      return "Overloaded";
    case error_code::is_bootstrapping:
      return "Is_bootstrapping";
    case error_code::truncate_error:
      return "Truncate_error";
    case error_code::write_timeout:
      return "Write_timeout";
    case error_code::read_timeout:
      return "Read_timeout";
    case error_code::read_failure:
      return "Read_failure";
    case error_code::function_failure:
      return "Function_failure";
    case error_code::write_failure:
      return "Write_failure";
    case error_code::syntax_error:
      return "Syntax_error";
    case error_code::unauthorized:
      return "Unauthorized";
    case error_code::invalid:
      return "Invalid";
    case error_code::config_error:
      return "Config_error";
    case error_code::already_exists:
      return "Already_exists";
    case error_code::unprepared:
      return "Unprepared";
  }
  return "unknown error code";
}

}  // namespace scopekit::cql
