// EventLoop: call_soon / call_later / call_at / call_soon_threadsafe, handles, run_forever,
// run_until_complete, stop and close (conformance group LOOP).
// ctest-labels: thread
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using namespace asyncio;
using asyncio::testing::LoopTest;

using Log = std::vector<std::string>;

class EventLoopTest : public LoopTest {};

// A named callback type: its name is what a handle's description shows.
struct NoopCb {
    void operator()(int, int) const {}
};

// Appends its argument to a log.
struct Append {
    Log* log;
    void operator()(const std::string& s) const { log->push_back(s); }
};

// Appends its argument to a log, then stops the loop.
struct AppendAndStop {
    Log* log;
    EventLoop* loop;
    void operator()(const std::string& s) const {
        log->push_back(s);
        loop->stop();
    }
};

// Counts its calls and schedules itself again.
struct Again {
    EventLoop* loop;
    int* calls;
    void operator()() const {
        ++*calls;
        loop->call_soon(*this);
    }
};

template <class H>
std::string describe(const H& h) {
    std::ostringstream os;
    os << h;
    return os.str();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A real-time loop (cross-thread wake-ups must wake a loop blocked in the OS), with a guard
// timer that stops it if the expected wake-up never comes.
struct RealLoop {
    std::unique_ptr<EventLoop> loop = new_event_loop({.debug = false, .virtual_time = false});
    bool timed_out = false;
    TimerHandle guard = loop->call_later(30.0, [this] {
        timed_out = true;
        loop->stop();
    });
};

// call_soon(cb, 'hello', 'world') returns a handle queued to run next; the loop later calls
// cb('hello', 'world'), before what was queued after it.
TEST_F(EventLoopTest, LOOP_01) {
    Log log;
    Handle h = loop->call_soon(
        [&log](const char* a, const char* b) { log.push_back(std::string(a) + " " + b); }, "hello",
        "world");
    loop->call_soon(Append{&log}, std::string("queued after"));
    ASSERT_TRUE(h);
    EXPECT_FALSE(h.cancelled());
    EXPECT_TRUE(log.empty()); // nothing runs before the loop does
    run_briefly();
    EXPECT_EQ(log, (Log{"hello world", "queued after"}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
    EXPECT_FALSE(h.cancelled());
}

void post_from_thread(EventLoop* loop, Log* log, const char* word) {
    loop->call_soon_threadsafe(Append{log}, std::string(word));
}

void post_stop_from_thread(EventLoop* loop, Log* log) {
    loop->call_soon_threadsafe(AppendAndStop{log, loop}, std::string("from thread"));
}

// call_soon_threadsafe (from another thread or from the loop's own) and call_soon share one FIFO
// order of scheduling, and a call_soon_threadsafe from another thread wakes a waiting loop.
TEST_F(EventLoopTest, LOOP_02) {
    // Another thread schedules 'hello' before the loop's thread schedules 'world'.
    {
        Log log;
        std::thread t(post_from_thread, loop.get(), &log, "hello");
        t.join();
        loop->call_soon(Append{&log}, std::string("world"));
        run_briefly();
        EXPECT_EQ(log, (Log{"hello", "world"}));
    }
    // The same thread, before the loop runs.
    {
        Log log;
        loop->call_soon_threadsafe(Append{&log}, std::string("hello"));
        loop->call_soon(Append{&log}, std::string("world"));
        run_briefly();
        EXPECT_EQ(log, (Log{"hello", "world"}));
    }
    // The same thread, from a callback of the running loop.
    {
        Log log;
        loop->call_soon([this, &log] {
            loop->call_soon_threadsafe(Append{&log}, std::string("hello"));
            loop->call_soon(Append{&log}, std::string("world"));
        });
        run_briefly();
        run_briefly();
        EXPECT_EQ(log, (Log{"hello", "world"}));
    }
    // The wake-up: the loop has nothing to do and waits in the OS until the other thread's
    // callback arrives.
    {
        RealLoop real;
        Log log;
        std::optional<std::thread> poster;
        real.loop->call_soon([&] { poster.emplace(post_stop_from_thread, real.loop.get(), &log); });
        real.loop->run_forever();
        poster->join();
        EXPECT_FALSE(real.timed_out);
        EXPECT_EQ(log, (Log{"from thread"}));
        real.guard.cancel();
    }
}

void cancel_from_thread(Handle h) { h.cancel(); }

void post_cancel_post(EventLoop* loop, Log* log) {
    Handle h = loop->call_soon_threadsafe(Append{log}, std::string("hello"));
    h.cancel();
    loop->call_soon_threadsafe(AppendAndStop{log, loop}, std::string("world"));
}

// A thread-safe handle cancelled from another thread before its callback has started never runs.
TEST_F(EventLoopTest, LOOP_03) {
    // Scheduled on the loop's thread, cancelled from another one.
    {
        Log log;
        Handle h = loop->call_soon_threadsafe(Append{&log}, std::string("hello"));
        std::thread t(cancel_from_thread, h);
        t.join();
        EXPECT_TRUE(h.cancelled());
        run_briefly();
        run_briefly();
        EXPECT_TRUE(log.empty());
        EXPECT_TRUE(h.cancelled());
    }
    // Scheduled and cancelled by another thread while the loop runs.
    {
        RealLoop real;
        Log log;
        std::optional<std::thread> poster;
        real.loop->call_soon([&] { poster.emplace(post_cancel_post, real.loop.get(), &log); });
        real.loop->run_forever();
        poster->join();
        EXPECT_FALSE(real.timed_out);
        EXPECT_EQ(log, (Log{"world"}));
        real.guard.cancel();
    }
}

// A running callback that cancels its own thread-safe handle still runs to completion, and the
// handle then reports cancelled().
TEST_F(EventLoopTest, LOOP_05) {
    Log log;
    Handle h;
    h = loop->call_soon_threadsafe(
        [&log](Handle* self, const std::string& word) {
            log.push_back("start");
            self->cancel();
            log.push_back(word); // the arguments are still there after the cancel
        },
        &h, std::string("end"));
    run_briefly();
    EXPECT_EQ(log, (Log{"start", "end"}));
    EXPECT_TRUE(h.cancelled());
}

// call_later(0.1, cb, arg) returns a timer handle due at now + 0.1: it is not on the ready queue
// (one iteration does not run it) and cb(arg) runs when the delay has passed.
TEST_F(EventLoopTest, LOOP_06) {
    Log log;
    TimerHandle h = loop->call_later(0.1, AppendAndStop{&log, loop.get()}, std::string("arg"));
    EXPECT_DOUBLE_EQ(h.when(), 0.1);
    EXPECT_FALSE(h.cancelled());
    run_briefly();
    EXPECT_TRUE(log.empty());
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
    loop->run_forever();
    EXPECT_EQ(log, (Log{"arg"}));
    EXPECT_NEAR(loop->time(), 0.1, 1e-9);
}

// Negative delays are allowed: those callbacks run in the next iteration, in due-time order.
TEST_F(EventLoopTest, LOOP_07) {
    Log log;
    loop->call_later(-1, Append{&log}, std::string("-1"));
    loop->call_later(-2, Append{&log}, std::string("-2"));
    run_briefly();
    EXPECT_EQ(log, (Log{"-2", "-1"}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

// The loop waits until the earliest timer that is not cancelled (10 s here): a cancelled timer at
// the head of the queue is discarded, never run, and its callback and arguments are released.
TEST_F(EventLoopTest, LOOP_09) {
    Log log;
    double fired_at = -1.0;
    auto arg = std::make_shared<int>(5);
    TimerHandle h1 = loop->call_later(
        5.0, [&log](const std::shared_ptr<int>&) { log.push_back("h1"); }, arg);
    TimerHandle h2 = loop->call_later(10.0, [this, &log, &fired_at] {
        log.push_back("h2");
        fired_at = loop->time();
        loop->stop();
    });
    h1.cancel();
    EXPECT_EQ(arg.use_count(), 1); // the cancelled timer let go of its arguments at once
    // Debug mode with a zero threshold reports every callback the loop executes: the cancelled
    // timer must not be among them.
    loop->set_debug(true);
    loop->slow_callback_duration = 0;
    loop->run_forever();
    EXPECT_EQ(log, (Log{"h2"}));
    EXPECT_NEAR(fired_at, 10.0, 1e-9);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_TRUE(contains(reports[0].message, "Executing <TimerHandle when=10 "))
        << reports[0].message;
    EXPECT_FALSE(contains(reports[0].message, "when=5")) << reports[0].message;
    EXPECT_TRUE(h1.cancelled());
    EXPECT_FALSE(h2.cancelled());
}

// A callback that a timer callback queues with call_soon goes on the ready queue but runs in the
// following iteration, not the current one.
TEST_F(EventLoopTest, LOOP_10) {
    Log log;
    loop->call_at(0.0, [this, &log] {
        log.push_back("timer");
        loop->call_soon(Append{&log}, std::string("soon"));
    });
    run_briefly();
    EXPECT_EQ(log, (Log{"timer"}));
    run_briefly();
    EXPECT_EQ(log, (Log{"timer", "soon"}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

// A handle cancelled before the loop gets to it is never run: call_soon, call_soon_threadsafe
// and call_later alike, and debug mode, which reports every callback it executes when the
// threshold is zero, executes none of them.
TEST_F(EventLoopTest, LOOP_11) {
    Log log;
    loop->set_debug(true);
    loop->slow_callback_duration = 0;
    Handle a = loop->call_soon(Append{&log}, std::string("soon"));
    Handle b = loop->call_soon_threadsafe(Append{&log}, std::string("threadsafe"));
    TimerHandle c = loop->call_later(0.0, Append{&log}, std::string("later"));
    a.cancel();
    b.cancel();
    c.cancel();
    run_briefly();
    run_briefly();
    EXPECT_TRUE(log.empty());
    for (const std::string& m : messages())
        EXPECT_FALSE(contains(m, "cancelled")) << m;
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
    EXPECT_TRUE(c.cancelled());
}

// cancel() makes a handle report cancelled(); a timer handle's when() is its due time; cancelling
// a handle or a timer releases the callback and its arguments.
TEST_F(EventLoopTest, LOOP_13) {
    auto arg = std::make_shared<int>(1);
    auto fn = [](const std::shared_ptr<int>&) {};

    Handle h = loop->call_soon(fn, arg);
    EXPECT_EQ(arg.use_count(), 2);
    EXPECT_FALSE(h.cancelled());
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(arg.use_count(), 1);
    h.cancel(); // a second cancel is harmless
    EXPECT_TRUE(h.cancelled());

    TimerHandle at = loop->call_at(5.5, fn, arg);
    EXPECT_DOUBLE_EQ(at.when(), 5.5);
    TimerHandle later = loop->call_later(2.0, fn, arg);
    EXPECT_DOUBLE_EQ(later.when(), loop->time() + 2.0);
    EXPECT_EQ(arg.use_count(), 3);
    at.cancel();
    later.cancel();
    EXPECT_TRUE(at.cancelled());
    EXPECT_TRUE(later.cancelled());
    EXPECT_EQ(arg.use_count(), 1);
    EXPECT_DOUBLE_EQ(at.when(), 5.5); // when() survives the cancel
}

// Timer handles are ordered by due time. (Handles compare equal by identity in C++: a copy equals
// its original, cancelled or not; two handles made by two calls are different handles.)
TEST_F(EventLoopTest, LOOP_14) {
    auto cb = [] {};
    TimerHandle h1 = loop->call_at(1.0, cb);
    TimerHandle h2 = loop->call_at(1.0, cb);
    EXPECT_FALSE(h1 < h2);
    EXPECT_FALSE(h2 < h1);
    EXPECT_FALSE(h1 == h2);
    TimerHandle copy = h1;
    EXPECT_TRUE(copy == h1);
    copy.cancel();
    EXPECT_TRUE(h1.cancelled());
    EXPECT_TRUE(copy == h1);

    TimerHandle h3 = loop->call_at(11.0, cb);
    EXPECT_TRUE(h2 < h3);
    EXPECT_FALSE(h3 < h2);
    h2.cancel();
    h3.cancel();
}

// A handle's description names the callback (plus when= for timers) and says "cancelled" once
// cancelled; in debug mode it also shows the arguments and where the handle was created, and
// both survive the cancel.
TEST_F(EventLoopTest, LOOP_15) {
    Handle h = loop->call_soon(NoopCb{}, 1, 2);
    std::string d = describe(h);
    EXPECT_EQ(d.rfind("<Handle ", 0), 0u) << d;
    EXPECT_TRUE(contains(d, "NoopCb")) << d;
    EXPECT_FALSE(contains(d, "cancelled")) << d;
    EXPECT_EQ(d.back(), '>');
    h.cancel();
    d = describe(h);
    EXPECT_TRUE(contains(d, "cancelled")) << d;

    TimerHandle t = loop->call_at(5.0, NoopCb{}, 1, 2);
    d = describe(t);
    EXPECT_EQ(d.rfind("<TimerHandle ", 0), 0u) << d;
    EXPECT_TRUE(contains(d, "when=5")) << d;
    EXPECT_TRUE(contains(d, "NoopCb")) << d;
    t.cancel();
    d = describe(t);
    EXPECT_TRUE(contains(d, "cancelled")) << d;
    EXPECT_TRUE(contains(d, "when=5")) << d;

    loop->set_debug(true);
    const int line = __LINE__ + 1;
    Handle hd = loop->call_soon(NoopCb{}, 1, 2);
    const std::string created = "created at " + std::string(__FILE__) + ":" + std::to_string(line);
    d = describe(hd);
    EXPECT_TRUE(contains(d, "NoopCb(1, 2)")) << d;
    EXPECT_TRUE(contains(d, created)) << d;
    hd.cancel();
    d = describe(hd);
    EXPECT_TRUE(contains(d, "cancelled")) << d;
    EXPECT_TRUE(contains(d, "NoopCb(1, 2)")) << d;
    EXPECT_TRUE(contains(d, created)) << d;

    const int tline = __LINE__ + 1;
    TimerHandle td = loop->call_later(3.0, NoopCb{}, 1, 2);
    d = describe(td);
    EXPECT_TRUE(contains(d, "when=3")) << d;
    EXPECT_TRUE(contains(d, "NoopCb(1, 2)")) << d;
    EXPECT_TRUE(contains(d, "created at " + std::string(__FILE__) + ":" + std::to_string(tline)))
        << d;
    td.cancel();
}

Coro<void> inner(Log* log) {
    log->push_back("inner ran");
    co_return;
}

Coro<void> nested_run(EventLoop* loop, Future<int> fut, Log* log) {
    try {
        loop->run_until_complete(inner(log));
        log->push_back("no error");
    } catch (const RuntimeError& e) {
        log->push_back(std::string("RuntimeError: ") + e.what());
    }
    try {
        loop->run_until_complete(fut);
        log->push_back("no error");
    } catch (const RuntimeError& e) {
        log->push_back(std::string("RuntimeError: ") + e.what());
    }
    // Completing the future must not stop the loop: the failed call left nothing behind.
    fut.set_result(1);
    co_await sleep(0);
    co_await sleep(0);
    log->push_back("outer done");
}

// run_until_complete on a loop that is already running (called from one of its coroutines)
// raises RuntimeError, and schedules nothing: the coroutine given to it never runs.
TEST_F(EventLoopTest, LOOP_17) {
    Log log;
    Future<int> fut = loop->create_future<int>();
    run(nested_run(loop.get(), fut, &log));
    EXPECT_EQ(log, (Log{"RuntimeError: This event loop is already running",
                        "RuntimeError: This event loop is already running", "outer done"}));
    run_briefly();
    EXPECT_EQ(log.size(), 3u);
    EXPECT_TRUE(reports.empty());
}

Coro<void> stop_at_two(EventLoop* loop, int* x) {
    while (*x < 10) {
        co_await sleep(0.1);
        ++*x;
        if (*x == 2)
            loop->stop();
    }
}

Coro<void> stop_then_sleep(EventLoop* loop) {
    loop->stop();
    co_await sleep(0.1);
}

// If the running task calls stop() before the awaited work is done, run_until_complete raises
// RuntimeError("Event loop stopped before Future completed.") and the task is left pending: it
// can be cancelled and run again later.
TEST_F(EventLoopTest, LOOP_18) {
    int x = 0;
    Task<void> t = loop->create_task(stop_at_two(loop.get(), &x));
    try {
        loop->run_until_complete(t);
        ADD_FAILURE() << "no RuntimeError";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop stopped before Future completed.");
    }
    EXPECT_FALSE(t.done());
    EXPECT_EQ(x, 2);
    EXPECT_NEAR(loop->time(), 0.2, 1e-9);
    t.cancel();
    EXPECT_THROW(loop->run_until_complete(t), CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(x, 2);

    // The same with a coroutine: its task is left pending.
    try {
        run(stop_then_sleep(loop.get()));
        ADD_FAILURE() << "no RuntimeError";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop stopped before Future completed.");
    }
    std::vector<TaskRef> left = loop->all_tasks();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_FALSE(left[0].done());
    left[0].cancel();
    run_briefly();
    EXPECT_TRUE(left[0].cancelled());
    EXPECT_TRUE(reports.empty());
}

Coro<int> forty_two() { co_return 42; }

// run_until_complete raises ValueError for a future or task of another loop.
TEST_F(EventLoopTest, LOOP_19) {
    auto other = new_event_loop({.debug = false, .virtual_time = true});
    Future<int> f = other->create_future<int>();
    try {
        loop->run_until_complete(f);
        ADD_FAILURE() << "no ValueError";
    } catch (const ValueError& e) {
        EXPECT_STREQ(e.what(), "The future belongs to a different loop than the one specified "
                               "as the loop argument");
    }
    EXPECT_FALSE(f.done());
    Task<int> t = other->create_task(forty_two());
    EXPECT_EQ(other->run_until_complete(t), 42);
    EXPECT_THROW(loop->run_until_complete(t), ValueError);
}

Coro<void> fail_now() {
    throw std::runtime_error("interrupted");
    co_return;
}

// After the awaited coroutine's exception has come out of run_until_complete, no stale stop
// request is left: a following run_forever runs until a callback two iterations later stops it.
TEST_F(EventLoopTest, LOOP_21) {
    EXPECT_THROW(run(fail_now()), std::runtime_error);
    Log log;
    loop->call_soon([this, &log] {
        log.push_back("first iteration");
        loop->call_soon([this, &log] {
            log.push_back("second iteration");
            loop->stop();
        });
    });
    loop->run_forever();
    EXPECT_EQ(log, (Log{"first iteration", "second iteration"}));
}

// stop() before run_forever() makes the loop do exactly one iteration without waiting (time does
// not jump to a pending timer), and "call_soon(stop); run_forever()" runs each pending callback
// exactly once.
TEST_F(EventLoopTest, LOOP_22) {
    bool fired = false;
    loop->call_later(10.0, [&fired] { fired = true; });
    loop->stop();
    loop->run_forever();
    EXPECT_FALSE(fired);
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);

    int a = 0;
    int b = 0;
    loop->call_soon(Again{loop.get(), &a});
    loop->call_soon(Again{loop.get(), &b});
    loop->stop();
    loop->run_forever();
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 1);
    loop->call_soon([this] { loop->stop(); });
    loop->run_forever();
    EXPECT_EQ(a, 2);
    EXPECT_EQ(b, 2);
    EXPECT_FALSE(fired);
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

struct CountOnce {
    int* calls;
    void operator()() const { ++*calls; }
};

void post_event(EventLoop* loop, int* calls) { loop->call_soon_threadsafe(CountOnce{calls}); }

// Stopping and restarting the loop never runs the callback of a single external event twice (the
// event here comes from another thread through call_soon_threadsafe; this library has no I/O
// selector to inject one).
TEST_F(EventLoopTest, LOOP_23) {
    int calls = 0;
    std::thread t(post_event, loop.get(), &calls);
    t.join();
    for (int i = 1; i <= 2; ++i) {
        loop->call_soon([this] { loop->stop(); });
        loop->run_forever();
        EXPECT_EQ(calls, 1) << "loop " << i;
    }
}

template <class F>
void expect_closed_error(F f, const char* what) {
    try {
        f();
        ADD_FAILURE() << what << ": no RuntimeError";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop is closed") << what;
    }
}

// close() can be called repeatedly; after it, run_forever, run_until_complete, call_soon,
// call_soon_threadsafe, call_later, call_at and create_task raise RuntimeError.
TEST_F(EventLoopTest, LOOP_25) {
    Future<int> fut = loop->create_future<int>();
    EXPECT_FALSE(loop->is_closed());
    loop->close();
    EXPECT_TRUE(loop->is_closed());
    loop->close();
    EXPECT_TRUE(loop->is_closed());
    EventLoop* l = loop.get();
    auto cb = [] {};
    expect_closed_error([l] { l->run_forever(); }, "run_forever");
    expect_closed_error([l] { l->run_until_complete(forty_two()); }, "run_until_complete(coro)");
    expect_closed_error([l, fut] { l->run_until_complete(fut); }, "run_until_complete(future)");
    expect_closed_error([l, cb] { l->call_soon(cb); }, "call_soon");
    expect_closed_error([l, cb] { l->call_soon_threadsafe(cb); }, "call_soon_threadsafe");
    expect_closed_error([l, cb] { l->call_later(1.0, cb); }, "call_later");
    expect_closed_error([l, cb] { l->call_at(1.0, cb); }, "call_at");
    expect_closed_error([l] { l->create_task(forty_two()); }, "create_task");
    EXPECT_TRUE(reports.empty());
}

Coro<void> close_running(EventLoop* loop, std::string* error) {
    try {
        loop->close();
    } catch (const RuntimeError& e) {
        *error = e.what();
    }
    co_return;
}

// close() on the loop from a coroutine it is running raises RuntimeError.
TEST_F(EventLoopTest, LOOP_26) {
    std::string error;
    run(close_running(loop.get(), &error));
    EXPECT_EQ(error, "Cannot close a running event loop");
    EXPECT_FALSE(loop->is_closed());
}

Coro<EventLoop*> which_loop() { co_return &get_running_loop(); }

// Inside a coroutine (and a callback), get_running_loop() is the running loop; outside any loop
// it raises RuntimeError("no running event loop").
TEST_F(EventLoopTest, LOOP_27) {
    EXPECT_EQ(run(which_loop()), loop.get());
    EventLoop* in_callback = nullptr;
    loop->call_soon([&in_callback] { in_callback = &get_running_loop(); });
    run_briefly();
    EXPECT_EQ(in_callback, loop.get());
    try {
        get_running_loop();
        ADD_FAILURE() << "no RuntimeError";
    } catch (const RuntimeError& e) {
        EXPECT_TRUE(contains(e.what(), "no running")) << e.what();
    }
}

Coro<int> blocked_read(Future<int> data) { co_return co_await data; }

Coro<std::string> prompt_main(EventLoop* loop, Task<int> read) {
    std::string res = "none";
    try {
        loop->call_soon([read]() mutable { read.cancel(); });
        co_await read;
    } catch (const CancelledError&) {
        res = "cancelled";
    }
    loop->stop();
    co_return res;
}

// A task blocked on a read (here: a future nobody completes) is cancelled promptly by
// call_soon(read.cancel): the awaiting coroutine gets CancelledError in the same run, without
// waiting, and the read's result() raises CancelledError.
TEST_F(EventLoopTest, LOOP_30) {
    Future<int> data = loop->create_future<int>();
    Task<int> read = loop->create_task(blocked_read(data));
    Task<std::string> t = loop->create_task(prompt_main(loop.get(), read));
    loop->run_forever();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), "cancelled");
    EXPECT_TRUE(read.cancelled());
    EXPECT_THROW(read.result(), CancelledError);
    EXPECT_TRUE(data.cancelled());
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

} // namespace
