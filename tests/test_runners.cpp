// Conformance cases RUN-*: asyncio.run (see CASES.md).
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::EventLoop;
using asyncio::ExceptionContext;
using asyncio::Future;
using asyncio::TaskRef;

constexpr asyncio::RunOptions virtual_opts{.debug = false, .virtual_time = true};

bool no_running_loop() {
    try {
        asyncio::get_running_loop();
    } catch (const asyncio::RuntimeError& e) {
        return std::string(e.what()) == "no running event loop";
    }
    return false;
}

Coro<int> return_42() {
    co_await asyncio::sleep(0);
    co_return 42;
}

Coro<int> raise_spam(const void** thrown) {
    co_await asyncio::sleep(0);
    try {
        throw asyncio::ValueError("spam");
    } catch (const asyncio::ValueError& e) {
        *thrown = &e;
        throw;
    }
    co_return 0;
}

Coro<int> nested_main(std::vector<std::string>* log) {
    log->push_back("nested main ran");
    co_return 1;
}

Coro<int> run_inside(std::vector<std::string>* log) {
    co_await asyncio::sleep(0);
    log->push_back("calling run");
    int r = asyncio::run(nested_main(log), virtual_opts);
    log->push_back("run returned");
    co_return r;
}

Coro<void> leftover(std::vector<std::string>* log) {
    try {
        co_await asyncio::sleep(0.1);
        log->push_back("leftover finished");
    } catch (const asyncio::CancelledError&) {
        log->push_back("leftover cancelled at t=" +
                       std::to_string(asyncio::get_running_loop().time()));
        throw;
    }
}

Coro<int> main_leaving_task(TaskRef* out, std::vector<std::string>* log) {
    *out = asyncio::create_task(leftover(log));
    co_await asyncio::sleep(0);
    log->push_back("main returns");
    co_return 123;
}

Coro<void> leftover_failing() {
    try {
        co_await asyncio::sleep(0.1);
    } catch (const asyncio::CancelledError&) {
        throw std::domain_error("division by zero");
    }
}

Coro<int> main_leaving_failing_task(TaskRef* out, std::vector<ExceptionContext>* reports) {
    asyncio::get_running_loop().set_exception_handler(
        [reports](EventLoop&, const ExceptionContext& c) { reports->push_back(c); });
    *out = asyncio::create_task(leftover_failing());
    co_await asyncio::sleep(0);
    co_return 123;
}

struct Probes {
    std::weak_ptr<int> timer_capture;
    Future<int> future;
    TaskRef leftover;
    std::vector<std::string> log;
};

Coro<void> hang() { co_await asyncio::sleep(3600); }

Coro<int> main_with_resources(Probes* p, bool fail) {
    EventLoop& loop = asyncio::get_running_loop();
    auto token = std::make_shared<int>(7);
    p->timer_capture = token;
    std::vector<std::string>* log = &p->log;
    loop.call_later(1000, [token, log] { log->push_back("timer ran"); });
    p->future = loop.create_future<int>();
    p->leftover = asyncio::create_task(hang());
    co_await asyncio::sleep(0);
    if (fail)
        throw asyncio::ValueError("main failed");
    co_return 1;
}

struct LoopSeen {
    bool running = false;
    bool same_as_task_loop = false;
    bool debug = false;
    double start = -1;
    double after_sleep = -1;
};

Coro<int> inspect_loop(LoopSeen* seen) {
    EventLoop& loop = asyncio::get_running_loop();
    seen->running = loop.is_running();
    seen->same_as_task_loop = &asyncio::current_task().get_loop() == &loop;
    seen->debug = loop.get_debug();
    seen->start = loop.time();
    co_await asyncio::sleep(5);
    seen->after_sleep = loop.time();
    co_return 123;
}

// run(main()) gives main's return value (42) to the synchronous caller.
TEST(Run, RUN_01) {
    EXPECT_EQ(asyncio::run(return_42(), virtual_opts), 42);
    EXPECT_EQ(asyncio::run(return_42()), 42); // on the real clock too
}

// An exception raised by main (ValueError("spam")) comes out of run() unchanged: same type,
// same message, the very same exception object.
TEST(Run, RUN_02) {
    const void* thrown = nullptr;
    try {
        asyncio::run(raise_spam(&thrown), virtual_opts);
        FAIL() << "run() did not rethrow";
    } catch (const asyncio::ValueError& e) {
        EXPECT_EQ(std::string(e.what()), "spam");
        EXPECT_EQ(static_cast<const void*>(&e), thrown);
    }
    EXPECT_TRUE(no_running_loop());
}

// run() called from inside a coroutine that a running loop executes throws RuntimeError
// ("cannot be called from a running event loop"), and the nested main never starts.
TEST(Run, RUN_05) {
    std::vector<std::string> log;
    try {
        asyncio::run(run_inside(&log), virtual_opts);
        FAIL() << "nested run() did not throw";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "asyncio.run() cannot be called from a running event loop");
    }
    EXPECT_EQ(log, std::vector<std::string>{"calling run"});
    EXPECT_TRUE(no_running_loop());
}

// Tasks still pending when main returns are cancelled and awaited before run() returns (done
// afterwards, cancelled at once without waiting for their timers), and run() still returns
// main's 123.
TEST(Run, RUN_06) {
    TaskRef lo_task;
    std::vector<std::string> log;
    EXPECT_EQ(asyncio::run(main_leaving_task(&lo_task, &log), virtual_opts), 123);
    ASSERT_TRUE(lo_task);
    EXPECT_TRUE(lo_task.done());
    EXPECT_TRUE(lo_task.cancelled());
    EXPECT_EQ(log, (std::vector<std::string>{"main returns",
                                             "leftover cancelled at t=" + std::to_string(0.0)}));
}

// A leftover task that raises a non-cancellation error while being cancelled at shutdown is
// reported to the loop's exception handler (message, task, exception), and run() still
// returns 123.
TEST(Run, RUN_07) {
    TaskRef lo_task;
    std::vector<ExceptionContext> reports;
    EXPECT_EQ(asyncio::run(main_leaving_failing_task(&lo_task, &reports), virtual_opts), 123);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "unhandled exception during asyncio.run() shutdown");
    EXPECT_TRUE(reports[0].task == lo_task);
    ASSERT_TRUE(reports[0].exception);
    try {
        std::rethrow_exception(reports[0].exception);
    } catch (const std::domain_error& e) {
        EXPECT_EQ(std::string(e.what()), "division by zero");
    } catch (...) {
        ADD_FAILURE() << "the report carries another exception";
    }
    EXPECT_TRUE(lo_task.done());
    EXPECT_FALSE(lo_task.cancelled());
    EXPECT_FALSE(reports[0].handle);
    EXPECT_FALSE(reports[0].future);
}

// Whether run() returned or raised, the loop it made is closed and gone once it returns: a
// far timer never runs and its callback is released, the leftover task is finished, a future
// of that loop no longer has a loop, and no loop runs in the thread.
TEST(Run, RUN_09) {
    for (bool fail : {false, true}) {
        SCOPED_TRACE(fail ? "main raised" : "main returned");
        Probes p;
        if (fail) {
            EXPECT_THROW(asyncio::run(main_with_resources(&p, true), virtual_opts),
                         asyncio::ValueError);
        } else {
            EXPECT_EQ(asyncio::run(main_with_resources(&p, false), virtual_opts), 1);
        }
        EXPECT_TRUE(p.timer_capture.expired());
        EXPECT_TRUE(p.log.empty());
        ASSERT_TRUE(p.leftover);
        EXPECT_TRUE(p.leftover.done());
        EXPECT_TRUE(p.leftover.cancelled());
        ASSERT_TRUE(p.future);
        EXPECT_FALSE(p.future.done());
        EXPECT_THROW(p.future.get_loop(), asyncio::RuntimeError);
        EXPECT_TRUE(no_running_loop());
    }
}

// run() makes its loop the thread's running loop while main runs (the loop main's task runs
// on), and only then.
TEST(Run, RUN_10) {
    EXPECT_TRUE(no_running_loop());
    LoopSeen seen;
    EXPECT_EQ(asyncio::run(inspect_loop(&seen), virtual_opts), 123);
    EXPECT_TRUE(seen.running);
    EXPECT_TRUE(seen.same_as_task_loop);
    EXPECT_TRUE(no_running_loop());
}

// (No loop_factory in C++.) run()'s options configure the loop it creates and main runs on:
// debug flag and virtual clock.
TEST(Run, RUN_11) {
    LoopSeen seen;
    EXPECT_EQ(asyncio::run(inspect_loop(&seen), {.debug = true, .virtual_time = true}), 123);
    EXPECT_TRUE(seen.debug);
    EXPECT_DOUBLE_EQ(seen.start, 0.0);
    EXPECT_DOUBLE_EQ(seen.after_sleep, 5.0);

    LoopSeen seen2;
    EXPECT_EQ(asyncio::run(inspect_loop(&seen2), {.debug = false, .virtual_time = true}), 123);
    EXPECT_FALSE(seen2.debug);
    EXPECT_DOUBLE_EQ(seen2.after_sleep, 5.0);
}

} // namespace
