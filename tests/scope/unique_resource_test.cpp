// Tests for scopekit/unique_resource.hpp against P0052R10 [scope.unique_resource].
#include "scopekit/unique_resource.hpp"

#include "support/callables.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using scopekit::make_unique_resource_checked;
using scopekit::unique_resource;
using scopekit::test::copy_failed;

/// Records every handle it is called with, in order.
struct recording_deleter {
  std::vector<int>* log;
  void operator()(int handle) const noexcept { log->push_back(handle); }
};

/// A handle whose copy throws on demand and whose move is not noexcept, so that
/// unique_resource must copy it and the copy can fail.
struct fragile_handle {
  static inline bool throw_on_copy = false;
  int value = 0;
  explicit fragile_handle(int v) noexcept : value(v) {}
  fragile_handle(const fragile_handle& other) : value(other.value) {
    if (throw_on_copy) {
      throw copy_failed{};
    }
  }
  fragile_handle& operator=(const fragile_handle& other) {
    if (throw_on_copy) {
      throw copy_failed{};
    }
    value = other.value;
    return *this;
  }
  ~fragile_handle() = default;
  bool operator==(int other) const noexcept { return value == other; }
};

struct fragile_deleter {
  static inline bool throw_on_copy = false;
  std::vector<int>* log;
  explicit fragile_deleter(std::vector<int>* l) noexcept : log(l) {}
  fragile_deleter(const fragile_deleter& other) : log(other.log) {
    if (throw_on_copy) {
      throw copy_failed{};
    }
  }
  fragile_deleter& operator=(const fragile_deleter&) = default;
  ~fragile_deleter() = default;
  void operator()(int handle) const noexcept { log->push_back(handle); }
  void operator()(const fragile_handle& handle) const noexcept { log->push_back(handle.value); }
};

// ---- Type properties ------------------------------------------------------------------------
using int_resource = unique_resource<int, recording_deleter>;
static_assert(!std::is_copy_constructible_v<int_resource>, "copy construction is deleted");
static_assert(!std::is_copy_assignable_v<int_resource>, "copy assignment is deleted");
static_assert(std::is_nothrow_move_constructible_v<int_resource>);
static_assert(std::is_nothrow_move_assignable_v<int_resource>);
static_assert(!std::is_nothrow_move_constructible_v<unique_resource<int, fragile_deleter>>,
              "a deleter whose copy may throw makes the move potentially throwing");
static_assert(std::is_nothrow_destructible_v<int_resource>);
static_assert(noexcept(std::declval<int_resource&>().reset()));
static_assert(noexcept(std::declval<int_resource&>().release()));
static_assert(noexcept(std::declval<const int_resource&>().get()));
static_assert(std::is_same_v<decltype(std::declval<const int_resource&>().get()), const int&>);
static_assert(std::is_nothrow_default_constructible_v<int_resource>);
static_assert(std::is_same_v<decltype(unique_resource{1, recording_deleter{}}), int_resource>,
              "CTAD takes the decayed argument types");
static_assert(std::is_same_v<decltype(make_unique_resource_checked(1, -1, recording_deleter{})),
                             int_resource>);
// operator* and operator-> exist only for pointer handles.
template <class T>
concept has_arrow = requires(const T& t) { t.operator->(); };
template <class T>
concept has_star = requires(const T& t) { *t; };
static_assert(!has_arrow<int_resource> && !has_star<int_resource>);
using ptr_resource = unique_resource<std::string*, void (*)(std::string*)>;
static_assert(has_arrow<ptr_resource> && has_star<ptr_resource>);
static_assert(!has_star<unique_resource<void*, void (*)(void*)>>, "no operator* for void*");

class UniqueResource : public ::testing::Test {
protected:
  void SetUp() override {
    fragile_handle::throw_on_copy = false;
    fragile_deleter::throw_on_copy = false;
  }
  std::vector<int> log;
};

// ---- Ownership -------------------------------------------------------------------------------
TEST_F(UniqueResource, DeletesOnceOnDestruction) {
  {
    unique_resource r{7, recording_deleter{&log}};
    EXPECT_EQ(r.get(), 7);
    EXPECT_TRUE(log.empty());
  }
  EXPECT_EQ(log, std::vector<int>{7});
}

TEST_F(UniqueResource, DefaultConstructedOwnsNothing) {
  { int_resource r; }
  EXPECT_TRUE(log.empty());  // the null deleter pointer would crash if it were called
}

TEST_F(UniqueResource, ResetDeletesOnceThenNoMore) {
  unique_resource r{7, recording_deleter{&log}};
  r.reset();
  r.reset();
  EXPECT_EQ(log, std::vector<int>{7});
}

TEST_F(UniqueResource, ReleasePreventsDeleter) {
  {
    unique_resource r{7, recording_deleter{&log}};
    r.release();
    EXPECT_EQ(r.get(), 7);  // still readable after release
  }
  EXPECT_TRUE(log.empty());
}

TEST_F(UniqueResource, ResetWithValueDeletesOldAndOwnsNew) {
  {
    unique_resource r{7, recording_deleter{&log}};
    r.reset(8);
    EXPECT_EQ(log, std::vector<int>{7});
    EXPECT_EQ(r.get(), 8);
  }
  EXPECT_EQ(log, (std::vector<int>{7, 8}));
}

TEST_F(UniqueResource, ResetWithValueAfterReleaseOwnsAgain) {
  {
    unique_resource r{7, recording_deleter{&log}};
    r.release();
    r.reset(8);
  }
  EXPECT_EQ(log, std::vector<int>{8});  // 7 was released, 8 is owned
}

TEST_F(UniqueResource, ResetWithValueWhoseCopyThrowsDeletesIt) {
  unique_resource r{fragile_handle{7}, fragile_deleter{&log}};
  fragile_handle next{8};
  fragile_handle::throw_on_copy = true;
  EXPECT_THROW(r.reset(next), copy_failed);
  fragile_handle::throw_on_copy = false;
  EXPECT_EQ(log, (std::vector<int>{7, 8}));  // old released, then the new one, never leaked
  r.reset();
  EXPECT_EQ(log.size(), 2U);  // it owns nothing after the failure
}

// ---- Moves -----------------------------------------------------------------------------------
TEST_F(UniqueResource, MoveConstructionTransfersOwnership) {
  {
    unique_resource source{7, recording_deleter{&log}};
    {
      unique_resource target{std::move(source)};
      EXPECT_EQ(target.get(), 7);
    }
    EXPECT_EQ(log, std::vector<int>{7});
  }
  EXPECT_EQ(log, std::vector<int>{7});  // the moved-from object did not delete again
}

TEST_F(UniqueResource, MoveAssignmentResetsFirst) {
  unique_resource target{1, recording_deleter{&log}};
  {
    unique_resource source{2, recording_deleter{&log}};
    target = std::move(source);
    EXPECT_EQ(log, std::vector<int>{1});  // the old resource went before the new one came
  }
  EXPECT_EQ(log, std::vector<int>{1});  // the moved-from source owns nothing
  target.reset();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
}

TEST_F(UniqueResource, SelfMoveAssignmentKeepsResource) {
  unique_resource r{7, recording_deleter{&log}};
  auto& alias = r;
  r = std::move(alias);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(r.get(), 7);
}

TEST_F(UniqueResource, MoveConstructionWithThrowingDeleterCopyReleasesResource) {
  // The handle moves without throwing, the deleter must be copied and the copy throws: the
  // handle has already left `source`, so the resource is released at once, not leaked.
  unique_resource source{7, fragile_deleter{&log}};
  fragile_deleter::throw_on_copy = true;
  EXPECT_THROW({ unique_resource target{std::move(source)}; }, copy_failed);
  fragile_deleter::throw_on_copy = false;
  EXPECT_EQ(log, std::vector<int>{7});
  source.reset();
  EXPECT_EQ(log, std::vector<int>{7});  // and only once: `source` was released
}

TEST_F(UniqueResource, MoveConstructionWithThrowingHandleCopyLeavesSourceOwning) {
  unique_resource source{fragile_handle{7}, fragile_deleter{&log}};
  fragile_handle::throw_on_copy = true;
  EXPECT_THROW({ unique_resource target{std::move(source)}; }, copy_failed);
  fragile_handle::throw_on_copy = false;
  EXPECT_TRUE(log.empty());  // nothing released: the source still owns it
  source.reset();
  EXPECT_EQ(log, std::vector<int>{7});
}

TEST_F(UniqueResource, MoveAssignmentWithThrowingCopyLeavesSourceIntact) {
  unique_resource target{fragile_handle{1}, fragile_deleter{&log}};
  unique_resource source{fragile_handle{2}, fragile_deleter{&log}};
  fragile_handle::throw_on_copy = true;
  EXPECT_THROW(target = std::move(source), copy_failed);
  fragile_handle::throw_on_copy = false;
  EXPECT_EQ(log, std::vector<int>{1});  // target was reset first, then the copy failed
  source.reset();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));  // source still owned its resource
  target.reset();
  EXPECT_EQ(log.size(), 2U);  // target owns nothing
}

// ---- Construction failures -------------------------------------------------------------------
TEST_F(UniqueResource, ResourceCopyThrowingCallsDeleterOnArgument) {
  fragile_handle handle{7};
  fragile_handle::throw_on_copy = true;
  using resource = unique_resource<fragile_handle, fragile_deleter>;
  EXPECT_THROW({ resource r(handle, fragile_deleter{&log}); }, copy_failed);
  EXPECT_EQ(log, std::vector<int>{7});
}

TEST_F(UniqueResource, DeleterCopyThrowingCallsDeleterOnResource) {
  fragile_deleter deleter{&log};
  fragile_deleter::throw_on_copy = true;
  using resource = unique_resource<int, fragile_deleter>;
  EXPECT_THROW({ resource r(7, deleter); }, copy_failed);
  EXPECT_EQ(log, std::vector<int>{7});
}

// ---- make_unique_resource_checked ------------------------------------------------------------
TEST_F(UniqueResource, CheckedOwnsValidValue) {
  { auto r = make_unique_resource_checked(3, -1, recording_deleter{&log}); }
  EXPECT_EQ(log, std::vector<int>{3});
}

TEST_F(UniqueResource, CheckedNeverDeletesInvalidValue) {
  {
    auto r = make_unique_resource_checked(-1, -1, recording_deleter{&log});
    EXPECT_EQ(r.get(), -1);
    r.reset();
  }
  EXPECT_TRUE(log.empty());
}

TEST_F(UniqueResource, CheckedConstructionFailureNeverDeletesInvalidValue) {
  fragile_handle invalid{-1};
  fragile_handle::throw_on_copy = true;
  EXPECT_THROW(
      { auto r = make_unique_resource_checked(invalid, -1, fragile_deleter{&log}); }, copy_failed);
  EXPECT_TRUE(log.empty());
}

TEST_F(UniqueResource, CheckedConstructionFailureDeletesValidValue) {
  fragile_handle valid{5};
  fragile_handle::throw_on_copy = true;
  EXPECT_THROW(
      { auto r = make_unique_resource_checked(valid, -1, fragile_deleter{&log}); }, copy_failed);
  EXPECT_EQ(log, std::vector<int>{5});
}

// ---- Handles of other shapes -----------------------------------------------------------------
TEST_F(UniqueResource, ReferenceHandleRefersToOriginal) {
  int counter = 41;
  {
    unique_resource<int&, void (*)(int&)> r{counter, [](int& c) { ++c; }};
    EXPECT_EQ(&r.get(), &counter);  // no copy of the handle
  }
  EXPECT_EQ(counter, 42);
}

TEST_F(UniqueResource, PointerHandleDereferences) {
  std::string text = "abc";
  unique_resource r{&text, [](std::string*) noexcept {}};
  EXPECT_EQ(*r, "abc");
  EXPECT_EQ(r->size(), 3U);
}

// ---- Terminate paths -------------------------------------------------------------------------
TEST(UniqueResourceDeathTest, ThrowingDeleterTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto throwing_close = [](int) { throw std::runtime_error("close failed"); };
  EXPECT_DEATH({ unique_resource r(1, throwing_close); }, "");
}

}  // namespace
