// The command line of scopekit-cql-export.
#include "cql_export/options.hpp"

#include "cql_export/concat.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <system_error>

namespace scopekit::cql_export {

namespace {

constexpr std::string_view usage =
    R"(usage: scopekit-cql-export [OPTION]...
Runs a SELECT through a paged row stream and writes its rows as CSV or JSON Lines.
Without --host or --port it starts an embedded CQL server holding a synthetic table
demo.rows (id bigint, name text, payload blob) and exports that.

  --query CQL       the SELECT to run (default: SELECT * FROM demo.rows); no bind markers
  --format FORMAT   csv (RFC 4180, header line, CRLF) or jsonl (one JSON object per row);
                    default csv
  --out PATH        where to write; - (the default) is stdout. A regular file is written
                    as PATH.partial.<pid>.<random> and renamed to PATH once every row is
                    written; one run at a time per PATH (PATH.lock); a read-only PATH is
                    not replaced
  --page-size N     rows per page asked of the server, 1 to 2147483647 (default 5000)
  --prefetch N      pages fetched ahead of the one being written, 0 to 1000 (default 2)
  --limit N         stop after N rows, N >= 1 (default: every row)
  --rows N          rows of the embedded demo.rows, 0 to 2^63-1 (default 1000000)
  --host HOST       a real Cassandra or ScyllaDB node (default port 9042)
  --port PORT       its port, 1 to 65535 (with no --host: 127.0.0.1)
  --keyspace KS     USE this keyspace after connecting
  --timeout S       the longest wait, in seconds, for any answer of the server (the
                    PREPARE, each page); past it the export fails with status 7
                    (default 12; 0.001 to 1000000, fractions allowed)
  -h, --help        print this help and exit

Values: null is an empty unquoted CSV field and JSON null; an empty string is "" in both.
Blobs (and custom types) are 0x-prefixed lower-case hex. Timestamps are ISO 8601 UTC
(2024-01-02T03:04:05.678Z), dates YYYY-MM-DD, times HH:MM:SS.nnnnnnnnn, uuids and inets
as CQL prints them. Numbers are JSON numbers; NaN, Infinity and -Infinity are JSON strings.
Collections, tuples and UDTs are JSON arrays and objects (map keys become strings), and in
CSV their CQL literal ([1, 2], {'a': 1}, (1, 'x')) as one field. A zero-byte value of a
non-string type (not null in CQL) is "" in both formats.

Progress goes to stderr while it runs if stderr is a terminal; one summary line at the end.
SIGINT or SIGTERM stops the stream cleanly, keeps the complete rows written so far (in
the run's own PATH.partial.<pid>.<random>, named on stderr), and exits 130; a second
signal exits at once. Files of earlier runs (PATH.partial*) are never touched.

Exit status: 0 every row written, 1 internal error, 2 bad arguments, 3 output error
(cannot create or write the output, disk full), 4 connection error (cannot connect,
connection lost), 5 CQL error (the server refused the query), 6 protocol error (an answer
that does not decode), 7 timeout (no answer within --timeout), 8 output busy (another run is
writing PATH), 130 interrupted. Only 0 means the output is complete.

More: docs/reference/cql_export.md in the scopekit sources.
)";

/// The option names that take a value.
constexpr std::array<std::string_view, 11> valued = {
    "--query", "--format", "--out",  "--page-size", "--prefetch", "--limit",
    "--rows",  "--host",   "--port", "--keyspace",  "--timeout"};

template <class T>
bool parse_number(std::string_view text, T min, T max, T& out) {
  T value{};
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || !(value >= min && value <= max)) {
    return false;
  }
  out = value;
  return true;
}

std::string range_message(std::string_view name, std::string_view range, std::string_view got) {
  return concat(name, " expects ", range, ", got '", got, "'");
}

/// Applies one option with its value; a message if the value is wrong.
std::optional<std::string> apply(options& o, std::string_view name, std::string_view value) {
  if (name == "--query") {
    if (value.empty()) {
      return "--query expects a CQL statement, got an empty one";
    }
    o.query = value;
  } else if (name == "--format") {
    if (value == "csv") {
      o.format = format::csv;
    } else if (value == "jsonl") {
      o.format = format::jsonl;
    } else {
      return range_message(name, "csv or jsonl", value);
    }
  } else if (name == "--out") {
    if (value.empty()) {
      return "--out expects a path or -, got an empty one";
    }
    o.out = value;
  } else if (name == "--page-size") {
    if (!parse_number<std::int32_t>(value, 1, std::numeric_limits<std::int32_t>::max(),
                                    o.page_size)) {
      return range_message(name, "a number from 1 to 2147483647", value);
    }
  } else if (name == "--prefetch") {
    if (!parse_number<std::size_t>(value, 0, 1000, o.prefetch)) {
      return range_message(name, "a number from 0 to 1000", value);
    }
  } else if (name == "--limit") {
    std::uint64_t n = 0;
    if (!parse_number<std::uint64_t>(value, 1, std::numeric_limits<std::uint64_t>::max(), n)) {
      return range_message(name, "a number of rows of at least 1", value);
    }
    o.limit = n;
  } else if (name == "--rows") {
    if (!parse_number<std::int64_t>(value, 0, std::numeric_limits<std::int64_t>::max(), o.rows)) {
      return range_message(name, "a number from 0 to 9223372036854775807", value);
    }
  } else if (name == "--host") {
    if (value.empty()) {
      return "--host expects a host name or address, got an empty one";
    }
    o.host = std::string(value);
  } else if (name == "--port") {
    std::uint16_t port = 0;
    if (!parse_number<std::uint16_t>(value, 1, 65535, port)) {
      return range_message(name, "a number from 1 to 65535", value);
    }
    o.port = port;
  } else if (name == "--timeout") {
    double seconds = 0;
    if (!parse_number<double>(value, 0.001, 1e6, seconds)) {
      return range_message(name, "a number of seconds from 0.001 to 1000000", value);
    }
    o.timeout = std::chrono::milliseconds{std::llround(seconds * 1000)};
  } else {  // --keyspace
    if (value.empty()) {
      return "--keyspace expects a keyspace name, got an empty one";
    }
    o.keyspace = value;
  }
  return std::nullopt;
}

bool takes_value(std::string_view name) {
  return std::find(valued.begin(), valued.end(), name) != valued.end();
}

}  // namespace

parse_result parse_options(std::span<const std::string_view> args) {
  options o;
  bool rows_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      return help_requested{};
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const auto equals = arg.find('=');
        arg.starts_with("--") && equals != std::string_view::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    }
    if (!takes_value(name)) {
      if (!arg.starts_with("-") || arg == "-") {
        return usage_problem{concat("unexpected argument '", arg, "'")};
      }
      return usage_problem{concat("unknown option '", name, "'")};
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return usage_problem{concat(name, " needs a value")};
      }
      value = args[++i];
    }
    if (auto problem = apply(o, name, *value)) {
      return usage_problem{std::move(*problem)};
    }
    rows_given = rows_given || name == "--rows";
  }
  if (rows_given && !o.embedded()) {
    return usage_problem{
        "--rows sizes the embedded server's table; it cannot be used with "
        "--host or --port"};
  }
  return o;
}

std::string_view usage_text() noexcept {
  return usage;
}

}  // namespace scopekit::cql_export
