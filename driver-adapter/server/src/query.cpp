// query.cpp - the statements this version of the server understands: SELECT on the system
// tables that drivers read when they connect (system.local, system.peers). A small lexer and a
// recursive-descent reader for SELECT; everything else is refused with a message that says so.
#include "session.hpp"

#include "scopekit/cql/data_type.hpp"
#include "scopekit/cql/response.hpp"
#include "scopekit/cql/rows.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scopekit::cql::detail {
namespace {

/// A statement the server refuses: the ERROR code to answer with, and what() as the message.
class statement_error : public std::runtime_error {
public:
  statement_error(error_code code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  error_code code() const noexcept { return code_; }

private:
  error_code code_;
};

constexpr std::string_view what_is_supported =
    "scopekit's embedded CQL server answers only SELECT on system.local and system.peers in "
    "this version (user keyspaces and tables, CREATE, INSERT, UPDATE, DELETE and USE are not "
    "supported yet)";

statement_error syntax_error(const std::string& detail) {
  return {error_code::syntax_error, detail + "; " + std::string(what_is_supported)};
}

// ---- Lexer ------------------------------------------------------------------------------------

struct token {
  enum class kind : std::uint8_t { word, quoted_name, string, symbol };
  kind type = kind::symbol;
  std::string text;  // words lower-cased; names and strings unquoted
};

bool is_word_char(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Reads a quoted string or name starting at text[i] (the quote), with the quote doubled inside.
std::string read_quoted(std::string_view text, std::size_t& i) {
  const char quote = text[i];
  std::string out;
  for (++i; i < text.size(); ++i) {
    if (text[i] == quote) {
      if (i + 1 < text.size() && text[i + 1] == quote) {
        out += quote;
        ++i;
        continue;
      }
      ++i;
      return out;
    }
    out += text[i];
  }
  throw syntax_error("unterminated " + std::string(quote == '\'' ? "string" : "quoted name"));
}

std::vector<token> lex(std::string_view text) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (is_word_char(c)) {
      token t{token::kind::word, {}};
      while (i < text.size() && is_word_char(text[i])) {
        t.text += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
        ++i;
      }
      out.push_back(std::move(t));
    } else if (c == '\'' || c == '"') {
      const auto type = c == '\'' ? token::kind::string : token::kind::quoted_name;
      out.push_back(token{type, read_quoted(text, i)});
    } else {
      out.push_back(token{token::kind::symbol, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

// ---- SELECT -----------------------------------------------------------------------------------

struct select_statement {
  std::optional<std::vector<std::string>> columns;  // nullopt: *
  std::string keyspace;                             // empty if not given
  std::string table;
  std::optional<std::pair<std::string, std::string>> where;  // column = 'literal'
  std::optional<std::int64_t> limit;
};

class select_reader {
public:
  explicit select_reader(const std::vector<token>& tokens) : tokens_(&tokens) {}

  select_statement read() {
    expect_word("select");
    select_statement s;
    if (accept_symbol("*")) {
      s.columns.reset();
    } else {
      s.columns.emplace();
      do {
        s.columns->push_back(read_name("a column name or *"));
        if (peek_symbol("(")) {
          throw statement_error(
              error_code::invalid,
              "function calls in a selection are not supported; " + std::string(what_is_supported));
        }
      } while (accept_symbol(","));
    }
    expect_word("from");
    s.table = read_name("a table name");
    if (accept_symbol(".")) {
      s.keyspace = std::move(s.table);
      s.table = read_name("a table name");
    }
    if (accept_word("where")) {
      std::string column = read_name("a column name");
      expect_symbol("=");
      if (at_end() || current().type != token::kind::string) {
        fail("a string literal");
      }
      s.where.emplace(std::move(column), current().text);
      ++position_;
    }
    if (accept_word("limit")) {
      if (at_end() || current().type != token::kind::word) {
        fail("a number");
      }
      std::int64_t n = 0;
      const std::string& digits = current().text;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec != std::errc{} || end != digits.data() + digits.size() || n <= 0) {
        throw statement_error(error_code::invalid, "LIMIT must be a strictly positive integer");
      }
      s.limit = n;
      ++position_;
    }
    if (accept_word("allow")) {
      expect_word("filtering");
    }
    accept_symbol(";");
    if (!at_end()) {
      fail("the end of the statement");
    }
    return s;
  }

private:
  bool at_end() const noexcept { return position_ >= tokens_->size(); }
  const token& current() const noexcept { return (*tokens_)[position_]; }

  [[noreturn]] void fail(std::string_view expected) const {
    const std::string found = at_end() ? "the end of the statement" : "'" + current().text + "'";
    std::string message = "line 1: expected ";  // appended, not prefixed: GCC 12 -Wrestrict
    message.append(expected).append(" in SELECT, found ").append(found);
    throw syntax_error(message);
  }

  bool peek_symbol(std::string_view s) const {
    return !at_end() && current().type == token::kind::symbol && current().text == s;
  }
  bool accept_symbol(std::string_view s) {
    if (!peek_symbol(s)) {
      return false;
    }
    ++position_;
    return true;
  }
  void expect_symbol(std::string_view s) {
    if (!accept_symbol(s)) {
      std::string quoted(1, '\'');  // appended, not prefixed: GCC 12 -Wrestrict (PR 105329)
      quoted.append(s).push_back('\'');
      fail(quoted);
    }
  }
  bool accept_word(std::string_view w) {
    if (at_end() || current().type != token::kind::word || current().text != w) {
      return false;
    }
    ++position_;
    return true;
  }
  void expect_word(std::string_view w) {
    if (!accept_word(w)) {
      fail(w);
    }
  }
  std::string read_name(std::string_view what) {
    if (at_end() ||
        (current().type != token::kind::word && current().type != token::kind::quoted_name)) {
      fail(what);
    }
    return (*tokens_)[position_++].text;
  }

  const std::vector<token>* tokens_;
  std::size_t position_ = 0;
};

// ---- The system tables ------------------------------------------------------------------------

struct table_column {
  std::string name;
  data_type type;
};

struct table_data {
  std::string keyspace;
  std::string name;
  std::vector<table_column> columns;
  std::vector<std::vector<value>> rows;
};

// Fixed ids: a single node whose identity never changes between runs.
constexpr std::array<std::uint8_t, 16> host_id_bytes = {
    0x5c, 0x0a, 0x1e, 0x9a, 0x3b, 0x4d, 0x4e, 0x21, 0x8f, 0x6a, 0x0b, 0x7c, 0x2d, 0x39, 0x51, 0xe4};
constexpr std::array<std::uint8_t, 16> schema_version_bytes = {
    0x2f, 0x8e, 0x71, 0xc0, 0x93, 0x5a, 0x4b, 0x06, 0xa1, 0x3d, 0x6e, 0x58, 0x0c, 0x94, 0x27, 0xbb};

uuid uuid_of(const std::array<std::uint8_t, 16>& bytes) {
  uuid out;
  std::transform(bytes.begin(), bytes.end(), out.bytes.begin(),
                 [](std::uint8_t b) { return std::byte{b}; });
  return out;
}

table_data system_local(const session_context& context) {
  table_data t{"system", "local", {}, {}};
  const data_type text = type_id::varchar;
  const data_type inet = type_id::inet;
  const data_type id = type_id::uuid;
  t.columns = {{"key", text},
               {"bootstrapped", text},
               {"broadcast_address", inet},
               {"cluster_name", text},
               {"cql_version", text},
               {"data_center", text},
               {"host_id", id},
               {"listen_address", inet},
               {"native_protocol_version", text},
               {"partitioner", text},
               {"rack", text},
               {"release_version", text},
               {"rpc_address", inet},
               {"schema_version", id},
               {"tokens", data_type::set(type_id::varchar)}};
  const value address = context.local_address;
  t.rows.push_back({"local", "COMPLETED", address, "scopekit", "3.4.4", "datacenter1",
                    uuid_of(host_id_bytes), address, "4",
                    "org.apache.cassandra.dht.Murmur3Partitioner", "rack1", "3.11.16", address,
                    uuid_of(schema_version_bytes), value::list{value{"0"}}});
  return t;
}

table_data system_peers() {
  table_data t{"system", "peers", {}, {}};
  t.columns = {{"peer", type_id::inet},
               {"data_center", type_id::varchar},
               {"host_id", type_id::uuid},
               {"rack", type_id::varchar},
               {"release_version", type_id::varchar},
               {"rpc_address", type_id::inet},
               {"schema_version", type_id::uuid},
               {"tokens", data_type::set(type_id::varchar)}};
  return t;
}

table_data find_table(const select_statement& s, const session_context& context) {
  if (s.keyspace.empty()) {
    throw statement_error(error_code::invalid,
                          "No keyspace has been specified. USE a keyspace, or explicitly "
                          "specify keyspace.tablename");
  }
  if (s.keyspace != "system") {
    throw statement_error(error_code::invalid, "Keyspace " + s.keyspace + " does not exist; " +
                                                   std::string(what_is_supported));
  }
  if (s.table == "local") {
    return system_local(context);
  }
  if (s.table == "peers") {
    return system_peers();
  }
  // Cassandra 3.x answers exactly this for peers_v2, and drivers then fall back to peers.
  throw statement_error(error_code::invalid, "unconfigured table " + s.table);
}

std::size_t column_index(const table_data& t, const std::string& name) {
  const auto it = std::find_if(t.columns.begin(), t.columns.end(),
                               [&](const table_column& c) { return c.name == name; });
  if (it == t.columns.end()) {
    throw statement_error(error_code::invalid, "Undefined column name " + name);
  }
  return static_cast<std::size_t>(it - t.columns.begin());
}

void write_select(byte_writer& out, std::int16_t stream, const select_statement& s,
                  const query_parameters& parameters, const session_context& context) {
  table_data t = find_table(s, context);

  std::vector<std::size_t> selected;
  if (s.columns) {
    for (const std::string& name : *s.columns) {
      selected.push_back(column_index(t, name));
    }
  } else {
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      selected.push_back(i);
    }
  }
  if (s.where) {
    const std::size_t column = column_index(t, s.where->first);
    if (t.columns[column].type.id() != type_id::varchar) {
      throw statement_error(error_code::invalid,
                            "WHERE on a column of type " + t.columns[column].type.to_string() +
                                " is not supported yet; " + std::string(what_is_supported));
    }
    std::erase_if(t.rows, [&](const std::vector<value>& row) {
      return row[column] != value{s.where->second};
    });
  }
  if (s.limit && static_cast<std::uint64_t>(*s.limit) < t.rows.size()) {
    t.rows.resize(static_cast<std::size_t>(*s.limit));
  }

  result_metadata metadata;
  metadata.column_count = static_cast<std::int32_t>(selected.size());
  if (parameters.skip_metadata) {
    metadata.no_metadata = true;
  } else {
    metadata.global_table = table_spec{t.keyspace, t.name};
    for (const std::size_t i : selected) {
      metadata.columns.push_back(
          column_spec{*metadata.global_table, t.columns[i].name, t.columns[i].type});
    }
  }
  const std::size_t start = begin_frame(out, response_version, 0, stream, opcode::result);
  rows_encoder rows{out, metadata};
  for (const auto& row : t.rows) {
    for (const std::size_t i : selected) {
      rows.add_value(t.columns[i].type, row[i]);
    }
  }
  rows.finish();
  end_frame(out, start);
}

statement_error unsupported_statement(const std::vector<token>& tokens) {
  if (tokens.empty() || (tokens.size() == 1 && tokens[0].text == ";")) {
    return syntax_error("line 1: empty statement");
  }
  static constexpr std::array<std::string_view, 13> known_verbs = {
      "insert", "update", "delete", "create", "drop",   "alter", "truncate",
      "use",    "batch",  "begin",  "grant",  "revoke", "list"};
  const token& first = tokens.front();
  if (first.type == token::kind::word &&
      std::find(known_verbs.begin(), known_verbs.end(), first.text) != known_verbs.end()) {
    std::string verb = first.text;
    std::transform(verb.begin(), verb.end(), verb.begin(), [](char c) {
      return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    return {error_code::invalid, verb + " is not supported: " + std::string(what_is_supported)};
  }
  return syntax_error("line 1:0 no viable alternative at input '" + first.text + "'");
}

}  // namespace

void answer_query(byte_writer& out, std::int16_t stream, const query_request& query,
                  const session_context& context) {
  const std::size_t mark = out.size();
  try {
    const std::vector<token> tokens = lex(query.statement);
    if (tokens.empty() || tokens.front().type != token::kind::word ||
        tokens.front().text != "select") {
      throw unsupported_statement(tokens);
    }
    write_select(out, stream, select_reader{tokens}.read(), query.parameters, context);
  } catch (const statement_error& e) {
    out.buffer().resize(mark);
    write_error(out, stream, e.code(), e.what());
  }
}

}  // namespace scopekit::cql::detail
