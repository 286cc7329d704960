// scopekit/cql/protocol/data_type.hpp - CQL column types as the [option] descriptors of spec
// §4.2.5.2: native types, list/set/map with their element types, tuple, UDT and custom.
//
// read_data_type() decodes any v4 type descriptor, nested to at most max_type_depth levels
// (a deeper one is a protocol_error, so hostile input cannot exhaust the stack); every count is
// checked against the bytes left before anything is reserved. A data_type is a small value:
// copyable, comparable, and printable as CQL ("map<text, list<int>>").
//
//   using scopekit::cql::data_type;
//   using scopekit::cql::type_id;
//   data_type tags = data_type::set(type_id::varchar);
//   data_type scores = data_type::map(type_id::varchar, data_type::list(type_id::int_));
//   scores.to_string();  // "map<varchar, list<int>>"
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scopekit::cql {

/// The [option] ids of spec §4.2.5.2. Names that are C++ keywords end in '_'.
enum class type_id : std::uint16_t {
  custom = 0x0000,
  ascii = 0x0001,
  bigint = 0x0002,
  blob = 0x0003,
  boolean = 0x0004,
  counter = 0x0005,
  decimal = 0x0006,
  double_ = 0x0007,
  float_ = 0x0008,
  int_ = 0x0009,
  timestamp = 0x000B,
  uuid = 0x000C,
  varchar = 0x000D,
  text = varchar,
  varint = 0x000E,
  timeuuid = 0x000F,
  inet = 0x0010,
  date = 0x0011,
  time = 0x0012,
  smallint = 0x0013,
  tinyint = 0x0014,
  list = 0x0020,
  map = 0x0021,
  set = 0x0022,
  udt = 0x0030,
  tuple = 0x0031,
};

/// The deepest nesting read_data_type() accepts (list<list<...>> counts one per level).
inline constexpr int max_type_depth = 32;

/// A CQL type: an id plus, for the composite ids, its parameters.
class data_type {
public:
  /// A native type (ids 0x0001-0x0014). Implicit, so that a type_id can be passed where a
  /// data_type is expected. Precondition: `id` is native (composites use the factories).
  data_type(type_id id) noexcept : id_(id) {}

  static data_type list(data_type element);
  static data_type set(data_type element);
  static data_type map(data_type key, data_type value);
  static data_type tuple(std::vector<data_type> elements);
  /// A user-defined type: keyspace, name, and (field name, field type) pairs.
  static data_type udt(std::string keyspace, std::string name, std::vector<std::string> field_names,
                       std::vector<data_type> field_types);
  /// A custom type, named by its server-side class.
  static data_type custom(std::string class_name);

  type_id id() const noexcept { return id_; }
  /// True for the ids without parameters (ascii ... tinyint).
  bool is_native() const noexcept;

  /// The element type of a list or set, the key type of a map. Precondition: one of those.
  const data_type& element() const noexcept { return parameters_[0]; }
  /// The value type of a map. Precondition: a map.
  const data_type& mapped() const noexcept { return parameters_[1]; }
  /// The element types of a tuple, the field types of a UDT, the one or two types of a
  /// collection; empty for the other ids.
  const std::vector<data_type>& parameters() const noexcept { return parameters_; }
  /// The field names of a UDT.
  const std::vector<std::string>& field_names() const noexcept { return field_names_; }
  /// The keyspace of a UDT.
  const std::string& keyspace() const noexcept { return keyspace_; }
  /// The name of a UDT, the class name of a custom type.
  const std::string& name() const noexcept { return name_; }

  /// The type as CQL spells it: "int", "list<varchar>", "frozen<tuple<int, blob>>" is written
  /// "tuple<int, blob>"; a UDT is "ks.name"; a custom type is its quoted class name.
  std::string to_string() const;

  friend bool operator==(const data_type&, const data_type&) = default;

private:
  type_id id_;
  std::vector<data_type> parameters_;
  std::vector<std::string> field_names_;
  std::string keyspace_;
  std::string name_;
};

/// The CQL name of a type id ("int", "varchar", "list"), or "unknown type".
std::string_view to_string(type_id id) noexcept;

/// Appends the [option] describing `type`. std::length_error if a name or a count does not fit
/// its [short].
void write_data_type(byte_writer& out, const data_type& type);

/// Reads an [option] type descriptor. protocol_error for an unknown id (0x000A included, which
/// v4 dropped), a truncated descriptor, a count that cannot fit, or nesting deeper than
/// max_type_depth.
data_type read_data_type(byte_reader& in, const field_path& field);

}  // namespace scopekit::cql
