// Tests for the documented form of an async_scope body on GCC 12: a lambda (or an aggregate
// function object) named before the co_await that runs it destroys each capture exactly once.
//
// GCC 12 miscompiles a temporary built by aggregate initialization (the closure of a lambda with
// captures by value, an aggregate function object) inside a full-expression that contains
// co_await: the coroutine frame gets a bitwise duplicate of the temporary, and both are
// destroyed (GCC PR 100611, with PR 99576 and PR 101367). So
// `co_await async_scope::run([s](async_scope&) -> task<> { ... })` destroys `s` twice. The
// temporary is made and destroyed in the caller's frame, before run() sees its argument, so the
// library cannot prevent it; the documentation names the body first, and these tests pin that
// this form is safe. Each capture holds a live-object counter, so a plain Debug build sees a
// second destruction (a count that ends at -1). Under AddressSanitizer it also owns heap memory,
// so ASan reports a double free where it happens.
//
// Everything runs on the sync_wait thread; no test depends on timing.
#include "scopekit/async_scope.hpp"

#include "scopekit/deadline.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "support/counted.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <type_traits>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#define SCOPEKIT_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCOPEKIT_TEST_UNDER_ASAN 1
#endif
#endif

namespace {

using namespace std::chrono_literals;
using scopekit::async_scope;
using scopekit::sync_wait;
using scopekit::task;

struct capture_tag {};

/// What a body captures: counted, and checked for being intact where the body runs.
struct capture : scopekit::test::counted<capture_tag> {
  int mark = 7;
#ifdef SCOPEKIT_TEST_UNDER_ASAN
  // Heap memory, so that a second destruction is a double free that ASan reports. Not in other
  // builds: there the second free would abort in the allocator before the counter could tell.
  std::string text = std::string(64, 'c');
#endif
};

int live() { return scopekit::test::counted<capture_tag>::live(); }

/// The other kind of body GCC 12 gets wrong when it is written inside the co_await.
struct aggregate_body {
  capture held;
  task<int> operator()(async_scope& /*scope*/) const { co_return held.mark; }
};

static_assert(!std::is_trivially_destructible_v<capture>,
              "a trivially destructible capture would hide a second destruction");
static_assert(std::is_aggregate_v<aggregate_body>,
              "an aggregate body is the case GCC 12 destroys twice when built inside co_await");
static_assert(scopekit::scope_body<aggregate_body>);

struct resource {
  task<> close() { co_return; }
};

task<resource> open(capture /*settings*/) { co_return resource{}; }

task<> child(capture /*copy*/) { co_return; }

// Each form below is a coroutine that awaits one way of writing a body and reports how the
// number of live captures changed across that co_await: 0 when every copy made for it was
// destroyed exactly once. Written inside the co_await instead, each reports -1 on GCC 12.
using form = task<> (*)(int& change);

/// The change a form reports; the test fails if the form does not finish.
int change_across(form awaited) {
  int change = 99;
  sync_wait(awaited(change));
  return change;
}

task<> named_lambda(int& change) {
  capture c;
  auto body = [c](async_scope& /*scope*/) -> task<> {
    EXPECT_EQ(c.mark, 7);  // the copy run() calls is intact
    co_return;
  };
  const int before = live();
  co_await async_scope::run(body);
  change = live() - before;
}

task<> named_lambda_moved(int& change) {
  capture c;
  auto body = [c](async_scope& /*scope*/) -> task<> {
    EXPECT_EQ(c.mark, 7);  // the copy run() calls is intact
    co_return;
  };
  const int before = live();
  co_await async_scope::run(std::move(body));
  change = live() - before;
}

task<> named_function_object(int& change) {
  const aggregate_body body{capture{}};
  const int before = live();
  const int value = co_await async_scope::run(body);
  change = live() - before;
  EXPECT_EQ(value, 7);  // the body saw its member intact
}

task<> named_lambda_returning_a_value(int& change) {
  capture c;
  auto body = [c](async_scope& /*scope*/) -> task<int> { co_return c.mark; };
  const int before = live();
  const int value = co_await async_scope::run(body);
  change = live() - before;
  EXPECT_EQ(value, 7);  // the body's value came through run()
}

task<> named_lambda_under_a_deadline(int& change) {
  capture c;
  auto body = [c](async_scope& /*scope*/) -> task<> {
    EXPECT_EQ(c.mark, 7);  // the copy run() calls is intact
    co_return;
  };
  const int before = live();
  co_await scopekit::with_timeout(1h, async_scope::run(body));
  change = live() - before;
}

task<> named_lambda_spawning_children(int& change) {
  capture c;
  auto body = [c](async_scope& scope) -> task<> {
    scope.spawn(child(c));  // each child gets its own copy, as a parameter
    scope.spawn(child(c));
    co_return;
  };
  const int before = live();
  co_await async_scope::run(body);
  change = live() - before;
}

task<> named_lambda_entering_a_resource(int& change) {
  capture c;
  auto body = [c](async_scope& scope) -> task<> { co_await scope.enter(open(c)); };
  const int before = live();
  co_await async_scope::run(body);
  change = live() - before;
}

TEST(LambdaBody, CapturedStringDestroyedOnceWhenNamed) {
  const int start = live();
  EXPECT_EQ(change_across(named_lambda), 0);  // -1: a copy destroyed twice around the co_await
  EXPECT_EQ(live() - start, 0);               // every capture destroyed once by the end
}

TEST(LambdaBody, CapturedStringDestroyedOnceWhenNamedAndMoved) {
  const int start = live();
  EXPECT_EQ(change_across(named_lambda_moved), 0);  // -1: a copy destroyed twice
  EXPECT_EQ(live() - start, 0);                     // every capture destroyed once by the end
}

TEST(LambdaBody, FunctionObjectMembersDestroyedOnceWhenNamed) {
  const int start = live();
  EXPECT_EQ(change_across(named_function_object), 0);  // -1: a member destroyed twice
  EXPECT_EQ(live() - start, 0);                        // every member destroyed once by the end
}

TEST(LambdaBody, ValueBodyDestroysCapturesOnceWhenNamed) {
  const int start = live();
  EXPECT_EQ(change_across(named_lambda_returning_a_value), 0);  // -1: a copy destroyed twice
  EXPECT_EQ(live() - start, 0);  // every capture destroyed once by the end
}

TEST(LambdaBody, NamedBodyUnderDeadlineDestroysCapturesOnce) {
  const int start = live();
  EXPECT_EQ(change_across(named_lambda_under_a_deadline), 0);  // -1: a copy destroyed twice
  EXPECT_EQ(live() - start, 0);  // every capture destroyed once by the end
}

TEST(LambdaBody, SpawnedChildrenParametersDestroyedOnce) {
  const int start = live();
  EXPECT_EQ(change_across(named_lambda_spawning_children), 0);  // children's copies too
  EXPECT_EQ(live() - start, 0);  // every capture destroyed once by the end
}

TEST(LambdaBody, EnteredAcquisitionArgumentDestroyedOnce) {
  const int start = live();
  EXPECT_EQ(change_across(named_lambda_entering_a_resource), 0);  // the acquisition's copy too
  EXPECT_EQ(live() - start, 0);  // every capture destroyed once by the end
}

// The miscompilation needs a co_await in the full-expression: from ordinary code (main, a
// test), a lambda written inline in sync_wait(async_scope::run(...)) is safe on GCC 12 too.
TEST(LambdaBody, InlineLambdaOutsideCoroutineDestroyedOnce) {
  const int start = live();
  {
    capture c;
    sync_wait(async_scope::run([c](async_scope& /*scope*/) -> task<> {
      EXPECT_EQ(c.mark, 7);  // the copy run() calls is intact
      co_return;
    }));
    EXPECT_EQ(live() - start, 1);  // only `c`: the temporary and run()'s copy destroyed once each
  }
  EXPECT_EQ(live() - start, 0);  // every capture destroyed once by the end
}

}  // namespace
