// Conformance cases CANCEL-*: cancel(), cancelling(), uncancel(), cancellation messages, and the
// iteration in which a cancellation is delivered and propagated.
#include <asyncio.hpp>

#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Future;
using asyncio::Task;
using asyncio::TaskRef;
using asyncio::testing::cancelled_message;
using asyncio::testing::holds;
using Log = std::vector<std::string>;

Coro<void> cancel_then_read(std::optional<std::string> msg, bool use_exception, Log* log);

class CancelTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: if a broken cancellation leaves a task waiting forever, virtual time jumps here
    // and run_until_complete fails ("Event loop stopped before Future completed.") instead of
    // hanging. Far beyond every deadline the tests use.
    CancelTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }

    template <class T>
    static std::string repr(const Task<T>& t) {
        std::ostringstream os;
        os << t;
        return os.str();
    }

    // CANCEL-17/18: after cancel() with no message, an empty one, 'my message' or '5', the
    // awaited task's outcome (read with result(), or exception() if `via_exception`) raises
    // CancelledError with that message, and the waiting task that let it propagate ends
    // cancelled with the same message.
    void check_cancel_messages(bool via_exception) {
        const std::vector<std::pair<std::optional<std::string>, std::string>> cases = {
            {std::nullopt, ""}, {std::string(), ""}, {"my message", "my message"}, {"5", "5"}};
        for (const auto& [arg, expected] : cases) {
            SCOPED_TRACE("cancel(" + arg.value_or("<none>") + ")");
            Log log;
            auto outer = loop->create_task(cancel_then_read(arg, via_exception, &log));
            EXPECT_EQ(cancelled_message([&] { loop->run_until_complete(outer); }), expected);
            EXPECT_TRUE(outer.cancelled());
            if (via_exception)
                EXPECT_EQ(cancelled_message([&] { (void)outer.exception(); }), expected);
            else
                EXPECT_EQ(cancelled_message([&] { (void)outer.result(); }), expected);
            EXPECT_EQ(log, (Log{"inner cancelled"}));
        }
        EXPECT_DOUBLE_EQ(loop->time(), 0.0);
        EXPECT_TRUE(reports.empty());
    }
};

Coro<void> sleep_for(double seconds) { co_await asyncio::sleep(seconds); }

Coro<int> sleep_then_12(double seconds, Log* log) {
    log->push_back("start");
    co_await asyncio::sleep(seconds);
    log->push_back("after sleep");
    co_return 12;
}

// asyncio.wait([t]) for one task: returns once `t` is done, never raises.
Coro<void> wait_done(TaskRef t) {
    if (t.done())
        co_return;
    auto fut = asyncio::get_running_loop().create_future<void>();
    t.add_done_callback([fut]() mutable {
        if (!fut.done())
            fut.set_result();
    });
    co_await fut;
}

Coro<int> yield_twice(Log* log) {
    log->push_back("start");
    co_await asyncio::sleep(0);
    log->push_back("after first yield");
    co_await asyncio::sleep(0);
    log->push_back("after second yield");
    co_return 12;
}

Coro<int> await_future_12(Future<void> f, Log* log) {
    log->push_back("start");
    co_await f;
    log->push_back("after await");
    co_return 12;
}

Coro<int> catching(Future<void> fut1, Future<void> fut2, Log* log) {
    co_await fut1;
    log->push_back("awaiting fut2");
    try {
        co_await fut2;
    } catch (const CancelledError& e) {
        log->push_back("caught '" + e.message() + "'");
        co_return 42;
    }
    co_return 0;
}

Coro<int> ignoring(Future<void> fut1, Future<void> fut2, Future<int> fut3, Log* log) {
    co_await fut1;
    log->push_back("awaiting fut2");
    try {
        co_await fut2;
    } catch (const CancelledError& e) {
        log->push_back("caught '" + e.message() + "'");
    }
    log->push_back("awaiting fut3");
    int res = co_await fut3;
    log->push_back("got " + std::to_string(res));
    co_return res;
}

Coro<int> cancel_self_then_sleep(Log* log) {
    TaskRef self = asyncio::current_task();
    log->push_back(self.cancel() ? "cancel() true" : "cancel() false");
    log->push_back("cancelling " + std::to_string(self.cancelling()));
    co_await asyncio::sleep(100);
    log->push_back("after sleep");
    co_return 12;
}

Coro<void> await_future(Future<void> fut, Log* log) {
    log->push_back("nested start");
    co_await fut;
    log->push_back("nested after await");
}

Coro<void> cancel_self_then_await_task(Future<void> fut, Task<void>* nested_out, Log* log) {
    *nested_out = asyncio::create_task(await_future(fut, log));
    co_await asyncio::sleep(0);
    log->push_back("outer cancels itself");
    asyncio::current_task().cancel();
    co_await *nested_out;
    log->push_back("outer after await");
}

Coro<std::string> doit(double* caught_at, Task<void>* sleeper_out) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    Task<void> sleeper = asyncio::create_task(sleep_for(5000));
    *sleeper_out = sleeper;
    loop.call_later(0.1, [sleeper]() mutable { sleeper.cancel(); });
    bool cancelled = false;
    try {
        co_await sleeper;
    } catch (const CancelledError&) {
        cancelled = true;
        *caught_at = loop.time();
    }
    co_return cancelled ? "cancelled" : "slept in";
}

Coro<void> await_int_future(Future<int> fut) { (void)co_await fut; }

Coro<void> uncancel_on_first_cancel(Log* log) {
    bool caught = false;
    try {
        co_await asyncio::sleep(10);
    } catch (const CancelledError&) {
        caught = true;
    }
    if (caught) {
        asyncio::EventLoop& loop = asyncio::get_running_loop();
        int left = asyncio::current_task().uncancel();
        log->push_back("uncancel() -> " + std::to_string(left) + " at " +
                       std::to_string(loop.time()));
        co_await asyncio::sleep(10);
        log->push_back("second sleep finished");
    }
}

Coro<int> await_then_42(Future<void> fut, Log* log) {
    co_await fut;
    log->push_back("resumed");
    co_return 42;
}

// The body of CANCEL-17/18: cancels a sleeping task with `msg` (none: the default), waits for
// it, then reads its outcome with result() or exception().
Coro<void> cancel_then_read(std::optional<std::string> msg, bool use_exception, Log* log) {
    Task<void> task = asyncio::create_task(sleep_for(10));
    co_await asyncio::sleep(0);
    if (msg)
        task.cancel(*msg);
    else
        task.cancel();
    co_await wait_done(task);
    log->push_back(task.cancelled() ? "inner cancelled" : "inner not cancelled");
    if (use_exception)
        (void)task.exception();
    else
        (void)task.result();
    log->push_back("not reached");
}

Coro<void> body_logged(Log* log) {
    log->push_back("inner body ran");
    co_await asyncio::sleep(10);
}

Coro<void> cancel_before_start(Log* log) {
    Task<void> task = asyncio::create_task(body_logged(log));
    // Deliberately no yield here: the task has never run when it is cancelled.
    task.cancel("my message");
    co_await wait_done(task);
    log->push_back(task.cancelled() ? "inner cancelled" : "inner not cancelled");
    (void)task.exception();
    log->push_back("not reached");
}

Coro<void> set_then_sleep(Future<void> fut) {
    fut.set_result();
    co_await asyncio::sleep(10);
}

Coro<void> convert_cancellation(Future<void> fut) {
    Task<void> inner = asyncio::create_task(set_then_sleep(fut));
    co_await fut;
    asyncio::get_running_loop().call_soon([inner]() mutable { inner.cancel("msg"); });
    try {
        co_await inner;
    } catch (const CancelledError&) {
        // Python's `raise ValueError("cancelled") from ex`.
        std::throw_with_nested(asyncio::ValueError("cancelled"));
    }
}

// Python's SystemExit: an exception outside the std::exception hierarchy.
struct SystemExitLike {
    int code = 3;
};

Coro<void> sleeper10() { co_await asyncio::sleep(10); }

Coro<void> raise_during_cancel(Log* log) {
    try {
        co_await sleeper10();
    } catch (const CancelledError&) {
        log->push_back("caught");
        throw SystemExitLike{};
    }
}

} // namespace

// A task sleeping 10 s, cancelled by a call_soon callback, is woken with CancelledError in the
// next iteration at t=0: run_until_complete raises CancelledError, the task is done and
// cancelled, and a later cancel() returns false.
TEST_F(CancelTest, CANCEL_01) {
    Log log;
    auto t = loop->create_task(sleep_then_12(10.0, &log));
    loop->call_soon([t]() mutable { EXPECT_TRUE(t.cancel()); });
    run_briefly(); // the task starts and sleeps; then cancel() removes its timer
    EXPECT_EQ(log, (Log{"start"}));
    EXPECT_FALSE(t.done());
    EXPECT_EQ(t.cancelling(), 1);
    run_briefly(); // the CancelledError is thrown at the sleep
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(cancelled_message([&] { loop->run_until_complete(t); }), "");
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(log, (Log{"start"}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

// A task suspended on sleep(0) (a bare yield) and then cancelled ends cancelled in its next
// step, without running its remaining steps.
TEST_F(CancelTest, CANCEL_02) {
    Log log;
    auto t = loop->create_task(yield_twice(&log));
    run_briefly(); // start the coroutine: it yields at the first sleep(0)
    EXPECT_EQ(log, (Log{"start"}));
    EXPECT_TRUE(t.cancel("yield"));
    EXPECT_FALSE(t.done());
    run_briefly();
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(cancelled_message([&] { loop->run_until_complete(t); }), "yield");
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(log, (Log{"start"}));
}

// Cancelling the future a task awaits (not the task) ends the task cancelled too, in the next
// iteration, with the future's message; the task itself was never asked to cancel.
TEST_F(CancelTest, CANCEL_03) {
    Log log;
    auto f = loop->create_future<void>();
    auto t = loop->create_task(await_future_12(f, &log));
    run_briefly(); // start the task
    EXPECT_FALSE(t.done());
    EXPECT_TRUE(f.cancel("inner"));
    EXPECT_FALSE(t.done());
    run_briefly();
    EXPECT_TRUE(t.done());
    EXPECT_EQ(cancelled_message([&] { loop->run_until_complete(t); }), "inner");
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_EQ(log, (Log{"start"}));
}

// task.cancel() cancels the future the task awaits before it returns; a task that catches the
// CancelledError and returns 42 finishes with 42 and is not cancelled (its cancelling() count
// stays 1: nothing uncancelled it).
TEST_F(CancelTest, CANCEL_05) {
    Log log;
    auto fut1 = loop->create_future<void>();
    auto fut2 = loop->create_future<void>();
    auto t = loop->create_task(catching(fut1, fut2, &log));
    run_briefly(); // waiting on fut1
    EXPECT_TRUE(log.empty());
    fut1.set_result();
    run_briefly(); // waiting on fut2
    EXPECT_EQ(log, (Log{"awaiting fut2"}));
    EXPECT_FALSE(fut2.done());
    EXPECT_TRUE(t.cancel("stop"));
    EXPECT_TRUE(fut2.cancelled());
    EXPECT_FALSE(t.done());
    run_briefly(); // the task catches and returns
    EXPECT_TRUE(t.done());
    EXPECT_EQ(loop->run_until_complete(t), 42);
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_EQ(log, (Log{"awaiting fut2", "caught 'stop'"}));
}

// A task that swallows the cancellation and goes on to await another future is not cancelled
// again: that future stays uncancelled and the task finishes with its value (42).
TEST_F(CancelTest, CANCEL_06) {
    Log log;
    auto fut1 = loop->create_future<void>();
    auto fut2 = loop->create_future<void>();
    auto fut3 = loop->create_future<int>();
    auto t = loop->create_task(ignoring(fut1, fut2, fut3, &log));
    run_briefly(); // waiting on fut1
    fut1.set_result();
    run_briefly(); // waiting on fut2
    EXPECT_EQ(log, (Log{"awaiting fut2"}));
    EXPECT_TRUE(t.cancel());
    EXPECT_TRUE(fut2.cancelled());
    run_briefly(); // the task swallows it and now waits on fut3
    EXPECT_EQ(log, (Log{"awaiting fut2", "caught ''", "awaiting fut3"}));
    EXPECT_FALSE(t.done());
    EXPECT_FALSE(fut3.done());
    fut3.set_result(42);
    EXPECT_EQ(loop->run_until_complete(t), 42);
    EXPECT_FALSE(fut3.cancelled());
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(log, (Log{"awaiting fut2", "caught ''", "awaiting fut3", "got 42"}));
}

// A task that cancels itself and then awaits sleep(100) is interrupted at that first
// suspension: it suspends once, is woken in the next iteration with no time passing, and ends
// cancelled; cancel() afterwards returns false.
TEST_F(CancelTest, CANCEL_07) {
    Log log;
    auto t = loop->create_task(cancel_self_then_sleep(&log));
    EXPECT_FALSE(t.cancelled());
    run_briefly(); // cancel() while running (returns true), then the sleep is aborted at once
    EXPECT_EQ(log, (Log{"cancel() true", "cancelling 1"}));
    EXPECT_FALSE(t.done());
    run_briefly(); // CancelledError at the sleep
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
    EXPECT_THROW(loop->run_until_complete(t), CancelledError);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_EQ(log, (Log{"cancel() true", "cancelling 1"}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

// A task that cancels itself while running and then awaits a nested task passes the pending
// cancellation on when it suspends: the nested task's future is cancelled in that same
// iteration, the nested task ends cancelled in the next, and the outer task in the one after.
TEST_F(CancelTest, CANCEL_09) {
    Log log;
    auto fut = loop->create_future<void>();
    Task<void> nested;
    auto task = loop->create_task(cancel_self_then_await_task(fut, &nested, &log));

    run_briefly(); // 1: outer creates the nested task and yields
    ASSERT_TRUE(nested);
    EXPECT_TRUE(log.empty());

    run_briefly(); // 2: nested waits on fut; outer cancels itself and awaits nested
    EXPECT_EQ(log, (Log{"nested start", "outer cancels itself"}));
    EXPECT_TRUE(fut.cancelled());
    EXPECT_EQ(task.cancelling(), 1);
    EXPECT_EQ(nested.cancelling(), 1);
    EXPECT_FALSE(nested.done());
    EXPECT_FALSE(task.done());

    run_briefly(); // 3: nested gets CancelledError
    EXPECT_TRUE(nested.done());
    EXPECT_TRUE(nested.cancelled());
    EXPECT_FALSE(task.done());

    run_briefly(); // 4: outer gets CancelledError from the nested task
    EXPECT_TRUE(task.done());
    EXPECT_THROW(loop->run_until_complete(task), CancelledError);
    EXPECT_TRUE(task.cancelled());
    EXPECT_TRUE(nested.cancelled());
    EXPECT_TRUE(fut.cancelled());
    EXPECT_EQ(log, (Log{"nested start", "outer cancels itself"}));
}

// A parent awaiting a child that call_later(0.1, child.cancel) cancels gets CancelledError at
// t=0.1, catches it and returns normally ('cancelled'); only the child counts as cancelled.
TEST_F(CancelTest, CANCEL_10) {
    double caught_at = -1.0;
    Task<void> sleeper;
    auto doer = loop->create_task(doit(&caught_at, &sleeper));
    EXPECT_EQ(loop->run_until_complete(doer), "cancelled");
    EXPECT_DOUBLE_EQ(caught_at, 0.1);
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
    EXPECT_FALSE(doer.cancelled());
    EXPECT_EQ(doer.cancelling(), 0);
    ASSERT_TRUE(sleeper);
    EXPECT_TRUE(sleeper.cancelled());
    EXPECT_EQ(sleeper.cancelling(), 1);
}

// Cancelling a task that waits on a future cancels that future at once; once the task has
// finished it no longer waits on or holds the future (no wait_for in its description, and its
// coroutine frame, which held the wait, is gone).
TEST_F(CancelTest, CANCEL_11) {
    auto fut = loop->create_future<int>();
    auto task = loop->create_task(await_int_future(fut));
    run_briefly();
    EXPECT_NE(repr(task).find("wait_for=<Future pending cb=[Task.task_wakeup()]>"),
              std::string::npos)
        << repr(task);
    EXPECT_NE(task.get_coro(), nullptr);

    EXPECT_TRUE(task.cancel());
    EXPECT_TRUE(fut.cancelled());
    run_briefly();
    EXPECT_TRUE(task.done());
    EXPECT_THROW(loop->run_until_complete(task), CancelledError);
    EXPECT_TRUE(task.cancelled());
    EXPECT_TRUE(fut.cancelled());
    EXPECT_EQ(repr(task).find("wait_for="), std::string::npos) << repr(task);
    EXPECT_EQ(task.get_coro(), nullptr);
}

// cancel() on a pending task returns true and makes cancelling() non-zero (the description
// says "cancelling"); a second cancel() before delivery also returns true and counts again.
// Which message is delivered (asyncio's rule: the step throws the CancelledError already on its
// way into the coroutine, and only makes one from the last message when there is none): the
// last one for a task not yet started; the first one when the first cancel() already undid the
// wait (a cancelled sleep or awaited future); the awaited future's own message when it was
// cancelled before the task was.
TEST_F(CancelTest, CANCEL_13) {
    Log log;
    auto t = loop->create_task(sleep_then_12(10, &log));
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_EQ(repr(t).find(" cancelling "), std::string::npos) << repr(t);
    EXPECT_NE(repr(t).find(" pending "), std::string::npos) << repr(t);
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_NE(repr(t).find(" cancelling "), std::string::npos) << repr(t);
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 2);
    EXPECT_FALSE(t.done());
    run_briefly(); // the first step delivers it
    EXPECT_TRUE(t.done());
    EXPECT_THROW(loop->run_until_complete(t), CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 2);
    EXPECT_EQ(repr(t).find(" cancelling "), std::string::npos) << repr(t);
    EXPECT_TRUE(log.empty()); // cancelled before its first step: the body never ran
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);

    { // not started: delivered in its first step, with the last message
        Log l;
        auto t2 = loop->create_task(sleep_then_12(10, &l));
        EXPECT_TRUE(t2.cancel("first"));
        EXPECT_TRUE(t2.cancel("second"));
        run_briefly();
        EXPECT_TRUE(t2.cancelled());
        EXPECT_EQ(cancelled_message([&] { (void)t2.result(); }), "second");
        EXPECT_EQ(t2.cancelling(), 2);
        EXPECT_TRUE(l.empty());
    }
    { // sleeping: the first cancel() aborted the sleep
        Log l;
        auto t3 = loop->create_task(sleep_then_12(10, &l));
        run_briefly();
        EXPECT_TRUE(t3.cancel("first"));
        EXPECT_TRUE(t3.cancel("second"));
        EXPECT_EQ(t3.cancelling(), 2);
        run_briefly();
        EXPECT_TRUE(t3.cancelled());
        EXPECT_EQ(cancelled_message([&] { (void)t3.result(); }), "first");
    }
    { // waiting on a future: the first cancel() cancelled it
        auto fut = loop->create_future<int>();
        auto t4 = loop->create_task(await_int_future(fut));
        run_briefly();
        EXPECT_TRUE(t4.cancel("first"));
        EXPECT_TRUE(t4.cancel("second"));
        EXPECT_EQ(cancelled_message([&] { (void)fut.result(); }), "first");
        run_briefly();
        EXPECT_TRUE(t4.cancelled());
        EXPECT_EQ(cancelled_message([&] { (void)t4.result(); }), "first");
    }
    { // the awaited future was cancelled by someone else first
        auto fut = loop->create_future<int>();
        auto t5 = loop->create_task(await_int_future(fut));
        run_briefly();
        EXPECT_TRUE(fut.cancel("A"));
        EXPECT_TRUE(t5.cancel("B"));
        EXPECT_EQ(t5.cancelling(), 1);
        run_briefly();
        EXPECT_TRUE(t5.cancelled());
        EXPECT_EQ(cancelled_message([&] { (void)t5.result(); }), "A");
    }
    { // ... and no second cancellation is left pending: a task that swallows it goes on
        Log l;
        auto fut = loop->create_future<void>();
        auto fut2 = loop->create_future<void>();
        auto fut3 = loop->create_future<int>();
        auto t6 = loop->create_task(ignoring(fut, fut2, fut3, &l));
        run_briefly();
        fut.set_result();
        run_briefly(); // waiting on fut2
        EXPECT_TRUE(t6.cancel("first"));
        EXPECT_TRUE(t6.cancel("second"));
        run_briefly(); // swallows CancelledError, then waits on fut3
        EXPECT_EQ(l, (Log{"awaiting fut2", "caught 'first'", "awaiting fut3"}));
        EXPECT_FALSE(fut3.done());
        EXPECT_FALSE(t6.done());
        fut3.set_result(7);
        run_briefly();
        ASSERT_TRUE(t6.done());
        EXPECT_EQ(t6.result(), 7);
    }
}

// A task catches CancelledError and calls uncancel(): the count goes 1 -> 0, the task is no
// longer "cancelling" and keeps running; cancelled again later (count back to 1) it ends
// cancelled; uncancel() after completion does not undo cancelled()/done().
TEST_F(CancelTest, CANCEL_14) {
    Log log;
    auto t = loop->create_task(uncancel_on_first_cancel(&log));
    run(sleep_for(0.01));
    EXPECT_DOUBLE_EQ(loop->time(), 0.01);

    // Cancel the first sleep.
    EXPECT_TRUE(t.cancel());
    EXPECT_NE(repr(t).find(" cancelling "), std::string::npos) << repr(t);
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_FALSE(t.cancelled());
    run_briefly(); // delivered at once, at the same time
    EXPECT_EQ(log, (Log{"uncancel() -> 0 at " + std::to_string(0.01)}));
    run(sleep_for(0.01));

    // After uncancel().
    EXPECT_EQ(repr(t).find(" cancelling "), std::string::npos) << repr(t);
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_FALSE(t.cancelled());
    EXPECT_FALSE(t.done());

    // Cancel the second sleep.
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_FALSE(t.cancelled());
    run_briefly();
    EXPECT_TRUE(t.done());
    EXPECT_THROW(loop->run_until_complete(t), CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(t.done());
    EXPECT_DOUBLE_EQ(loop->time(), 0.02);
    EXPECT_EQ(log.size(), 1u); // the second sleep never finished

    // uncancel() is no longer effective once the task is complete.
    EXPECT_EQ(t.uncancel(), 0);
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.uncancel(), 0);
}

// cancel() after the awaited future completed but before the task resumed cannot act on the
// future, so it stays pending for the next step; uncancel() bringing the count to 0 withdraws
// it, and the task resumes normally in that step and returns 42.
TEST_F(CancelTest, CANCEL_15) {
    Log log;
    auto fut = loop->create_future<void>();
    auto task = loop->create_task(await_then_42(fut, &log));
    run(sleep_for(0)); // the task waits on fut
    EXPECT_FALSE(task.done());
    fut.set_result(); // the task is now scheduled
    EXPECT_TRUE(task.cancel());
    EXPECT_EQ(task.cancelling(), 1);
    EXPECT_FALSE(fut.cancelled());
    EXPECT_EQ(task.uncancel(), 0);
    EXPECT_EQ(task.cancelling(), 0);
    run_briefly(); // the step resumes normally
    EXPECT_TRUE(task.done());
    EXPECT_EQ(log, (Log{"resumed"}));
    EXPECT_EQ(loop->run_until_complete(task), 42);
    EXPECT_FALSE(task.cancelled());

    // Without the uncancel(), the same cancel() is delivered at that step.
    Log log2;
    auto fut2 = loop->create_future<void>();
    auto task2 = loop->create_task(await_then_42(fut2, &log2));
    run(sleep_for(0));
    fut2.set_result();
    EXPECT_TRUE(task2.cancel("late"));
    run_briefly();
    EXPECT_TRUE(task2.done());
    EXPECT_TRUE(task2.cancelled());
    EXPECT_EQ(cancelled_message([&] { (void)task2.result(); }), "late");
    EXPECT_TRUE(log2.empty());
}

// After cancel() / cancel(None) / cancel('my message') / cancel(5) and waiting for the task,
// result() raises CancelledError with message "", "", "my message", "5"; the waiting task that
// let it propagate ends cancelled with that same message.
TEST_F(CancelTest, CANCEL_17) { check_cancel_messages(false); }

// As CANCEL-17, reading the outcome with exception(), which raises the same CancelledError.
TEST_F(CancelTest, CANCEL_18) { check_cancel_messages(true); }

// Cancelled with 'my message' before it ever ran, a task ends cancelled without executing its
// body, and exception() raises CancelledError('my message').
TEST_F(CancelTest, CANCEL_19) {
    Log log;
    auto outer = loop->create_task(cancel_before_start(&log));
    EXPECT_EQ(cancelled_message([&] { loop->run_until_complete(outer); }), "my message");
    EXPECT_TRUE(outer.cancelled());
    EXPECT_EQ(log, (Log{"inner cancelled"}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

// A task that turns the CancelledError('msg') of a task it awaited into ValueError('cancelled')
// (nested, C++'s `raise ... from ex`) fails with that ValueError, whose nested exception is the
// CancelledError('msg'), one level deep.
TEST_F(CancelTest, CANCEL_21) {
    auto fut = loop->create_future<void>();
    auto task = loop->create_task(convert_cancellation(fut));
    try {
        loop->run_until_complete(task);
        ADD_FAILURE() << "no exception";
    } catch (const asyncio::ValueError& e) {
        EXPECT_STREQ(e.what(), "cancelled");
        auto* nested = dynamic_cast<const std::nested_exception*>(&e);
        ASSERT_NE(nested, nullptr);
        std::exception_ptr cause = nested->nested_ptr();
        ASSERT_TRUE(cause);
        EXPECT_EQ(cancelled_message([&] { std::rethrow_exception(cause); }), "msg");
    }
    EXPECT_TRUE(task.done());
    EXPECT_FALSE(task.cancelled());
    EXPECT_TRUE(holds<asyncio::ValueError>(task.exception()));
}

// A cancelled task that throws an exception outside the std::exception hierarchy (Python's
// SystemExit) from its CancelledError handler is done in that very step with that exception,
// not cancelled. (Unlike Python's SystemExit, it does not escape the loop iteration: in C++ a
// task's failure never escapes the loop.)
TEST_F(CancelTest, CANCEL_22) {
    Log log;
    auto task = loop->create_task(raise_during_cancel(&log));
    run_briefly();
    EXPECT_TRUE(task.cancel());
    EXPECT_FALSE(task.done());
    EXPECT_NO_THROW(run_briefly());
    EXPECT_EQ(log, (Log{"caught"}));
    EXPECT_TRUE(task.done());
    EXPECT_FALSE(task.cancelled());
    std::exception_ptr e = task.exception();
    ASSERT_TRUE(holds<SystemExitLike>(e));
    EXPECT_THROW((void)task.result(), SystemExitLike);
    task = {};
    EXPECT_TRUE(reports.empty()); // the exception was retrieved
}
