// cql_stream_reader - streams a table through scopekit's CQL client and prints what it measured.
//
//   cql_stream_reader --port P [--host H] [--query Q] [--page-size N] [--prefetch N]
//                     [--expect-rows N] [--work-ns N]
//
// Reads every row with row_stream::next() and, for each, reads the id (bigint) and the sizes
// of the name and the payload (the way an exporter would touch them); --work-ns adds that
// much busy work per row (a consumer that does something). Prints one line (cpu_ns_per_row:
// the CPU time of every thread of the process while streaming, per row):
//   rows=<n> bytes=<payload bytes> seconds=<s> rows_per_s=<r> mb_per_s=<m> max_rss_kb=<k>
//   cpu_ns_per_row=<c>
// and exits 1 if --expect-rows is given and differs. max_rss_kb is this process's peak RSS.
#include "scopekit/cql/client/session.hpp"
#include "scopekit/sync_wait.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

struct arguments {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string query = "SELECT id, name, payload FROM demo.rows";
  std::int32_t page_size = 5000;
  std::size_t prefetch = 1;
  long long expect_rows = -1;
  long long work_ns = 0;
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "cql_stream_reader: %s\nusage: cql_stream_reader --port P [--host H] [--query Q] "
               "[--page-size N] [--prefetch N] [--expect-rows N] [--work-ns N]\n",
               problem);
  std::exit(2);
}

long long number(const char* text) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 0) {
    usage("expected a non-negative number");
  }
  return v;
}

arguments parse(int argc, char** argv) {
  arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];  // NOLINT(*-pointer-arithmetic)
    if (i + 1 >= argc) {
      usage("every option takes a value");
    }
    const char* v = argv[++i];  // NOLINT(*-pointer-arithmetic)
    if (arg == "--host") {
      a.host = v;
    } else if (arg == "--port") {
      a.port = static_cast<std::uint16_t>(number(v));
    } else if (arg == "--query") {
      a.query = v;
    } else if (arg == "--page-size") {
      a.page_size = static_cast<std::int32_t>(number(v));
    } else if (arg == "--prefetch") {
      a.prefetch = static_cast<std::size_t>(number(v));
    } else if (arg == "--expect-rows") {
      a.expect_rows = number(v);
    } else if (arg == "--work-ns") {
      a.work_ns = number(v);
    } else {
      usage("unknown option");
    }
  }
  if (a.port == 0) {
    usage("--port is required");
  }
  return a;
}

// CPU time of the process so far, every thread, user and system.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// Busy work of about `ns` nanoseconds, measured against the clock.
void spin(long long ns) {
  if (ns <= 0) {
    return;
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const arguments a = parse(argc, argv);
  try {
    struct totals {
      long long rows = 0;
      long long bytes = 0;
      std::int64_t id_sum = 0;
      double seconds = 0;
      double cpu_seconds = 0;  // of the whole process (every thread) while streaming
    };
    const totals t = scopekit::sync_wait([&]() -> scopekit::task<totals> {
      scopekit::cql::session_options options;
      options.host = a.host;
      options.port = a.port;
      scopekit::cql::session s = co_await scopekit::cql::session::connect(options);
      scopekit::cql::stream_options so;
      so.page_size = a.page_size;
      so.prefetch_pages = a.prefetch;
      totals out;
      const auto start = std::chrono::steady_clock::now();
      const double cpu_start = cpu_seconds();
      {
        scopekit::cql::row_stream rows =
            co_await s.execute_stream(scopekit::cql::statement{a.query, {}}, so);
        while (auto row = co_await rows.next()) {
          out.id_sum += row->get<std::int64_t>(0);
          out.bytes += static_cast<long long>(row->get<std::string_view>(1).size() +
                                              row->get<std::span<const std::byte>>(2).size());
          ++out.rows;
          spin(a.work_ns);
        }
        co_await rows.close();
      }
      out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      out.cpu_seconds = cpu_seconds() - cpu_start;
      co_await s.close();
      co_return out;
    }());
    rusage usage_now{};
    ::getrusage(RUSAGE_SELF, &usage_now);
    std::printf(
        "rows=%lld bytes=%lld seconds=%.4f rows_per_s=%.0f mb_per_s=%.1f max_rss_kb=%ld "
        "cpu_ns_per_row=%.1f\n",
        t.rows, t.bytes, t.seconds, static_cast<double>(t.rows) / t.seconds,
        static_cast<double>(t.bytes) / t.seconds / 1e6, usage_now.ru_maxrss,
        t.rows == 0 ? 0.0 : t.cpu_seconds * 1e9 / static_cast<double>(t.rows));
    if (a.expect_rows >= 0 && t.rows != a.expect_rows) {
      std::fprintf(stderr, "cql_stream_reader: expected %lld rows, read %lld\n", a.expect_rows,
                   t.rows);
      return 1;
    }
    const long long n = t.rows;
    if (a.expect_rows >= 0 && t.id_sum != static_cast<std::int64_t>(n * (n - 1) / 2)) {
      std::fprintf(stderr, "cql_stream_reader: the ids do not sum to 0 + ... + %lld\n", n - 1);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cql_stream_reader: %s\n", e.what());
    return 1;
  }
  return 0;
}
