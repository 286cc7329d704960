// parser.cpp - lexer and recursive-descent parser for the CQL subset of parser.hpp.
#include "parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace scopekit::cql::server_detail {
namespace {

constexpr std::string_view what_is_supported =
    "scopekit's embedded CQL server supports CREATE KEYSPACE, CREATE TABLE (one partition key "
    "column, no clustering columns), DROP KEYSPACE, DROP TABLE, USE, INSERT and SELECT";

statement_error syntax_error(const std::string& message) {
  return {error_code::syntax_error, message};
}

statement_error unsupported(std::string_view what) {
  std::string message(what);
  message.append(" is not supported: ").append(what_is_supported);
  return {error_code::invalid, message};
}

// ---- Lexer ------------------------------------------------------------------------------------

struct token {
  enum class kind : std::uint8_t { word, quoted_name, string, number, uuid, blob, symbol };
  kind type = kind::symbol;
  std::string text;  // words lower-cased; names and strings unquoted; blobs without "0x"
  std::size_t offset = 0;
};

bool is_word_start(char c) noexcept {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool is_word_char(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) noexcept {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// The length of a UUID literal at text[i], or 0.
std::size_t uuid_length(std::string_view text, std::size_t i) {
  constexpr std::size_t size = 36;
  if (text.size() - i < size) {
    return 0;
  }
  for (std::size_t k = 0; k < size; ++k) {
    const char c = text[i + k];
    const bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? c != '-' : !is_hex(c)) {
      return 0;
    }
  }
  if (i + size < text.size() && is_word_char(text[i + size])) {
    return 0;
  }
  return size;
}

// Reads a quoted string or name starting at text[i] (the quote), with the quote doubled inside.
std::string read_quoted(std::string_view text, std::size_t& i) {
  const char quote = text[i];
  const std::size_t start = i;
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
  std::string message = "line 1:";
  message.append(std::to_string(start))
      .append(quote == '\'' ? ": unterminated string" : ": unterminated quoted name");
  throw syntax_error(message);
}

std::string read_number(std::string_view text, std::size_t& i) {
  const std::size_t start = i;
  if (text[i] == '-') {
    ++i;
  }
  while (i < text.size() && is_digit(text[i])) {
    ++i;
  }
  if (i + 1 < text.size() && text[i] == '.' && is_digit(text[i + 1])) {
    ++i;
    while (i < text.size() && is_digit(text[i])) {
      ++i;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) {
      ++j;
    }
    if (j < text.size() && is_digit(text[j])) {
      i = j;
      while (i < text.size() && is_digit(text[i])) {
        ++i;
      }
    }
  }
  if (i < text.size() && is_word_char(text[i])) {
    std::string message = "line 1:";
    message.append(std::to_string(start)).append(": malformed number or identifier");
    throw syntax_error(message);
  }
  return std::string(text.substr(start, i - start));
}

// The tokens of a statement, read one at a time as the parser asks for them: a statement of a
// million tokens costs the parser a token or two at a time, not a million.
class token_stream {
public:
  explicit token_stream(std::string_view text) : text_(text) {}

  /// The token `ahead` places after the current one, or nullptr past the last.
  const token* peek(std::size_t ahead = 0) {
    while (ahead_.size() <= ahead) {
      std::optional<token> t = lex_one();
      if (!t) {
        return nullptr;
      }
      ahead_.push_back(std::move(*t));
    }
    return &ahead_[ahead];
  }

  /// Moves past the current token (there must be one).
  void advance() {
    last_offset_ = ahead_.front().offset;
    consumed_any_ = true;
    ahead_.pop_front();
  }

  /// Where the statement ends, for a message about its end: after the last token.
  std::size_t end_offset() const noexcept { return consumed_any_ ? last_offset_ + 1 : 0; }

private:
  std::optional<token> lex_one();

  std::string_view text_;
  std::size_t i_ = 0;
  std::deque<token> ahead_;  // peeked, not consumed
  std::size_t last_offset_ = 0;
  bool consumed_any_ = false;
};

std::optional<token> token_stream::lex_one() {
  const std::string_view text = text_;
  std::size_t& i = i_;
  while (i < text.size()) {
    const char c = text[i];
    const std::size_t start = i;
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      while (i < text.size() && text[i] != '\n') {  // -- comment
        ++i;
      }
    } else if (const std::size_t n = uuid_length(text, i); n != 0) {
      std::string id(text.substr(i, n));
      std::transform(id.begin(), id.end(), id.begin(), [](char ch) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      });
      i += n;
      return token{token::kind::uuid, std::move(id), start};
    } else if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
      i += 2;
      std::string hex;
      while (i < text.size() && is_word_char(text[i])) {
        if (!is_hex(text[i])) {
          std::string message = "line 1:";
          message.append(std::to_string(start)).append(": malformed blob literal");
          throw syntax_error(message);
        }
        hex += text[i++];
      }
      return token{token::kind::blob, std::move(hex), start};
    } else if (is_digit(c) || (c == '-' && i + 1 < text.size() && is_digit(text[i + 1]))) {
      return token{token::kind::number, read_number(text, i), start};
    } else if (is_word_start(c)) {
      token t{token::kind::word, {}, start};
      while (i < text.size() && is_word_char(text[i])) {
        t.text += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
        ++i;
      }
      return t;
    } else if (c == '\'' || c == '"') {
      const auto type = c == '\'' ? token::kind::string : token::kind::quoted_name;
      return token{type, read_quoted(text, i), start};
    } else {
      ++i;
      return token{token::kind::symbol, std::string(1, c), start};
    }
  }
  return std::nullopt;
}


// ---- Parser -----------------------------------------------------------------------------------

class parser {
public:
  explicit parser(std::string_view text) : tokens_(text) {}

  parsed_statement statement() {
    if (at_end() || (peek_symbol(";") && tokens_.peek(1) == nullptr)) {
      throw syntax_error("line 1:0 empty statement");
    }
    parsed_statement out;
    if (accept_word("select")) {
      out.body = select();
    } else if (accept_word("insert")) {
      out.body = insert();
    } else if (accept_word("create")) {
      if (accept_word("keyspace")) {
        out.body = create_keyspace();
      } else if (accept_word("table") || accept_word("columnfamily")) {
        out.body = create_table();
      } else {
        throw unsupported("CREATE " + upper(at_end() ? std::string{} : current().text));
      }
    } else if (accept_word("drop")) {
      out.body = drop();
    } else if (accept_word("use")) {
      out.body = use_statement{name("a keyspace name")};
    } else {
      static constexpr std::array<std::string_view, 9> known = {
          "update", "delete", "alter", "truncate", "batch", "begin", "grant", "revoke", "list"};
      const token& first = current();
      if (first.type == token::kind::word &&
          std::find(known.begin(), known.end(), first.text) != known.end()) {
        throw unsupported(upper(first.text));
      }
      std::string message = "line 1:0 no viable alternative at input '";
      message.append(first.text).push_back('\'');
      throw syntax_error(message);
    }
    accept_symbol(";");
    if (!at_end()) {
      fail("the end of the statement");
    }
    out.markers = markers_;
    return out;
  }

  column_type type() {
    column_type out;
    const std::string n = name("a type");
    if (n == "frozen") {
      expect_symbol("<");
      const nesting level{*this};
      column_type inner = type();
      expect_symbol(">");
      if (inner.type.is_native()) {
        throw statement_error(error_code::invalid,
                              "frozen<> is only allowed on collections, tuples, and "
                              "user-defined types");
      }
      out.type = std::move(inner.type);
      out.cql = "frozen<" + inner.cql + ">";
      return out;
    }
    if (n == "list" || n == "set") {
      expect_symbol("<");
      const nesting level{*this};
      column_type element = type();
      expect_symbol(">");
      out.type = n == "list" ? data_type::list(std::move(element.type))
                             : data_type::set(std::move(element.type));
      out.cql = n;
      out.cql.append("<").append(element.cql).append(">");
      return out;
    }
    if (n == "map") {
      expect_symbol("<");
      const nesting level{*this};
      column_type key = type();
      expect_symbol(",");
      column_type mapped = type();
      expect_symbol(">");
      out.type = data_type::map(std::move(key.type), std::move(mapped.type));
      out.cql = "map<" + key.cql + ", " + mapped.cql + ">";
      return out;
    }
    struct native {
      std::string_view name;
      type_id id;
      std::string_view cql;
    };
    static constexpr std::array<native, 14> natives = {{
        {"ascii", type_id::ascii, "ascii"},
        {"bigint", type_id::bigint, "bigint"},
        {"blob", type_id::blob, "blob"},
        {"boolean", type_id::boolean, "boolean"},
        {"double", type_id::double_, "double"},
        {"float", type_id::float_, "float"},
        {"int", type_id::int_, "int"},
        {"timestamp", type_id::timestamp, "timestamp"},
        {"uuid", type_id::uuid, "uuid"},
        {"timeuuid", type_id::timeuuid, "timeuuid"},
        {"text", type_id::varchar, "text"},
        {"varchar", type_id::varchar, "text"},
        {"inet", type_id::inet, "inet"},
        {"counter", type_id::counter, "counter"},
    }};
    const auto* const it = std::find_if(natives.begin(), natives.end(),
                                        [&](const native& t) { return t.name == n; });
    if (it == natives.end() || it->id == type_id::counter) {
      std::string message = "the type ";
      message.append(n).append(
          " is not supported by scopekit's embedded CQL server (it stores ascii, bigint, blob, "
          "boolean, double, float, int, timestamp, uuid, timeuuid, text, inet, and list, set "
          "and map of those)");
      throw statement_error(error_code::invalid, message);
    }
    out.type = it->id;
    out.cql = it->cql;
    return out;
  }

  bool at_end() { return tokens_.peek() == nullptr; }

  [[noreturn]] void fail(std::string_view expected) {
    std::string message = "line 1:";
    if (at_end()) {
      message.append(std::to_string(tokens_.end_offset()))
          .append(" expected ")
          .append(expected)
          .append(", found the end of the statement");
    } else {
      message.append(std::to_string(current().offset))
          .append(" expected ")
          .append(expected)
          .append(", found '")
          .append(current().text)
          .append("'");
    }
    throw syntax_error(message);
  }

private:
  // One level of nesting (a collection literal, a type's <...>) for as long as it lives; a
  // level deeper than max_nesting is a syntax error.
  class nesting {
  public:
    explicit nesting(parser& p) : parser_(&p) {
      if (p.depth_ == max_nesting) {
        std::string message = "line 1:";
        message.append(std::to_string(p.at_end() ? p.tokens_.end_offset() : p.current().offset))
            .append(": collections and types nested more than ")
            .append(std::to_string(max_nesting))
            .append(" deep are not supported");
        throw syntax_error(message);
      }
      ++p.depth_;
    }
    ~nesting() { --parser_->depth_; }
    nesting(const nesting&) = delete;
    nesting& operator=(const nesting&) = delete;
    nesting(nesting&&) = delete;
    nesting& operator=(nesting&&) = delete;

  private:
    parser* parser_;
  };

  static std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](char c) {
      return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    return text;
  }

  const token& current() { return *tokens_.peek(); }

  bool peek_symbol(std::string_view s) {
    return !at_end() && current().type == token::kind::symbol && current().text == s;
  }
  bool accept_symbol(std::string_view s) {
    if (!peek_symbol(s)) {
      return false;
    }
    tokens_.advance();
    return true;
  }
  void expect_symbol(std::string_view s) {
    if (!accept_symbol(s)) {
      std::string quoted(1, '\'');  // appended, not prefixed: GCC 12 -Wrestrict (PR 105329)
      quoted.append(s).push_back('\'');
      fail(quoted);
    }
  }
  bool peek_word(std::string_view w) {
    return !at_end() && current().type == token::kind::word && current().text == w;
  }
  bool accept_word(std::string_view w) {
    if (!peek_word(w)) {
      return false;
    }
    tokens_.advance();
    return true;
  }
  void expect_word(std::string_view w) {
    if (!accept_word(w)) {
      fail(upper(std::string(w)));
    }
  }
  std::string name(std::string_view what) {
    if (at_end() ||
        (current().type != token::kind::word && current().type != token::kind::quoted_name)) {
      fail(what);
    }
    std::string out = current().text;
    tokens_.advance();
    return out;
  }
  qualified_name table_name() {
    qualified_name out;
    out.name = name("a table name");
    if (accept_symbol(".")) {
      out.keyspace = std::move(out.name);
      out.name = name("a table name");
    }
    return out;
  }
  bool if_not_exists() {
    if (!accept_word("if")) {
      return false;
    }
    expect_word("not");
    expect_word("exists");
    return true;
  }

  term literal() {
    if (at_end()) {
      fail("a value");
    }
    const token& t = current();
    term out;
    out.text = t.text;
    switch (t.type) {
      case token::kind::string:
        out.type = term::kind::string;
        break;
      case token::kind::number:
        out.type = term::kind::number;
        break;
      case token::kind::uuid:
        out.type = term::kind::uuid;
        break;
      case token::kind::blob:
        out.type = term::kind::blob;
        break;
      case token::kind::word:
        if (t.text == "null") {
          out.type = term::kind::null;
        } else if (t.text == "true" || t.text == "false" || t.text == "nan" ||
                   t.text == "infinity") {
          out.type = term::kind::word;
        } else {
          fail("a value");
        }
        break;
      case token::kind::quoted_name:
        fail("a value (strings take single quotes)");
      case token::kind::symbol:
        if (t.text == "?") {
          out.type = term::kind::marker;
          out.marker = markers_++;
          break;
        }
        if (t.text == ":") {
          throw unsupported("a named bind marker (:name)");
        }
        if (t.text == "-" && tokens_.peek(1) != nullptr && tokens_.peek(1)->text == "infinity") {
          tokens_.advance();
          out.type = term::kind::word;
          out.text = "-infinity";
          break;
        }
        if (t.text == "[") {
          tokens_.advance();
          const nesting level{*this};
          out.type = term::kind::list;
          if (!accept_symbol("]")) {
            do {
              out.items.push_back(literal());
            } while (accept_symbol(","));
            expect_symbol("]");
          }
          return out;
        }
        if (t.text == "{") {
          tokens_.advance();
          const nesting level{*this};
          out.type = term::kind::set_or_map;
          if (!accept_symbol("}")) {
            out.items.push_back(literal());
            out.is_map = accept_symbol(":");
            if (out.is_map) {
              out.items.push_back(literal());
            }
            while (accept_symbol(",")) {
              out.items.push_back(literal());
              if (out.is_map) {
                expect_symbol(":");
                out.items.push_back(literal());
              }
            }
            expect_symbol("}");
          }
          return out;
        }
        fail("a value");
    }
    tokens_.advance();
    return out;
  }

  select_statement select() {
    select_statement s;
    if (accept_word("distinct") || accept_word("json")) {
      throw unsupported("SELECT DISTINCT / SELECT JSON");
    }
    if (accept_symbol("*")) {
      s.columns.reset();
    } else {
      s.columns.emplace();
      do {
        s.columns->push_back(selection());
        if (peek_word("as")) {
          throw unsupported("AS in a selection");
        }
      } while (accept_symbol(","));
    }
    expect_word("from");
    s.table = table_name();
    if (accept_word("where")) {
      do {
        s.where.push_back(where_relation());
      } while (accept_word("and"));
    }
    if (accept_word("order")) {
      throw unsupported("ORDER BY");
    }
    if (accept_word("limit")) {
      s.limit = literal();
    }
    if (accept_word("allow")) {
      expect_word("filtering");
      s.allow_filtering = true;
    }
    return s;
  }

  // True if the next tokens are `token (`: the token function, not a column named token.
  bool at_token_call() {
    const token* next = tokens_.peek(1);
    return peek_word("token") && next != nullptr && next->type == token::kind::symbol &&
           next->text == "(";
  }

  // A column or token(column) in a selection.
  selector selection() {
    selector out;
    if (at_token_call()) {
      tokens_.advance();
      expect_symbol("(");
      out.column = name("a column name");
      if (peek_symbol(",")) {
        throw unsupported("token() of more than one column (composite partition keys)");
      }
      expect_symbol(")");
      out.token = true;
      return out;
    }
    out.column = name("a column name or *");
    if (peek_symbol("(")) {
      throw unsupported("a function call other than token() in a selection");
    }
    return out;
  }

  // `column = term` or `token(columns) <op> term`.
  relation where_relation() {
    relation r;
    if (at_token_call()) {
      tokens_.advance();
      expect_symbol("(");
      do {
        r.token_columns.push_back(name("a column name"));
      } while (accept_symbol(","));
      expect_symbol(")");
      r.op = comparison();
      if (at_token_call()) {
        throw unsupported("token() on the right of a relation (bind the token: token(k) > ?)");
      }
      r.value = literal();
      return r;
    }
    r.column = name("a column name");
    if (accept_word("in") || peek_symbol("<") || peek_symbol(">")) {
      throw unsupported("a relation other than = in WHERE (but on token(key))");
    }
    expect_symbol("=");
    r.value = literal();
    return r;
  }

  // =, <, <=, >, >= (the lexer makes "<=" two symbols).
  relation::comparison comparison() {
    using enum relation::comparison;
    if (accept_symbol("=")) {
      return eq;
    }
    if (accept_symbol("<")) {
      return accept_symbol("=") ? le : lt;
    }
    if (accept_symbol(">")) {
      return accept_symbol("=") ? ge : gt;
    }
    fail("=, <, <=, > or >=");
  }

  insert_statement insert() {
    expect_word("into");
    insert_statement s;
    s.table = table_name();
    if (accept_word("json")) {
      throw unsupported("INSERT JSON");
    }
    expect_symbol("(");
    do {
      s.columns.push_back(name("a column name"));
    } while (accept_symbol(","));
    expect_symbol(")");
    expect_word("values");
    expect_symbol("(");
    do {
      s.values.push_back(literal());
    } while (accept_symbol(","));
    expect_symbol(")");
    if (s.values.size() != s.columns.size()) {
      throw statement_error(error_code::invalid, "Unmatched column names/values");
    }
    if (accept_word("if")) {
      throw unsupported("INSERT ... IF NOT EXISTS (lightweight transactions)");
    }
    if (accept_word("using")) {
      throw unsupported("INSERT ... USING TTL / TIMESTAMP");
    }
    return s;
  }

  // {'class': 'SimpleStrategy', 'replication_factor': 1}: values as text.
  std::vector<std::pair<std::string, std::string>> option_map() {
    std::vector<std::pair<std::string, std::string>> out;
    expect_symbol("{");
    if (accept_symbol("}")) {
      return out;
    }
    do {
      const term key = literal();
      expect_symbol(":");
      const term value = literal();
      if (key.type != term::kind::string ||
          (value.type != term::kind::string && value.type != term::kind::number &&
           value.type != term::kind::word)) {
        throw syntax_error("line 1: replication options take string keys and plain values");
      }
      out.emplace_back(key.text, value.text);
    } while (accept_symbol(","));
    expect_symbol("}");
    return out;
  }

  create_keyspace_statement create_keyspace() {
    create_keyspace_statement s;
    s.if_not_exists = if_not_exists();
    s.name = name("a keyspace name");
    expect_word("with");
    do {
      const std::string property = name("a keyspace property");
      expect_symbol("=");
      if (property == "replication") {
        s.replication = option_map();
      } else if (property == "durable_writes") {
        const term value = literal();
        if (value.type != term::kind::word || (value.text != "true" && value.text != "false")) {
          throw statement_error(error_code::syntax_error, "durable_writes takes true or false");
        }
        s.durable_writes = value.text == "true";
      } else {
        throw statement_error(error_code::syntax_error,
                              "Unknown keyspace property '" + property + "'");
      }
    } while (accept_word("and"));
    const auto has_class = std::any_of(s.replication.begin(), s.replication.end(),
                                       [](const auto& e) { return e.first == "class"; });
    if (!has_class) {
      throw statement_error(error_code::config_error,
                            "Missing mandatory replication strategy class");
    }
    return s;
  }

  create_table_statement create_table() {
    create_table_statement s;
    s.if_not_exists = if_not_exists();
    s.table = table_name();
    expect_symbol("(");
    std::optional<std::string> key;
    do {
      if (accept_word("primary")) {
        expect_word("key");
        expect_symbol("(");
        if (peek_symbol("(")) {
          throw unsupported("a composite partition key");
        }
        std::string column = name("a column name");
        if (peek_symbol(",")) {
          throw unsupported("a clustering column");
        }
        expect_symbol(")");
        if (key) {
          throw statement_error(error_code::invalid, "Multiple PRIMARY KEYs specified");
        }
        key = std::move(column);
        continue;
      }
      column_definition c;
      c.name = name("a column name");
      c.type = type();
      if (accept_word("static")) {
        throw unsupported("a static column");
      }
      if (accept_word("primary")) {
        expect_word("key");
        if (key) {
          throw statement_error(error_code::invalid, "Multiple PRIMARY KEYs specified");
        }
        key = c.name;
      }
      const auto same = [&](const column_definition& d) { return d.name == c.name; };
      if (std::any_of(s.columns.begin(), s.columns.end(), same)) {
        throw statement_error(error_code::invalid, "Multiple definition of identifier " + c.name);
      }
      s.columns.push_back(std::move(c));
    } while (accept_symbol(",") && !peek_symbol(")"));
    expect_symbol(")");
    if (!key) {
      throw statement_error(error_code::invalid, "No PRIMARY KEY specifed (exactly one required)");
    }
    const auto it = std::find_if(s.columns.begin(), s.columns.end(),
                                 [&](const column_definition& d) { return d.name == *key; });
    if (it == s.columns.end()) {
      throw statement_error(error_code::invalid,
                            "Unknown definition " + *key + " referenced in PRIMARY KEY");
    }
    if (it->type.type.id() == type_id::list || it->type.type.id() == type_id::set ||
        it->type.type.id() == type_id::map) {
      if (it->type.cql.rfind("frozen<", 0) != 0) {
        throw statement_error(error_code::invalid, "Invalid non-frozen collection type for "
                                                   "PRIMARY KEY component " + *key);
      }
    }
    s.partition_key = static_cast<std::size_t>(it - s.columns.begin());
    if (accept_word("with")) {
      skip_table_options();
    }
    return s;
  }

  // WITH comment = '...' AND compaction = {...} AND ...: accepted and ignored; CLUSTERING ORDER
  // and COMPACT STORAGE make no sense without clustering columns.
  void skip_table_options() {
    do {
      if (peek_word("clustering") || peek_word("compact")) {
        throw unsupported("CLUSTERING ORDER / COMPACT STORAGE");
      }
      name("a table property");
      expect_symbol("=");
      if (peek_symbol("{")) {
        option_map();
      } else {
        const term value = literal();
        if (value.type == term::kind::marker) {
          fail("a constant");
        }
      }
    } while (accept_word("and"));
  }

  drop_statement drop() {
    drop_statement s;
    if (accept_word("keyspace")) {
      s.is_keyspace = true;
    } else if (!accept_word("table") && !accept_word("columnfamily")) {
      throw unsupported("DROP " + upper(at_end() ? std::string{} : current().text));
    }
    if (accept_word("if")) {
      expect_word("exists");
      s.if_exists = true;
    }
    if (s.is_keyspace) {
      s.target.name = name("a keyspace name");
    } else {
      s.target = table_name();
    }
    return s;
  }

  token_stream tokens_;
  std::size_t depth_ = 0;  // the nesting levels open
  std::size_t markers_ = 0;
};

}  // namespace

parsed_statement parse_statement(std::string_view text) {
  return parser{text}.statement();
}

column_type parse_column_type(std::string_view text) {
  parser p{text};
  column_type out = p.type();
  if (!p.at_end()) {
    p.fail("the end of the type");
  }
  return out;
}

}  // namespace scopekit::cql::server_detail
