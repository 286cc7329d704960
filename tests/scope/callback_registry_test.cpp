// Tests for scopekit/callback_registry.hpp: registration lifetime, close, the cycle it breaks,
// re-entrant callbacks, the std::stop_callback-like thread contract, exceptions, weak_bind.
//
// Thread tests say which thread runs what. They synchronise with latches and atomics, never
// with sleeps, and are meant to run under TSan and ASan (tsan and asan presets).
#include "scopekit/callback_registry.hpp"

#include "support/callables.hpp"
#include "support/counted.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using scopekit::callback_registration;
using scopekit::callback_registry;
using scopekit::test::counted;

using int_registry = callback_registry<void(int)>;
using nothrow_registry = callback_registry<void() noexcept>;

// ---- Type properties ------------------------------------------------------------------------
static_assert(!std::is_copy_constructible_v<callback_registration>);
static_assert(!std::is_copy_assignable_v<callback_registration>);
static_assert(std::is_nothrow_move_constructible_v<callback_registration>);
static_assert(std::is_nothrow_move_assignable_v<callback_registration>);
static_assert(std::is_nothrow_default_constructible_v<callback_registration>);
static_assert(std::is_nothrow_destructible_v<callback_registration>);
static_assert(noexcept(std::declval<callback_registration&>().reset()));
static_assert(noexcept(std::declval<const callback_registration&>().active()));
static_assert(!std::is_convertible_v<callback_registration, bool>, "operator bool is explicit");
static_assert(sizeof(callback_registration) == sizeof(void*), "a registration is one pointer");
static_assert(std::is_same_v<int_registry::registration, nothrow_registry::registration>,
              "one registration type for every signature");

static_assert(!std::is_copy_constructible_v<int_registry>);
static_assert(!std::is_move_constructible_v<int_registry>, "registrations point to it");
static_assert(!std::is_copy_assignable_v<int_registry>);
static_assert(!std::is_move_assignable_v<int_registry>);
static_assert(noexcept(std::declval<nothrow_registry&>().invoke()));
static_assert(!noexcept(std::declval<int_registry&>().invoke(1)), "a callback may throw");
static_assert(noexcept(std::declval<int_registry&>().close()));
static_assert(noexcept(std::declval<const int_registry&>().closed()));

// Signatures: void results only, no rvalue-reference parameters, noexcept allowed.
static_assert(scopekit::registry_signature<void()>);
static_assert(scopekit::registry_signature<void(int, const std::string&) noexcept>);
static_assert(scopekit::registry_signature<void(int&)>);
static_assert(!scopekit::registry_signature<int(int)>, "results would be discarded");
static_assert(!scopekit::registry_signature<void(std::string&&)>,
              "several callbacks cannot all take ownership of one argument");
static_assert(!scopekit::registry_signature<int>);

// Callables.
inline constexpr auto takes_int = [](int) {};
inline constexpr auto takes_int_nothrow = [](int) noexcept {};
struct throwing_destructor {
  throwing_destructor() = default;
  throwing_destructor(const throwing_destructor&) = default;
  throwing_destructor& operator=(const throwing_destructor&) = default;
  // A user-provided body: GCC 12 drops noexcept(false) from a defaulted destructor.
  ~throwing_destructor() noexcept(false) {}  // NOLINT(modernize-use-equals-default)
  void operator()() const {}
};
static_assert(scopekit::callback_for<decltype(takes_int), void(int)>);
static_assert(scopekit::callback_for<decltype(takes_int_nothrow), void(int) noexcept>);
static_assert(!scopekit::callback_for<decltype(takes_int), void(int) noexcept>,
              "a noexcept signature accepts only nothrow callables");
static_assert(!scopekit::callback_for<decltype(takes_int), void(std::string)>);
static_assert(scopekit::callback_for<int (*)(int), void(int)>, "a result is discarded");
static_assert(scopekit::callback_for<void (*)(const std::string&), void(std::string)>);
static_assert(!scopekit::callback_for<void (*)(std::string&), void(std::string)>,
              "a value argument reaches callbacks as const: none can change what the next sees");
static_assert(scopekit::callback_for<void (*)(int&), void(int&)>);
static_assert(!scopekit::callback_for<throwing_destructor, void()>,
              "callables are destroyed from noexcept code");

// weak_bind.
struct listener;
using int_member = void (listener::*)(int);
using nothrow_int_member = void (listener::*)(int) noexcept;
static_assert(
    std::is_nothrow_invocable_v<scopekit::weak_callback<listener, nothrow_int_member>&, int>);
static_assert(!std::is_nothrow_invocable_v<scopekit::weak_callback<listener, int_member>&, int>);
static_assert(
    !scopekit::callback_for<scopekit::weak_callback<listener, int_member>, void(int) noexcept>,
    "a member that may throw cannot serve a noexcept registry");
static_assert(scopekit::detail::stored_inline<scopekit::weak_callback<listener, int_member>>,
              "a weak_bind callable fits in a node: no heap block");

// ---- Helpers --------------------------------------------------------------------------------

// Each suite counts its own kind of object, so that one suite's objects never show up in
// another's count.
struct callable_tag {};
using live_callables = counted<callable_tag>;

// Too big for a node's inline storage: stored in its own heap block.
struct large_callable {
  live_callables token;
  std::array<std::byte, 256> payload{};
  int* calls;
  void operator()() const noexcept { ++*calls; }
};
static_assert(!scopekit::detail::stored_inline<large_callable>);

class CallbackRegistry : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(live_callables::live(), 0); }
  void TearDown() override { EXPECT_EQ(live_callables::live(), 0); }  // nothing leaked
};

// ---- Add, invoke, remove --------------------------------------------------------------------

TEST_F(CallbackRegistry, InvokeCallsEveryCallbackInOrderOfAddition) {
  int_registry registry;
  std::vector<int> seen;
  auto first = registry.add([&seen](int v) { seen.push_back(v); });
  auto second = registry.add([&seen](int v) { seen.push_back(v * 10); });
  registry.invoke(3);
  EXPECT_EQ(seen, (std::vector<int>{3, 30}));  // both called, with the argument, in order
}

TEST_F(CallbackRegistry, EveryCallbackSeesTheSameValueArgument) {
  callback_registry<void(std::string)> registry;
  std::vector<std::string> seen;
  auto copier = registry.add([&seen](std::string s) {
    s += "!";  // changes its own copy only
    seen.push_back(std::move(s));
  });
  auto reader = registry.add([&seen](const std::string& s) { seen.push_back(s); });
  registry.invoke("page");
  EXPECT_EQ(seen, (std::vector<std::string>{"page!", "page"}));  // the second saw the original
}

TEST_F(CallbackRegistry, ReferenceArgumentIsSharedByAllCallbacks) {
  callback_registry<void(int&)> registry;
  auto add_one = registry.add([](int& total) { ++total; });
  auto add_two = registry.add([](int& total) { total += 2; });
  int total = 0;
  registry.invoke(total);
  EXPECT_EQ(total, 3);  // both callbacks wrote to the caller's variable
}

TEST_F(CallbackRegistry, ResetRemovesCallbackAndDestroysCallableAtOnce) {
  nothrow_registry registry;
  int calls = 0;
  auto registration = registry.add([&calls, token = live_callables{}]() noexcept { ++calls; });
  ASSERT_EQ(live_callables::live(), 1);
  registration.reset();
  EXPECT_EQ(live_callables::live(), 0);  // the callable and what it captured are gone now
  EXPECT_FALSE(registration.active());   // the registration is inert
  registry.invoke();
  EXPECT_EQ(calls, 0);  // a removed callback is not called
}

TEST_F(CallbackRegistry, DestroyingRegistrationRemovesCallback) {
  nothrow_registry registry;
  int calls = 0;
  {
    auto registration = registry.add([&calls, token = live_callables{}]() noexcept { ++calls; });
  }
  EXPECT_EQ(live_callables::live(), 0);  // destroyed with its registration
  registry.invoke();
  EXPECT_EQ(calls, 0);  // and no longer called
}

TEST_F(CallbackRegistry, RemovingOneCallbackLeavesOthers) {
  int_registry registry;
  std::vector<int> seen;
  auto a = registry.add([&seen](int) { seen.push_back(1); });
  auto b = registry.add([&seen](int) { seen.push_back(2); });
  auto c = registry.add([&seen](int) { seen.push_back(3); });
  b.reset();
  auto d = registry.add([&seen](int) { seen.push_back(4); });  // may reuse b's node
  registry.invoke(0);
  EXPECT_EQ(seen, (std::vector<int>{1, 3, 4}));  // removal and recycling keep addition order
}

TEST_F(CallbackRegistry, LargeCallableIsCalledAndDestroyed) {
  nothrow_registry registry;
  int calls = 0;
  auto registration = registry.add(large_callable{{}, {}, &calls});
  registry.invoke();
  EXPECT_EQ(calls, 1);  // the heap-stored callable is called
  registration.reset();
  EXPECT_EQ(live_callables::live(), 0);  // and destroyed on reset
}

TEST_F(CallbackRegistry, ManyAddsAndRemovesKeepWorking) {
  nothrow_registry registry;
  int calls = 0;
  std::vector<callback_registration> kept;
  kept.reserve(200);
  for (int i = 0; i < 200; ++i) {  // more than the free list keeps
    kept.push_back(registry.add([&calls, token = live_callables{}]() noexcept { ++calls; }));
  }
  kept.clear();
  EXPECT_EQ(live_callables::live(), 0);  // every callable destroyed
  auto last = registry.add([&calls]() noexcept { calls += 1000; });
  registry.invoke();
  EXPECT_EQ(calls, 1000);  // only the live registration is called
}

// ---- Registrations --------------------------------------------------------------------------

TEST_F(CallbackRegistry, MoveConstructionTransfersCallback) {
  nothrow_registry registry;
  int calls = 0;
  auto original = registry.add([&calls, token = live_callables{}]() noexcept { ++calls; });
  callback_registration moved{std::move(original)};
  EXPECT_FALSE(original.active());  // NOLINT(bugprone-use-after-move): the source is inert
  EXPECT_TRUE(moved.active());      // the target owns the callback
  registry.invoke();
  EXPECT_EQ(calls, 1);  // still registered after the move
  moved.reset();
  EXPECT_EQ(live_callables::live(), 0);  // the target's reset removes it
}

TEST_F(CallbackRegistry, MoveAssignmentRemovesPreviousCallback) {
  nothrow_registry registry;
  int old_calls = 0;
  int new_calls = 0;
  auto target = registry.add([&old_calls, token = live_callables{}]() noexcept { ++old_calls; });
  auto source = registry.add([&new_calls]() noexcept { ++new_calls; });
  target = std::move(source);
  EXPECT_EQ(live_callables::live(), 0);  // the previous callable was destroyed at once
  registry.invoke();
  EXPECT_EQ(old_calls, 0);  // and is not called
  EXPECT_EQ(new_calls, 1);  // the moved-in callback is
}

TEST_F(CallbackRegistry, SelfMoveAssignmentKeepsCallback) {
  nothrow_registry registry;
  int calls = 0;
  auto registration = registry.add([&calls]() noexcept { ++calls; });
  callback_registration& alias = registration;
  registration = std::move(alias);
  EXPECT_TRUE(registration.active());  // self-move must not remove the callback
  registry.invoke();
  EXPECT_EQ(calls, 1);  // it is still called
}

TEST_F(CallbackRegistry, ActiveFollowsRegistrationState) {
  nothrow_registry registry;
  callback_registration inert;
  EXPECT_FALSE(inert.active());  // default-constructed: nothing registered
  auto registration = registry.add([]() noexcept {});
  EXPECT_TRUE(static_cast<bool>(registration));  // registered
  registry.close();
  EXPECT_FALSE(registration.active());  // close unregisters it
}

// ---- Close and the registry's lifetime ------------------------------------------------------

TEST_F(CallbackRegistry, CloseDestroysEveryCallable) {
  nothrow_registry registry;
  int calls = 0;
  auto a = registry.add([token = live_callables{}]() noexcept {});
  auto b = registry.add(large_callable{{}, {}, &calls});
  ASSERT_EQ(live_callables::live(), 2);
  registry.close();
  EXPECT_EQ(live_callables::live(), 0);  // every callable gone, registrations still around
  EXPECT_TRUE(registry.closed());        // and the registry says so
}

TEST_F(CallbackRegistry, InvokeAfterCloseCallsNothing) {
  nothrow_registry registry;
  int calls = 0;
  auto registration = registry.add([&calls]() noexcept { ++calls; });
  registry.close();
  registry.invoke();
  EXPECT_EQ(calls, 0);  // closed: invoke is a no-op
}

TEST_F(CallbackRegistry, AddAfterCloseReturnsInertRegistrationAndLeavesCallableAlone) {
  nothrow_registry registry;
  registry.close();
  scopekit::test::move_only_fn callable;
  auto registration = registry.add(std::move(callable));
  EXPECT_FALSE(registration.active());  // nothing was registered
  // NOLINTNEXTLINE(bugprone-use-after-move): add() must not have moved from it
  EXPECT_NE(callable.state, nullptr);  // the caller's callable still owns its state
}

TEST_F(CallbackRegistry, CloseIsIdempotentAndResetAfterCloseIsHarmless) {
  nothrow_registry registry;
  auto registration = registry.add([token = live_callables{}]() noexcept {});
  registry.close();
  registry.close();
  EXPECT_TRUE(registry.closed());  // a second close changes nothing
  registration.reset();
  EXPECT_FALSE(registration.active());  // reset of a closed callback just empties it
}

TEST_F(CallbackRegistry, DestructorClosesAndRegistrationsOutliveRegistry) {
  callback_registration registration;
  {
    nothrow_registry registry;
    registration = registry.add([token = live_callables{}]() noexcept {});
  }
  EXPECT_EQ(live_callables::live(), 0);  // the registry's destructor destroyed the callable
  EXPECT_FALSE(registration.active());   // the registration is inert, and safe to reset:
  registration.reset();                  // (ASan: no use of the dead registry)
  EXPECT_FALSE(registration.active());
}

// ---- Callbacks that use the registry --------------------------------------------------------

TEST_F(CallbackRegistry, CallbackCanRemoveItself) {
  nothrow_registry registry;
  callback_registration self;
  int calls = 0;
  int live_after_reset = -1;
  self = registry.add([&, token = live_callables{}]() noexcept {
    ++calls;
    self.reset();
    live_after_reset = live_callables::live();
  });
  registry.invoke();
  EXPECT_EQ(live_after_reset, 1);        // not destroyed while it runs
  EXPECT_EQ(live_callables::live(), 0);  // destroyed as soon as its call returned
  registry.invoke();
  EXPECT_EQ(calls, 1);  // and never called again
}

TEST_F(CallbackRegistry, CallbackCanRemoveLaterCallback) {
  nothrow_registry registry;
  callback_registration later;
  int later_calls = 0;
  int live_after_reset = -1;
  auto first = registry.add([&]() noexcept {
    later.reset();
    live_after_reset = live_callables::live();
  });
  later = registry.add([&later_calls, token = live_callables{}]() noexcept { ++later_calls; });
  registry.invoke();
  EXPECT_EQ(live_after_reset, 0);  // destroyed at once: it was not running
  EXPECT_EQ(later_calls, 0);       // so this invoke did not call it
}

TEST_F(CallbackRegistry, CallbackCanRemoveEarlierCallback) {
  nothrow_registry registry;
  callback_registration earlier;
  int earlier_calls = 0;
  earlier = registry.add([&earlier_calls]() noexcept { ++earlier_calls; });
  auto second = registry.add([&earlier]() noexcept { earlier.reset(); });
  registry.invoke();
  registry.invoke();
  EXPECT_EQ(earlier_calls, 1);  // called by the first invoke only
}

TEST_F(CallbackRegistry, CallbackAddedDuringInvokeWaitsForNextInvoke) {
  nothrow_registry registry;
  int added_calls = 0;
  callback_registration added;
  auto adder = registry.add([&]() noexcept {
    if (!added.active()) {
      added = registry.add([&added_calls]() noexcept { ++added_calls; });
    }
  });
  registry.invoke();
  EXPECT_EQ(added_calls, 0);  // not part of the invoke that added it
  registry.invoke();
  EXPECT_EQ(added_calls, 1);  // part of the next one
}

TEST_F(CallbackRegistry, CallbackCanCloseRegistry) {
  nothrow_registry registry;
  int later_calls = 0;
  int live_after_close = -1;
  auto closer = registry.add([&, token = live_callables{}]() noexcept {
    registry.close();
    live_after_close = live_callables::live();
  });
  auto later = registry.add([&later_calls, token = live_callables{}]() noexcept { ++later_calls; });
  registry.invoke();
  EXPECT_EQ(live_after_close, 1);        // only the running callable survived close()
  EXPECT_EQ(later_calls, 0);             // the later callback was closed before its turn
  EXPECT_EQ(live_callables::live(), 0);  // the closer went when its call returned
}

TEST_F(CallbackRegistry, CallbackCanInvokeRecursively) {
  nothrow_registry registry;
  int depth = 0;
  int calls = 0;
  auto recursive = registry.add([&]() noexcept {
    ++calls;
    if (++depth < 3) {
      registry.invoke();
    }
  });
  registry.invoke();
  EXPECT_EQ(calls, 3);  // each nested invoke called it again
}

TEST_F(CallbackRegistry, CallbackCanDestroyRegistry) {
  auto registry = std::make_unique<nothrow_registry>();
  int later_calls = 0;
  auto destroyer =
      registry->add([&registry, token = live_callables{}]() noexcept { registry.reset(); });
  auto later = registry->add([&later_calls]() noexcept { ++later_calls; });
  registry->invoke();         // ASan: invoke must not touch the registry after the callback
  EXPECT_EQ(later_calls, 0);  // the destroyed registry stopped calling
  EXPECT_EQ(live_callables::live(), 0);  // the running callable went as its call returned
  EXPECT_FALSE(destroyer.active());      // registrations outlive it, inert
}

TEST_F(CallbackRegistry, CallbackCanRemoveItselfThenDestroyRegistry) {
  auto registry = std::make_unique<nothrow_registry>();
  callback_registration self;
  self = registry->add([&, token = live_callables{}]() noexcept {
    self.reset();      // nothing but this invocation refers to the callback now
    registry.reset();  // and nothing but this invocation refers to the registry
  });
  registry->invoke();  // ASan and LSan: its shared state must outlive the call, then go
  EXPECT_EQ(live_callables::live(), 0);  // the callable went as its call returned
}

// ---- Exceptions -----------------------------------------------------------------------------

TEST_F(CallbackRegistry, InvokeCallsEveryCallbackThenRethrowsAllErrors) {
  callback_registry<void()> registry;
  int calls = 0;
  auto first = registry.add([] { throw std::runtime_error("first"); });
  auto middle = registry.add([&calls] { ++calls; });
  auto last = registry.add([&calls] {
    ++calls;
    throw std::logic_error("second");
  });
  try {
    registry.invoke();
    FAIL() << "invoke() did not throw";
  } catch (const scopekit::scope_error& e) {
    EXPECT_THROW(e.rethrow_primary(), std::runtime_error);  // the first, with its type
    ASSERT_EQ(e.secondary().size(), 1U);                    // and the second, not dropped
    EXPECT_THROW(std::rethrow_exception(e.secondary()[0]), std::logic_error);
  }
  EXPECT_EQ(calls, 2);          // the callbacks after the throwing one still ran
  EXPECT_TRUE(first.active());  // a throwing callback stays registered
}

TEST_F(CallbackRegistry, InvokeRethrowsASingleErrorUnchanged) {
  callback_registry<void()> registry;
  auto only = registry.add([] { throw std::out_of_range("only"); });
  EXPECT_THROW(registry.invoke(), std::out_of_range);
}

TEST_F(CallbackRegistry, AddThatThrowsRegistersNothing) {
  callback_registry<void()> registry;
  scopekit::test::call_log::reset();
  scopekit::test::throwing_copy_fn fn;
  scopekit::test::call_log::throw_on_copy = true;
  EXPECT_THROW(static_cast<void>(registry.add(fn)), scopekit::test::copy_failed);  // propagates
  scopekit::test::call_log::throw_on_copy = false;
  registry.invoke();
  EXPECT_EQ(scopekit::test::call_log::calls, 0);  // nothing was registered
  auto registration = registry.add(fn);
  registry.invoke();
  EXPECT_EQ(scopekit::test::call_log::calls, 1);  // and the registry still works
}

// ---- The cycle: object -> registry -> callback -> object ------------------------------------

// A stream that owns a registry and its own subscription to it, whose callback owns the stream.
struct cyclic_stream : counted<cyclic_stream> {
  callback_registry<void(int) noexcept> pages;
  callback_registration subscription;
  int received = 0;
};

// Builds the cycle and drops every outside owner: only the callback keeps the stream alive.
std::weak_ptr<cyclic_stream> make_cycle() {
  auto stream = std::make_shared<cyclic_stream>();
  stream->subscription =
      stream->pages.add([stream](int page) noexcept { stream->received += page; });
  return stream;
}

class CallbackRegistryCycle : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(counted<cyclic_stream>::live(), 0); }
};

TEST_F(CallbackRegistryCycle, WithoutCloseTheCycleStaysAlive) {
  const std::weak_ptr<cyclic_stream> weak = make_cycle();
  EXPECT_FALSE(weak.expired());                  // nothing outside owns it, yet it lives:
  EXPECT_EQ(weak.use_count(), 1);                // the callback's copy is the only owner
  EXPECT_EQ(counted<cyclic_stream>::live(), 1);  // a leak, were it left like this
  weak.lock()->pages.close();                    // broken by hand, so the suite does not leak
  EXPECT_TRUE(weak.expired());                   // (the break works)
}

TEST_F(CallbackRegistryCycle, CloseBreaksCycle) {
  const std::weak_ptr<cyclic_stream> weak = make_cycle();
  cyclic_stream* const stream = weak.lock().get();
  stream->pages.invoke(5);  // the cycle works: the callback reaches the stream
  ASSERT_EQ(stream->received, 5);
  stream->pages.close();        // destroys the callback, hence the stream, inside close()
  EXPECT_TRUE(weak.expired());  // the last owner was the callback
  EXPECT_EQ(counted<cyclic_stream>::live(), 0);  // and the stream was destroyed
}

TEST_F(CallbackRegistryCycle, ResetBreaksCycle) {
  const std::weak_ptr<cyclic_stream> weak = make_cycle();
  cyclic_stream* const stream = weak.lock().get();
  stream->subscription.reset();  // destroys the stream, and this registration, inside reset()
  EXPECT_TRUE(weak.expired());   // the cycle is gone
  EXPECT_EQ(counted<cyclic_stream>::live(), 0);  // with the stream
}

TEST_F(CallbackRegistryCycle, CloseFromInsideCallbackBreaksCycle) {
  auto stream = std::make_shared<cyclic_stream>();
  stream->subscription = stream->pages.add([stream](int) noexcept { stream->pages.close(); });
  const std::weak_ptr<cyclic_stream> weak = stream;
  cyclic_stream* const raw = stream.get();
  stream.reset();
  raw->pages.invoke(1);         // closes; the callable, then the stream, go as the call returns
  EXPECT_TRUE(weak.expired());  // no cycle left
  EXPECT_EQ(counted<cyclic_stream>::live(), 0);  // the stream is gone
}

TEST_F(CallbackRegistryCycle, WeakBindFormsNoCycle) {
  struct weak_stream : std::enable_shared_from_this<weak_stream>, counted<cyclic_stream> {
    callback_registry<void(int) noexcept> pages;
    callback_registration subscription;
    int received = 0;
    void on_page(int page) noexcept { received += page; }
  };
  auto stream = std::make_shared<weak_stream>();
  stream->subscription = stream->pages.add(scopekit::weak_bind(stream, &weak_stream::on_page));
  stream->pages.invoke(2);
  EXPECT_EQ(stream->received, 2);  // the bound member is called
  const std::weak_ptr<weak_stream> weak = stream;
  stream.reset();
  EXPECT_TRUE(weak.expired());  // the callback did not own the stream: no close needed
}

// ---- weak_bind ------------------------------------------------------------------------------

struct listener_base {
  int base_total = 0;
  void on_base(int v) { base_total += v; }
};

struct listener : listener_base, counted<listener> {
  int total = 0;
  mutable int const_calls = 0;
  std::shared_ptr<listener>* owner = nullptr;  // for drop_owner
  bool* alive_after_drop = nullptr;            // where drop_owner reports
  std::weak_ptr<listener> self;

  void on_value(int v) { total += v; }
  void on_value_nothrow(int v) noexcept { total += v; }
  void on_const(int /*v*/) const { ++const_calls; }
  void drop_owner(int /*v*/) {
    owner->reset();
    *alive_after_drop = !self.expired();
  }
};

TEST(WeakBind, CallsMemberWhileObjectLives) {
  auto object = std::make_shared<listener>();
  int_registry registry;
  auto registration = registry.add(scopekit::weak_bind(object, &listener::on_value));
  registry.invoke(4);
  EXPECT_EQ(object->total, 4);  // the member ran on the object
}

TEST(WeakBind, DoesNothingOnceObjectIsGone) {
  auto object = std::make_shared<listener>();
  const std::weak_ptr<listener> weak = object;
  callback_registry<void(int) noexcept> registry;
  auto registration = registry.add(scopekit::weak_bind(weak, &listener::on_value_nothrow));
  object.reset();
  EXPECT_TRUE(weak.expired());              // the registration did not keep it alive
  EXPECT_NO_THROW(registry.invoke(4));      // ASan: calling it touches nothing dead
  EXPECT_EQ(counted<listener>::live(), 0);  // and it stayed dead
}

TEST(WeakBind, AcceptsBaseAndConstMembers) {
  auto object = std::make_shared<listener>();
  int_registry registry;
  auto base = registry.add(scopekit::weak_bind(object, &listener::on_base));
  auto constant = registry.add(scopekit::weak_bind(object, &listener::on_const));
  registry.invoke(3);
  EXPECT_EQ(object->base_total, 3);   // a member of a base class, called on the derived object
  EXPECT_EQ(object->const_calls, 1);  // a const member
}

TEST(WeakBind, KeepsObjectAliveDuringTheCall) {
  auto object = std::make_shared<listener>();
  bool alive_after_drop = false;
  object->owner = &object;
  object->alive_after_drop = &alive_after_drop;
  object->self = object;
  const std::weak_ptr<listener> weak = object;
  const auto bound = scopekit::weak_bind(weak, &listener::drop_owner);
  bound(0);                       // the member drops the only outside owner
  EXPECT_TRUE(alive_after_drop);  // the callable's lock kept the object alive for the call
  EXPECT_TRUE(weak.expired());    // and released it when the call returned
}

// ---- Threads --------------------------------------------------------------------------------
//
// "Invoker" threads call invoke(); the main thread resets, closes or destroys, unless a test
// says otherwise.

struct thread_tag {};
using live_thread_callables = counted<thread_tag>;

// A do-nothing callback too large for a node's inline storage (heap-stored), and counted.
struct padded_noop {
  live_thread_callables token;
  std::array<std::byte, 64> payload{};
  template <class... A>
  void operator()(A&&... /*ignored*/) const noexcept {}
};

class CallbackRegistryThreads : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(live_thread_callables::live(), 0); }
  void TearDown() override { EXPECT_EQ(live_thread_callables::live(), 0); }  // nothing leaked
};

// Shared by the two "waits" tests: a callback that runs on the invoker thread until the main
// thread has begun removing it, then keeps running for a while, watching for the removal to
// return (it must not).
struct slow_callback_probe {
  std::latch started{1};
  std::atomic<bool> removal_begun{false};
  std::atomic<bool> removal_returned{false};
  std::atomic<bool> saw_removal_return{false};
  std::atomic<bool> finished{false};

  void run() noexcept {
    started.count_down();
    while (!removal_begun.load()) {
      std::this_thread::yield();
    }
    for (int i = 0; i < 2000; ++i) {  // every chance for a removal that does not wait to return
      if (removal_returned.load()) {
        saw_removal_return.store(true);
        break;
      }
      std::this_thread::yield();
    }
    finished.store(true);
  }
};

TEST_F(CallbackRegistryThreads, ResetWaitsForInvocationOnAnotherThread) {
  nothrow_registry registry;
  slow_callback_probe probe;
  auto registration =
      registry.add([&probe, token = live_thread_callables{}]() noexcept { probe.run(); });
  std::thread invoker{[&registry] { registry.invoke(); }};
  probe.started.wait();
  probe.removal_begun.store(true);
  registration.reset();
  probe.removal_returned.store(true);
  const bool finished_at_return = probe.finished.load();
  const int live_at_return = live_thread_callables::live();
  invoker.join();
  EXPECT_TRUE(finished_at_return);                // reset() returned after the call finished
  EXPECT_EQ(live_at_return, 0);                   // and after the callable was destroyed
  EXPECT_FALSE(probe.saw_removal_return.load());  // the running callback never saw it return
}

TEST_F(CallbackRegistryThreads, CloseWaitsForInvocationOnAnotherThread) {
  nothrow_registry registry;
  slow_callback_probe probe;
  auto registration =
      registry.add([&probe, token = live_thread_callables{}]() noexcept { probe.run(); });
  std::thread invoker{[&registry] { registry.invoke(); }};
  probe.started.wait();
  probe.removal_begun.store(true);
  registry.close();
  probe.removal_returned.store(true);
  const bool finished_at_return = probe.finished.load();
  const int live_at_return = live_thread_callables::live();
  invoker.join();
  EXPECT_TRUE(finished_at_return);                // close() returned after the call finished
  EXPECT_EQ(live_at_return, 0);                   // and after the callable was destroyed
  EXPECT_FALSE(probe.saw_removal_return.load());  // the running callback never saw it return
}

TEST_F(CallbackRegistryThreads, InvocationsOnTwoThreadsMayOverlap) {
  nothrow_registry registry;
  std::latch both_inside{2};
  std::atomic<int> calls{0};
  auto registration = registry.add([&]() noexcept {
    both_inside.arrive_and_wait();  // returns only once both invokers are in this callback
    ++calls;
  });
  std::thread first{[&registry] { registry.invoke(); }};
  std::thread second{[&registry] { registry.invoke(); }};
  first.join();
  second.join();
  EXPECT_EQ(calls.load(), 2);  // both calls completed: invocations were not serialised
}

TEST_F(CallbackRegistryThreads, CallbacksClosingOnTwoThreadsDoNotDeadlock) {
  nothrow_registry registry;
  std::latch both_inside{2};
  auto registration = registry.add([&, token = live_thread_callables{}]() noexcept {
    both_inside.arrive_and_wait();  // both invokers are inside this callback
    registry.close();               // waiting for the other thread's call here would deadlock
  });
  std::thread first{[&registry] { registry.invoke(); }};
  std::thread second{[&registry] { registry.invoke(); }};
  first.join();
  second.join();
  EXPECT_TRUE(registry.closed());               // both closes returned
  EXPECT_EQ(live_thread_callables::live(), 0);  // the last call to return destroyed it
}

TEST_F(CallbackRegistryThreads, CallbacksRemovingEachOtherOnTwoThreadsDoNotDeadlock) {
  callback_registry<void(int) noexcept> registry;  // the argument names the invoking thread
  std::latch both_inside{2};
  callback_registration first;
  callback_registration second;
  first = registry.add([&, token = live_thread_callables{}](int thread) noexcept {
    if (thread == 0) {
      both_inside.arrive_and_wait();
      second.reset();  // `second` is running on thread 1
    }
  });
  second = registry.add([&, token = live_thread_callables{}](int thread) noexcept {
    if (thread == 1) {
      both_inside.arrive_and_wait();
      first.reset();  // `first` is running on thread 0
    }
  });
  std::thread thread0{[&registry] { registry.invoke(0); }};
  std::thread thread1{[&registry] { registry.invoke(1); }};
  thread0.join();
  thread1.join();
  EXPECT_EQ(live_thread_callables::live(), 0);      // each destroyed as its own call returned
  EXPECT_FALSE(first.active() || second.active());  // both removed
}

TEST_F(CallbackRegistryThreads, InvokeRacesWithAddAndReset) {
  constexpr int rounds = 2000;
  callback_registry<void(int) noexcept> registry;
  std::latch go{4};  // all four threads start together
  std::atomic<bool> mutators_done{false};
  std::atomic<int> late_calls{0};  // calls of a callback after its reset() had returned
  std::atomic<long> calls{0};
  auto invoke_until_done = [&] {
    go.arrive_and_wait();
    while (!mutators_done.load()) {
      registry.invoke(1);
    }
  };
  auto add_and_reset = [&] {
    std::vector<callback_registration> kept;
    go.arrive_and_wait();
    for (int i = 0; i < rounds; ++i) {
      auto removed = std::make_shared<std::atomic<bool>>(false);
      auto registration = registry.add(
          [removed, &late_calls, &calls, token = live_thread_callables{}](int) noexcept {
            ++calls;
            if (removed->load()) {
              ++late_calls;
            }
          });
      kept.push_back(registry.add(padded_noop{}));
      if (i % 4 == 0) {
        kept.clear();
      }
      registry.invoke(2);
      registration.reset();
      removed->store(true);  // from here on the callback must never run
    }
  };
  std::thread invoker1{invoke_until_done};
  std::thread invoker2{invoke_until_done};
  std::thread mutator1{add_and_reset};
  std::thread mutator2{add_and_reset};
  mutator1.join();
  mutator2.join();
  mutators_done.store(true);
  invoker1.join();
  invoker2.join();
  EXPECT_EQ(late_calls.load(), 0);       // no call after reset() returned
  EXPECT_GE(calls.load(), 2L * rounds);  // each mutator's own invoke called its callback
}

TEST_F(CallbackRegistryThreads, CloseRacesWithInvoke) {
  constexpr int rounds = 100;
  int rounds_with_live_callables = 0;
  int late_calls = 0;
  for (int round = 0; round < rounds; ++round) {
    nothrow_registry registry;
    std::atomic<bool> close_returned{false};
    std::atomic<int> round_late_calls{0};
    std::vector<callback_registration> registrations;
    registrations.reserve(5);
    for (int i = 0; i < 4; ++i) {
      registrations.push_back(registry.add([&, token = live_thread_callables{}]() noexcept {
        if (close_returned.load()) {
          ++round_late_calls;
        }
      }));
    }
    registrations.push_back(registry.add(padded_noop{}));
    std::latch go{3};
    auto invoke_until_closed = [&] {
      go.arrive_and_wait();
      while (!registry.closed()) {
        registry.invoke();
      }
    };
    std::thread invoker1{invoke_until_closed};
    std::thread invoker2{invoke_until_closed};
    go.arrive_and_wait();
    registry.close();
    close_returned.store(true);
    rounds_with_live_callables += live_thread_callables::live() == 0 ? 0 : 1;
    invoker1.join();
    invoker2.join();
    late_calls += round_late_calls.load();
  }
  EXPECT_EQ(rounds_with_live_callables, 0);  // close() returned only once all were destroyed
  EXPECT_EQ(late_calls, 0);                  // and nothing was called after it returned
}

TEST_F(CallbackRegistryThreads, RegistrationsResetWhileRegistryIsDestroyed) {
  constexpr int rounds = 100;
  for (int round = 0; round < rounds; ++round) {
    auto registry = std::make_unique<nothrow_registry>();
    std::vector<callback_registration> left;
    std::vector<callback_registration> right;
    for (int i = 0; i < 8; ++i) {
      left.push_back(registry->add([token = live_thread_callables{}]() noexcept {}));
      right.push_back(registry->add([token = live_thread_callables{}]() noexcept {}));
    }
    std::latch go{3};
    auto reset_all = [&go](std::vector<callback_registration>& registrations) {
      go.arrive_and_wait();
      for (auto& registration : registrations) {
        registration.reset();
      }
    };
    std::thread resetter1{reset_all, std::ref(left)};
    std::thread resetter2{reset_all, std::ref(right)};
    go.arrive_and_wait();
    registry.reset();  // main thread destroys the registry while registrations are reset
    resetter1.join();
    resetter2.join();
  }
  EXPECT_EQ(live_thread_callables::live(), 0);  // every callable destroyed exactly once
}

// ---- Every callable kind --------------------------------------------------------------------

struct large_kind {
  struct function_type {
    std::array<std::byte, 200> payload{};
    void operator()() const noexcept { ++scopekit::test::call_log::calls; }
  };
  static function_type make() noexcept { return {}; }
};

template <class Kind>
class CallbackRegistryKinds : public ::testing::Test {
protected:
  void SetUp() override { scopekit::test::call_log::reset(); }
};

using kinds =
    ::testing::Types<scopekit::test::lambda_kind, scopekit::test::function_pointer_kind,
                     scopekit::test::function_reference_kind, scopekit::test::move_only_kind,
                     scopekit::test::throwing_copy_kind, scopekit::test::throwing_move_kind,
                     scopekit::test::std_function_kind, large_kind>;
TYPED_TEST_SUITE(CallbackRegistryKinds, kinds);

TYPED_TEST(CallbackRegistryKinds, AddInvokeReset) {
  callback_registry<void()> registry;
  auto registration = registry.add(TypeParam::make());
  registry.invoke();
  EXPECT_EQ(scopekit::test::call_log::calls, 1);  // registered and called once
  registration.reset();
  registry.invoke();
  EXPECT_EQ(scopekit::test::call_log::calls, 1);  // removed: not called again
}

TYPED_TEST(CallbackRegistryKinds, CloseRemoves) {
  callback_registry<void()> registry;
  auto registration = registry.add(TypeParam::make());
  registry.close();
  registry.invoke();
  EXPECT_EQ(scopekit::test::call_log::calls, 0);  // closed before any invoke
}

}  // namespace
