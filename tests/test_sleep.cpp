// Conformance cases SLEEP-*: asyncio.sleep (see CASES.md).
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::EventLoop;
using asyncio::detail::LoopTestAccess;

class SleepTest : public asyncio::testing::LoopTest {};

Coro<std::string> sleeper(double dt, std::string arg, EventLoop* loop, std::vector<double>* times) {
    co_await asyncio::sleep(dt / 2);
    times->push_back(loop->time());
    std::string res = co_await asyncio::sleep(dt / 2, arg);
    times->push_back(loop->time());
    co_return res;
}

Coro<void> sleep_nan(std::vector<std::string>* log) {
    log->push_back("before");
    co_await asyncio::sleep(std::numeric_limits<double>::quiet_NaN());
    log->push_back("after");
}

Coro<std::string> sleep_with_result(double delay, std::string result) {
    co_return co_await asyncio::sleep(delay, result);
}

Coro<void> tiny_sleeps() {
    co_await asyncio::sleep(1e-2);
    co_await asyncio::sleep(1e-4);
    co_await asyncio::sleep(1e-6);
    co_await asyncio::sleep(1e-8);
    co_await asyncio::sleep(1e-10);
}

// Two sleeps of dt/2 end at exactly 0.05 and 0.1 on the virtual clock, and sleep(delay, result)
// gives `result`.
TEST_F(SleepTest, SLEEP_01) {
    std::vector<double> times;
    auto t = loop->create_task(sleeper(0.1, "yeah", loop.get(), &times));
    EXPECT_EQ(loop->run_until_complete(t), "yeah");
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.result(), "yeah");
    ASSERT_EQ(times.size(), 2u);
    EXPECT_DOUBLE_EQ(times[0], 0.05);
    EXPECT_DOUBLE_EQ(times[1], 0.1);
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
    EXPECT_TRUE(reports.empty());
}

// sleep(NaN) fails with ValueError inside the task, before any suspension.
TEST_F(SleepTest, SLEEP_02) {
    std::vector<std::string> log;
    auto t = loop->create_task(sleep_nan(&log));
    try {
        loop->run_until_complete(t);
        FAIL() << "sleep(NaN) did not throw";
    } catch (const asyncio::ValueError& e) {
        EXPECT_EQ(std::string(e.what()), "Invalid delay: NaN (not a number)");
    }
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    EXPECT_TRUE(asyncio::testing::holds<asyncio::ValueError>(t.exception()));
    EXPECT_EQ(log, std::vector<std::string>{"before"});
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
}

// Cancelling a task inside sleep(10) removes the sleep's timer: no timer is left behind and the
// clock never moves to 10.
TEST_F(SleepTest, SLEEP_03) {
    auto t = loop->create_task(sleep_with_result(10.0, "yeah"));
    EXPECT_EQ(LoopTestAccess::timer_count(*loop), 0u);
    run_briefly();
    EXPECT_EQ(LoopTestAccess::timer_count(*loop), 1u);
    EXPECT_TRUE(t.cancel());
    run_briefly();
    EXPECT_EQ(LoopTestAccess::timer_count(*loop), 0u);
    EXPECT_THROW(loop->run_until_complete(t), asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(LoopTestAccess::timer_count(*loop), 0u);
    EXPECT_DOUBLE_EQ(loop->time(), 0.0);
    EXPECT_TRUE(reports.empty());
}

// Sleeping for 1e-2 ... 1e-10 s finishes within at most 20 loop iterations: delays below the
// clock's resolution cause no busy spinning (checked on the real clock and on virtual time).
TEST_F(SleepTest, SLEEP_05) {
    // Real clock: what the case is about (the OS wait rounds to milliseconds).
    {
        auto real = asyncio::new_event_loop({.debug = false, .virtual_time = false});
        auto t = real->create_task(tiny_sleeps());
        int iterations = 0;
        while (!t.done() && iterations < 1000) {
            LoopTestAccess::run_once(*real);
            ++iterations;
        }
        EXPECT_TRUE(t.done());
        EXPECT_NO_THROW(t.result());
        EXPECT_LE(iterations, 20);
        EXPECT_EQ(LoopTestAccess::timer_count(*real), 0u);
    }
    // Virtual clock: one iteration to start, then one per sleep (the clock jumps to the timer).
    auto t = loop->create_task(tiny_sleeps());
    int iterations = 0;
    while (!t.done() && iterations < 1000) {
        LoopTestAccess::run_once(*loop);
        ++iterations;
    }
    EXPECT_TRUE(t.done());
    EXPECT_LE(iterations, 20);
    EXPECT_EQ(iterations, 6);
    EXPECT_NEAR(loop->time(), 1e-2 + 1e-4 + 1e-6 + 1e-8 + 1e-10, 1e-9);
}

} // namespace
