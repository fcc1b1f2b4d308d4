// Conformance cases WAITFOR-*: asyncio.wait_for as in asyncio 3.12+ (a coroutine awaited in
// place under a timeout scope), and races of our own: the timeout expiring in the iteration the
// work completes, nested wait_for, cancellation while waiting for the work to finish cancelling.
#include <asyncio.hpp>

#include <chrono>
#include <cmath>
#include <exception>
#include <optional>
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
using asyncio::TimeoutError;
using asyncio::detail::LoopTestAccess;

constexpr double k_epsilon = 0.0001;

class WaitForTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: a task left waiting forever makes run_until_complete fail instead of hanging.
    WaitForTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }
};

// A task that runs 0.2 s from its start, ignoring cancellations (CPython's SlowTask).
struct SlowTask {
    static constexpr double task_timeout = 0.2;
    bool exited = false;

    Coro<void> run() {
        asyncio::EventLoop& loop = asyncio::get_running_loop();
        const double exit_at = loop.time() + task_timeout;
        for (;;) {
            const double to_sleep = exit_at - loop.time();
            if (to_sleep <= 0)
                break;
            try {
                co_await asyncio::sleep(to_sleep);
            } catch (const CancelledError&) {
            }
        }
        exited = true;
    }
};

// True if `f` throws TimeoutError with a CancelledError nested in it.
template <class F>
bool timeout_with_nested_cancel(F&& f) {
    try {
        f();
    } catch (const TimeoutError& e) {
        try {
            std::rethrow_if_nested(e);
        } catch (const CancelledError&) {
            return true;
        }
    }
    return false;
}

Coro<void> wait_for_void(Coro<void> coro, std::optional<double> timeout) {
    co_await asyncio::wait_for(std::move(coro), timeout);
}

template <class A, class D>
Coro<asyncio::detail::raw_await_t<A&&>> wait_for_any(A aw, D timeout) {
    co_return co_await asyncio::wait_for(std::move(aw), timeout);
}

Coro<std::string> sleep_with_flag(double delay, std::optional<bool>* running,
                                  Future<void> started = {}) {
    *running = true;
    if (started)
        started.set_result();
    try {
        co_await asyncio::sleep(delay);
    } catch (...) { // C++ has no `finally`
        *running = false;
        throw;
    }
    *running = false;
    co_return "done";
}

Coro<std::string> done_now() { co_return "done"; }

Coro<int> catch_cancel_return_1(bool* caught) {
    try {
        co_await asyncio::sleep(1);
    } catch (const CancelledError&) {
        *caught = true;
    }
    co_return 1;
}

// Catches the CancelledError, awaits a little, then re-raises it.
Coro<void> slow_to_cancel(bool* task_done) {
    std::exception_ptr cancelled;
    try {
        co_await asyncio::sleep(10);
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    }
    if (cancelled)
        co_await asyncio::sleep(k_epsilon);
    *task_done = true;
    if (cancelled)
        std::rethrow_exception(cancelled);
}

Coro<void> wait_for_running_task_with_0(bool* task_done) {
    Task<void> inner = asyncio::create_task(slow_to_cancel(task_done));
    co_await asyncio::sleep(k_epsilon);
    co_await asyncio::wait_for(inner, 0);
}

struct FooError : std::runtime_error {
    FooError() : std::runtime_error("foo") {}
};

Coro<void> raise_foo_on_exit() {
    try {
        co_await asyncio::sleep(0.2);
    } catch (...) {
        throw FooError();
    }
    throw FooError();
}

Coro<int> ignore_two_cancels() {
    int cancels = 0;
    try {
        co_await asyncio::sleep(0.3);
    } catch (const CancelledError&) {
        ++cancels;
    }
    if (cancels == 1) {
        try {
            co_await asyncio::sleep(0.3);
        } catch (const CancelledError&) {
            ++cancels;
        }
    }
    if (cancels == 2)
        co_await asyncio::sleep(0.3);
    co_return 42;
}

Coro<void> await_forever(Future<void> fut) { co_await fut; }

Coro<int> return_42_on_cancel() {
    try {
        co_await asyncio::sleep(10);
    } catch (const CancelledError&) {
        co_return 42;
    }
    co_return 0;
}

Coro<std::string> await_then_done(Future<void> fut) {
    co_await fut;
    co_return "done";
}

Coro<void> wait_for_then_sleep(Task<std::string> inner, bool* reached_end) {
    co_await asyncio::wait_for(inner, 100);
    co_await asyncio::sleep(1);
    *reached_end = true;
}

Coro<int> value_after(double delay, int value) {
    co_await asyncio::sleep(delay);
    co_return value;
}

Coro<int> nested_wait_for(double inner_timeout, double outer_timeout) {
    co_return co_await asyncio::wait_for(
        [](double t) -> Coro<int> {
            co_return co_await asyncio::wait_for(value_after(10, 1), t);
        }(inner_timeout),
        outer_timeout);
}

} // namespace

// A task blocked in wait_for(inner, 0.4) is cancelled, but the inner work ignores cancellations
// until 0.2 s: the task does not finish before the inner work has really exited.
TEST_F(WaitForTest, WAITFOR_01) {
    SlowTask t;
    auto waitfortask = loop->create_task(wait_for_void(t.run(), SlowTask::task_timeout * 2));
    run_briefly();
    waitfortask.cancel();
    (void)run([](Task<void> w) -> Coro<int> {
        std::vector<Task<void>> fs{w};
        (void)co_await asyncio::wait(fs);
        co_return 0;
    }(waitfortask));
    EXPECT_TRUE(waitfortask.done());
    EXPECT_TRUE(t.exited);
    EXPECT_DOUBLE_EQ(loop->time(), 0.2);
}

// When the timeout fires but the inner work swallows the cancellation and keeps running,
// wait_for neither returns nor raises until the work has finished (at 0.2 s); the work returned
// normally, so wait_for returns.
TEST_F(WaitForTest, WAITFOR_02) {
    SlowTask t;
    run(wait_for_void(t.run(), SlowTask::task_timeout / 2));
    EXPECT_TRUE(t.exited);
    EXPECT_DOUBLE_EQ(loop->time(), 0.2);
}

// wait_for(future already done, 0) gives the future's result instead of TimeoutError, at once.
TEST_F(WaitForTest, WAITFOR_03) {
    auto fut = loop->create_future<std::string>();
    fut.set_result("done");
    EXPECT_EQ(run(wait_for_any(fut, 0)), "done");
    EXPECT_TRUE(fut.done());
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

// wait_for(coroutine, 0) raises TimeoutError without the coroutine ever starting (it is made a
// task and cancelled before its first step).
TEST_F(WaitForTest, TimeoutZeroCoroutineNeverStarts) {
    bool started = false;
    EXPECT_TRUE(timeout_with_nested_cancel([&] {
        run(wait_for_void(
            [](bool* s) -> Coro<void> {
                *s = true;
                co_return;
            }(&started),
            0));
    }));
    EXPECT_FALSE(started);
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

// For a started task sleeping 10 s, wait_for(task, 0) and wait_for(task, -1) both cancel it (its
// clean-up runs) and raise TimeoutError once it has finished cancelling, without time passing.
TEST_F(WaitForTest, WAITFOR_05) {
    for (double timeout : {0.0, -1.0}) {
        std::optional<bool> running;
        auto started = loop->create_future<void>();
        auto fut = loop->create_task(sleep_with_flag(10, &running, started));
        loop->run_until_complete(started);
        const double t0 = loop->time();
        EXPECT_THROW(run(wait_for_any(fut, timeout)), TimeoutError);
        EXPECT_TRUE(fut.done());
        EXPECT_TRUE(fut.cancelled());
        EXPECT_EQ(running, false);
        EXPECT_DOUBLE_EQ(loop->time(), t0);
    }
}

// wait_for(long_task, 0.1) raises TimeoutError at 0.1, and by then the task is done and cancelled
// with its clean-up run.
TEST_F(WaitForTest, WAITFOR_06) {
    std::optional<bool> running;
    auto fut = loop->create_task(sleep_with_flag(10, &running));
    EXPECT_THROW(run(wait_for_any(fut, 0.1)), TimeoutError);
    EXPECT_TRUE(fut.done());
    EXPECT_TRUE(fut.cancelled());
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
    EXPECT_EQ(running, false);
}

// wait_for(coro, std::nullopt) just awaits and gives the result.
TEST_F(WaitForTest, WAITFOR_07) { EXPECT_EQ(run(wait_for_any(done_now(), std::nullopt)), "done"); }

// A future set at 0.1 under a 0.2 timeout gives its result (asyncio's
// test_wait_for_race_condition).
TEST_F(WaitForTest, FutureCompletesBeforeTimeout) {
    auto fut = loop->create_future<std::string>();
    loop->call_later(0.1, [fut]() mutable { fut.set_result("ok"); });
    EXPECT_EQ(run(wait_for_any(fut, 0.2)), "ok");
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
}

// When the timeout's CancelledError reaches the inner coroutine, which catches it and returns 1,
// wait_for returns 1 and raises no TimeoutError.
TEST_F(WaitForTest, WAITFOR_09) {
    bool caught = false;
    EXPECT_EQ(run(wait_for_any(catch_cancel_return_1(&caught), 0.01)), 1);
    EXPECT_TRUE(caught);
    EXPECT_DOUBLE_EQ(loop->time(), 0.01);
}

// On timeout, wait_for waits for the inner task to finish its own cancellation handling (which
// awaits) before raising TimeoutError, which has the CancelledError nested in it.
TEST_F(WaitForTest, WAITFOR_10) {
    bool task_done = false;
    auto inner = loop->create_task(slow_to_cancel(&task_done));
    EXPECT_TRUE(timeout_with_nested_cancel([&] { run(wait_for_any(inner, k_epsilon)); }));
    EXPECT_TRUE(task_done);
    EXPECT_DOUBLE_EQ(loop->time(), 2 * k_epsilon);
}

// WAITFOR-10 also holds with timeout 0 on a task that is already running.
TEST_F(WaitForTest, WAITFOR_11) {
    bool task_done = false;
    EXPECT_TRUE(timeout_with_nested_cancel([&] { run(wait_for_running_task_with_0(&task_done)); }));
    EXPECT_TRUE(task_done);
}

// When the inner task's clean-up raises another exception, that exception comes out of wait_for
// (asyncio's test_wait_for_reraises_exception_during_cancellation).
TEST_F(WaitForTest, CleanUpExceptionComesOut) {
    auto inner = loop->create_task(raise_foo_on_exit());
    EXPECT_THROW(run(wait_for_any(inner, k_epsilon)), FooError);
}

// wait_for itself is cancellable even when the inner task holds up cancellations: the awaiting
// task, cancelled before it starts, ends cancelled, and the inner task finishes with 42
// (asyncio's test_wait_for_self_cancellation).
TEST_F(WaitForTest, WaitForIsCancellable) {
    auto inner = loop->create_task(ignore_two_cancels());
    auto task = loop->create_task(wait_for_any(inner, 0.1));
    task.cancel();
    EXPECT_THROW(loop->run_until_complete(task), CancelledError);
    EXPECT_EQ(loop->run_until_complete(inner), 42);
}

// Cancelling the task that awaits wait_for(task, 60) or wait_for(task, std::nullopt) makes it
// raise CancelledError and cancels the inner task too.
TEST_F(WaitForTest, WAITFOR_13) {
    for (std::optional<double> timeout : {std::optional<double>(60.0), std::optional<double>()}) {
        auto fut = loop->create_future<void>();
        auto task = loop->create_task(await_forever(fut));
        auto wait = loop->create_task(wait_for_any(task, timeout));
        loop->call_soon([wait]() mutable { wait.cancel(); });
        EXPECT_THROW(loop->run_until_complete(wait), CancelledError);
        EXPECT_TRUE(task.cancelled());
        EXPECT_TRUE(fut.cancelled());
    }
}

// If the inner coroutine suppresses the timeout's cancellation and returns 42, wait_for returns
// 42.
TEST_F(WaitForTest, WAITFOR_14) { EXPECT_EQ(run(wait_for_any(return_42_on_cancel(), 0.1)), 42); }

// The inner task completes in the iteration in which the task awaiting wait_for(inner, 100) is
// cancelled: the task still raises CancelledError without running the code after wait_for, and
// the inner task's result stays retrievable.
TEST_F(WaitForTest, WAITFOR_15) {
    auto fut = loop->create_future<void>();
    auto inner = loop->create_task(await_then_done(fut));
    bool reached_end = false;
    auto task = loop->create_task(wait_for_then_sleep(inner, &reached_end));
    run_briefly(); // both wait
    fut.set_result();
    run_briefly(); // the inner task completes; `task` is woken for the next iteration
    ASSERT_TRUE(inner.done());
    EXPECT_TRUE(task.cancel());
    EXPECT_THROW(loop->run_until_complete(task), CancelledError);
    EXPECT_FALSE(reached_end);
    EXPECT_EQ(inner.result(), "done");
}

// Race: the awaited task finishes in the iteration in which the timeout expires (both at 0.1):
// its result wins, and it is not cancelled. Likewise for a coroutine awaited in place.
TEST_F(WaitForTest, TimeoutInTheIterationTheWorkCompletes) {
    auto task = loop->create_task(value_after(0.1, 7));
    EXPECT_EQ(run(wait_for_any(task, 0.1)), 7);
    EXPECT_FALSE(task.cancelled());
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
    EXPECT_EQ(run(wait_for_any(value_after(0.1, 8), 0.1)), 8);
    EXPECT_DOUBLE_EQ(loop->time(), 0.2);
}

// Nested wait_for: the inner timeout expiring first raises TimeoutError from the inner wait_for
// (the outer lets it through); the outer expiring first turns the cancellation into its own
// TimeoutError; both expiring together leave the task's cancel count as it was.
TEST_F(WaitForTest, NestedWaitFor) {
    EXPECT_THROW(run(nested_wait_for(0.1, 1)), TimeoutError);
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
    auto outer_first = loop->create_task(nested_wait_for(1, 0.1));
    EXPECT_THROW(loop->run_until_complete(outer_first), TimeoutError);
    EXPECT_DOUBLE_EQ(loop->time(), 0.2);
    EXPECT_EQ(outer_first.cancelling(), 0);
    auto both = loop->create_task(nested_wait_for(0.1, 0.1));
    EXPECT_THROW(loop->run_until_complete(both), TimeoutError);
    EXPECT_EQ(both.cancelling(), 0);
    EXPECT_DOUBLE_EQ(loop->time(), 0.3);
}

// Cancelled while wait_for(task, 0) waits for the task to finish cancelling, the awaiting task
// ends with CancelledError at once; the inner task goes on with its clean-up.
TEST_F(WaitForTest, CancelledWhileWaitingForTheCancellation) {
    bool task_done = false;
    auto inner = loop->create_task(slow_to_cancel(&task_done));
    run_briefly();
    auto task = loop->create_task(wait_for_any(inner, 0));
    run_briefly(); // `task` cancels `inner` and waits
    EXPECT_TRUE(task.cancel());
    EXPECT_THROW(loop->run_until_complete(task), CancelledError);
    EXPECT_FALSE(task_done);
    EXPECT_THROW(loop->run_until_complete(inner), CancelledError);
    EXPECT_TRUE(task_done);
}

// The fast path: work that completes without suspending leaves no timer; work that suspends
// arms one, removed when the work completes before the deadline.
TEST_F(WaitForTest, NoTimerLeftBehind) {
    const std::size_t baseline = LoopTestAccess::timer_count(*loop); // the watchdog
    EXPECT_EQ(run(wait_for_any(done_now(), 10)), "done");
    EXPECT_EQ(LoopTestAccess::timer_count(*loop), baseline);
    EXPECT_EQ(run(wait_for_any(value_after(0.5, 3), 10)), 3);
    EXPECT_EQ(LoopTestAccess::timer_count(*loop), baseline);
    EXPECT_DOUBLE_EQ(loop->time(), 0.5);
}

// Any awaitable works, void ones included, on every path; a NaN timeout is a ValueError; a
// chrono duration works like its number of seconds.
TEST_F(WaitForTest, BadArguments) {
    EXPECT_THROW((void)asyncio::wait_for(done_now(), std::nan("")), asyncio::ValueError);
    std::chrono::milliseconds ms(5);
    EXPECT_EQ(run(wait_for_any(done_now(), ms)), "done");
    EXPECT_THROW(run(wait_for_any(asyncio::sleep(1), ms)), TimeoutError);
    EXPECT_DOUBLE_EQ(loop->time(), 0.005);
    EXPECT_THROW(run(wait_for_any(asyncio::sleep(1), 0)), TimeoutError);
    run(wait_for_any(asyncio::sleep(1), 2));
    EXPECT_EQ(run(wait_for_any(asyncio::sleep(1, 5), 2)), 5);
    EXPECT_DOUBLE_EQ(loop->time(), 2.005);
}
