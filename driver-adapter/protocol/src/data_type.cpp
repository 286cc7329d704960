// Type descriptors: the [option] encoding of spec §4.2.5.2 and CQL spelling.
#include "scopekit/cql/protocol/data_type.hpp"

#include "format.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace scopekit::cql {

data_type data_type::list(data_type element) {
  data_type t{type_id::list};
  t.parameters_.push_back(std::move(element));
  return t;
}

data_type data_type::set(data_type element) {
  data_type t{type_id::set};
  t.parameters_.push_back(std::move(element));
  return t;
}

data_type data_type::map(data_type key, data_type value) {
  data_type t{type_id::map};
  t.parameters_.reserve(2);
  t.parameters_.push_back(std::move(key));
  t.parameters_.push_back(std::move(value));
  return t;
}

data_type data_type::tuple(std::vector<data_type> elements) {
  data_type t{type_id::tuple};
  t.parameters_ = std::move(elements);
  return t;
}

data_type data_type::udt(std::string keyspace, std::string name,
                         std::vector<std::string> field_names, std::vector<data_type> field_types) {
  data_type t{type_id::udt};
  t.keyspace_ = std::move(keyspace);
  t.name_ = std::move(name);
  t.field_names_ = std::move(field_names);
  t.parameters_ = std::move(field_types);
  return t;
}

data_type data_type::custom(std::string class_name) {
  data_type t{type_id::custom};
  t.name_ = std::move(class_name);
  return t;
}

namespace {
bool native_id(std::uint16_t id) noexcept {
  return id >= static_cast<std::uint16_t>(type_id::ascii) &&
         id <= static_cast<std::uint16_t>(type_id::tinyint) && id != 0x000A;
}
}  // namespace

bool data_type::is_native() const noexcept {
  return native_id(static_cast<std::uint16_t>(id_));
}

std::string_view to_string(type_id id) noexcept {
  switch (id) {
    case type_id::custom:
      return "custom";
    case type_id::ascii:
      return "ascii";
    case type_id::bigint:
      return "bigint";
    case type_id::blob:
      return "blob";
    case type_id::boolean:
      return "boolean";
    case type_id::counter:
      return "counter";
    case type_id::decimal:
      return "decimal";
    case type_id::double_:
      return "double";
    case type_id::float_:
      return "float";
    case type_id::int_:
      return "int";
    case type_id::timestamp:
      return "timestamp";
    case type_id::uuid:
      return "uuid";
    case type_id::varchar:
      return "varchar";
    case type_id::varint:
      return "varint";
    case type_id::timeuuid:
      return "timeuuid";
    case type_id::inet:
      return "inet";
    case type_id::date:
      return "date";
    case type_id::time:
      return "time";
    case type_id::smallint:
      return "smallint";
    case type_id::tinyint:
      return "tinyint";
    case type_id::list:
      return "list";
    case type_id::map:
      return "map";
    case type_id::set:
      return "set";
    case type_id::udt:
      return "udt";
    case type_id::tuple:
      return "tuple";
  }
  return "unknown type";
}

std::string data_type::to_string() const {
  switch (id_) {
    case type_id::custom:
      return "'" + name_ + "'";
    case type_id::udt:
      return keyspace_ + "." + name_;
    case type_id::list:
    case type_id::set:
    case type_id::map:
    case type_id::tuple: {
      std::string out(cql::to_string(id_));
      out += '<';
      for (std::size_t i = 0; i < parameters_.size(); ++i) {
        if (i != 0) {
          out += ", ";
        }
        out += parameters_[i].to_string();
      }
      out += '>';
      return out;
    }
    default:
      return std::string(cql::to_string(id_));
  }
}

void write_data_type(byte_writer& out, const data_type& type) {
  out.write_short(static_cast<std::uint16_t>(type.id()));
  switch (type.id()) {
    case type_id::custom:
      out.write_string(type.name());
      break;
    case type_id::list:
    case type_id::set:
    case type_id::map:
      for (const data_type& p : type.parameters()) {
        write_data_type(out, p);
      }
      break;
    case type_id::udt: {
      out.write_string(type.keyspace());
      out.write_string(type.name());
      const auto& names = type.field_names();
      const auto& types = type.parameters();
      if (names.size() != types.size() || names.size() > 0xFFFFU) {
        throw std::length_error(
            "scopekit::cql: a udt needs one name per field type and at most "
            "65535 fields");
      }
      out.write_short(static_cast<std::uint16_t>(names.size()));
      for (std::size_t i = 0; i < names.size(); ++i) {
        out.write_string(names[i]);
        write_data_type(out, types[i]);
      }
      break;
    }
    case type_id::tuple: {
      const auto& types = type.parameters();
      if (types.size() > 0xFFFFU) {
        throw std::length_error("scopekit::cql: a tuple has at most 65535 elements");
      }
      out.write_short(static_cast<std::uint16_t>(types.size()));
      for (const data_type& p : types) {
        write_data_type(out, p);
      }
      break;
    }
    default:
      break;
  }
}

namespace {

constexpr std::size_t min_option_size = 2;

data_type read_type(byte_reader& in, const field_path& field, int depth) {
  const std::size_t start = in.offset();
  const std::uint16_t raw = in.read_short(field);
  if (native_id(raw)) {
    return data_type{static_cast<type_id>(raw)};
  }
  const auto id = static_cast<type_id>(raw);
  const bool composite = id == type_id::list || id == type_id::set || id == type_id::map ||
                         id == type_id::udt || id == type_id::tuple;
  if (composite && depth >= max_type_depth) {
    byte_reader::fail(field, start,
                      "type nested deeper than " + std::to_string(max_type_depth) + " levels" +
                          detail::at(start));
  }
  switch (id) {
    case type_id::custom:
      return data_type::custom(std::string(in.read_string(field)));
    case type_id::list:
      return data_type::list(read_type(in, field_path(field, "element"), depth + 1));
    case type_id::set:
      return data_type::set(read_type(in, field_path(field, "element"), depth + 1));
    case type_id::map: {
      data_type key = read_type(in, field_path(field, "key"), depth + 1);
      data_type value = read_type(in, field_path(field, "value"), depth + 1);
      return data_type::map(std::move(key), std::move(value));
    }
    case type_id::udt: {
      std::string keyspace(in.read_string(field_path(field, "keyspace")));
      std::string name(in.read_string(field_path(field, "name")));
      const field_path fields(field, "fields");
      const std::size_t count = in.read_short_count(fields, 2 + min_option_size);
      std::vector<std::string> names;
      std::vector<data_type> types;
      names.reserve(count);
      types.reserve(count);
      for (std::size_t i = 0; i < count; ++i) {
        const field_path f(fields, i);
        names.emplace_back(in.read_string(field_path(f, "name")));
        types.push_back(read_type(in, field_path(f, "type"), depth + 1));
      }
      return data_type::udt(std::move(keyspace), std::move(name), std::move(names),
                            std::move(types));
    }
    case type_id::tuple: {
      const field_path elements(field, "elements");
      const std::size_t count = in.read_short_count(elements, min_option_size);
      std::vector<data_type> types;
      types.reserve(count);
      for (std::size_t i = 0; i < count; ++i) {
        types.push_back(read_type(in, field_path(elements, i), depth + 1));
      }
      return data_type::tuple(std::move(types));
    }
    default:
      byte_reader::fail(field, start, "unknown type id " + detail::hex(raw, 4) + detail::at(start));
  }
}

}  // namespace

data_type read_data_type(byte_reader& in, const field_path& field) {
  return read_type(in, field, 0);
}

}  // namespace scopekit::cql
