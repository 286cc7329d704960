// scopekit/cql/client/row.hpp - typed access to one row of a page of results.
//
// A row is a view: a page (rows_result) and an index; it must not outlive the page, and a
// row_stream's row lives until the next call to next(). get<T>(column) reads a cell by index or
// by name as T, checking that T fits the column's CQL type; null and empty are distinct:
//
//   T                          CQL types          null        empty (0 bytes)
//   bool                       boolean            error       error
//   std::int32_t               int                error       error
//   std::int64_t               bigint, counter    error       error
//   float / double             float / double     error       error
//   timestamp                  timestamp          error       error
//   uuid                       uuid, timeuuid     error       error
//   inet_address               inet               error       error
//   std::string(_view)         ascii, text        error       ""
//   std::vector<std::byte>,
//   std::span<const std::byte> blob               error       {}
//   value                      any                null_value  empty_value
//   std::optional<T>           as T               nullopt     as T
//
// A wrong type, a missing column and an unexpected null or empty cell throw column_error naming
// the column; invalid bytes throw protocol_error. Views (string_view, span) point into the page.
//
//   while (auto row = co_await rows.next()) {
//     std::int64_t id = row->get<std::int64_t>("id");
//     std::optional<std::string> name = row->get<std::optional<std::string>>(1);
//   }
#pragma once

#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/cql/protocol/big_endian.hpp"
#include "scopekit/cql/protocol/rows.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace scopekit::cql {

class row;

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// The C++ types row::get reads (std::optional of any of them too).
template <class T>
concept row_scalar =
    std::is_same_v<T, bool> || std::is_same_v<T, std::int32_t> ||
    std::is_same_v<T, std::int64_t> || std::is_same_v<T, float> || std::is_same_v<T, double> ||
    std::is_same_v<T, timestamp> || std::is_same_v<T, uuid> || std::is_same_v<T, inet_address> ||
    std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
    std::is_same_v<T, std::vector<std::byte>> || std::is_same_v<T, std::span<const std::byte>> ||
    std::is_same_v<T, value>;

template <class T>
struct row_value_traits {
  static constexpr bool readable = row_scalar<T>;
};
template <class T>
struct row_value_traits<std::optional<T>> {
  static constexpr bool readable = row_scalar<T>;
};
}  // namespace detail

/// A type row::get can return.
template <class T>
concept row_value = detail::row_value_traits<T>::readable;

/// One row of a page: a view into it.
class row {
public:
  row(const rows_result& page, std::size_t index) noexcept : page_(&page), index_(index) {}

  /// Columns in the row.
  std::size_t size() const noexcept { return page_->column_count(); }
  /// The row's index in its page.
  std::size_t index() const noexcept { return index_; }
  /// The spec of column `i` (name, type, table); column_error if out of range.
  const column_spec& column(std::size_t i) const;
  /// The index of the column named `name`, or nullopt.
  std::optional<std::size_t> find(std::string_view name) const noexcept;
  /// The cell as bytes; column_error if out of range.
  value_view cell(std::size_t i) const {
    if (i >= size()) [[unlikely]] {
      out_of_range(i);
    }
    return page_->cell(index_, i);
  }
  bool is_null(std::size_t i) const { return cell(i).is_null(); }
  bool is_null(std::string_view name) const { return cell(index_of(name)).is_null(); }

  /// Cell `i` as T (see the table at the top of this header).
  template <row_value T>
  T get(std::size_t i) const;
  /// The cell of the column named `name` as T; column_error if there is none.
  template <row_value T>
  T get(std::string_view name) const {
    return get<T>(index_of(name));
  }

private:
  std::size_t index_of(std::string_view name) const;
  [[noreturn]] void out_of_range(std::size_t i) const;
  /// The spec of column i, which cell(i) has checked to exist in the row.
  const column_spec& spec(std::size_t i) const {
    const auto& columns = page_->metadata().columns;
    if (i >= columns.size()) [[unlikely]] {
      return column(i);  // throws: a page without column specs
    }
    return columns[i];
  }
  [[noreturn]] void wrong_type(std::size_t i, const char* wanted) const;
  /// column_error unless column i's type is `a` or `b`; `wanted` names T.
  void check_type(const column_spec& c, std::size_t i, type_id a, type_id b,
                  const char* wanted) const {
    if (c.type.id() != a && c.type.id() != b) [[unlikely]] {
      wrong_type(i, wanted);
    }
  }
  [[noreturn]] void unexpected(std::size_t i, const char* what, const char* wanted) const;

  template <class T>
  T read(std::size_t i, const value_view& v) const;
  /// column_error unless T can read column i.
  template <class T>
  void check_type(std::size_t i) const;

  const rows_result* page_;
  std::size_t index_;
};

template <class T>
void row::check_type(std::size_t i) const {
  const column_spec& c = spec(i);
  if constexpr (std::is_same_v<T, bool>) {
    check_type(c, i, type_id::boolean, type_id::boolean, "bool");
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    check_type(c, i, type_id::int_, type_id::int_, "std::int32_t");
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    check_type(c, i, type_id::bigint, type_id::counter, "std::int64_t");
  } else if constexpr (std::is_same_v<T, float>) {
    check_type(c, i, type_id::float_, type_id::float_, "float");
  } else if constexpr (std::is_same_v<T, double>) {
    check_type(c, i, type_id::double_, type_id::double_, "double");
  } else if constexpr (std::is_same_v<T, timestamp>) {
    check_type(c, i, type_id::timestamp, type_id::timestamp, "scopekit::cql::timestamp");
  } else if constexpr (std::is_same_v<T, uuid>) {
    check_type(c, i, type_id::uuid, type_id::timeuuid, "scopekit::cql::uuid");
  } else if constexpr (std::is_same_v<T, inet_address>) {
    check_type(c, i, type_id::inet, type_id::inet, "scopekit::cql::inet_address");
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    check_type(c, i, type_id::varchar, type_id::ascii, "a string");
  } else if constexpr (std::is_same_v<T, std::vector<std::byte>> ||
                       std::is_same_v<T, std::span<const std::byte>>) {
    check_type(c, i, type_id::blob, type_id::blob, "bytes");
  }  // value reads any type
}

template <class T>
T row::read(std::size_t i, const value_view& v) const {
  const column_spec& c = spec(i);
  const std::string_view name = c.name;
  if constexpr (std::is_same_v<T, value>) {
    return decode_value(c.type, v, name);
  } else {
    check_type<T>(i);
    if (v.is_null()) [[unlikely]] {
      unexpected(i, "null", "std::optional");
    }
    constexpr bool fixed_size = !std::is_same_v<T, std::string> &&
                                !std::is_same_v<T, std::string_view> &&
                                !std::is_same_v<T, std::vector<std::byte>> &&
                                !std::is_same_v<T, std::span<const std::byte>>;
    if constexpr (fixed_size) {
      if (v.is_empty()) [[unlikely]] {
        unexpected(i, "empty", "scopekit::cql::value");
      }
    }
    if constexpr (std::is_same_v<T, bool>) {
      return decode_boolean(v, name);
    } else if constexpr (std::is_same_v<T, std::int32_t>) {
      return decode_int(v, name);
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      if (v.bytes().size() == 8) [[likely]] {  // inline: the hottest decoder of a scan
        return load_be<std::int64_t>(v.bytes());
      }
      return decode_bigint(v, name);  // throws, naming the column
    } else if constexpr (std::is_same_v<T, float>) {
      return decode_float(v, name);
    } else if constexpr (std::is_same_v<T, double>) {
      return decode_double(v, name);
    } else if constexpr (std::is_same_v<T, timestamp>) {
      return decode_timestamp(v, name);
    } else if constexpr (std::is_same_v<T, uuid>) {
      return decode_uuid(v, name);
    } else if constexpr (std::is_same_v<T, inet_address>) {
      return decode_inet(v, name);
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
      const std::string_view text =
          c.type.id() == type_id::ascii ? decode_ascii(v, name) : decode_text(v, name);
      return T(text);
    } else {
      static_assert(std::is_same_v<T, std::vector<std::byte>> ||
                    std::is_same_v<T, std::span<const std::byte>>);
      const std::span<const std::byte> bytes = decode_blob(v, name);
      return T(bytes.begin(), bytes.end());
    }
  }
}

template <row_value T>
T row::get(std::size_t i) const {
  const value_view v = cell(i);
  if constexpr (detail::is_optional<T>::value) {
    if (v.is_null()) {
      check_type<typename T::value_type>(i);  // a wrong type is an error, null or not
      return std::nullopt;
    }
    return read<typename T::value_type>(i, v);
  } else {
    return read<T>(i, v);
  }
}

}  // namespace scopekit::cql
