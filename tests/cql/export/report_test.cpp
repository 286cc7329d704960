// Tests for cql_export/report.hpp: each kind of error maps to its own exit status and a line
// that says what failed; the figures of the summary.
#include "cql_export/report.hpp"

#include "cql_export/output.hpp"

#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/scope_error.hpp"
#include "scopekit/stopped_error.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace scopekit::cql_export {
namespace {

template <class E>
failure classified(const E& e) {
  return classify(std::make_exception_ptr(e));
}

cql::syntax_exception syntax_error() {
  return cql::syntax_exception{cql::error_response{cql::error_code::syntax_error, "bad", {}}};
}

TEST(CqlExportReport, EachKindOfErrorHasItsOwnStatus) {
  EXPECT_EQ(classified(output_error("cannot write x: No space left on device")).status,
            exit_status::output);
  EXPECT_EQ(classified(cql::connection_error("cannot connect")).status, exit_status::connection);
  EXPECT_EQ(classified(syntax_error()).status, exit_status::cql);
  EXPECT_EQ(classified(cql::protocol_error("rows", 3, "bad")).status, exit_status::protocol);
  EXPECT_EQ(classified(stopped_error{}).status, exit_status::interrupted);
  EXPECT_EQ(classified(query_problem("markers")).status, exit_status::usage);
  EXPECT_EQ(classified(std::runtime_error("what")).status, exit_status::internal);
  EXPECT_EQ(classify(std::make_exception_ptr(42)).status, exit_status::internal);
  EXPECT_EQ(classified(timeout_error("no answer")).status, exit_status::timeout);
  EXPECT_EQ(classified(output_busy("another run")).status, exit_status::busy);
  const std::set<int> distinct = {
      exit_status::ok,         exit_status::internal,   exit_status::usage,    exit_status::output,
      exit_status::connection, exit_status::cql,        exit_status::protocol, exit_status::timeout,
      exit_status::busy,       exit_status::interrupted};
  EXPECT_EQ(distinct.size(), 10U);
  EXPECT_EQ(exit_status::interrupted, 130);  // 128 + SIGINT, as shells report Ctrl-C
}

TEST(CqlExportReport, TheMessageNamesTheKindAndTheCause) {
  EXPECT_EQ(classified(output_error("cannot write x: No space left on device")).message,
            "output error: cannot write x: No space left on device");
  EXPECT_EQ(classified(cql::connection_error("cannot connect to h:1: refused")).message,
            "connection error: cannot connect to h:1: refused");
  EXPECT_EQ(classified(syntax_error()).message, "CQL error: bad (error 0x2000)");
  EXPECT_EQ(classified(query_problem("the query has 1 bind marker(s)")).message,
            "the query has 1 bind marker(s)");
}

TEST(CqlExportReport, AScopeErrorIsClassifiedByItsPrimaryError) {
  try {
    throw_errors({std::make_exception_ptr(output_error("disk full")),
                  std::make_exception_ptr(cql::connection_error("lost"))});
  } catch (...) {
    EXPECT_EQ(classify(std::current_exception()).status, exit_status::output);
    return;
  }
  ADD_FAILURE() << "throw_errors threw nothing";
}

TEST(CqlExportReport, FiguresInUnitsThatFit) {
  run_stats s;
  s.rows = 1'000'000;
  s.bytes = 221'100'000;
  s.seconds = 0.5;
  EXPECT_EQ(format_stats(s), "1000000 rows, 221.1 MB, 0.50 s, 2.0 M rows/s");
  s.rows = 1500;
  s.bytes = 0;
  s.seconds = 1;
  EXPECT_EQ(format_stats(s), "1500 rows, 0.0 MB, 1.00 s, 1.5 k rows/s");
  s.rows = 0;
  s.seconds = 0;
  EXPECT_EQ(format_stats(s), "0 rows, 0.0 MB, 0.00 s, 0 rows/s");
  EXPECT_EQ(format_peak_rss().rfind(", peak RSS ", 0), 0U);
}

TEST(CqlExportReport, PeakRssIsReadFromVmHwm) {
  const std::string status =
      "Name:\tscopekit-cql-ex\nVmPeak:\t  200000 kB\nVmHWM:\t    10240 kB\nVmRSS:\t 9000 kB\n";
  EXPECT_EQ(peak_rss_from_status(status), std::optional<std::uint64_t>{10240U * 1024U});
  EXPECT_EQ(peak_rss_from_status("VmHWM:\t1 kB"), std::optional<std::uint64_t>{1024U});
  EXPECT_EQ(peak_rss_from_status("VmRSS:\t9000 kB\n"), std::nullopt);  // no VmHWM line
  EXPECT_EQ(peak_rss_from_status("VmHWM:\t12 MB\n"), std::nullopt);    // not in kB
  EXPECT_EQ(peak_rss_from_status("VmHWM:\tmany kB\n"), std::nullopt);
  EXPECT_EQ(peak_rss_from_status("XVmHWM:\t5 kB\n"), std::nullopt);  // a line that only ends so
}

}  // namespace
}  // namespace scopekit::cql_export
