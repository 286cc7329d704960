// async_scope on three exit paths: a normal end, an exception, and a deadline. Each time the
// connection is closed (with an await, which a destructor could not do), the child work is
// joined, and the cleanup sees how the scope ended.
#include <scopekit/async_scope.hpp>
#include <scopekit/deadline.hpp>
#include <scopekit/sleep.hpp>
#include <scopekit/sync_wait.hpp>
#include <scopekit/task.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace {

using namespace std::chrono_literals;
using scopekit::async_scope;
using scopekit::task;

const char* name(scopekit::outcome o) {
  switch (o) {
    case scopekit::outcome::success: return "success";
    case scopekit::outcome::failure: return "failure";
    case scopekit::outcome::stopped: return "stopped";
    case scopekit::outcome::running: break;
  }
  return "running";
}

struct connection {
  task<> close() {
    co_await scopekit::sleep_for(1ms);  // a goodbye to the server: needs an await
    std::printf("  connection closed\n");
  }
};

task<connection> connect() {
  std::printf("  connected\n");
  co_return connection{};
}

task<> heartbeat() {
  // A timer due at once: it fires before the 20 ms deadline's, on any machine, since due
  // timers fire in deadline order. In the exception case the scope's stop reaches it first.
  co_await scopekit::sleep_for(0ms);
  std::printf("  heartbeat joined\n");
}

enum class ending { normal, exception, deadline };

struct session_body {
  ending how;
  task<> operator()(async_scope& scope) const {
    co_await scope.enter(connect());
    scope.push([&scope] { std::printf("  cleanup saw: %s\n", name(scope.outcome())); });
    scope.spawn(heartbeat());
    if (how == ending::exception) {
      throw std::runtime_error("bad row");
    }
    if (how == ending::deadline) {
      co_await scopekit::sleep_for(1h);  // never answered: the deadline ends it
    }
  }
};

task<> run(ending how) {
  try {
    const session_body body{how};  // named, not written inside the co_await: GCC 12 (issue 15)
    co_await scopekit::with_timeout(20ms, async_scope::run(body));
    std::printf("  returned normally\n");
  } catch (const scopekit::timeout_error&) {
    std::printf("  timed out\n");
  } catch (const std::exception& e) {
    std::printf("  failed: %s\n", e.what());
  }
}

}  // namespace

int main() {
  std::printf("normal end:\n");
  scopekit::sync_wait(run(ending::normal));
  std::printf("exception:\n");
  scopekit::sync_wait(run(ending::exception));
  std::printf("deadline:\n");
  scopekit::sync_wait(run(ending::deadline));
}
