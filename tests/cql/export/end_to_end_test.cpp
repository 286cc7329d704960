// Tests of the scopekit-cql-export program, run as a child process: its output byte for byte
// (demo.rows of the embedded server it starts, and a table of every column type on a server
// this test starts), --limit and paging, SIGINT and SIGTERM in the middle of a stream (held
// there by a stalled page, not by timing), and every failure path with its exit status and its
// one line on stderr. Expected outputs are computed here from the synthetic table's definition
// (name "row-<id>", payload byte i = (id * 31 + i) mod 256, 100 bytes), not by the program.
#include "cql_export/concat.hpp"

#include "scopekit/cql/server/server.hpp"
#include "scopekit/cql/client/session.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"

#include "support/cql/scripted_server.hpp"
#include "support/wait_until.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#ifndef SCOPEKIT_CQL_EXPORT
#error "SCOPEKIT_CQL_EXPORT must be the path of the scopekit-cql-export executable"
#endif

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace scopekit::cql_export::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The files of `dir` whose names start with `prefix`, sorted.
std::vector<fs::path> files_starting_with(const fs::path& dir, std::string_view prefix) {
  std::vector<fs::path> found;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with(prefix)) {
      found.push_back(e.path());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

/// The one file of `dir` whose name starts with `prefix` and holds `content`; empty if there
/// is no such file or more than one starts with `prefix`.
fs::path only_file_holding(const fs::path& dir, std::string_view prefix,
                           const std::string& content) {
  const std::vector<fs::path> found = files_starting_with(dir, prefix);
  return found.size() == 1 && read_file(found.front()) == content ? found.front() : fs::path{};
}

/// scopekit-cql-export running as a child, stdin from /dev/null, stdout and stderr to files.
/// The destructor kills and reaps it if it is still running.
class export_process {
public:
  export_process(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
    std::vector<std::string> argv_text = {SCOPEKIT_CQL_EXPORT};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(argv_text.size() + 1);
    for (std::string& a : argv_text) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The child starts with nothing blocked and default dispositions, whatever this process has.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const int rc = posix_spawn(&pid_, argv.front(), &actions, &attributes, argv.data(), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start " << SCOPEKIT_CQL_EXPORT << ": " << rc;
      pid_ = -1;
    }
  }
  export_process(const export_process&) = delete;
  export_process& operator=(const export_process&) = delete;
  export_process(export_process&&) = delete;
  export_process& operator=(export_process&&) = delete;
  ~export_process() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
    }
  }

  void send(int signal) const { ::kill(pid_, signal); }

  /// Waits for the program to exit, at most `limit`; past it, kills it and fails the test.
  bool wait(std::chrono::milliseconds limit = 60s) {
    if (pid_ <= 0) {
      return false;
    }
    const bool exited = scopekit::test::wait_until([this] { return reap(); }, limit);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      reaped_ = true;
      ADD_FAILURE() << "scopekit-cql-export did not exit within " << limit.count() << " ms";
    }
    return exited;
  }

  /// The exit status; -n if a signal n killed it (so that death by SIGINT is not 130).
  int status() const {
    if (WIFEXITED(status_)) {
      return WEXITSTATUS(status_);
    }
    return WIFSIGNALED(status_) ? -WTERMSIG(status_) : -1000;
  }

private:
  bool reap() {
    if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
      reaped_ = true;
    }
    return reaped_;
  }

  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

/// What a run of the program left: its exit status, stdout and stderr.
struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};

/// The hex of demo.rows' payload for `id`: 100 bytes, byte i = (id * 31 + i) mod 256.
std::string payload_hex(std::int64_t id) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::string out = "0x";
  for (std::int64_t i = 0; i < 100; ++i) {
    const auto byte = static_cast<unsigned>((id * 31 + i) % 256);
    out += digits[byte / 16];
    out += digits[byte % 16];
  }
  return out;
}

/// demo.rows, ids [first, first + count), as the exporter's CSV (with its header).
std::string demo_csv(std::int64_t first, std::int64_t count) {
  std::string out = "id,name,payload\r\n";
  for (std::int64_t id = first; id < first + count; ++id) {
    out += concat(std::to_string(id), ",row-", std::to_string(id), ",", payload_hex(id), "\r\n");
  }
  return out;
}

/// The same rows as JSON Lines.
std::string demo_jsonl(std::int64_t first, std::int64_t count) {
  std::string out;
  for (std::int64_t id = first; id < first + count; ++id) {
    out += concat(R"({"id":)", std::to_string(id), R"(,"name":"row-)", std::to_string(id),
                  R"(","payload":")", payload_hex(id), "\"}\n");
  }
  return out;
}

/// Whether `text` matches `pattern`, in which '*' stands for any run of characters other than
/// a newline (possibly none), '#' for a number (one or more digits and dots), and every other
/// character for itself. (Not std::regex: GCC 12 warns inside <regex> at -O1 with sanitizers.)
bool matches(std::string_view text, std::string_view pattern) {
  if (pattern.empty()) {
    return text.empty();
  }
  const auto is_number = [](char c) { return (c >= '0' && c <= '9') || c == '.'; };
  if (pattern.front() == '*') {
    for (std::size_t n = 0;; ++n) {
      if (matches(text.substr(n), pattern.substr(1))) {
        return true;
      }
      if (n == text.size() || text[n] == '\n') {
        return false;
      }
    }
  }
  if (pattern.front() == '#') {
    std::size_t n = 0;
    while (n < text.size() && is_number(text[n])) {
      ++n;
    }
    for (; n > 0; --n) {
      if (matches(text.substr(n), pattern.substr(1))) {
        return true;
      }
    }
    return false;
  }
  return !text.empty() && text.front() == pattern.front() &&
         matches(text.substr(1), pattern.substr(1));
}

/// A summary line's figures: "<rows> rows, <MB> MB, <s> s, <rate> rows/s, peak RSS <MB> MB",
/// the rate with "k" or "M" or neither.
std::string figures(std::uint64_t rows) {
  return concat(std::to_string(rows), " rows, # MB, # s, # *rows/s, peak RSS # MB");
}

/// A loopback port on which nothing listens: bound, then closed.
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, generic, size) != 0 || ::getsockname(fd, generic, &size) != 0) {
    ADD_FAILURE() << "cannot bind a loopback port";
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

/// Starts `srv` with demo.rows of `rows` rows, and `what` done to every request for its pages
/// from page `from_page` on.
void start_with_fault(cql::server& srv, std::int64_t rows, cql::fault::action what,
                      std::int32_t from_page) {
  srv.add_synthetic_table("demo", "rows", rows);
  cql::fault f;
  f.what = what;
  f.statement_contains = "demo.rows";
  f.from_page = from_page;
  srv.inject(f);
  srv.start();
}

/// Each test gets a directory of its own (the program's stdout, stderr and output files),
/// removed afterwards.
class CqlExportCli : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "cql_export_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  export_process start(const std::vector<std::string>& args) const {
    return export_process{args, dir_ / "stdout", dir_ / "stderr"};
  }

  run_result run(const std::vector<std::string>& args) const {
    export_process p = start(args);
    p.wait();
    return {p.status(), read_file(dir_ / "stdout"), read_file(dir_ / "stderr")};
  }

  /// Checks a failure: `status`, nothing on stdout, exactly `line` on stderr.
  void expect_failure(const run_result& r, int status, const std::string& line_pattern) const {
    EXPECT_EQ(r.status, status) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(matches(r.err, concat(line_pattern, "\n"))) << r.err;
  }

  /// Runs an export that blocks after three pages (the fourth page stalls on the server), waits
  /// until those pages are in the .partial file, sends `signal`, and checks the clean stop.
  void check_interrupt(int signal, std::string_view name) const {
    cql::server srv;
    start_with_fault(srv, 10'000, cql::fault::action::stall, 3);

    const fs::path out = dir_ / "rows.csv";
    const std::string three_pages = demo_csv(0, 300);
    // --timeout: the stall must last until the signal, however slow this machine is.
    export_process p{{"--port", std::to_string(srv.port()), "--page-size", "100", "--prefetch", "2",
                      "--timeout", "600", "--out", out.string()},
                     dir_ / "stdout",
                     dir_ / "stderr"};
    ASSERT_TRUE(scopekit::test::wait_until(
        [&] { return !only_file_holding(dir_, "rows.csv.partial", three_pages).empty(); }, 30s))
        << "the first three pages never arrived whole in one file of the run's own";
    const fs::path partial = only_file_holding(dir_, "rows.csv.partial", three_pages);
    EXPECT_TRUE(partial.filename().string().starts_with("rows.csv.partial."));  // not another's

    p.send(signal);
    ASSERT_TRUE(p.wait(30s));
    EXPECT_EQ(p.status(), 130);  // exited with 130, not killed by the signal (-2 or -15)
    const std::string err = read_file(dir_ / "stderr");
    EXPECT_TRUE(matches(err, concat("cql-export: interrupted by ", name, "; ", figures(300),
                                    "; incomplete output kept in ", partial.string(), "\n")))
        << err;
    EXPECT_EQ(read_file(partial), three_pages);  // flushed, whole rows, nothing torn
    EXPECT_FALSE(fs::exists(out));               // nothing passed off as complete
    EXPECT_FALSE(fs::exists(out.string() + ".lock"));  // released and removed
  }

  std::string path(std::string_view name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// ---- The test's own line matcher, which every check of stderr relies on ----------------------

TEST(CqlExportCliSupport, LinePatternsAcceptTheSummaryAndRejectOtherLines) {
  const std::string summary = concat("cql-export: ", figures(5), " -> stdout\n");
  EXPECT_TRUE(matches("cql-export: 5 rows, 0.0 MB, 0.00 s, 614 rows/s, peak RSS 4.6 MB -> stdout\n",
                      summary));
  EXPECT_TRUE(
      matches("cql-export: 5 rows, 221.8 MB, 0.34 s, 2.9 M rows/s, peak RSS 10.9 MB -> "
              "stdout\n",
              summary));
  EXPECT_FALSE(matches(
      "cql-export: 6 rows, 0.0 MB, 0.00 s, 614 rows/s, peak RSS 4.6 MB -> stdout\n", summary));
  EXPECT_FALSE(
      matches("cql-export: 5 rows, 0.0 MB, 0.00 s, 614 rows/s, peak RSS 4.6 MB -> x\n", summary));
  EXPECT_FALSE(
      matches("cql-export: 5 rows, MB, 0.00 s, 614 rows/s, peak RSS 4.6 MB -> stdout\n", summary));
  EXPECT_FALSE(matches("a\nb", "*"));  // one line only
  EXPECT_FALSE(matches("x\n", ""));
}

// ---- Output, byte for byte -------------------------------------------------------------------

TEST_F(CqlExportCli, CsvOfFiveRowsOnStdoutIsExact) {
  const run_result r = run({"--rows", "5"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, demo_csv(0, 5));
  EXPECT_TRUE(matches(r.err, concat("cql-export: ", figures(5), " -> stdout\n"))) << r.err;
}

TEST_F(CqlExportCli, JsonLinesOfFiveRowsInAFileIsExact) {
  const std::string out = path("rows.jsonl");
  const run_result r = run({"--rows", "5", "--format", "jsonl", "--out", out});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(read_file(out), demo_jsonl(0, 5));
  EXPECT_TRUE(files_starting_with(dir_, "rows.jsonl.").empty());  // renamed, lock removed
  EXPECT_TRUE(matches(r.err, concat("cql-export: ", figures(5), " -> ", out, "\n"))) << r.err;
}

TEST_F(CqlExportCli, PageSizeAndPrefetchDoNotChangeTheOutput) {
  const run_result small = run({"--rows", "1000", "--page-size", "7", "--prefetch", "0"});
  EXPECT_EQ(small.status, 0) << small.err;
  EXPECT_EQ(small.out, demo_csv(0, 1000));
  const run_result large = run({"--rows", "1000", "--page-size", "1000", "--prefetch", "5"});
  EXPECT_EQ(large.status, 0) << large.err;
  EXPECT_EQ(large.out, demo_csv(0, 1000));
}

TEST_F(CqlExportCli, LimitStopsAfterThatManyRows) {
  const run_result r = run({"--rows", "1000", "--limit", "10", "--page-size", "3"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, demo_csv(0, 10));
  EXPECT_TRUE(matches(r.err, concat("cql-export: ", figures(10), " -> stdout\n"))) << r.err;
}

TEST_F(CqlExportCli, AnEmptyResultIsTheHeaderAlone) {
  const run_result csv = run({"--rows", "0"});
  EXPECT_EQ(csv.status, 0) << csv.err;
  EXPECT_EQ(csv.out, "id,name,payload\r\n");
  const run_result jsonl = run({"--rows", "0", "--format", "jsonl"});
  EXPECT_EQ(jsonl.status, 0) << jsonl.err;
  EXPECT_EQ(jsonl.out, "");
}

/// Creates ks.every with a column of each type the embedded server stores, and four rows:
/// every column set, only the key, text that needs quoting and escaping with empty values and
/// special numbers, and extreme values with a zero-byte int.
task<void> create_every_type_table(std::uint16_t port) {
  cql::session_options options;
  options.port = port;
  cql::session s = co_await cql::session::connect(options);
  co_await s.execute(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 1}");
  co_await s.execute(
      "CREATE TABLE ks.every (id int PRIMARY KEY, t text, a ascii, bl blob, bo boolean, i int, "
      "bi bigint, f float, d double, ts timestamp, u uuid, tu timeuuid, ip inet, l list<int>, "
      "s set<text>, m map<text, int>)");
  co_await s.execute(
      "INSERT INTO ks.every (id, t, a, bl, bo, i, bi, f, d, ts, u, tu, ip, l, s, m) VALUES "
      "(1, 'plain', 'ascii', 0xCAFE, true, -42, 9000000000, 1.5, -0.25, 1577934245123, "
      "11223344-5566-4778-899a-abbccddeeff0, 50554d6e-29bb-11e5-b345-feff819cdc9f, "
      "'192.168.0.1', [3, 1, 2], {'b', 'it''s'}, {'one': 1, 'two': 2})");
  co_await s.execute("INSERT INTO ks.every (id) VALUES (2)");
  const std::string tricky =
      "comma, \"quote\"\r\nnew line\ttab\x01 back\\slash h\xC3\xA9llo \xE2\x82\xAC "
      "\xF0\x9F\x98\x80";
  const std::string empty;
  const std::vector<std::byte> no_bytes;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const float infinity = std::numeric_limits<float>::infinity();
  const cql::timestamp before_epoch{std::chrono::milliseconds{-1}};
  cql::inet_address loopback6;
  loopback6.size = 16;
  loopback6.bytes[15] = std::byte{1};
  co_await s.execute(
      "INSERT INTO ks.every (id, t, a, bl, d, f, ts, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", 3,
      tricky, empty, no_bytes, nan, infinity, before_epoch, loopback6);
  const cql::query_value empty_int{no_bytes};
  const double minus_infinity = -std::numeric_limits<double>::infinity();
  const std::int64_t smallest = std::numeric_limits<std::int64_t>::min();
  co_await s.execute("INSERT INTO ks.every (id, i, d, bi, bo) VALUES (?, ?, ?, ?, ?)", 4, empty_int,
                     minus_infinity, smallest, false);
  co_await s.close();
}

// The rows come in token order: ids 1, 2, 4, 3.
constexpr const char* every_query =
    "SELECT id, t, a, bl, bo, i, bi, f, d, ts, u, tu, ip, l, s, m FROM ks.every";

TEST_F(CqlExportCli, EveryColumnTypeAsCsvIsExact) {
  cql::server srv;
  srv.start();
  scopekit::sync_wait(create_every_type_table(srv.port()));
  const run_result r = run({"--port", std::to_string(srv.port()), "--query", every_query});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "id,t,a,bl,bo,i,bi,f,d,ts,u,tu,ip,l,s,m\r\n"
            "1,plain,ascii,0xcafe,true,-42,9000000000,1.5,-0.25,2020-01-02T03:04:05.123Z,"
            "11223344-5566-4778-899a-abbccddeeff0,50554d6e-29bb-11e5-b345-feff819cdc9f,"
            "192.168.0.1,\"[3, 1, 2]\",\"{'b', 'it''s'}\",\"{'one': 1, 'two': 2}\"\r\n"
            "2,,,,,,,,,,,,,,,\r\n"
            "4,,,,false,\"\",-9223372036854775808,,-Infinity,,,,,,,\r\n"
            "3,\"comma, \"\"quote\"\"\r\nnew line\ttab\x01 back\\slash h\xC3\xA9llo \xE2\x82\xAC "
            "\xF0\x9F\x98\x80\",\"\",0x,,,,Infinity,NaN,1969-12-31T23:59:59.999Z,,,::1,,,\r\n");
}

TEST_F(CqlExportCli, EveryColumnTypeAsJsonLinesIsExact) {
  cql::server srv;
  srv.start();
  scopekit::sync_wait(create_every_type_table(srv.port()));
  const run_result r =
      run({"--port", std::to_string(srv.port()), "--query", every_query, "--format", "jsonl"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"id\":1,\"t\":\"plain\",\"a\":\"ascii\",\"bl\":\"0xcafe\",\"bo\":true,\"i\":-42,"
            "\"bi\":9000000000,\"f\":1.5,\"d\":-0.25,\"ts\":\"2020-01-02T03:04:05.123Z\","
            "\"u\":\"11223344-5566-4778-899a-abbccddeeff0\","
            "\"tu\":\"50554d6e-29bb-11e5-b345-feff819cdc9f\",\"ip\":\"192.168.0.1\","
            "\"l\":[3,1,2],\"s\":[\"b\",\"it's\"],\"m\":{\"one\":1,\"two\":2}}\n"
            "{\"id\":2,\"t\":null,\"a\":null,\"bl\":null,\"bo\":null,\"i\":null,\"bi\":null,"
            "\"f\":null,\"d\":null,\"ts\":null,\"u\":null,\"tu\":null,\"ip\":null,\"l\":null,"
            "\"s\":null,\"m\":null}\n"
            "{\"id\":4,\"t\":null,\"a\":null,\"bl\":null,\"bo\":false,\"i\":\"\","
            "\"bi\":-9223372036854775808,\"f\":null,\"d\":\"-Infinity\",\"ts\":null,\"u\":null,"
            "\"tu\":null,\"ip\":null,\"l\":null,\"s\":null,\"m\":null}\n"
            "{\"id\":3,\"t\":\"comma, \\\"quote\\\"\\r\\nnew line\\ttab\\u0001 back\\\\slash "
            "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\",\"a\":\"\",\"bl\":\"0x\",\"bo\":null,"
            "\"i\":null,\"bi\":null,\"f\":\"Infinity\",\"d\":\"NaN\","
            "\"ts\":\"1969-12-31T23:59:59.999Z\",\"u\":null,\"tu\":null,\"ip\":\"::1\","
            "\"l\":null,\"s\":null,\"m\":null}\n");
}

TEST_F(CqlExportCli, KeyspaceIsUsedAfterConnecting) {
  cql::server srv;
  srv.add_synthetic_table("demo", "rows", 3);
  srv.start();
  const run_result r = run({"--port", std::to_string(srv.port()), "--keyspace", "demo", "--query",
                            "SELECT name FROM rows"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "name\r\nrow-0\r\nrow-1\r\nrow-2\r\n");
}

// ---- Output files: one run, one file; never another run's ---------------------------------

TEST_F(CqlExportCli, TwoExportsToOneOutCannotBothSucceed) {
  // The first export holds its output while its fourth page stalls on its server.
  cql::server stalled;
  start_with_fault(stalled, 1'000, cql::fault::action::stall, 3);
  const fs::path out = dir_ / "rows.csv";
  export_process first{{"--port", std::to_string(stalled.port()), "--page-size", "100", "--timeout",
                        "600", "--out", out.string()},
                       dir_ / "first.stdout",
                       dir_ / "first.stderr"};
  const std::string three_pages = demo_csv(0, 300);
  ASSERT_TRUE(scopekit::test::wait_until(
      [&] { return !only_file_holding(dir_, "rows.csv.partial", three_pages).empty(); }, 30s));
  const fs::path partial = only_file_holding(dir_, "rows.csv.partial", three_pages);

  // The second, on the same --out, from a server that answers at once, is refused.
  const run_result second = run({"--rows", "5", "--out", out.string()});
  EXPECT_EQ(second.status, 8) << second.err;
  EXPECT_TRUE(matches(second.err, concat("cql-export: output busy: another cql-export is writing ",
                                         out.string(), " (*); nothing written\n")))
      << second.err;
  EXPECT_FALSE(fs::exists(out));               // nothing passed off as complete
  EXPECT_EQ(read_file(partial), three_pages);  // the first run's file untouched

  first.send(SIGINT);
  ASSERT_TRUE(first.wait(30s));
  EXPECT_EQ(first.status(), 130);
  EXPECT_EQ(read_file(partial), three_pages);
  EXPECT_FALSE(fs::exists(out));

  // Once the first has ended, the output is free again.
  const run_result third = run({"--rows", "5", "--out", out.string()});
  EXPECT_EQ(third.status, 0) << third.err;
  EXPECT_EQ(read_file(out), demo_csv(0, 5));
  EXPECT_EQ(read_file(partial), three_pages);  // the interrupted run's rows are still there
}

TEST_F(CqlExportCli, AnEarlierPartialFileIsKeptAndNamed) {
  const fs::path out = dir_ / "rows.csv";
  const std::string earlier = "id,name,payload\r\n0,row-0,0x00\r\n";
  { std::ofstream{out.string() + ".partial", std::ios::binary} << earlier; }
  const run_result r = run({"--rows", "5", "--out", out.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(out), demo_csv(0, 5));
  EXPECT_EQ(read_file(out.string() + ".partial"), earlier);  // neither removed nor overwritten
  EXPECT_TRUE(
      matches(r.err, concat("cql-export: keeping ", out.string(),
                            ".partial, left by an earlier run; this run writes ", out.string(),
                            ".partial.*\ncql-export: ", figures(5), " -> ", out.string(), "\n")))
      << r.err;
  EXPECT_EQ(files_starting_with(dir_, "rows.csv.partial").size(), 1U);  // this run's is renamed
}

TEST_F(CqlExportCli, AReadOnlyOutputFileIsNotReplaced) {
  const fs::path out = dir_ / "rows.csv";
  { std::ofstream{out} << "a file someone protected\n"; }
  fs::permissions(out, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  expect_failure(run({"--rows", "5", "--out", out.string()}), 3,
                 concat("cql-export: output error: ", out.string(),
                        " is read-only (mode 0444): not replaced; nothing written"));
  EXPECT_EQ(read_file(out), "a file someone protected\n");
  EXPECT_EQ(fs::status(out).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  EXPECT_TRUE(files_starting_with(dir_, "rows.csv.").empty());  // no partial or lock file left
}

TEST_F(CqlExportCli, AReplacedFileKeepsItsMode) {
  const fs::path out = dir_ / "rows.csv";
  { std::ofstream{out} << "an older export\n"; }
  fs::permissions(out, fs::perms::owner_read | fs::perms::owner_write);
  const run_result r = run({"--rows", "5", "--out", out.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(out), demo_csv(0, 5));
  EXPECT_EQ(fs::status(out).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);  // not widened to the umask's 0644
  EXPECT_TRUE(files_starting_with(dir_, "rows.csv.").empty());
}

// ---- The summary's peak RSS -------------------------------------------------------------------

/// The "peak RSS <x> MB" figure of a summary line, in bytes; -1 if there is none.
double reported_peak_rss(std::string_view err) {
  constexpr std::string_view label = "peak RSS ";
  const std::size_t at = err.find(label);
  if (at == std::string_view::npos) {
    return -1;
  }
  return std::strtod(std::string(err.substr(at + label.size())).c_str(), nullptr) * 1e6;
}

TEST_F(CqlExportCli, PeakRssIsTheProgramsOwnNotItsParents) {
  // Linux keeps the largest RSS of a process across exec (ru_maxrss), so a figure taken from
  // getrusage() is at least what this test process has resident when it starts the program.
  constexpr std::size_t ballast_size = std::size_t{256} << 20U;
  std::vector<unsigned char> ballast(ballast_size);
  for (std::size_t i = 0; i < ballast.size(); i += 4096) {
    ballast[i] = static_cast<unsigned char>(i >> 12U);  // every page touched: resident
  }
  const run_result r = run({"--rows", "5", "--out", path("rows.csv")});
  EXPECT_EQ(r.status, 0) << r.err;
  const double peak = reported_peak_rss(r.err);
  EXPECT_GT(peak, 0) << r.err;
  // Exporting 5 rows takes a few MB (tens under a sanitizer), far from the ballast's 256 MiB.
  EXPECT_LT(peak, static_cast<double>(ballast_size) / 2) << r.err;
  EXPECT_EQ(ballast[ballast_size - 4096], static_cast<unsigned char>((ballast_size - 4096) >> 12U));
}

// ---- Signals ---------------------------------------------------------------------------------

TEST_F(CqlExportCli, SigintStopsTheStreamAndKeepsTheRowsWritten) {
  check_interrupt(SIGINT, "SIGINT");
}

TEST_F(CqlExportCli, SigtermStopsTheStreamAndKeepsTheRowsWritten) {
  check_interrupt(SIGTERM, "SIGTERM");
}

// ---- Failures --------------------------------------------------------------------------------

TEST_F(CqlExportCli, AnUnwritablePathIsAnOutputError) {
  const std::string out = path("missing/rows.csv");
  expect_failure(run({"--rows", "5", "--out", out}), 3,
                 concat("cql-export: output error: cannot create ", out,
                        ".lock: No such file or directory; nothing written"));
}

TEST_F(CqlExportCli, AFullDiskIsAnOutputError) {
  expect_failure(run({"--rows", "5", "--out", "/dev/full"}), 3,
                 "cql-export: output error: cannot write /dev/full: No space left on device; "
                 "nothing written");
}

TEST_F(CqlExportCli, AnUnreachableHostIsAConnectionError) {
  const std::string port = std::to_string(closed_port());
  expect_failure(run({"--port", port}), 4,
                 concat("cql-export: connection error: cannot connect to 127.0.0.1:", port,
                        ": Connection refused; nothing written"));
}

TEST_F(CqlExportCli, AConnectionLostMidStreamKeepsTheCompletePagesAsPartial) {
  cql::server srv;
  start_with_fault(srv, 1'000, cql::fault::action::close_connection, 2);
  const std::string out = path("rows.csv");
  const run_result r =
      run({"--port", std::to_string(srv.port()), "--page-size", "100", "--out", out});
  EXPECT_EQ(r.status, 4) << r.err;
  const fs::path partial = only_file_holding(dir_, "rows.csv.partial", demo_csv(0, 200));
  EXPECT_FALSE(partial.empty());
  EXPECT_TRUE(matches(r.err, concat("cql-export: connection error: *; ", figures(200),
                                    "; incomplete output kept in ", partial.string(), "\n")))
      << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".lock"));  // released and removed
}

TEST_F(CqlExportCli, AStalledServerIsATimeoutAfterTheCompletePages) {
  // The fourth page never comes; the export must not wait for it for ever.
  cql::server srv;
  start_with_fault(srv, 1'000, cql::fault::action::stall, 3);
  const std::string out = path("rows.csv");
  const run_result r = run({"--port", std::to_string(srv.port()), "--page-size", "100", "--timeout",
                            "0.5", "--out", out});
  EXPECT_EQ(r.status, 7) << r.err;
  const fs::path partial = only_file_holding(dir_, "rows.csv.partial", demo_csv(0, 300));
  EXPECT_FALSE(partial.empty());  // the complete pages, whole rows
  EXPECT_TRUE(matches(
      r.err, concat("cql-export: timeout: no answer from 127.0.0.1:", std::to_string(srv.port()),
                    " within 500 ms to page 4 of EXECUTE \"SELECT * FROM "
                    "demo.rows\" (the session's request timeout); ",
                    figures(300), "; incomplete output kept in ", partial.string(), "\n")))
      << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CqlExportCli, AStalledPrepareIsATimeoutNamingTheStatement) {
  cql::server srv;
  srv.add_synthetic_table("demo", "rows", 10);
  cql::fault stall;
  stall.what = cql::fault::action::stall;
  srv.inject(stall);  // every QUERY and EXECUTE: the USE
  srv.start();
  expect_failure(
      run({"--port", std::to_string(srv.port()), "--keyspace", "demo", "--timeout", "0.2"}), 7,
      concat("cql-export: timeout: no answer from 127.0.0.1:", std::to_string(srv.port()),
             R"( within 200 ms to QUERY "USE "demo""; nothing written)"));
}

TEST_F(CqlExportCli, AServerRepeatingItsPagingStateIsAProtocolErrorNotAnEndlessExport) {
  // Every page holds the next 100 ids and the same paging state: without the check, the
  // export would never end (issue 16: 688,000 rows in 20 s and counting).
  const std::vector<std::byte> same_state = {std::byte{0x5c}, std::byte{0x0d}};
  std::atomic<std::int64_t> next_id{0};
  const cql::test::scripted_server srv{[&](const cql::request& r) {
    if (std::holds_alternative<cql::prepare_request>(r.message)) {
      return cql::test::prepared_body();
    }
    return cql::test::rows_page(next_id.fetch_add(100), 100, same_state);
  }};
  const std::string out = path("rows.csv");
  const run_result r = run({"--port", std::to_string(srv.port()), "--page-size", "100", "--query",
                            "SELECT id FROM demo.rows", "--out", out});
  EXPECT_EQ(r.status, 6) << r.err;
  std::string first_page = "id\r\n";
  for (int id = 0; id < 100; ++id) {
    first_page += concat(std::to_string(id), "\r\n");
  }
  const fs::path partial = only_file_holding(dir_, "rows.csv.partial", first_page);
  EXPECT_FALSE(partial.empty());  // the first page; the second repeats the state
  EXPECT_TRUE(matches(r.err, concat("cql-export: protocol error: rows.paging_state: page 2 from "
                                    "127.0.0.1:",
                                    std::to_string(srv.port()),
                                    " repeats the paging state it was asked with *; ",
                                    figures(100), "; incomplete output kept in ",
                                    partial.string(), "\n")))
      << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CqlExportCli, AnUnknownTableIsACqlError) {
  expect_failure(run({"--rows", "5", "--query", "SELECT * FROM demo.nowhere"}), 5,
                 "cql-export: CQL error: unconfigured table nowhere (error 0x2200); "
                 "nothing written");
}

TEST_F(CqlExportCli, ASyntaxErrorIsACqlError) {
  expect_failure(run({"--rows", "5", "--query", "SELEC * FROM demo.rows"}), 5,
                 "cql-export: CQL error: * (error 0x2000); nothing written");
}

TEST_F(CqlExportCli, AServerErrorMidStreamIsACqlErrorAfterTheCompletePages) {
  cql::server srv;
  srv.add_synthetic_table("demo", "rows", 1'000);
  cql::fault failing;
  failing.what = cql::fault::action::error;
  failing.error = cql::error_code::read_timeout;
  failing.message = "injected read timeout";
  failing.statement_contains = "demo.rows";
  failing.from_page = 1;
  srv.inject(failing);
  srv.start();
  const run_result r = run({"--port", std::to_string(srv.port()), "--page-size", "100"});
  EXPECT_EQ(r.status, 5) << r.err;
  EXPECT_EQ(r.out, demo_csv(0, 100));  // stdout cannot be renamed: the line says incomplete
  EXPECT_TRUE(matches(r.err, concat("cql-export: CQL error: injected read timeout "
                                    "(error 0x1200); ",
                                    figures(100), "; output incomplete\n")))
      << r.err;
}

TEST_F(CqlExportCli, AnAnswerThatDoesNotDecodeIsAProtocolError) {
  cql::server srv;
  srv.add_synthetic_table("demo", "rows", 1'000);
  cql::fault garbled;
  garbled.what = cql::fault::action::malformed_frame;
  garbled.statement_contains = "demo.rows";
  srv.inject(garbled);
  srv.start();
  expect_failure(run({"--port", std::to_string(srv.port())}), 6,
                 "cql-export: protocol error: *; nothing written");
}

TEST_F(CqlExportCli, EachBadArgumentExitsTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"--bogus"},      {"--format", "xml"}, {"--page-size", "ten"},
      {"--rows", "-5"}, {"--out"},           {"--rows", "5", "--port", "9042"},
  };
  for (const auto& args : cases) {
    const run_result r = run(args);
    EXPECT_EQ(r.status, 2) << args.front();
    EXPECT_EQ(r.out, "") << args.front();
    EXPECT_TRUE(matches(r.err, "cql-export: * (see --help)\n")) << r.err;
  }
}

TEST_F(CqlExportCli, AQueryWithBindMarkersIsRefusedBeforeItRuns) {
  expect_failure(run({"--rows", "5", "--query", "SELECT * FROM demo.rows WHERE id = ?"}), 2,
                 "cql-export: the query has 1 bind marker(s); cql-export has no values to "
                 "bind; nothing written");
}

TEST_F(CqlExportCli, HelpPrintsTheUsageOnStdout) {
  const run_result r = run({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("usage: scopekit-cql-export", 0), 0U);
  EXPECT_NE(r.out.find("130 interrupted"), std::string::npos);
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace scopekit::cql_export::test
