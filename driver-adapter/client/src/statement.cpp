// statement.cpp - C++ values to bound [value]s.
#include "scopekit/cql/client/statement.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace scopekit::cql {
namespace detail {
namespace {

// The type a value's alternative maps to in a statement (no marker type known).
data_type default_type(const value& v, std::size_t position) {
  if (v.holds<bool>()) {
    return type_id::boolean;
  }
  if (v.holds<std::int32_t>()) {
    return type_id::int_;
  }
  if (v.holds<std::int64_t>()) {
    return type_id::bigint;
  }
  if (v.holds<float>()) {
    return type_id::float_;
  }
  if (v.holds<double>()) {
    return type_id::double_;
  }
  if (v.holds<timestamp>()) {
    return type_id::timestamp;
  }
  if (v.holds<uuid>()) {
    return type_id::uuid;
  }
  if (v.holds<inet_address>()) {
    return type_id::inet;
  }
  if (v.holds<std::string>()) {
    return type_id::varchar;
  }
  if (v.holds<value::blob>()) {
    return type_id::blob;
  }
  throw std::invalid_argument(
      "scopekit::cql: value " + std::to_string(position) +
      " has no CQL type of its own (a collection or an empty value); bind it with "
      "query_value::of(type, value), or prepare the statement");
}

// Integers and floating-point numbers converted to the marker's numeric type.
value adapt(const data_type& type, const value& v, std::size_t position) {
  auto out_of_range = [&] {
    return std::invalid_argument("scopekit::cql: value " + std::to_string(position) +
                                 " is out of range for " + type.to_string());
  };
  std::optional<std::int64_t> integer;
  if (const auto* i = v.get_if<std::int32_t>()) {
    integer = *i;
  } else if (const auto* l = v.get_if<std::int64_t>()) {
    integer = *l;
  }
  switch (type.id()) {
    case type_id::int_:
      if (integer) {
        if (*integer < std::numeric_limits<std::int32_t>::min() ||
            *integer > std::numeric_limits<std::int32_t>::max()) {
          throw out_of_range();
        }
        return static_cast<std::int32_t>(*integer);
      }
      break;
    case type_id::bigint:
    case type_id::counter:
      if (integer) {
        return *integer;
      }
      break;
    case type_id::timestamp:
      if (integer) {
        return timestamp{std::chrono::milliseconds{*integer}};
      }
      break;
    case type_id::double_:
      if (const auto* f = v.get_if<float>()) {
        return static_cast<double>(*f);
      }
      if (integer) {
        return static_cast<double>(*integer);
      }
      break;
    case type_id::float_:
      if (const auto* d = v.get_if<double>()) {
        if (std::isfinite(*d) && std::fabs(*d) > std::numeric_limits<float>::max()) {
          throw out_of_range();
        }
        return static_cast<float>(*d);
      }
      break;
    default:
      break;
  }
  return v;
}

}  // namespace

query_value bind_value(const data_type* type, const value& v, std::size_t position) {
  if (v.is_null()) {
    return query_value::null();
  }
  try {
    if (type == nullptr) {
      return query_value::of(default_type(v, position), v);
    }
    return query_value::of(*type, adapt(*type, v, position));
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind("scopekit::cql: value ", 0) == 0) {
      throw;
    }
    throw std::invalid_argument("scopekit::cql: value " + std::to_string(position) + ": " + what);
  }
}

}  // namespace detail

prepared_statement::prepared_statement(std::string query, prepared_result result)
    : data_(std::make_shared<const data>(data{std::move(query), std::move(result)})) {}

}  // namespace scopekit::cql
