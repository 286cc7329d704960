// Requests (spec §4.1): query parameters, message bodies and request frames.
#include "scopekit/cql/protocol/request.hpp"

#include "format.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace scopekit::cql {

// ---- query_value ----------------------------------------------------------------------------

query_value::query_value(const value_view& v) : bytes_(v.bytes().begin(), v.bytes().end()) {
  if (v.is_null()) {
    kind_ = null_kind;
  } else if (v.is_not_set()) {
    kind_ = unset;
  } else {
    kind_ = set;
  }
}

query_value query_value::of(const data_type& type, const value& v) {
  if (v.is_null()) {
    return null();
  }
  return query_value(serialize_value(type, v));
}

value_view query_value::view() const noexcept {
  switch (kind_) {
    case set:
      return value_view{bytes_};
    case unset:
      return value_view::not_set();
    case null_kind:
      break;
  }
  return value_view::null();
}

// ---- <query_parameters> ---------------------------------------------------------------------

namespace {
constexpr std::uint8_t known_query_flags =
    query_flags::values | query_flags::skip_metadata | query_flags::page_size |
    query_flags::paging_state | query_flags::serial_consistency | query_flags::default_timestamp |
    query_flags::names_for_values;
}  // namespace

void write_query_parameters(byte_writer& out, const query_parameters& p) {
  if (!p.names.empty() && p.names.size() != p.values.size()) {
    throw std::invalid_argument("query_parameters: names must be empty or one per value");
  }
  if (p.values.size() > 0xFFFFU) {
    throw std::length_error("query_parameters: more than 65535 values");
  }
  if (p.default_timestamp && *p.default_timestamp < 0) {
    throw std::invalid_argument("query_parameters: negative default timestamp");
  }
  std::uint8_t flags = 0;
  if (!p.values.empty()) {
    flags |= query_flags::values;
    if (!p.names.empty()) {
      flags |= query_flags::names_for_values;
    }
  }
  if (p.skip_metadata) {
    flags |= query_flags::skip_metadata;
  }
  if (p.page_size) {
    flags |= query_flags::page_size;
  }
  if (p.paging_state) {
    flags |= query_flags::paging_state;
  }
  if (p.serial_consistency) {
    flags |= query_flags::serial_consistency;
  }
  if (p.default_timestamp) {
    flags |= query_flags::default_timestamp;
  }
  write_consistency(out, p.consistency);
  out.write_byte(flags);
  if (!p.values.empty()) {
    out.write_short(static_cast<std::uint16_t>(p.values.size()));
    for (std::size_t i = 0; i < p.values.size(); ++i) {
      if (!p.names.empty()) {
        out.write_string(p.names[i]);
      }
      out.write_value(p.values[i].view());
    }
  }
  if (p.page_size) {
    out.write_int(*p.page_size);
  }
  if (p.paging_state) {
    out.write_bytes(*p.paging_state);
  }
  if (p.serial_consistency) {
    write_consistency(out, *p.serial_consistency);
  }
  if (p.default_timestamp) {
    out.write_long(*p.default_timestamp);
  }
}

query_parameters read_query_parameters(byte_reader& in, const field_path& field) {
  query_parameters p;
  p.consistency = read_consistency(in, field_path(field, "consistency"));
  const field_path flags_field(field, "flags");
  const std::size_t flags_offset = in.offset();
  const std::uint8_t flags = in.read_byte(flags_field);
  if ((flags & ~known_query_flags) != 0) {
    byte_reader::fail(flags_field, flags_offset,
                      "unknown flag bits " + detail::hex(flags & ~known_query_flags & 0xFFU, 2) +
                          detail::at(flags_offset));
  }
  if ((flags & query_flags::values) != 0) {
    const bool named = (flags & query_flags::names_for_values) != 0;
    const field_path values_field(field, "values");
    // A [value] is at least its [int] length; a name adds at least a [short].
    const std::size_t count = in.read_short_count(values_field, named ? 6 : 4);
    p.values.reserve(count);
    if (named) {
      p.names.reserve(count);
    }
    for (std::size_t i = 0; i < count; ++i) {
      const field_path item(values_field, i);
      if (named) {
        p.names.emplace_back(in.read_string(field_path(item, "name")));
      }
      p.values.emplace_back(in.read_value(item));
    }
  }
  p.skip_metadata = (flags & query_flags::skip_metadata) != 0;
  if ((flags & query_flags::page_size) != 0) {
    p.page_size = in.read_int(field_path(field, "page_size"));
  }
  if ((flags & query_flags::paging_state) != 0) {
    const value_view state = in.read_bytes(field_path(field, "paging_state"));
    p.paging_state.emplace(state.bytes().begin(), state.bytes().end());
  }
  if ((flags & query_flags::serial_consistency) != 0) {
    p.serial_consistency = read_consistency(in, field_path(field, "serial_consistency"));
  }
  if ((flags & query_flags::default_timestamp) != 0) {
    const field_path timestamp_field(field, "timestamp");
    const std::size_t timestamp_offset = in.offset();
    p.default_timestamp = in.read_long(timestamp_field);
    if (*p.default_timestamp < 0) {
      byte_reader::fail(timestamp_field, timestamp_offset,
                        "negative timestamp " + std::to_string(*p.default_timestamp) +
                            detail::at(timestamp_offset));
    }
  }
  return p;
}

// ---- Messages -------------------------------------------------------------------------------

opcode opcode_of(const request_message& message) noexcept {
  return std::visit(
      [](const auto& m) noexcept {
        using t = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<t, startup_request>) {
          return opcode::startup;
        } else if constexpr (std::is_same_v<t, options_request>) {
          return opcode::options;
        } else if constexpr (std::is_same_v<t, query_request>) {
          return opcode::query;
        } else if constexpr (std::is_same_v<t, prepare_request>) {
          return opcode::prepare;
        } else if constexpr (std::is_same_v<t, execute_request>) {
          return opcode::execute;
        } else if constexpr (std::is_same_v<t, register_request>) {
          return opcode::register_;
        } else {
          static_assert(std::is_same_v<t, auth_response_request>);
          return opcode::auth_response;
        }
      },
      message);
}

request_message decode_request_body(opcode op, std::span<const std::byte> body,
                                    std::size_t base_offset) {
  byte_reader in(body, base_offset);
  switch (op) {
    case opcode::startup: {
      const field_path root("startup");
      startup_request m{in.read_string_map(field_path(root, "options"))};
      in.expect_end(root);
      return m;
    }
    case opcode::options: {
      in.expect_end("options");
      return options_request{};
    }
    case opcode::query: {
      const field_path root("query");
      query_request m;
      m.statement = in.read_long_string(field_path(root, "statement"));
      m.parameters = read_query_parameters(in, root);
      in.expect_end(root);
      return m;
    }
    case opcode::prepare: {
      const field_path root("prepare");
      prepare_request m{std::string(in.read_long_string(field_path(root, "statement")))};
      in.expect_end(root);
      return m;
    }
    case opcode::execute: {
      const field_path root("execute");
      execute_request m;
      const auto id = in.read_short_bytes(field_path(root, "id"));
      m.id.assign(id.begin(), id.end());
      m.parameters = read_query_parameters(in, root);
      in.expect_end(root);
      return m;
    }
    case opcode::register_: {
      const field_path root("register");
      register_request m{in.read_string_list(field_path(root, "event_types"))};
      in.expect_end(root);
      return m;
    }
    case opcode::auth_response: {
      const field_path root("auth_response");
      auth_response_request m;
      const value_view token = in.read_bytes(field_path(root, "token"));
      if (!token.is_null()) {
        m.token.emplace(token.bytes().begin(), token.bytes().end());
      }
      in.expect_end(root);
      return m;
    }
    default:
      break;
  }
  byte_reader::fail("request.opcode", 0,
                    "opcode " + std::string(to_string(op)) + " (" +
                        detail::hex(static_cast<std::uint8_t>(op), 2) +
                        ") is not a supported request");
}

namespace {
struct request_body_writer {
  byte_writer& out;

  void operator()(const startup_request& m) const { out.write_string_map(m.options); }
  void operator()(const options_request& /*m*/) const {}
  void operator()(const query_request& m) const {
    out.write_long_string(m.statement);
    write_query_parameters(out, m.parameters);
  }
  void operator()(const prepare_request& m) const { out.write_long_string(m.statement); }
  void operator()(const execute_request& m) const {
    out.write_short_bytes(m.id);
    write_query_parameters(out, m.parameters);
  }
  void operator()(const register_request& m) const { out.write_string_list(m.event_types); }
  void operator()(const auth_response_request& m) const {
    if (m.token) {
      out.write_bytes(*m.token);
    } else {
      out.write_null();
    }
  }
};
}  // namespace

void encode_request_body(byte_writer& out, const request_message& message) {
  std::visit(request_body_writer{out}, message);
}

std::vector<std::byte> plain_sasl_token(std::string_view user, std::string_view password) {
  std::vector<std::byte> out;
  out.reserve(2 + user.size() + password.size());
  const auto append = [&out](std::string_view text) {
    std::transform(text.begin(), text.end(), std::back_inserter(out),
                   [](char c) { return static_cast<std::byte>(c); });
  };
  out.push_back(std::byte{0});
  append(user);
  out.push_back(std::byte{0});
  append(password);
  return out;
}

request decode_request(const frame& f) {
  const frame_header& h = f.header;
  if (h.is_response()) {
    byte_reader::fail("frame.version", 0,
                      "version byte " + detail::hex(h.version, 2) +
                          " at offset 0 marks a response, expected a request");
  }
  if ((h.flags & frame_flags::compressed) != 0) {
    byte_reader::fail("frame.flags", 1,
                      "compressed body at offset 1, but no compression was negotiated");
  }
  request r;
  r.stream = h.stream;
  r.tracing = (h.flags & frame_flags::tracing) != 0;
  byte_reader in(f.body);
  if ((h.flags & frame_flags::custom_payload) != 0) {
    r.custom_payload = in.read_bytes_map("request.custom_payload");
  }
  const std::size_t start = in.offset();
  r.message = decode_request_body(h.op, std::span<const std::byte>(f.body).subspan(start), start);
  return r;
}

void encode_request(byte_writer& out, const request& r) {
  std::uint8_t flags = 0;
  if (r.tracing) {
    flags |= frame_flags::tracing;
  }
  if (!r.custom_payload.empty()) {
    flags |= frame_flags::custom_payload;
  }
  const std::size_t start =
      begin_frame(out, request_version, flags, r.stream, opcode_of(r.message));
  if (!r.custom_payload.empty()) {
    out.write_bytes_map(r.custom_payload);
  }
  encode_request_body(out, r.message);
  end_frame(out, start);
}

}  // namespace scopekit::cql
