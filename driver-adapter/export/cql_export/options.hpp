// cql_export/options.hpp - the command line of scopekit-cql-export, parsed and checked.
//
// parse_options() reads argv into an `options` value, or says why it cannot: the message is
// one line, printed by main() as "cql-export: <message> (see --help)" with exit status 2.
// Nothing here touches the network or the file system.
//
//   const auto parsed = scopekit::cql_export::parse_options({"--format", "jsonl"});
//   if (const auto* o = std::get_if<scopekit::cql_export::options>(&parsed)) run(*o);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace scopekit::cql_export {

/// How rows are written: CSV (RFC 4180, with a header line) or JSON Lines.
enum class format : std::uint8_t { csv, jsonl };

/// What to export, from where, to where. Defaults are those of --help.
struct options {
  options() = default;  // not an aggregate, like the library's option types (GCC 12)

  std::string query = "SELECT * FROM demo.rows";
  cql_export::format format = format::csv;
  /// "-" is stdout.
  std::string out = "-";
  std::int32_t page_size = 5000;
  std::size_t prefetch = 2;
  /// Stop after this many rows.
  std::optional<std::uint64_t> limit;
  /// Rows of the embedded server's demo.rows.
  std::int64_t rows = 1'000'000;
  /// Set by --host or --port: a real server instead of the embedded one.
  std::optional<std::string> host;
  std::optional<std::uint16_t> port;
  std::string keyspace;
  /// --timeout: the longest wait for any answer of the server (the session's request timeout).
  std::chrono::milliseconds timeout{12000};

  /// True when no --host and no --port were given: start the embedded server.
  bool embedded() const noexcept { return !host && !port; }
};

/// --help or -h was given.
struct help_requested {};

/// The arguments are wrong; `message` says how, in one line.
struct usage_problem {
  std::string message;
};

using parse_result = std::variant<options, help_requested, usage_problem>;

/// Parses the arguments after the program name. Accepts "--name value" and "--name=value";
/// a later occurrence of an option replaces an earlier one.
parse_result parse_options(std::span<const std::string_view> args);

/// The text of --help: usage, options, renderings, exit statuses.
std::string_view usage_text() noexcept;

}  // namespace scopekit::cql_export
