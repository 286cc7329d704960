// row.cpp - column lookup and the errors of row::get.
#include "scopekit/cql/client/row.hpp"

#include <algorithm>
#include <string>

namespace scopekit::cql {

const column_spec& row::column(std::size_t i) const {
  const auto& columns = page_->metadata().columns;
  if (i >= columns.size()) {
    throw column_error("column index " + std::to_string(i) + " is out of range (the row has " +
                       std::to_string(columns.size()) + " described columns)");
  }
  return columns[i];
}

std::optional<std::size_t> row::find(std::string_view name) const noexcept {
  const auto& columns = page_->metadata().columns;
  const auto it = std::find_if(columns.begin(), columns.end(),
                               [&](const column_spec& c) { return c.name == name; });
  if (it == columns.end()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - columns.begin());
}

std::size_t row::index_of(std::string_view name) const {
  if (const auto i = find(name)) {
    return *i;
  }
  std::string message = "no column named '";
  message.append(name).append("' in the row");
  throw column_error(message);
}

void row::out_of_range(std::size_t i) const {
  throw column_error("column index " + std::to_string(i) + " is out of range (the row has " +
                     std::to_string(size()) + " columns)");
}

void row::wrong_type(std::size_t i, const char* wanted) const {
  const column_spec& c = column(i);
  std::string message = "column '";
  message.append(c.name)
      .append("' is of type ")
      .append(c.type.to_string())
      .append(" and cannot be read as ")
      .append(wanted);
  throw column_error(message);
}

void row::unexpected(std::size_t i, const char* what, const char* wanted) const {
  std::string message = "column '";
  message.append(column(i).name)
      .append("' is ")
      .append(what)
      .append("; read it as ")
      .append(wanted);
  if (std::string_view(what) == "null") {
    message.append("<T>");
  }
  throw column_error(message);
}

}  // namespace scopekit::cql
