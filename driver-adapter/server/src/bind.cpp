// bind.cpp - literals to values: numbers, strings, booleans, blobs, uuids, timestamps written as
// numbers or ISO 8601 text, inet addresses, and collections of those.
#include "bind.hpp"

#include "database.hpp"

#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace scopekit::cql::server_detail {
namespace {

std::string_view kind_name(term::kind k) noexcept {
  switch (k) {
    case term::kind::string:
      return "STRING";
    case term::kind::number:
      return "NUMBER";
    case term::kind::word:
      return "BOOLEAN";
    case term::kind::null:
      return "NULL";
    case term::kind::blob:
      return "HEX";
    case term::kind::uuid:
      return "UUID";
    case term::kind::list:
      return "LIST";
    case term::kind::set_or_map:
      return "SET/MAP";
    case term::kind::marker:
      return "MARKER";
  }
  return "VALUE";
}

[[noreturn]] void invalid_literal(const term& t, const data_type& type, std::string_view column) {
  std::string message = "Invalid ";
  message.append(kind_name(t.type))
      .append(" constant (")
      .append(t.text)
      .append(") for \"")
      .append(column)
      .append("\" of type ")
      .append(type.to_string());
  throw statement_error(error_code::invalid, message);
}

template <class Int>
Int integer_of(const term& t, const data_type& type, std::string_view column) {
  Int out{};
  if (t.type != term::kind::number) {
    invalid_literal(t, type, column);
  }
  const auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), out);
  if (ec != std::errc{} || end != t.text.data() + t.text.size()) {
    invalid_literal(t, type, column);
  }
  return out;
}

double floating_of(const term& t, const data_type& type, std::string_view column) {
  if (t.type == term::kind::word) {
    if (t.text == "nan") {
      return std::numeric_limits<double>::quiet_NaN();
    }
    if (t.text == "infinity") {
      return std::numeric_limits<double>::infinity();
    }
    if (t.text == "-infinity") {
      return -std::numeric_limits<double>::infinity();
    }
  }
  if (t.type != term::kind::number) {
    invalid_literal(t, type, column);
  }
  // std::from_chars for double is not in GCC 10's or clang 14's libstdc++ everywhere; strtod
  // reads the same grammar for the digits the lexer lets through.
  char* end = nullptr;
  const double out = std::strtod(t.text.c_str(), &end);
  if (end != t.text.c_str() + t.text.size()) {
    invalid_literal(t, type, column);
  }
  return out;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return c - 'A' + 10;
}

value::blob hex_bytes(std::string_view hex) {
  value::blob out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>(hex_digit(hex[2 * i]) * 16 + hex_digit(hex[2 * i + 1]));
  }
  return out;
}

// 'yyyy-mm-dd[( |T)hh:mm[:ss[.fff]]][Z|(+|-)hh[:]mm]', as Cassandra reads timestamps.
std::optional<timestamp> parse_timestamp(std::string_view s) {
  std::size_t i = 0;
  auto number = [&](std::size_t digits, int& out) {
    if (s.size() - i < digits) {
      return false;
    }
    const auto [end, ec] = std::from_chars(s.data() + i, s.data() + i + digits, out);
    if (ec != std::errc{} || end != s.data() + i + digits) {
      return false;
    }
    i += digits;
    return true;
  };
  auto symbol = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
  if (!number(4, year) || !symbol('-') || !number(2, month) || !symbol('-') || !number(2, day)) {
    return std::nullopt;
  }
  if (symbol(' ') || symbol('T')) {
    if (!number(2, hour) || !symbol(':') || !number(2, minute)) {
      return std::nullopt;
    }
    if (symbol(':')) {
      if (!number(2, second)) {
        return std::nullopt;
      }
      if (symbol('.')) {
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          ++i;
        }
        const std::size_t digits = i - start;
        if (digits == 0 || digits > 3) {
          return std::nullopt;
        }
        std::from_chars(s.data() + start, s.data() + i, millis);
        for (std::size_t k = digits; k < 3; ++k) {
          millis *= 10;
        }
      }
    }
  }
  int offset_minutes = 0;
  if (symbol('Z')) {
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0;
    int om = 0;
    if (!number(2, oh)) {
      return std::nullopt;
    }
    symbol(':');
    if (!number(2, om)) {
      return std::nullopt;
    }
    offset_minutes = sign * (oh * 60 + om);
  }
  if (i != s.size()) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  using std::chrono::milliseconds;
  const auto time = std::chrono::hours{hour} + std::chrono::minutes{minute - offset_minutes} +
                    std::chrono::seconds{second} + milliseconds{millis};
  return timestamp{std::chrono::sys_days{date}.time_since_epoch() +
                   std::chrono::duration_cast<milliseconds>(time)};
}

value literal_value(const term& t, const data_type& type, std::string_view column);

// Sorts by serialized bytes and drops duplicates (the last one wins for a map), as a set or
// map is stored.
value::list sorted_unique(value::list items, const data_type& type) {
  std::vector<std::pair<std::vector<std::byte>, value>> keyed;
  keyed.reserve(items.size());
  for (value& v : items) {
    std::vector<std::byte> bytes = serialize_value(type, v);  // before v is moved
    keyed.emplace_back(std::move(bytes), std::move(v));
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return bytes_less{}(a.first, b.first); });
  value::list out;
  for (std::size_t i = 0; i < keyed.size(); ++i) {
    if (i + 1 < keyed.size() && keyed[i + 1].first == keyed[i].first) {
      continue;
    }
    out.push_back(std::move(keyed[i].second));
  }
  return out;
}

// Sorts map entries by serialized key and keeps the last entry of each key, as a map is stored.
value::map sorted_unique_entries(value::map entries, const data_type& key_type) {
  std::vector<std::pair<std::vector<std::byte>, std::pair<value, value>>> keyed;
  keyed.reserve(entries.size());
  for (auto& entry : entries) {
    std::vector<std::byte> key_bytes = serialize_value(key_type, entry.first);
    keyed.emplace_back(std::move(key_bytes), std::move(entry));
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return bytes_less{}(a.first, b.first); });
  value::map out;
  for (std::size_t i = 0; i < keyed.size(); ++i) {
    if (i + 1 < keyed.size() && keyed[i + 1].first == keyed[i].first) {
      continue;  // a later entry for the same key wins
    }
    out.push_back(std::move(keyed[i].second));
  }
  return out;
}

[[noreturn]] void null_in_collection() {
  throw statement_error(error_code::invalid, "null is not supported inside collections");
}

// An element of a collection literal: any literal but null, as Cassandra has it.
value element_value(const term& t, const data_type& type, std::string_view column) {
  if (t.type == term::kind::null) {
    null_in_collection();
  }
  return literal_value(t, type, column);
}

value collection_value(const term& t, const data_type& type, std::string_view column) {
  const type_id id = type.id();
  if (id == type_id::list) {
    if (t.type != term::kind::list) {
      invalid_literal(t, type, column);
    }
    value::list out;
    for (const term& item : t.items) {
      out.push_back(element_value(item, type.element(), column));
    }
    return out;
  }
  if (t.type != term::kind::set_or_map || (id == type_id::set && t.is_map) ||
      (id == type_id::map && !t.is_map && !t.items.empty())) {
    invalid_literal(t, type, column);
  }
  if (id == type_id::set) {
    value::list out;
    for (const term& item : t.items) {
      out.push_back(element_value(item, type.element(), column));
    }
    return sorted_unique(std::move(out), type.element());
  }
  value::map entries;
  for (std::size_t i = 0; i + 1 < t.items.size(); i += 2) {
    value key = element_value(t.items[i], type.element(), column);
    value mapped = element_value(t.items[i + 1], type.mapped(), column);
    entries.emplace_back(std::move(key), std::move(mapped));
  }
  return sorted_unique_entries(std::move(entries), type.element());
}

// A bound value of `type` (decoded) the way a literal of it is stored: sets sorted and without
// duplicates, maps sorted by key with one entry a key, at every level; a null element is
// refused. Other values are returned as they are.
value normalized(const value& v, const data_type& type) {
  const type_id id = type.id();
  if (id != type_id::list && id != type_id::set && id != type_id::map) {
    return v;
  }
  if (const auto* items = v.get_if<value::list>()) {
    value::list out;
    out.reserve(items->size());
    for (const value& item : *items) {
      if (item.is_null()) {
        null_in_collection();
      }
      out.push_back(normalized(item, type.element()));
    }
    return id == type_id::set ? sorted_unique(std::move(out), type.element()) : std::move(out);
  }
  if (const auto* entries = v.get_if<value::map>()) {
    value::map out;
    out.reserve(entries->size());
    for (const auto& [key, mapped] : *entries) {
      if (key.is_null() || mapped.is_null()) {
        null_in_collection();
      }
      out.emplace_back(normalized(key, type.element()), normalized(mapped, type.mapped()));
    }
    return sorted_unique_entries(std::move(out), type.element());
  }
  return v;  // empty_value: zero bytes
}

value literal_value(const term& t, const data_type& type, std::string_view column) {
  if (t.type == term::kind::marker) {
    throw statement_error(error_code::invalid,
                          "bind markers inside collection literals are not supported by "
                          "scopekit's embedded CQL server; bind the whole collection");
  }
  if (t.type == term::kind::null) {
    return null_value{};
  }
  switch (type.id()) {
    case type_id::ascii:
    case type_id::varchar:
      if (t.type != term::kind::string) {
        invalid_literal(t, type, column);
      }
      return t.text;
    case type_id::bigint:
      return integer_of<std::int64_t>(t, type, column);
    case type_id::int_:
      return integer_of<std::int32_t>(t, type, column);
    case type_id::boolean:
      if (t.type != term::kind::word || (t.text != "true" && t.text != "false")) {
        invalid_literal(t, type, column);
      }
      return t.text == "true";
    case type_id::double_:
      return floating_of(t, type, column);
    case type_id::float_: {
      const double d = floating_of(t, type, column);
      if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max()) {
        invalid_literal(t, type, column);
      }
      return static_cast<float>(d);
    }
    case type_id::timestamp:
      if (t.type == term::kind::number) {
        return timestamp{std::chrono::milliseconds{integer_of<std::int64_t>(t, type, column)}};
      }
      if (t.type == term::kind::string) {
        if (auto ts = parse_timestamp(t.text)) {
          return *ts;
        }
      }
      invalid_literal(t, type, column);
    case type_id::uuid:
    case type_id::timeuuid: {
      if (t.type != term::kind::uuid) {
        invalid_literal(t, type, column);
      }
      std::string hex = t.text;
      std::erase(hex, '-');
      const value::blob bytes = hex_bytes(hex);
      uuid out;
      std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
      return out;
    }
    case type_id::blob:
      if (t.type != term::kind::blob || t.text.size() % 2 != 0) {
        invalid_literal(t, type, column);
      }
      return hex_bytes(t.text);
    case type_id::inet: {
      if (t.type != term::kind::string) {
        invalid_literal(t, type, column);
      }
      inet_address out;
      if (::inet_pton(AF_INET, t.text.c_str(), out.bytes.data()) == 1) {
        out.size = 4;
        return out;
      }
      if (::inet_pton(AF_INET6, t.text.c_str(), out.bytes.data()) == 1) {
        out.size = 16;
        return out;
      }
      invalid_literal(t, type, column);
    }
    case type_id::list:
    case type_id::set:
    case type_id::map:
      return collection_value(t, type, column);
    default:
      break;
  }
  std::string message = "literals of type ";
  message.append(type.to_string()).append(" are not supported by scopekit's embedded CQL server");
  throw statement_error(error_code::invalid, message);
}

}  // namespace

bound_value bind_term(const term& t, const data_type& type, std::span<const query_value> values,
                      std::string_view column) {
  bound_value out;
  if (t.type == term::kind::marker) {
    const query_value& v = values[t.marker];
    if (v.is_not_set()) {
      out.state = bound_value::kind::unset;
      return out;
    }
    if (v.is_null()) {
      return out;
    }
    value decoded;
    try {
      decoded = decode_value(type, v.view(), column);
    } catch (const protocol_error& e) {
      std::string message = "Invalid value for column ";
      message.append(column).append(" of type ").append(type.to_string()).append(": ");
      message.append(e.what());
      throw statement_error(error_code::invalid, message);
    }
    out.state = bound_value::kind::set;
    if (decoded.holds<value::list>() || decoded.holds<value::map>()) {
      out.bytes = serialize_value(type, normalized(decoded, type));
    } else {
      out.bytes = v.bytes();
    }
    return out;
  }
  try {
    // Serializing checks what the lexer cannot (ASCII, a timeuuid's version), in collection
    // elements too: std::invalid_argument from either call is the client's mistake.
    const value v = literal_value(t, type, column);
    if (v.is_null()) {
      return out;
    }
    out.bytes = serialize_value(type, v);
  } catch (const std::invalid_argument& e) {
    std::string message = "Invalid value for column ";
    message.append(column).append(": ").append(e.what());
    throw statement_error(error_code::invalid, message);
  }
  out.state = bound_value::kind::set;
  return out;
}

}  // namespace scopekit::cql::server_detail
