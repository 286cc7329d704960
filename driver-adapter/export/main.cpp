// scopekit-cql-export - runs a SELECT through a paged row stream and writes its rows as CSV or
// JSON Lines; against an embedded server with a synthetic table when no --host is given.
//
//   scopekit-cql-export --rows 1000000 --out demo.csv
//   scopekit-cql-export --host 10.0.0.5 --query "SELECT * FROM shop.items" --format jsonl
//
// Threads: the main thread runs the export under sync_wait (the session's I/O thread and,
// without --host, the embedded server's threads do the network); one thread takes SIGINT and
// SIGTERM with sigwait() and turns the first into a stop request; on a terminal, one more
// thread refreshes the progress line. The signals are blocked before any thread exists, so
// that every thread inherits the mask and no handler ever runs: nothing async-signal-unsafe
// can happen, and the stop travels through std::stop_source like any other.
#include "cql_export/concat.hpp"
#include "cql_export/exporter.hpp"
#include "cql_export/options.hpp"
#include "cql_export/output.hpp"
#include "cql_export/report.hpp"

#include "scopekit/cql/server/server.hpp"
#include "scopekit/sync_wait.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace {

namespace ce = scopekit::cql_export;
using ce::concat;
using clock_type = std::chrono::steady_clock;

/// Waits for SIGINT and SIGTERM (blocked in every thread) on a thread of its own. The first
/// requests stop on `stop`; a second one ends the process at once with status 130.
class signal_watcher {
public:
  signal_watcher(const sigset_t& signals, std::stop_source stop)
      : signals_(signals), stop_(std::move(stop)), thread_([this] { watch(); }) {}
  signal_watcher(const signal_watcher&) = delete;
  signal_watcher& operator=(const signal_watcher&) = delete;
  signal_watcher(signal_watcher&&) = delete;
  signal_watcher& operator=(signal_watcher&&) = delete;
  /// Wakes the thread with a signal of the set (SIGINT), directed at it, and joins it.
  ~signal_watcher() {
    finished_.store(true);
    pthread_kill(thread_.native_handle(), SIGINT);
    thread_.join();
  }

  /// The first signal received, 0 if none.
  int received() const noexcept { return received_.load(); }

private:
  void watch() {
    for (;;) {
      int signal = 0;
      if (sigwait(&signals_, &signal) != 0 || finished_.load()) {
        if (finished_.load()) {
          return;
        }
        continue;
      }
      if (received_.exchange(signal) == 0) {
        stop_.request_stop();  // runs the stream's stop callbacks here; they post and return
        continue;
      }
      constexpr std::string_view message = "\ncql-export: second signal, exiting at once\n";
      static_cast<void>(::write(STDERR_FILENO, message.data(), message.size()));
      ::_exit(ce::exit_status::interrupted);
    }
  }

  sigset_t signals_;
  std::stop_source stop_;
  std::atomic<bool> finished_{false};
  std::atomic<int> received_{0};
  std::thread thread_;  // last: started once the rest is built
};

/// Rewrites one progress line on stderr four times a second, until destroyed; then erases it.
class progress_display {
public:
  progress_display(const ce::progress_counters& counters, clock_type::time_point start)
      : counters_(counters), start_(start), thread_([this] { run(); }) {}
  progress_display(const progress_display&) = delete;
  progress_display& operator=(const progress_display&) = delete;
  progress_display(progress_display&&) = delete;
  progress_display& operator=(progress_display&&) = delete;
  ~progress_display() {
    {
      const std::lock_guard lock{mutex_};
      done_ = true;
    }
    wake_.notify_one();
    thread_.join();
    if (width_ != 0) {
      const std::string blank = concat("\r", std::string(width_, ' '), "\r");
      std::fputs(blank.c_str(), stderr);
    }
  }

private:
  void run() {
    std::unique_lock lock{mutex_};
    while (!wake_.wait_for(lock, std::chrono::milliseconds{250}, [this] { return done_; })) {
      show();
    }
  }

  void show() {
    ce::run_stats s;
    s.rows = counters_.rows.load(std::memory_order_relaxed);
    s.bytes = counters_.bytes.load(std::memory_order_relaxed);
    s.seconds = std::chrono::duration<double>(clock_type::now() - start_).count();
    std::string line = concat("\rcql-export: ", ce::format_stats(s));
    if (line.size() < width_) {
      line.append(width_ - line.size(), ' ');
    }
    width_ = line.size();
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
  }

  const ce::progress_counters& counters_;
  clock_type::time_point start_;
  std::size_t width_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;  // last: started once the rest is built
};

const char* signal_name(int signal) {
  return signal == SIGTERM ? "SIGTERM" : "SIGINT";
}

/// Everything after the arguments have been checked; returns the exit status.
int run(const ce::options& o, const sigset_t& signals) {
  std::optional<ce::output> out;
  try {
    out.emplace(o.out);
  } catch (...) {
    const ce::failure f = ce::classify(std::current_exception());
    std::fprintf(stderr, "cql-export: %s; nothing written\n", f.message.c_str());
    return f.status;
  }

  if (const std::vector<std::string>& earlier = out->earlier_partials(); !earlier.empty()) {
    std::string names = earlier.front();
    for (std::size_t i = 1; i < earlier.size(); ++i) {
      names += concat(", ", earlier[i]);
    }
    std::fprintf(stderr, "cql-export: keeping %s, left by %s; this run writes %s\n", names.c_str(),
                 earlier.size() == 1 ? "an earlier run" : "earlier runs",
                 out->partial_name().c_str());
  }

  std::stop_source stop;
  const signal_watcher watcher{signals, stop};
  ce::progress_counters progress;
  std::optional<scopekit::cql::server> embedded;
  std::optional<ce::failure> failed;
  const auto start = clock_type::now();
  {
    std::optional<progress_display> display;
    if (::isatty(STDERR_FILENO) != 0) {
      display.emplace(progress, start);
    }
    try {
      ce::endpoint server;
      server.keyspace = o.keyspace;
      if (o.embedded()) {
        embedded.emplace();  // 127.0.0.1, a free port
        embedded->add_synthetic_table("demo", "rows", o.rows);
        embedded->start();
        server.port = embedded->port();
      } else {
        server.host = o.host.value_or("127.0.0.1");
        server.port = o.port.value_or(9042);
      }
      scopekit::sync_wait(ce::export_rows(o, server, *out, progress, stop.get_token()),
                          stop.get_token());
      out->commit();
    } catch (...) {
      failed = ce::classify(std::current_exception());
    }
  }  // the progress line is erased here

  ce::run_stats stats;
  stats.rows = progress.rows.load();
  stats.bytes = out->bytes_written();
  stats.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  const std::string figures = concat(ce::format_stats(stats), ce::format_peak_rss());
  if (!failed) {
    std::fprintf(stderr, "cql-export: %s -> %s\n", figures.c_str(), out->name().c_str());
    return ce::exit_status::ok;
  }
  if (failed->status == ce::exit_status::interrupted) {
    failed->message = concat("interrupted by ", signal_name(watcher.received()));
  }
  const std::string fate = out->abandon(stats.rows > 0);
  if (stats.rows == 0 && stats.bytes == 0) {
    std::fprintf(stderr, "cql-export: %s; %s\n", failed->message.c_str(), fate.c_str());
  } else {
    std::fprintf(stderr, "cql-export: %s; %s; %s\n", failed->message.c_str(), figures.c_str(),
                 fate.c_str());
  }
  return failed->status;
}

}  // namespace

int main(int argc, char** argv) {
  // First, before any thread exists: SIGINT and SIGTERM blocked (every thread inherits the
  // mask; signal_watcher takes them with sigwait), SIGPIPE ignored (a closed pipe on stdout
  // is then an EPIPE output error, not a silent death).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;  // NOLINT(cppcoreguidelines-pro-type-union-access)
  sigaction(SIGPIPE, &ignore, nullptr);

  const std::vector<std::string_view> args(argv + 1, argv + argc);  // NOLINT(*-pointer-arithmetic)
  const ce::parse_result parsed = ce::parse_options(args);
  if (std::holds_alternative<ce::help_requested>(parsed)) {
    const std::string_view usage = ce::usage_text();
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    return std::fflush(stdout) == 0 ? ce::exit_status::ok : ce::exit_status::output;
  }
  if (const auto* problem = std::get_if<ce::usage_problem>(&parsed)) {
    std::fprintf(stderr, "cql-export: %s (see --help)\n", problem->message.c_str());
    return ce::exit_status::usage;
  }
  try {
    return run(std::get<ce::options>(parsed), signals);
  } catch (const std::exception& e) {  // std::bad_alloc, a thread that cannot start
    std::fprintf(stderr, "cql-export: error: %s\n", e.what());
    return ce::exit_status::internal;
  }
}
