// Tests for cql_export/options.hpp: the defaults, every option in both spellings, and each kind
// of bad argument refused with a one-line message.
#include "cql_export/options.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace scopekit::cql_export {
namespace {

static_assert(!std::is_aggregate_v<options>, "set field by field, like the library's options");

parse_result parse(std::vector<std::string_view> args) {
  return parse_options(args);
}

/// The options parsed from `args`, or a failure (and defaults) if they do not parse.
options parsed(std::vector<std::string_view> args) {
  const parse_result r = parse(std::move(args));
  if (const auto* o = std::get_if<options>(&r)) {
    return *o;
  }
  ADD_FAILURE() << "the arguments were refused";
  return {};
}

/// The message for `args`, or a failure if they parse.
std::string problem(std::vector<std::string_view> args) {
  const parse_result r = parse(std::move(args));
  if (const auto* p = std::get_if<usage_problem>(&r)) {
    return p->message;
  }
  ADD_FAILURE() << "the arguments were accepted";
  return {};
}

TEST(CqlExportOptions, DefaultsExportDemoRowsOfTheEmbeddedServerAsCsvToStdout) {
  const options o = parsed({});
  EXPECT_EQ(o.query, "SELECT * FROM demo.rows");
  EXPECT_EQ(o.format, format::csv);
  EXPECT_EQ(o.out, "-");
  EXPECT_EQ(o.page_size, 5000);
  EXPECT_EQ(o.prefetch, 2U);
  EXPECT_FALSE(o.limit.has_value());
  EXPECT_EQ(o.rows, 1'000'000);
  EXPECT_TRUE(o.embedded());
  EXPECT_EQ(o.keyspace, "");
  EXPECT_EQ(o.timeout, std::chrono::seconds{12});  // the session's default request timeout
}

TEST(CqlExportOptions, TimeoutIsInSecondsWithFractions) {
  EXPECT_EQ(parsed({"--timeout", "30"}).timeout, std::chrono::seconds{30});
  EXPECT_EQ(parsed({"--timeout=0.25"}).timeout, std::chrono::milliseconds{250});
  EXPECT_EQ(problem({"--timeout", "0"}),
            "--timeout expects a number of seconds from 0.001 to 1000000, got '0'");
  EXPECT_EQ(problem({"--timeout", "nan"}),
            "--timeout expects a number of seconds from 0.001 to 1000000, got 'nan'");
  EXPECT_EQ(problem({"--timeout", "5s"}),
            "--timeout expects a number of seconds from 0.001 to 1000000, got '5s'");
}

TEST(CqlExportOptions, EveryOptionWithASeparateValue) {
  const options o = parsed({"--query", "SELECT id FROM ks.t", "--format", "jsonl", "--out",
                            "x.jsonl", "--page-size", "100", "--prefetch", "0", "--limit", "7",
                            "--host", "db.example", "--port", "9142", "--keyspace", "ks"});
  EXPECT_EQ(o.query, "SELECT id FROM ks.t");
  EXPECT_EQ(o.format, format::jsonl);
  EXPECT_EQ(o.out, "x.jsonl");
  EXPECT_EQ(o.page_size, 100);
  EXPECT_EQ(o.prefetch, 0U);
  EXPECT_EQ(o.limit, 7U);
  EXPECT_EQ(o.host, "db.example");
  EXPECT_EQ(o.port, 9142);
  EXPECT_EQ(o.keyspace, "ks");
  EXPECT_FALSE(o.embedded());
}

TEST(CqlExportOptions, EqualsSpellingAndLastOccurrenceWins) {
  const options o = parsed({"--rows=5", "--format=csv", "--format=jsonl", "--query=SELECT a=b"});
  EXPECT_EQ(o.rows, 5);
  EXPECT_EQ(o.format, format::jsonl);
  EXPECT_EQ(o.query, "SELECT a=b");  // only the first '=' splits
}

TEST(CqlExportOptions, PortAloneMeansARealServerOnLoopback) {
  const options o = parsed({"--port", "9042"});
  EXPECT_FALSE(o.embedded());
  EXPECT_FALSE(o.host.has_value());
}

TEST(CqlExportOptions, HelpWinsOverEverythingAfterIt) {
  EXPECT_TRUE(std::holds_alternative<help_requested>(parse({"--help", "--bogus"})));
  EXPECT_TRUE(std::holds_alternative<help_requested>(parse({"-h"})));
  EXPECT_NE(usage_text().find("Exit status: 0"), std::string_view::npos);
}

TEST(CqlExportOptions, EachBadArgumentHasItsOwnMessage) {
  EXPECT_EQ(problem({"--bogus"}), "unknown option '--bogus'");
  EXPECT_EQ(problem({"--bogus=1"}), "unknown option '--bogus'");
  EXPECT_EQ(problem({"extra"}), "unexpected argument 'extra'");
  EXPECT_EQ(problem({"--out"}), "--out needs a value");
  EXPECT_EQ(problem({"--format", "xml"}), "--format expects csv or jsonl, got 'xml'");
  EXPECT_EQ(problem({"--page-size", "ten"}),
            "--page-size expects a number from 1 to 2147483647, got 'ten'");
  EXPECT_EQ(problem({"--page-size", "0"}),
            "--page-size expects a number from 1 to 2147483647, got '0'");
  EXPECT_EQ(problem({"--page-size", "2147483648"}),
            "--page-size expects a number from 1 to 2147483647, got '2147483648'");
  EXPECT_EQ(problem({"--page-size", "12x"}),
            "--page-size expects a number from 1 to 2147483647, got '12x'");
  EXPECT_EQ(problem({"--rows", "-5"}),
            "--rows expects a number from 0 to 9223372036854775807, got '-5'");
  EXPECT_EQ(problem({"--prefetch", "1001"}),
            "--prefetch expects a number from 0 to 1000, got '1001'");
  EXPECT_EQ(problem({"--limit", "0"}), "--limit expects a number of rows of at least 1, got '0'");
  EXPECT_EQ(problem({"--port", "65536"}), "--port expects a number from 1 to 65535, got '65536'");
  EXPECT_EQ(problem({"--query", ""}), "--query expects a CQL statement, got an empty one");
  EXPECT_EQ(problem({"--rows", "5", "--host", "db"}),
            "--rows sizes the embedded server's table; it cannot be used with --host or --port");
}

}  // namespace
}  // namespace scopekit::cql_export
