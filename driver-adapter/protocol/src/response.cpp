// Responses (spec §4.2, §9): ERROR details, RESULT kinds, response frames.
#include "scopekit/cql/protocol/response.hpp"

#include "column_specs.hpp"
#include "format.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace scopekit::cql {

// ---- ERROR ----------------------------------------------------------------------------------

namespace {
// The position of T among the alternatives of error_details.
template <class T, std::size_t I = 0>
constexpr std::size_t details_index() {
  if constexpr (std::is_same_v<T, std::variant_alternative_t<I, error_details>>) {
    return I;
  } else {
    return details_index<T, I + 1>();
  }
}
}  // namespace

std::size_t details_index_for(error_code code) noexcept {
  switch (code) {
    case error_code::unavailable:
      return details_index<unavailable_error>();
    case error_code::write_timeout:
      return details_index<write_timeout_error>();
    case error_code::read_timeout:
      return details_index<read_timeout_error>();
    case error_code::read_failure:
      return details_index<read_failure_error>();
    case error_code::function_failure:
      return details_index<function_failure_error>();
    case error_code::write_failure:
      return details_index<write_failure_error>();
    case error_code::already_exists:
      return details_index<already_exists_error>();
    case error_code::unprepared:
      return details_index<unprepared_error>();
    default:
      return 0;
  }
}

namespace {

error_response read_error(byte_reader& in) {
  const field_path root("error");
  error_response e;
  e.code = static_cast<error_code>(in.read_int(field_path(root, "code")));
  e.message = in.read_string(field_path(root, "message"));
  const auto cl = [&] { return read_consistency(in, field_path(root, "consistency")); };
  const auto number = [&](const char* name) { return in.read_int(field_path(root, name)); };
  const auto text = [&](const char* name) {
    return std::string(in.read_string(field_path(root, name)));
  };
  const auto flag = [&](const char* name) { return in.read_byte(field_path(root, name)) != 0; };
  switch (e.code) {
    case error_code::unavailable: {
      unavailable_error d;
      d.consistency = cl();
      d.required = number("required");
      d.alive = number("alive");
      e.details = d;
      break;
    }
    case error_code::write_timeout: {
      write_timeout_error d;
      d.consistency = cl();
      d.received = number("received");
      d.block_for = number("block_for");
      d.write_type = text("write_type");
      e.details = std::move(d);
      break;
    }
    case error_code::read_timeout: {
      read_timeout_error d;
      d.consistency = cl();
      d.received = number("received");
      d.block_for = number("block_for");
      d.data_present = flag("data_present");
      e.details = d;
      break;
    }
    case error_code::read_failure: {
      read_failure_error d;
      d.consistency = cl();
      d.received = number("received");
      d.block_for = number("block_for");
      d.failures = number("failures");
      d.data_present = flag("data_present");
      e.details = d;
      break;
    }
    case error_code::function_failure: {
      function_failure_error d;
      d.keyspace = text("keyspace");
      d.function = text("function");
      d.argument_types = in.read_string_list(field_path(root, "argument_types"));
      e.details = std::move(d);
      break;
    }
    case error_code::write_failure: {
      write_failure_error d;
      d.consistency = cl();
      d.received = number("received");
      d.block_for = number("block_for");
      d.failures = number("failures");
      d.write_type = text("write_type");
      e.details = std::move(d);
      break;
    }
    case error_code::already_exists: {
      already_exists_error d;
      d.keyspace = text("keyspace");
      d.table = text("table");
      e.details = std::move(d);
      break;
    }
    case error_code::unprepared: {
      const auto id = in.read_short_bytes(field_path(root, "id"));
      e.details = unprepared_error{std::vector<std::byte>(id.begin(), id.end())};
      break;
    }
    default:
      break;
  }
  return e;
}

struct error_details_writer {
  byte_writer& out;

  void operator()(std::monostate /*none*/) const {}
  void operator()(const unavailable_error& d) const {
    write_consistency(out, d.consistency);
    out.write_int(d.required);
    out.write_int(d.alive);
  }
  void operator()(const write_timeout_error& d) const {
    write_consistency(out, d.consistency);
    out.write_int(d.received);
    out.write_int(d.block_for);
    out.write_string(d.write_type);
  }
  void operator()(const read_timeout_error& d) const {
    write_consistency(out, d.consistency);
    out.write_int(d.received);
    out.write_int(d.block_for);
    out.write_byte(d.data_present ? 1 : 0);
  }
  void operator()(const read_failure_error& d) const {
    write_consistency(out, d.consistency);
    out.write_int(d.received);
    out.write_int(d.block_for);
    out.write_int(d.failures);
    out.write_byte(d.data_present ? 1 : 0);
  }
  void operator()(const function_failure_error& d) const {
    out.write_string(d.keyspace);
    out.write_string(d.function);
    out.write_string_list(d.argument_types);
  }
  void operator()(const write_failure_error& d) const {
    write_consistency(out, d.consistency);
    out.write_int(d.received);
    out.write_int(d.block_for);
    out.write_int(d.failures);
    out.write_string(d.write_type);
  }
  void operator()(const already_exists_error& d) const {
    out.write_string(d.keyspace);
    out.write_string(d.table);
  }
  void operator()(const unprepared_error& d) const { out.write_short_bytes(d.id); }
};

void write_error(byte_writer& out, const error_response& e) {
  if (e.details.index() != details_index_for(e.code)) {
    throw std::invalid_argument("error_response: the details do not match code " +
                                detail::hex(static_cast<std::uint32_t>(e.code), 4) + " (" +
                                std::string(to_string(e.code)) + ")");
  }
  out.write_int(static_cast<std::int32_t>(e.code));
  out.write_string(e.message);
  std::visit(error_details_writer{out}, e.details);
}

// ---- RESULT ---------------------------------------------------------------------------------

constexpr std::int32_t known_prepared_flags = rows_flags::global_tables_spec;

prepared_metadata read_prepared_metadata(byte_reader& in, const field_path& field) {
  prepared_metadata md;
  const std::int32_t flags =
      detail::read_metadata_flags(in, field_path(field, "flags"), known_prepared_flags);
  const field_path count_field(field, "column_count");
  const std::size_t count_offset = in.offset();
  const std::int32_t column_count = detail::read_column_count(in, count_field);
  const field_path pk_field(field, "pk_indexes");
  const std::size_t pk_count = in.read_int_count(pk_field, 2);
  md.partition_key_indexes.reserve(pk_count);
  for (std::size_t i = 0; i < pk_count; ++i) {
    md.partition_key_indexes.push_back(in.read_short(field_path(pk_field, i)));
  }
  detail::column_specs specs =
      detail::read_column_specs(in, field, flags, count_field, count_offset, column_count);
  md.global_table = std::move(specs.global_table);
  md.columns = std::move(specs.columns);
  return md;
}

void write_prepared_metadata(byte_writer& out, const prepared_metadata& md) {
  if (md.columns.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) ||
      md.partition_key_indexes.size() >
          static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("prepared_metadata: too many columns or partition key indexes");
  }
  detail::check_global_table(md.global_table, md.columns, "prepared_metadata: bind marker");
  out.write_int(md.global_table ? rows_flags::global_tables_spec : 0);
  out.write_int(static_cast<std::int32_t>(md.columns.size()));
  out.write_int(static_cast<std::int32_t>(md.partition_key_indexes.size()));
  for (const std::uint16_t index : md.partition_key_indexes) {
    out.write_short(index);
  }
  detail::write_column_specs(out, md.global_table, md.columns);
}

enum class change_target { keyspace, named, function, unknown };

change_target target_kind(std::string_view target) noexcept {
  if (target == "KEYSPACE") {
    return change_target::keyspace;
  }
  if (target == "TABLE" || target == "TYPE") {
    return change_target::named;
  }
  if (target == "FUNCTION" || target == "AGGREGATE") {
    return change_target::function;
  }
  return change_target::unknown;
}

schema_change_result read_schema_change(byte_reader& in) {
  const field_path root("schema_change");
  schema_change_result s;
  s.change_type = in.read_string(field_path(root, "change_type"));
  const field_path target_field(root, "target");
  const std::size_t target_offset = in.offset();
  s.target = in.read_string(target_field);
  const change_target kind = target_kind(s.target);
  if (kind == change_target::unknown) {
    byte_reader::fail(target_field, target_offset,
                      "unknown target \"" + s.target + "\"" + detail::at(target_offset));
  }
  s.keyspace = in.read_string(field_path(root, "keyspace"));
  if (kind != change_target::keyspace) {
    s.name = in.read_string(field_path(root, "name"));
  }
  if (kind == change_target::function) {
    s.argument_types = in.read_string_list(field_path(root, "argument_types"));
  }
  return s;
}

void write_schema_change(byte_writer& out, const schema_change_result& s) {
  const change_target kind = target_kind(s.target);
  if (kind == change_target::unknown) {
    throw std::invalid_argument("schema_change_result: unknown target \"" + s.target + "\"");
  }
  out.write_string(s.change_type);
  out.write_string(s.target);
  out.write_string(s.keyspace);
  if (kind != change_target::keyspace) {
    out.write_string(s.name);
  }
  if (kind == change_target::function) {
    out.write_string_list(s.argument_types);
  }
}

response_message read_result(std::vector<std::byte> body, std::size_t offset) {
  byte_reader in(std::span<const std::byte>(body).subspan(offset), offset);
  const std::size_t kind_offset = in.offset();
  const std::int32_t kind = in.read_int("result.kind");
  switch (static_cast<result_kind>(kind)) {
    case result_kind::void_:
      return void_result{};
    case result_kind::rows:
      return decode_rows(std::move(body), kind_offset);
    case result_kind::set_keyspace:
      return set_keyspace_result{std::string(in.read_string("set_keyspace.keyspace"))};
    case result_kind::prepared: {
      prepared_result p;
      const auto id = in.read_short_bytes("prepared.id");
      p.id.assign(id.begin(), id.end());
      p.variables = read_prepared_metadata(in, "prepared.variables");
      p.result = read_result_metadata(in, "prepared.result");
      return p;
    }
    case result_kind::schema_change:
      return read_schema_change(in);
  }
  byte_reader::fail("result.kind", kind_offset,
                    "unknown result kind " + std::to_string(kind) + detail::at(kind_offset));
}

struct response_body_writer {
  byte_writer& out;

  void operator()(const error_response& m) const { write_error(out, m); }
  void operator()(const ready_response& /*m*/) const {}
  void operator()(const supported_response& m) const { out.write_string_multimap(m.options); }
  void operator()(const void_result& /*m*/) const {
    out.write_int(static_cast<std::int32_t>(result_kind::void_));
  }
  void operator()(const rows_result& m) const { write_rows(out, m); }
  void operator()(const set_keyspace_result& m) const {
    out.write_int(static_cast<std::int32_t>(result_kind::set_keyspace));
    out.write_string(m.keyspace);
  }
  void operator()(const prepared_result& m) const {
    out.write_int(static_cast<std::int32_t>(result_kind::prepared));
    out.write_short_bytes(m.id);
    write_prepared_metadata(out, m.variables);
    write_result_metadata(out, m.result);
  }
  void operator()(const schema_change_result& m) const {
    out.write_int(static_cast<std::int32_t>(result_kind::schema_change));
    write_schema_change(out, m);
  }
  void operator()(const event_response& m) const { out.write_raw(m.body); }
  void operator()(const authenticate_response& m) const { out.write_string(m.authenticator); }
  void operator()(const auth_challenge_response& m) const { write_token(m.token); }
  void operator()(const auth_success_response& m) const { write_token(m.token); }

  void write_token(const std::optional<std::vector<std::byte>>& token) const {
    if (token) {
      out.write_bytes(*token);
    } else {
      out.write_null();
    }
  }
};

// A SASL token ([bytes], null allowed) that ends the body.
std::optional<std::vector<std::byte>> read_token(byte_reader& in, const char* message) {
  const value_view token = in.read_bytes(field_path(message, "token"));
  in.expect_end(message);
  if (token.is_null()) {
    return std::nullopt;
  }
  return std::vector<std::byte>(token.bytes().begin(), token.bytes().end());
}

}  // namespace

// ---- Messages and frames --------------------------------------------------------------------

opcode opcode_of(const response_message& message) noexcept {
  return std::visit(
      [](const auto& m) noexcept {
        using t = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<t, error_response>) {
          return opcode::error;
        } else if constexpr (std::is_same_v<t, ready_response>) {
          return opcode::ready;
        } else if constexpr (std::is_same_v<t, supported_response>) {
          return opcode::supported;
        } else if constexpr (std::is_same_v<t, event_response>) {
          return opcode::event;
        } else if constexpr (std::is_same_v<t, authenticate_response>) {
          return opcode::authenticate;
        } else if constexpr (std::is_same_v<t, auth_challenge_response>) {
          return opcode::auth_challenge;
        } else if constexpr (std::is_same_v<t, auth_success_response>) {
          return opcode::auth_success;
        } else {
          return opcode::result;
        }
      },
      message);
}

response_message decode_response_body(opcode op, std::vector<std::byte> body, std::size_t offset) {
  if (offset > body.size()) {
    throw std::out_of_range("scopekit::cql::decode_response_body: offset past the end of the body");
  }
  byte_reader in(std::span<const std::byte>(body).subspan(offset), offset);
  switch (op) {
    case opcode::error:
      return read_error(in);
    case opcode::ready:
      return ready_response{};
    case opcode::supported:
      return supported_response{in.read_string_multimap("supported.options")};
    case opcode::result:
      return read_result(std::move(body), offset);
    case opcode::event:
      return event_response{
          std::vector<std::byte>(body.begin() + static_cast<std::ptrdiff_t>(offset), body.end())};
    case opcode::authenticate: {
      authenticate_response m{std::string(in.read_string("authenticate.authenticator"))};
      in.expect_end("authenticate");
      return m;
    }
    case opcode::auth_challenge:
      return auth_challenge_response{read_token(in, "auth_challenge")};
    case opcode::auth_success:
      return auth_success_response{read_token(in, "auth_success")};
    default:
      break;
  }
  byte_reader::fail("response.opcode", 0,
                    "opcode " + std::string(to_string(op)) + " (" +
                        detail::hex(static_cast<std::uint8_t>(op), 2) +
                        ") is not a supported response");
}

void encode_response_body(byte_writer& out, const response_message& message) {
  std::visit(response_body_writer{out}, message);
}

response decode_response(frame f) {
  const frame_header& h = f.header;
  if (!h.is_response()) {
    byte_reader::fail("frame.version", 0,
                      "version byte " + detail::hex(h.version, 2) +
                          " at offset 0 marks a request, expected a response");
  }
  if ((h.flags & frame_flags::compressed) != 0) {
    byte_reader::fail("frame.flags", 1,
                      "compressed body at offset 1, but no compression was negotiated");
  }
  response r;
  r.stream = h.stream;
  byte_reader in(f.body);
  if ((h.flags & frame_flags::tracing) != 0) {
    const auto id = in.read_raw(16, "response.tracing_id");
    uuid tracing;
    std::copy(id.begin(), id.end(), tracing.bytes.begin());
    r.tracing_id = tracing;
  }
  if ((h.flags & frame_flags::warning) != 0) {
    r.warnings = in.read_string_list("response.warnings");
  }
  if ((h.flags & frame_flags::custom_payload) != 0) {
    r.custom_payload = in.read_bytes_map("response.custom_payload");
  }
  const std::size_t start = in.offset();
  r.message = decode_response_body(h.op, std::move(f.body), start);
  return r;
}

void encode_response(byte_writer& out, const response& r, std::uint8_t version) {
  std::uint8_t flags = 0;
  if (r.tracing_id) {
    flags |= frame_flags::tracing;
  }
  if (!r.warnings.empty()) {
    flags |= frame_flags::warning;
  }
  if (!r.custom_payload.empty()) {
    flags |= frame_flags::custom_payload;
  }
  const std::size_t start = begin_frame(out, version, flags, r.stream, opcode_of(r.message));
  if (r.tracing_id) {
    out.write_raw(r.tracing_id->bytes);
  }
  if (!r.warnings.empty()) {
    out.write_string_list(r.warnings);
  }
  if (!r.custom_payload.empty()) {
    out.write_bytes_map(r.custom_payload);
  }
  encode_response_body(out, r.message);
  end_frame(out, start);
}

}  // namespace scopekit::cql
