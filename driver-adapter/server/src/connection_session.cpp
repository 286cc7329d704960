// connection_session.cpp - framing, version checks and the dispatch of requests of one connection.
#include "connection_session.hpp"

#include "scopekit/cql/protocol/big_endian.hpp"
#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/response.hpp"

#include <algorithm>
#include <exception>
#include <iterator>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace scopekit::cql::server_detail {
namespace {

// Bytes of a header that identify the version and the stream: 4 for every version (v1 and v2
// have a one-byte stream at offset 2, later versions a two-byte one at offset 2).
constexpr std::size_t version_and_stream_size = 4;

std::string version_error_message(std::uint8_t version_byte) {
  if ((version_byte & 0x80U) != 0) {
    return "Invalid or unsupported protocol version: the frame has the response bit set "
           "(version byte " +
           std::to_string(version_byte) + "); supported versions are (4/v4)";
  }
  return "Invalid or unsupported protocol version (" + std::to_string(version_byte) +
         "); supported versions are (4/v4)";
}

std::string hex(std::span<const std::byte> bytes) {
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string out = "0x";
  for (const std::byte b : bytes) {
    out += digits[std::to_integer<unsigned>(b) >> 4U];
    out += digits[std::to_integer<unsigned>(b) & 0xFU];
  }
  return out;
}

bool has_option(const string_map& options, std::string_view key) {
  return std::any_of(options.begin(), options.end(),
                     [&](const auto& entry) { return entry.first == key; });
}

// The statement text of a QUERY or PREPARE; nullptr for other requests.
template <class Message>
const std::string* statement_text(const Message& m) noexcept {
  if constexpr (std::is_same_v<Message, query_request> ||
                std::is_same_v<Message, prepare_request>) {
    return &m.statement;
  } else {
    return nullptr;
  }
}

constexpr std::string_view password_authenticator =
    "org.apache.cassandra.auth.PasswordAuthenticator";

std::string query_too_long(std::size_t size, std::size_t limit) {
  return "Query string of " + std::to_string(size) + " bytes is longer than the limit of " +
         std::to_string(limit) +
         " bytes of scopekit's embedded CQL server (server_options::max_query_bytes)";
}

}  // namespace

void write_error(byte_writer& out, std::int16_t stream, error_code code, std::string message) {
  response r;
  r.stream = stream;
  r.message = error_response{code, std::move(message), {}};
  encode_response(out, r);
}

prepared_cache::prepared_cache(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::shared_ptr<const prepared_entry> prepared_cache::find(std::span<const std::byte> id) {
  const std::lock_guard lock{mutex_};
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return nullptr;
  }
  recency_.splice(recency_.begin(), recency_, it->second);
  return *it->second;
}

void prepared_cache::insert(std::shared_ptr<const prepared_entry> entry) {
  const std::lock_guard lock{mutex_};
  if (const auto it = by_id_.find(entry->id); it != by_id_.end()) {
    recency_.erase(it->second);
    by_id_.erase(it);
  }
  while (by_id_.size() >= capacity_) {
    by_id_.erase(recency_.back()->id);
    recency_.pop_back();
  }
  recency_.push_front(std::move(entry));
  by_id_.emplace(recency_.front()->id, recency_.begin());
}

std::uint64_t fault_registry::add(fault f) {
  const std::lock_guard lock{mutex_};
  const std::uint64_t id = next_id_++;
  faults_.emplace_back(id, std::move(f));
  return id;
}

void fault_registry::remove(std::uint64_t id) {
  const std::lock_guard lock{mutex_};
  std::erase_if(faults_, [id](const auto& entry) { return entry.first == id; });
}

void fault_registry::clear() {
  const std::lock_guard lock{mutex_};
  faults_.clear();
}

std::optional<fault> fault_registry::match(std::string_view text, std::int32_t page) {
  const std::lock_guard lock{mutex_};
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    fault& f = it->second;
    if (page < f.from_page || text.find(f.statement_contains) == std::string_view::npos) {
      continue;
    }
    std::optional<fault> out = f;
    if (f.times > 0 && --f.times == 0) {
      faults_.erase(it);
    }
    return out;
  }
  return std::nullopt;
}

server_statistics node_counters::snapshot() const noexcept {
  server_statistics out;
  out.requests = requests.load(std::memory_order_relaxed);
  out.statements = statements.load(std::memory_order_relaxed);
  out.pages = pages.load(std::memory_order_relaxed);
  out.rows = rows.load(std::memory_order_relaxed);
  out.authentication_failures = authentication_failures.load(std::memory_order_relaxed);
  return out;
}

server_shared::server_shared(std::size_t max_prepared)
    : server_shared(max_prepared, std::make_shared<database>(),
                    std::make_shared<const topology>(single_node_topology(
                        server_options{}.num_tokens, server_options{}.token_seed)),
                    0, std::make_shared<node_state>(), {}) {}

server_shared::server_shared(std::size_t max_prepared, std::shared_ptr<database> shared_db,
                             std::shared_ptr<const topology> cluster, std::size_t index,
                             std::shared_ptr<node_state> state, std::vector<credentials> allowed)
    : database_owner(std::move(shared_db)),
      db(*database_owner),
      ring(std::move(cluster)),
      node_index(index),
      node(std::move(state)),
      faults(node->faults),
      counters(node->counters),
      prepared(max_prepared),
      users(std::move(allowed)) {}

connection_session::connection_session(const connection_context& context, server_shared& shared)
    : context_(context), splitter_(context.max_frame_body) {
  state_.context = &context_;
  state_.shared = &shared;
}

std::int16_t connection_session::stream_in_header() const noexcept {
  const auto version = std::to_integer<unsigned>(header_[0]) & 0x7FU;
  if (version == 1 || version == 2) {
    return static_cast<std::int8_t>(std::to_integer<std::uint8_t>(header_[2]));
  }
  return load_be<std::int16_t>(std::span(header_).subspan(2, 2));
}

bool connection_session::consume(std::span<const std::byte> in, std::vector<std::byte>& out,
                      std::vector<deferred_response>& later) {
  std::vector<std::byte> held;  // input kept back by the last call: consumed first
  if (!unread_.empty()) {
    held = std::move(unread_);
    unread_.clear();
    held.insert(held.end(), in.begin(), in.end());
    in = held;
  }
  byte_writer w{out};
  for (;;) {
    if (splitter_.has_frame()) {
      if (out.size() >= context_.max_pending_response_bytes) {
        unread_.assign(in.begin(), in.end());  // backpressure: send `out` first
        return true;
      }
      if (!handle(splitter_.take(), w, later)) {
        return false;
      }
      continue;
    }
    if (in.empty()) {
      return true;
    }
    // Keep a copy of the header as it arrives: the splitter does not give it back when it
    // refuses it, and a version check must not wait for a body of unknown framing.
    const std::size_t have = splitter_.buffered();
    if (have < header_size) {
      const std::size_t n = std::min(header_size - have, in.size());
      std::copy_n(in.begin(), n, header_.begin() + static_cast<std::ptrdiff_t>(have));
      if (have < version_and_stream_size && have + n >= version_and_stream_size &&
          header_[0] != std::byte{request_version}) {
        const auto version = std::to_integer<std::uint8_t>(header_[0]);
        write_error(w, stream_in_header(), error_code::protocol_error,
                    version_error_message(version));
        return false;
      }
    }
    try {
      in = in.subspan(splitter_.feed(in));
    } catch (const protocol_error& e) {
      write_error(w, stream_in_header(), error_code::protocol_error, e.what());
      return false;
    }
  }
}

bool connection_session::handle(frame&& f, byte_writer& out,
                                std::vector<deferred_response>& later) {
  const std::int16_t stream = f.header.stream;
  state_.shared->counters.requests.fetch_add(1, std::memory_order_relaxed);
  if (f.header.op == opcode::batch) {
    write_error(out, stream, error_code::invalid,
                "BATCH is not supported by this version of scopekit's embedded CQL server");
    return true;
  }
  const std::size_t mark = out.size();
  try {
    const request r = decode_request(f);
    return dispatch(r, out, later);
  } catch (const protocol_error& e) {
    out.buffer().resize(mark);
    write_error(out, stream, error_code::protocol_error, e.what());
    return false;
  } catch (const std::exception& e) {
    // A bug or an allocation failure while answering: drop the partial response, say so.
    out.buffer().resize(mark);
    write_error(out, stream, error_code::server_error, e.what());
    return true;
  }
}

bool connection_session::dispatch(const request& r, byte_writer& out,
                       std::vector<deferred_response>& later) {
  const std::int16_t stream = r.stream;
  auto answer = [&](response_message message) {
    response reply;
    reply.stream = stream;
    reply.message = std::move(message);
    encode_response(out, reply);
  };
  auto refuse = [&](error_code code, std::string message) {
    write_error(out, stream, code, std::move(message));
  };
  return std::visit(
      [&](const auto& m) -> bool {
        using message_type = std::remove_cvref_t<decltype(m)>;
        if constexpr (std::is_same_v<message_type, auth_response_request>) {
          if (phase_ == phase::authenticating) {
            authenticate(stream, m, out);
          } else {
            refuse(error_code::protocol_error,
                   phase_ == phase::startup
                       ? "Unexpected message AUTH_RESPONSE, expecting STARTUP or OPTIONS"
                       : "Unexpected message AUTH_RESPONSE, the connection is already "
                         "initialized");
          }
        } else if (phase_ == phase::authenticating) {
          // As Cassandra: until the client has authenticated, nothing else is served.
          refuse(error_code::protocol_error,
                 std::string("Unexpected message ") +
                     std::string(to_string(opcode_of(request_message{m}))) +
                     ", expecting SASL_RESPONSE");
        } else if constexpr (std::is_same_v<message_type, options_request>) {
          answer(supported_response{{{"CQL_VERSION", {"3.4.4"}}, {"COMPRESSION", {}}}});
        } else if constexpr (std::is_same_v<message_type, startup_request>) {
          if (phase_ != phase::startup) {
            refuse(error_code::protocol_error,
                   "Unexpected message STARTUP, the connection is already initialized");
          } else if (has_option(m.options, "COMPRESSION")) {
            refuse(error_code::protocol_error,
                   "Compression is not supported by scopekit's embedded CQL server; connect "
                   "without the COMPRESSION option");
          } else if (!has_option(m.options, "CQL_VERSION")) {
            refuse(error_code::protocol_error, "Missing value CQL_VERSION in STARTUP message");
          } else if (!state_.shared->users.empty()) {
            phase_ = phase::authenticating;
            answer(authenticate_response{std::string(password_authenticator)});
          } else {
            phase_ = phase::ready;
            answer(ready_response{});
          }
        } else if (phase_ != phase::ready) {
          refuse(error_code::protocol_error,
                 std::string("Unexpected message ") +
                     std::string(to_string(opcode_of(request_message{m}))) +
                     ", expecting STARTUP or OPTIONS");
        } else if constexpr (std::is_same_v<message_type, register_request>) {
          answer(ready_response{});
        } else if (const std::string* text = statement_text(m);
                   text != nullptr && text->size() > context_.max_query_bytes) {
          refuse(error_code::invalid, query_too_long(text->size(), context_.max_query_bytes));
        } else if constexpr (std::is_same_v<message_type, query_request>) {
          return run_statement(stream, m.statement, nullptr, state_.keyspace, m.parameters, {},
                               out, later);
        } else if constexpr (std::is_same_v<message_type, prepare_request>) {
          prepare_statement(out, stream, m.statement, state_);
        } else {
          static_assert(std::is_same_v<message_type, execute_request>);
          const auto prepared = state_.shared->prepared.find(m.id);
          if (!prepared) {
            response reply;
            reply.stream = stream;
            reply.message = error_response{
                error_code::unprepared,
                "Prepared query with ID " + hex(m.id) + " not found (either the query was not "
                "prepared on this host (maybe the host has been restarted?) or you have "
                "prepared too many queries and it has been evicted from the internal cache)",
                unprepared_error{m.id}};
            encode_response(out, reply);
            return true;
          }
          return run_statement(stream, prepared->text, &prepared->parsed, prepared->keyspace,
                               m.parameters, m.id, out, later);
        }
        return true;
      },
      r.message);
}

// SASL PLAIN (RFC 4616) as Cassandra's PasswordAuthenticator reads it: [authzid] NUL authcid
// NUL passwd, split at the last two NULs (an authorization identity is ignored).
void connection_session::authenticate(std::int16_t stream, const auth_response_request& m,
                                      byte_writer& out) {
  const auto fail = [&](std::string message) {
    state_.shared->counters.authentication_failures.fetch_add(1, std::memory_order_relaxed);
    write_error(out, stream, error_code::authentication_error, std::move(message));
  };
  const std::span<const std::byte> token =
      m.token ? std::span<const std::byte>(*m.token) : std::span<const std::byte>();
  const auto is_nul = [](std::byte b) { return b == std::byte{0}; };
  const auto last = std::find_if(token.rbegin(), token.rend(), is_nul);
  if (last == token.rend()) {
    fail("Password must not be null");
    return;
  }
  const auto before = std::find_if(std::next(last), token.rend(), is_nul);
  if (before == token.rend()) {
    fail("Authentication ID must not be null");
    return;
  }
  const auto text = [](auto first, auto end) {
    std::string chars;
    std::transform(first, end, std::back_inserter(chars),
                   [](std::byte b) { return static_cast<char>(b); });
    return chars;
  };
  const std::string user = text(before.base(), std::prev(last.base()));
  const std::string password = text(last.base(), token.end());
  const auto& users = state_.shared->users;
  const bool known = std::any_of(users.begin(), users.end(), [&](const credentials& c) {
    return c.user == user && c.password == password;
  });
  if (!known) {
    fail("Provided username " + user + " and/or password are incorrect");
    return;
  }
  phase_ = phase::ready;
  response reply;
  reply.stream = stream;
  reply.message = auth_success_response{};
  encode_response(out, reply);
}

bool connection_session::run_statement(std::int16_t stream, std::string_view text,
                            const parsed_statement* parsed, const std::string& keyspace,
                            const query_parameters& parameters,
                            std::span<const std::byte> prepared_id, byte_writer& out,
                            std::vector<deferred_response>& later) {
  state_.shared->counters.statements.fetch_add(1, std::memory_order_relaxed);
  const std::optional<fault> f =
      state_.shared->faults.match(text, requested_page(parameters));
  std::int32_t empty_pages = 0;
  if (f) {
    switch (f->what) {
      case fault::action::error: {
        response reply;
        reply.stream = stream;
        error_response e{f->error, f->message, {}};
        switch (details_index_for(f->error)) {
          case 1: e.details = unavailable_error{}; break;
          case 2: e.details = write_timeout_error{{}, 0, 0, "SIMPLE"}; break;
          case 3: e.details = read_timeout_error{}; break;
          case 4: e.details = read_failure_error{}; break;
          case 5: e.details = function_failure_error{}; break;
          case 6: e.details = write_failure_error{{}, 0, 0, 0, "SIMPLE"}; break;
          case 7: e.details = already_exists_error{}; break;
          case 8:
            e.details = unprepared_error{{prepared_id.begin(), prepared_id.end()}};
            break;
          default: break;
        }
        reply.message = std::move(e);
        encode_response(out, reply);
        return true;
      }
      case fault::action::close_connection:
        return false;
      case fault::action::stall:
        return true;
      case fault::action::malformed_frame: {
        // A Rows result announcing a column whose [string] name runs past the end of the body.
        const std::size_t start = begin_frame(out, response_version, 0, stream, opcode::result);
        out.write_int(static_cast<std::int32_t>(result_kind::rows));
        out.write_int(0);       // flags
        out.write_int(1);       // column_count
        out.write_short(0x7FFF);  // a keyspace name longer than what follows
        end_frame(out, start);
        return true;
      }
      case fault::action::empty_pages:
        empty_pages = f->empty_pages;
        break;
      case fault::action::delay:
        break;
    }
  }
  std::optional<parsed_statement> parsed_here;
  if (parsed == nullptr) {
    try {
      parsed_here = parse_statement(text);
    } catch (const statement_error& e) {
      write_error(out, stream, e.code(), e.what());
      return true;
    }
    parsed = &*parsed_here;
  }
  if (f && f->what == fault::action::delay) {
    deferred_response d;
    d.due = std::chrono::steady_clock::now() + f->delay;
    byte_writer w{d.bytes};
    execute_statement(w, stream, *parsed, keyspace, parameters, state_);
    later.push_back(std::move(d));
    return true;
  }
  execute_statement(out, stream, *parsed, keyspace, parameters, state_, empty_pages);
  return true;
}

}  // namespace scopekit::cql::server_detail
