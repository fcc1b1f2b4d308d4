// Coro<T>: laziness, inline awaiting, reuse errors, value categories, and the traits.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using namespace asyncio;
using asyncio::testing::LoopTest;

class CoroTest : public LoopTest {};

Coro<int> answer(std::vector<std::string>* log) {
    log->push_back("answer");
    co_return 42;
}

Coro<int> twice(std::vector<std::string>* log) {
    int a = co_await answer(log);
    int b = co_await answer(log);
    co_return a + b;
}

TEST_F(CoroTest, LazyUntilAwaitedThenInline) {
    std::vector<std::string> log;
    auto coro = answer(&log);
    EXPECT_TRUE(log.empty()); // calling the coroutine function runs nothing
    EXPECT_STREQ(coro.name(), "answer");
    EXPECT_EQ(run(twice(&log)), 84);
    EXPECT_EQ(log, (std::vector<std::string>{"answer", "answer"}));
}

Coro<int> await_twice(Coro<int>* coro) {
    int first = co_await *coro;
    try {
        co_await *coro;
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "cannot reuse already awaited coroutine");
        co_return first;
    }
    co_return -1;
}

TEST_F(CoroTest, ReuseThrowsRuntimeError) {
    std::vector<std::string> log;
    auto coro = answer(&log);
    EXPECT_EQ(run(await_twice(&coro)), 42);
}

Coro<int> await_moved_into_task(std::vector<std::string>* log) {
    auto coro = answer(log);
    auto task = create_task(std::move(coro));
    bool reuse_refused = false;
    try {
        co_await coro; // NOLINT(bugprone-use-after-move): the point of the test
    } catch (const RuntimeError&) {
        reuse_refused = true; // C++ allows no co_await inside a handler: await after it
    }
    co_return reuse_refused ? co_await task : -1;
}

TEST_F(CoroTest, AwaitingAfterWrappingInTaskThrows) {
    std::vector<std::string> log;
    EXPECT_EQ(run(await_moved_into_task(&log)), 42);
}

Coro<std::unique_ptr<int>> make_unique_value() {
    co_await sleep(0);
    co_return std::make_unique<int>(7);
}

Coro<int> move_only_results() {
    std::unique_ptr<int> direct = co_await make_unique_value();
    auto task = create_task(make_unique_value());
    std::unique_ptr<int> from_task = co_await std::move(task);
    co_return *direct + *from_task;
}

TEST_F(CoroTest, MoveOnlyResults) { EXPECT_EQ(run(move_only_results()), 14); }

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom") {}
};

Coro<> fails() {
    co_await sleep(0);
    throw Boom();
}

Coro<std::string> catches() {
    try {
        co_await fails();
    } catch (const Boom& e) {
        co_return e.what();
    }
    co_return "";
}

TEST_F(CoroTest, ExceptionsPropagateThroughAwait) { EXPECT_EQ(run(catches()), "boom"); }

// Any awaiter, from any library, can be awaited inside a Coro.
struct ForeignReady {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    int await_resume() const noexcept { return 5; }
};

Coro<int> awaits_foreign() { co_return co_await ForeignReady{}; }

TEST_F(CoroTest, ForeignAwaitable) { EXPECT_EQ(run(awaits_foreign()), 5); }

TEST(CoroTraits, Traits) {
    static_assert(iscoroutine_v<Coro<int>>);
    static_assert(!iscoroutine_v<int>);
    static_assert(iscoroutinefunction_v<decltype(&fails)>);
    static_assert(!iscoroutinefunction_v<void (*)()>);
    static_assert(Awaitable<Coro<int>>);
    static_assert(Awaitable<Task<int>>);
    static_assert(Awaitable<Future<int>>);
    static_assert(Awaitable<ForeignReady>);
    static_assert(!Awaitable<int>);
    static_assert(!std::is_copy_constructible_v<Coro<int>>);
    static_assert(std::is_nothrow_move_constructible_v<Coro<int>>);
    static_assert(!std::is_base_of_v<std::exception, CancelledError>);
    static_assert(std::is_base_of_v<std::exception, TimeoutError>);
    static_assert(std::is_base_of_v<std::exception, InvalidStateError>);
    static_assert(std::is_base_of_v<std::exception, RuntimeError>);
    static_assert(std::is_base_of_v<std::exception, LookupError>);
}

Coro<int> deep(int n) {
    if (n == 0)
        co_return 0;
    co_return 1 + co_await deep(n - 1);
}

// A 1,000-deep chain of directly awaited coroutines runs inside one task: no task is created
// for the inner frames.
TEST_F(CoroTest, DeepChainUsesNoStackAndNoTasks) {
    std::size_t tasks_seen = 0;
    auto probe = [](std::size_t* seen) -> Coro<int> {
        *seen = all_tasks().size();
        co_return co_await deep(1000);
    };
    EXPECT_EQ(run(probe(&tasks_seen)), 1000);
    EXPECT_EQ(tasks_seen, 1u);
}

} // namespace
