// Conformance cases WAIT-*: asyncio.wait (return_when, timeout, de-duplication, errors), and
// what cancelling the waiting task does.
#include <asyncio.hpp>

#include <cstddef>
#include <iterator>
#include <list>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Future;
using asyncio::Task;
using asyncio::WaitResult;

class WaitTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: a task left waiting forever makes run_until_complete fail instead of hanging.
    WaitTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }
};

Coro<void> sleep_for(double delay) { co_await asyncio::sleep(delay); }

template <class H>
Coro<WaitResult<H>> wait_on(std::vector<H> fs, asyncio::WaitOptions options = {}) {
    co_return co_await asyncio::wait(fs, options);
}

Coro<std::string> echo(std::string s) { co_return s; }

Coro<void> yield_times(int n) {
    for (int i = 0; i < n; ++i)
        co_await asyncio::sleep(0);
}

Coro<void> raise_now() {
    throw std::domain_error("err");
    co_return;
}

Coro<void> raise_after(double delay) {
    co_await asyncio::sleep(delay);
    throw std::domain_error("err");
}

Coro<int> func(int a) { co_return a; }

// A single-pass range that makes a task each time it is read (Python's generator of tasks).
struct TaskGenerator {
    int n;
    struct iterator {
        using value_type = Task<int>;
        using difference_type = std::ptrdiff_t;
        int i = 0;
        Task<int> operator*() const { return asyncio::create_task(func(i)); }
        iterator& operator++() {
            ++i;
            return *this;
        }
        void operator++(int) { ++i; }
        int end = 0;
        friend bool operator==(const iterator& it, std::default_sentinel_t) {
            return it.i == it.end;
        }
    };
    iterator begin() const { return iterator{0, n}; }
    std::default_sentinel_t end() const { return {}; }
};
static_assert(std::ranges::input_range<TaskGenerator>);

Coro<void> await_then_count(Future<void> waiter, int* proof) {
    co_await waiter;
    *proof += 1;
}

Coro<void> wait_inner_then_count(Future<void> waiter, int* proof) {
    std::vector<Task<void>> fs{asyncio::create_task(await_then_count(waiter, proof))};
    (void)co_await asyncio::wait(fs);
    *proof += 100;
}

} // namespace

// wait([b, a]) with ALL_COMPLETED returns (both done, none pending) at 0.15, the later finish;
// waiting again on the finished tasks returns without time passing.
TEST_F(WaitTest, WAIT_01) {
    auto a = loop->create_task(sleep_for(0.1));
    auto b = loop->create_task(sleep_for(0.15));
    auto [done, pending] = run(wait_on<Task<void>>({b, a}));
    EXPECT_EQ(done, (std::vector<Task<void>>{b, a}));
    EXPECT_TRUE(pending.empty());
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
    auto again = run(wait_on<Task<void>>({b, a}));
    EXPECT_EQ(again.done.size(), 2u);
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
}

// A task given several times appears once in done; pending is empty.
TEST_F(WaitTest, WAIT_02) {
    auto c = loop->create_task(echo("test"));
    auto spam = loop->create_task(echo("spam"));
    auto [done, pending] = run(wait_on<Task<std::string>>({c, c, spam}));
    EXPECT_TRUE(pending.empty());
    ASSERT_EQ(done.size(), 2u);
    std::set<std::string> results;
    for (auto& t : done)
        results.insert(t.result());
    EXPECT_EQ(results, (std::set<std::string>{"test", "spam"}));
}

// An empty range or an invalid return_when is a ValueError (a std::invalid_argument). Passing a
// single task, or coroutines, does not compile (tests/compile_fail/wait_*.cpp).
TEST_F(WaitTest, WAIT_03) {
    EXPECT_THROW(run(wait_on<Task<void>>({})), asyncio::ValueError);
    auto t = loop->create_task(sleep_for(10));
    EXPECT_THROW(
        run(wait_on<Task<void>>({t}, {.return_when = static_cast<asyncio::ReturnWhen>(-1)})),
        std::invalid_argument);
    t.cancel();
    EXPECT_THROW(loop->run_until_complete(t), CancelledError);
}

// With FIRST_COMPLETED, done/pending is computed when wait resumes: a second task that finished
// one iteration after the first is in done too.
TEST_F(WaitTest, WAIT_05) {
    auto a = loop->create_task(yield_times(1));
    auto b = loop->create_task(yield_times(2));
    auto [done, pending] =
        run(wait_on<Task<void>>({b, a}, {.return_when = asyncio::FIRST_COMPLETED}));
    EXPECT_EQ(done, (std::vector<Task<void>>{b, a}));
    EXPECT_TRUE(pending.empty());
    EXPECT_TRUE(a.done());
    EXPECT_TRUE(b.done());
}

// FIRST_COMPLETED returns when the first task finishes (0.1), the other pending and running.
TEST_F(WaitTest, WaitFirstCompleted) {
    auto a = loop->create_task(sleep_for(10));
    auto b = loop->create_task(sleep_for(0.1));
    auto [done, pending] =
        run(wait_on<Task<void>>({b, a}, {.return_when = asyncio::FIRST_COMPLETED}));
    EXPECT_EQ(done, (std::vector<Task<void>>{b}));
    EXPECT_EQ(pending, (std::vector<Task<void>>{a}));
    EXPECT_FALSE(a.done());
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
    a.cancel();
}

// FIRST_EXCEPTION with a task that fails at once returns at t=0: done = {failed},
// pending = {sleeper}.
TEST_F(WaitTest, WAIT_06) {
    auto a = loop->create_task(sleep_for(10));
    auto b = loop->create_task(raise_now());
    auto [done, pending] =
        run(wait_on<Task<void>>({b, a}, {.return_when = asyncio::FIRST_EXCEPTION}));
    EXPECT_EQ(done, (std::vector<Task<void>>{b}));
    EXPECT_EQ(pending, (std::vector<Task<void>>{a}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
    a.cancel();
}

// FIRST_EXCEPTION returns at the moment a task fails during the wait (0.01): the failed task
// done, the other pending.
TEST_F(WaitTest, WAIT_07) {
    auto a = loop->create_task(sleep_for(10));
    auto b = loop->create_task(raise_after(0.01));
    auto [done, pending] =
        run(wait_on<Task<void>>({b, a}, {.return_when = asyncio::FIRST_EXCEPTION}));
    EXPECT_EQ(done, (std::vector<Task<void>>{b}));
    EXPECT_EQ(pending, (std::vector<Task<void>>{a}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.01);
    a.cancel();
}

// With ALL_COMPLETED a failure is just one more done task (asyncio's test_wait_with_exception).
TEST_F(WaitTest, WaitWithException) {
    auto a = loop->create_task(sleep_for(0.1));
    auto b = loop->create_task(raise_after(0.15));
    auto [done, pending] = run(wait_on<Task<void>>({b, a}));
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
    EXPECT_TRUE(b.exception());
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
}

// wait(..., timeout=0.11) returns at 0.11 with done = {a} (finished at 0.1) and pending = {b} (due
// at 0.15): no TimeoutError, and b is not cancelled.
TEST_F(WaitTest, WAIT_09) {
    auto a = loop->create_task(sleep_for(0.1));
    auto b = loop->create_task(sleep_for(0.15));
    auto [done, pending] = run(wait_on<Task<void>>({b, a}, {.timeout = 0.11}));
    EXPECT_EQ(done, (std::vector<Task<void>>{a}));
    EXPECT_EQ(pending, (std::vector<Task<void>>{b}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.11);
    EXPECT_FALSE(b.cancelled());
    loop->run_until_complete(b);
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
}

// A task finishing exactly at the timeout instant (both 0.1) is in done, not pending.
TEST_F(WaitTest, WAIT_10) {
    auto a = loop->create_task(sleep_for(0.1));
    auto b = loop->create_task(sleep_for(0.15));
    auto [done, pending] = run(wait_on<Task<void>>({b, a}, {.timeout = 0.1}));
    EXPECT_EQ(done, (std::vector<Task<void>>{a}));
    EXPECT_EQ(pending, (std::vector<Task<void>>{b}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
}

// wait accepts any input range: a std::list, and a range that makes its tasks as it is read
// (asyncio's iterator and generator cases); the result holds the tasks the range gave.
TEST_F(WaitTest, WAIT_11) {
    auto a = loop->create_task(sleep_for(0.1));
    auto b = loop->create_task(sleep_for(0.15));
    auto [done, pending] = run([](std::list<Task<void>> fs) -> Coro<WaitResult<Task<void>>> {
        co_return co_await asyncio::wait(fs);
    }({b, a}));
    EXPECT_EQ(done, (std::vector<Task<void>>{b, a}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);

    auto generated = run([]() -> Coro<WaitResult<Task<int>>> {
        co_return co_await asyncio::wait(TaskGenerator{10},
                                         {.return_when = asyncio::ALL_COMPLETED});
    }());
    ASSERT_EQ(generated.done.size(), 10u);
    EXPECT_TRUE(generated.pending.empty());
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(generated.done[i].result(), i);
}

// Cancelling the waiting task ends the wait with CancelledError; the task waited for goes on
// (asyncio's test_yield_wait_does_not_shield_cancel).
TEST_F(WaitTest, CancellingTheWaiterEndsOnlyTheWait) {
    int proof = 0;
    auto waiter = loop->create_future<void>();
    auto f = loop->create_task(wait_inner_then_count(waiter, &proof));
    run_briefly();
    f.cancel("stop");
    EXPECT_THROW(loop->run_until_complete(f), CancelledError);
    EXPECT_FALSE(waiter.cancelled());
    waiter.set_result();
    run_briefly();
    run_briefly();
    EXPECT_EQ(proof, 1);
}

// Race: the wait is released (its condition met) in the iteration in which the waiting task is
// cancelled: the cancellation is delivered, not lost.
TEST_F(WaitTest, CancelInTheIterationTheWaitIsReleased) {
    auto fut = loop->create_future<int>();
    auto w = loop->create_task(wait_on<Future<int>>({fut}));
    run_briefly(); // waiting
    fut.set_result(1);
    run_briefly(); // the completion callback runs and wakes `w`
    EXPECT_TRUE(w.cancel());
    EXPECT_THROW(loop->run_until_complete(w), CancelledError);
    EXPECT_EQ(fut.result(), 1);
}

// Futures work as well as tasks; a future of another loop is a ValueError; outside a task there
// is no running loop (RuntimeError).
TEST_F(WaitTest, FuturesAndLoops) {
    auto f = loop->create_future<int>();
    loop->call_later(0.5, [f]() mutable { f.set_result(3); });
    auto [done, pending] = run(wait_on<Future<int>>({f}, {.timeout = std::chrono::seconds(1)}));
    EXPECT_EQ(done, (std::vector<Future<int>>{f}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.5);
    auto other = asyncio::new_event_loop({.debug = false, .virtual_time = true});
    auto g = other->create_future<int>();
    EXPECT_THROW(run(wait_on<Future<int>>({g})), asyncio::ValueError);
    std::vector<Future<int>> fs{f};
    EXPECT_THROW((void)asyncio::wait(fs), asyncio::RuntimeError);
}
