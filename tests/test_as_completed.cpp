// Conformance cases ASCOMP-*: asyncio.as_completed, in both ways of iterating (plain: awaitables
// giving results; async: the finished tasks themselves).
#include <asyncio.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Task;
using asyncio::TimeoutError;
using Values = std::vector<std::string>;

class AsCompletedTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: a task left waiting forever makes run_until_complete fail instead of hanging.
    AsCompletedTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }
};

Coro<std::string> sleeper(double dt, std::string x) {
    co_await asyncio::sleep(dt);
    co_return x;
}

Coro<int> number(int i) { co_return i; }

std::vector<Coro<std::string>> abc() {
    std::vector<Coro<std::string>> fs;
    fs.push_back(sleeper(0.01, "b"));
    fs.push_back(sleeper(0.15, "c"));
    fs.push_back(sleeper(0.01, "a"));
    return fs;
}

Coro<Values> plain_values(std::vector<Coro<std::string>> fs) {
    Values values;
    for (auto f : asyncio::as_completed(std::move(fs)))
        values.push_back(co_await f);
    co_return values;
}

Coro<Values> async_values(std::vector<Coro<std::string>> fs) {
    Values values;
    auto it = asyncio::as_completed(std::move(fs));
    while (auto t = co_await it.anext())
        values.push_back(t->result());
    co_return values;
}

template <class H>
Coro<std::vector<H>> async_handles(std::vector<H> fs) {
    std::vector<H> out;
    auto it = asyncio::as_completed(fs);
    while (auto t = co_await it.anext())
        out.push_back(*t);
    co_return out;
}

Coro<std::vector<Task<int>>> async_tasks_of_coros() {
    std::vector<Coro<int>> coros;
    for (int i = 0; i < 4; ++i)
        coros.push_back(number(i));
    std::vector<Task<int>> out;
    auto it = asyncio::as_completed(std::move(coros));
    while (auto t = co_await it.anext())
        out.push_back(*t);
    co_return out;
}

// (kind, value): 1 for a value, 2 for a TimeoutError.
using Outcomes = std::vector<std::pair<int, std::string>>;

Coro<Outcomes> plain_with_timeout(std::vector<Task<std::string>> fs) {
    Outcomes values;
    for (auto f : asyncio::as_completed(fs, 0.12)) {
        try {
            values.emplace_back(1, co_await f);
        } catch (const TimeoutError&) {
            values.emplace_back(2, "");
        }
    }
    co_return values;
}

Coro<Outcomes> async_with_timeout(std::vector<Task<std::string>> fs) {
    Outcomes values;
    try {
        auto it = asyncio::as_completed(fs, 0.12);
        while (auto t = co_await it.anext())
            values.emplace_back(1, t->result());
    } catch (const TimeoutError&) {
        values.emplace_back(2, "");
    }
    co_return values;
}

std::vector<Coro<int>> zero_to_three() {
    std::vector<Coro<int>> fs;
    for (int i = 0; i < 4; ++i)
        fs.push_back(number(i));
    return fs;
}

Coro<std::vector<int>> plain_resumed() {
    auto iterator = asyncio::as_completed(zero_to_three());
    std::vector<int> collected;
    int iterations = 0;
    for (auto f : iterator) {
        collected.push_back(co_await f);
        if (++iterations == 2)
            break;
    }
    EXPECT_EQ(collected.size(), 2u);
    for (auto f : iterator) // resumes where the first loop stopped
        collected.push_back(co_await f);
    co_return collected;
}

Coro<std::vector<int>> async_resumed() {
    auto iterator = asyncio::as_completed(zero_to_three());
    std::vector<int> collected;
    int iterations = 0;
    while (auto t = co_await iterator.anext()) {
        collected.push_back(t->result());
        if (++iterations == 2)
            break;
    }
    EXPECT_EQ(collected.size(), 2u);
    while (auto t = co_await iterator.anext())
        collected.push_back(t->result());
    co_return collected;
}

Coro<void> reverse_wait(asyncio::EventLoop* loop) {
    std::vector<Coro<std::string>> fs;
    fs.push_back(sleeper(0.05, "a"));
    fs.push_back(sleeper(0.10, "b"));
    std::vector<Coro<std::string>> futs;
    for (auto f : asyncio::as_completed(std::move(fs)))
        futs.push_back(std::move(f));
    EXPECT_EQ(futs.size(), 2u);
    EXPECT_EQ(co_await futs[1], "a");
    EXPECT_DOUBLE_EQ(loop->time(), 0.05);
    EXPECT_EQ(co_await futs[0], "b");
    EXPECT_DOUBLE_EQ(loop->time(), 0.10);
}

Coro<std::set<std::string>> concurrent_plain() {
    std::vector<Coro<std::string>> fs;
    fs.push_back(sleeper(0.05, "a"));
    fs.push_back(sleeper(0.05, "b"));
    std::vector<Task<std::string>> tasks;
    for (auto f : asyncio::as_completed(std::move(fs)))
        tasks.push_back(asyncio::create_task(std::move(f)));
    EXPECT_EQ(tasks.size(), 2u);
    auto [done, pending] = co_await asyncio::wait(tasks);
    std::set<std::string> results;
    for (auto& t : done)
        results.insert(t.result());
    co_return results;
}

Coro<std::set<std::string>> concurrent_async() {
    std::vector<Coro<std::string>> fs;
    fs.push_back(sleeper(0.05, "a"));
    fs.push_back(sleeper(0.05, "b"));
    std::vector<Task<std::string>> tasks;
    auto it = asyncio::as_completed(std::move(fs));
    while (auto t = co_await it.anext())
        tasks.push_back(*t);
    auto [done, pending] = co_await asyncio::wait(tasks);
    std::set<std::string> results;
    for (auto& t : done)
        results.insert(t.result());
    co_return results;
}

Coro<int> forty_two() { co_return 42; }

Coro<int> first_of_forty_two() {
    std::vector<Coro<int>> fs;
    fs.push_back(forty_two());
    std::vector<Coro<int>> futs;
    for (auto f : asyncio::as_completed(std::move(fs)))
        futs.push_back(std::move(f));
    EXPECT_EQ(futs.size(), 1u);
    co_return co_await futs[0];
}

Coro<void> fail_after(double dt) {
    co_await asyncio::sleep(dt);
    throw std::runtime_error("boom");
}

} // namespace

// Results come in completion order, both ways of iterating: the two 0.01 s sleepers first (in
// either order), then the 0.15 s one, at t=0.15.
TEST_F(AsCompletedTest, ASCOMP_01) {
    double start = 0;
    for (bool async : {false, true}) {
        Values res = run(async ? async_values(abc()) : plain_values(abc()));
        ASSERT_EQ(res.size(), 3u);
        EXPECT_TRUE(std::find(res.begin(), res.begin() + 2, "a") != res.begin() + 2);
        EXPECT_TRUE(std::find(res.begin(), res.begin() + 2, "b") != res.begin() + 2);
        EXPECT_EQ(res[2], "c");
        EXPECT_DOUBLE_EQ(loop->time(), start + 0.15);
        start = loop->time();
    }
}

// Async iteration gives the caller's own tasks back, and new tasks (never coroutine objects) for
// coroutines.
TEST_F(AsCompletedTest, ASCOMP_02) {
    std::vector<Task<int>> in;
    for (int i = 0; i < 4; ++i)
        in.push_back(loop->create_task(number(i)));
    std::vector<Task<int>> out = run(async_handles(in));
    ASSERT_EQ(out.size(), 4u);
    for (auto& t : out)
        EXPECT_NE(std::find(in.begin(), in.end(), t), in.end());
    std::vector<Task<int>> made = run(async_tasks_of_coros());
    ASSERT_EQ(made.size(), 4u);
    std::set<int> values;
    for (auto& t : made)
        values.insert(t.result());
    EXPECT_EQ(values, (std::set<int>{0, 1, 2, 3}));
}

// With timeout 0.12 and inputs finishing at 0.1 and 0.15, the first item gives 'a' and the next
// raises TimeoutError at 0.12 (when awaiting the awaitable in plain iteration, from anext() in
// async iteration); the inputs are not cancelled.
TEST_F(AsCompletedTest, ASCOMP_03) {
    for (bool async : {false, true}) {
        const double start = loop->time();
        auto a = loop->create_task(sleeper(0.1, "a"));
        auto b = loop->create_task(sleeper(0.15, "b"));
        std::vector<Task<std::string>> fs{a, b};
        Outcomes res = run(async ? async_with_timeout(fs) : plain_with_timeout(fs));
        ASSERT_EQ(res.size(), 2u);
        EXPECT_EQ(res[0], std::make_pair(1, std::string("a")));
        EXPECT_EQ(res[1].first, 2);
        EXPECT_NEAR(loop->time(), start + 0.12, 1e-9);
        EXPECT_EQ(loop->run_until_complete(b), "b");
    }
}

// An unused timeout leaves no timer behind once every input is in (asyncio's
// test_as_completed_with_unused_timeout).
TEST_F(AsCompletedTest, UnusedTimeout) {
    const std::size_t baseline = asyncio::detail::LoopTestAccess::timer_count(*loop);
    auto a = loop->create_task(sleeper(0.01, "a"));
    std::vector<Task<std::string>> fs{a};
    Outcomes res = run(plain_with_timeout(fs));
    EXPECT_EQ(res, (Outcomes{{1, "a"}}));
    EXPECT_EQ(asyncio::detail::LoopTestAccess::timer_count(*loop), baseline);
}

// Leaving the loop after two items and iterating the same object again gives the remaining two:
// all four results, once each, both ways.
TEST_F(AsCompletedTest, ASCOMP_05) {
    for (bool async : {false, true}) {
        std::vector<int> results = run(async ? async_resumed() : plain_resumed());
        std::sort(results.begin(), results.end());
        EXPECT_EQ(results, (std::vector<int>{0, 1, 2, 3}));
    }
}

// The awaitables of plain iteration are not tied to particular inputs: awaiting the second one
// first gives the earliest finisher ('a' at 0.05), then the first one gives 'b' at 0.10.
TEST_F(AsCompletedTest, ASCOMP_06) { run(reverse_wait(loop.get())); }

// All the awaitables can be awaited concurrently (each made a task), and together give a and b.
TEST_F(AsCompletedTest, ASCOMP_07) {
    EXPECT_EQ(run(concurrent_plain()), (std::set<std::string>{"a", "b"}));
    EXPECT_EQ(run(concurrent_async()), (std::set<std::string>{"a", "b"}));
}

// A task given twice counts once: two results for three inputs (asyncio's
// test_as_completed_duplicate_coroutines, with a task: a C++ coroutine cannot be given twice).
TEST_F(AsCompletedTest, Duplicates) {
    auto ham = loop->create_task(sleeper(0, "ham"));
    auto spam = loop->create_task(sleeper(0, "spam"));
    std::vector<Task<std::string>> fs{ham, ham, spam};
    Outcomes res = run(plain_with_timeout(fs));
    EXPECT_EQ(res.size(), 2u);
    std::vector<Task<std::string>> out = run(async_handles(fs));
    EXPECT_EQ(out.size(), 2u);
}

// Coroutine inputs without a running loop are a RuntimeError; inside a running loop they are
// scheduled on it and give 42.
TEST_F(AsCompletedTest, ASCOMP_09) {
    std::vector<Coro<int>> fs;
    fs.push_back(forty_two());
    EXPECT_THROW((void)asyncio::as_completed(std::move(fs)), asyncio::RuntimeError);
    EXPECT_EQ(run(first_of_forty_two()), 42);
}

// A failed input's exception comes out of the awaitable that takes it; a cancelled input gives
// CancelledError.
TEST_F(AsCompletedTest, FailuresComeOut) {
    auto bad = loop->create_task(fail_after(0.1));
    auto gone = loop->create_task(fail_after(0.2));
    gone.cancel();
    std::vector<asyncio::TaskRef> fs{bad, gone};
    auto outcomes = run([](std::vector<asyncio::TaskRef> fs) -> Coro<Values> {
        Values out;
        for (auto f : asyncio::as_completed(fs)) {
            try {
                co_await f;
                out.push_back("value");
            } catch (const std::runtime_error& e) {
                out.push_back(e.what());
            } catch (const CancelledError&) {
                out.push_back("cancelled");
            }
        }
        co_return out;
    }(fs));
    EXPECT_EQ(outcomes, (Values{"cancelled", "boom"}));
}

// Cancelling a task that awaits one of the awaitables ends that await with CancelledError; the
// input is not cancelled, and its result is there for the next await.
TEST_F(AsCompletedTest, CancellingAnAwait) {
    auto a = loop->create_task(sleeper(0.1, "a"));
    std::vector<Task<std::string>> fs{a};
    auto it = asyncio::as_completed(fs);
    auto next = it.begin();
    auto waiting = loop->create_task(*next);
    run_briefly();
    waiting.cancel();
    EXPECT_THROW(loop->run_until_complete(waiting), CancelledError);
    EXPECT_FALSE(a.cancelled());
    EXPECT_EQ(run(*next), "a");
}

// An iteration dropped before its inputs finish unregisters from them; a timeout it armed goes
// with it (both checked by the leak sanitizer); the inputs are untouched.
TEST_F(AsCompletedTest, DroppedIteration) {
    const std::size_t baseline = asyncio::detail::LoopTestAccess::timer_count(*loop);
    auto f = loop->create_future<int>();
    {
        std::vector<asyncio::Future<int>> fs{f};
        auto it = asyncio::as_completed(fs, 5);
        EXPECT_EQ(asyncio::detail::LoopTestAccess::timer_count(*loop), baseline + 1);
    }
    EXPECT_EQ(asyncio::detail::LoopTestAccess::timer_count(*loop), baseline);
    f.set_result(1);
    run_until_idle();
    EXPECT_EQ(f.result(), 1);
}
