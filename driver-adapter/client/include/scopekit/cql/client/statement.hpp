// scopekit/cql/client/statement.hpp - what a session executes: a statement (text + values, sent as
// QUERY), a prepared statement (PREPARE once, EXECUTE many), and the conversion of C++ values
// to bound [value]s.
//
// A value is converted by its C++ type for a statement (std::int32_t -> int, std::int64_t ->
// bigint, strings -> text, double, float, bool, bytes -> blob, uuid, inet_address, timestamp,
// std::nullopt / an empty std::optional -> null), and by the bind marker's type for a prepared
// statement, where integers and floating-point numbers are widened or narrowed (range-checked)
// to the marker's type. A query_value passes through as is (for collections in a statement,
// build it with query_value::of). Conversion errors throw std::invalid_argument naming the
// value's position. Nothing here is ever mutated by a session.
//
//   scopekit::cql::statement s{"SELECT * FROM ks.t WHERE id = ?", {scopekit::cql::bind(42)}};
//   auto insert = co_await session.prepare("INSERT INTO ks.t (id, name) VALUES (?, ?)");
//   co_await session.execute(insert.bind(7, "seven"));
#pragma once

#include "scopekit/cql/protocol/consistency.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace scopekit::cql {

/// A statement sent as QUERY, with values bound by position.
struct statement {
  // Not an aggregate on purpose: GCC 12 destroys an aggregate temporary twice when it is an
  // argument inside a co_await expression (`co_await s.execute(statement{...})`).
  statement() = default;
  statement(std::string q, std::vector<query_value> v = {},
            cql::consistency c = cql::consistency::local_one)
      : query(std::move(q)), values(std::move(v)), consistency(c) {}

  std::string query;
  std::vector<query_value> values;
  cql::consistency consistency = cql::consistency::local_one;
};

namespace detail {

/// `v` as the bytes of a value of `type`, or of the type its alternative maps to when `type` is
/// null. std::invalid_argument naming `position` if it does not fit.
query_value bind_value(const data_type* type, const value& v, std::size_t position);

template <class T>
value to_value(const T& x, std::size_t position) {
  if constexpr (std::is_same_v<T, value> || std::is_same_v<T, bool> ||
                std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return x;  // bool before the integers
  } else if constexpr (std::is_same_v<T, std::nullopt_t> || std::is_same_v<T, null_value>) {
    return null_value{};
  } else if constexpr (std::is_integral_v<T> && sizeof(T) <= 4 &&
                       (std::is_signed_v<T> || sizeof(T) < 4)) {
    return static_cast<std::int32_t>(x);
  } else if constexpr (std::is_integral_v<T>) {
    // An unsigned 32-bit value may not fit an int (it is a bigint), a 64-bit one not a bigint.
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (x > static_cast<T>(std::numeric_limits<std::int64_t>::max())) {
        throw std::invalid_argument("scopekit::cql: value " + std::to_string(position) +
                                    " is out of range for bigint");
      }
    }
    return static_cast<std::int64_t>(x);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string(std::string_view(x));
  } else if constexpr (std::is_same_v<T, std::vector<std::byte>> || std::is_same_v<T, uuid> ||
                       std::is_same_v<T, inet_address> || std::is_same_v<T, timestamp> ||
                       std::is_same_v<T, value::list> || std::is_same_v<T, value::map>) {
    return value{x};
  } else {
    static_assert(sizeof(T) == 0, "scopekit::cql: no CQL value for this C++ type");
  }
}

template <class T>
query_value bind_one(const data_type* type, const T& x, std::size_t position) {
  if constexpr (std::is_same_v<T, query_value>) {
    return x;
  } else if constexpr (requires { x.has_value(); *x; typename T::value_type; }) {
    if (!x.has_value()) {
      return query_value::null();
    }
    return bind_one(type, *x, position);
  } else {
    return bind_value(type, to_value(x, position), position);
  }
}

}  // namespace detail

/// `x` converted by its C++ type (see the header comment), for statement::values.
template <class T>
query_value bind(const T& x) {
  return detail::bind_one(nullptr, x, 0);
}

/// A statement the server has prepared, bound to values with bind().
class prepared_statement;

/// A prepared statement with its values, sent as EXECUTE.
struct bound_statement;

class prepared_statement {
public:
  /// What PREPARE answered, for `query`.
  prepared_statement(std::string query, prepared_result result);

  const std::string& query() const noexcept { return data_->query; }
  const std::vector<std::byte>& id() const noexcept { return data_->result.id; }
  /// The bind markers: names and types.
  const prepared_metadata& variables() const noexcept { return data_->result.variables; }
  /// The columns of the rows it returns (none for a statement without rows).
  const result_metadata& result_columns() const noexcept { return data_->result.result; }

  /// Binds one value per marker, converted to the marker's type. std::invalid_argument for a
  /// wrong count or a value that does not convert.
  template <class... Args>
  bound_statement bind(const Args&... args) const;

private:
  struct data {
    std::string query;
    prepared_result result;
  };
  std::shared_ptr<const data> data_;
};

struct bound_statement {
  // Not an aggregate on purpose (see statement).
  bound_statement(prepared_statement p, std::vector<query_value> v,
                  cql::consistency c = cql::consistency::local_one)
      : prepared(std::move(p)), values(std::move(v)), consistency(c) {}

  prepared_statement prepared;
  std::vector<query_value> values;
  cql::consistency consistency = cql::consistency::local_one;
};

template <class... Args>
bound_statement prepared_statement::bind(const Args&... args) const {
  const auto& markers = variables().columns;
  if (markers.size() != sizeof...(Args)) {
    throw std::invalid_argument("scopekit::cql: the statement has " +
                                std::to_string(markers.size()) + " bind markers, " +
                                std::to_string(sizeof...(Args)) + " values given");
  }
  bound_statement out{*this, {}, cql::consistency::local_one};
  out.values.reserve(sizeof...(Args));
  std::size_t i = 0;
  ((out.values.push_back(detail::bind_one(&markers[i].type, args, i)), ++i), ...);
  return out;
}

}  // namespace scopekit::cql
