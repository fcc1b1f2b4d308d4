// ctest-labels: thread
// asyncio.Runner and Ctrl-C: CPython's test_runners.py cases for Runner (RunnerTest.CPython_*)
// and its SIGINT handling, in real time (every wait bounded by a sleep that fails the test if it
// runs out), on the main thread with SIGINT at its default disposition.
#include <asyncio.hpp>

#include <csignal>
#include <string>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::KeyboardInterrupt;
using asyncio::Runner;

bool sigint_is_default() {
    struct sigaction sa {};
    sigaction(SIGINT, nullptr, &sa);
    return sa.sa_handler == SIG_DFL;
}

Coro<int> value(int v) {
    co_await asyncio::sleep(0);
    co_return v;
}

TEST(RunnerTest, CPython_run_twice_on_one_loop_and_one_context) {
    asyncio::ContextVar<int> cvar("cvar", -1);
    Runner runner({.virtual_time = true});
    asyncio::EventLoop* first = nullptr;
    runner.run([&]() -> Coro<> {
        first = &asyncio::get_running_loop();
        cvar.set(1);
        co_return;
    }());
    int seen = runner.run([&]() -> Coro<int> {
        EXPECT_EQ(&asyncio::get_running_loop(), first);
        co_return cvar.get();
    }());
    EXPECT_EQ(seen, 1); // the runner's one context
    EXPECT_EQ(&runner.get_loop(), first);
    EXPECT_EQ(runner.run(value(3)), 3);
}

TEST(RunnerTest, CPython_close_then_run_raises) {
    Runner runner({.virtual_time = true});
    runner.run(value(1));
    runner.close();
    EXPECT_THROW(runner.run(value(1)), asyncio::RuntimeError);
    EXPECT_THROW(runner.get_loop(), asyncio::RuntimeError);
    runner.close(); // idempotent
}

TEST(RunnerTest, CPython_close_cancels_leftover_tasks) {
    bool cancelled = false;
    {
        Runner runner({.virtual_time = true});
        runner.run([&]() -> Coro<> {
            asyncio::create_task([&]() -> Coro<> {
                try {
                    co_await asyncio::sleep(100);
                } catch (const CancelledError&) {
                    cancelled = true;
                    throw;
                }
            });
            co_return;
        }());
    } // the destructor closes
    EXPECT_TRUE(cancelled);
}

TEST(RunnerTest, CPython_run_from_a_running_loop_raises) {
    asyncio::run([]() -> Coro<> {
        Runner inner;
        try {
            inner.run(value(1));
            ADD_FAILURE() << "no RuntimeError";
        } catch (const asyncio::RuntimeError& e) {
            EXPECT_STREQ(e.what(), "Runner.run() cannot be called from a running event loop");
        }
        co_return;
    }());
}

TEST(RunnerTest, CPython_interrupt_call_soon_CtrlCCancelsTheMainTask) {
    ASSERT_TRUE(sigint_is_default());
    bool cancelled = false;
    try {
        asyncio::run([&]() -> Coro<> {
            std::raise(SIGINT); // noted by libuv's handler; the loop sees it when it polls
            try {
                co_await asyncio::sleep(10);
            } catch (const CancelledError&) {
                cancelled = true;
                throw;
            }
            ADD_FAILURE() << "SIGINT did not cancel the main task";
        }());
        FAIL() << "no KeyboardInterrupt";
    } catch (const KeyboardInterrupt&) {
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(sigint_is_default()); // restored
}

TEST(RunnerTest, CPython_interrupt_with_another_cancellation_pending_is_CancelledError) {
    bool cancelled_error = false;
    try {
        asyncio::run([]() -> Coro<> {
            std::raise(SIGINT);
            asyncio::current_task().cancel(); // a cancellation of its own
            co_await asyncio::sleep(10);
        }());
    } catch (const CancelledError&) {
        cancelled_error = true;
    } catch (const KeyboardInterrupt&) {
    }
    EXPECT_TRUE(cancelled_error);
    EXPECT_TRUE(sigint_is_default());
}

TEST(RunnerTest, CPython_interrupt_while_busy_is_seen) {
    // A main task that never waits in the OS: the loop's periodic poll still sees the signal.
    long iterations = 0;
    try {
        asyncio::run([&]() -> Coro<> {
            std::raise(SIGINT);
            for (; iterations < 10'000'000; ++iterations)
                co_await asyncio::sleep(0);
            ADD_FAILURE() << "SIGINT was not seen while the loop was busy";
        }());
    } catch (const KeyboardInterrupt&) {
    }
    EXPECT_LT(iterations,
              10 * static_cast<long>(asyncio::detail::LoopCore::k_signal_poll_interval));
}

TEST(RunnerTest, ProgramsSigintHandlerTakesPrecedence) {
    int handled = 0;
    asyncio::run([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<void> seen = loop.create_future<void>();
        loop.add_signal_handler(SIGINT, [&] {
            ++handled;
            seen.set_result();
        });
        std::raise(SIGINT);
        co_await asyncio::wait_for(seen, 5);
        EXPECT_TRUE(loop.remove_signal_handler(SIGINT));
    }());
    EXPECT_EQ(handled, 1);
    EXPECT_TRUE(sigint_is_default());
}

TEST(RunnerTest, NoCtrlCHandlingWhenSigintIsNotAtItsDefault) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction before {};
    sigaction(SIGINT, &ignore, &before);
    int v = asyncio::run([]() -> Coro<int> {
        std::raise(SIGINT); // ignored: the program said so
        co_await asyncio::sleep(0.01);
        co_return 5;
    }());
    EXPECT_EQ(v, 5);
    struct sigaction after {};
    sigaction(SIGINT, &before, &after);
    EXPECT_EQ(after.sa_handler, SIG_IGN); // left as the program set it
}

TEST(RunnerDeathTest, SecondCtrlCBeforeTheMainTaskFinishesEndsTheProcess) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            asyncio::run([]() -> Coro<> {
                std::raise(SIGINT);
                try {
                    co_await asyncio::sleep(10);
                } catch (const CancelledError&) {
                }
                std::raise(SIGINT); // the main task ignored the first: the second ends it all
                co_await asyncio::sleep(10);
            }());
            std::exit(0);
        },
        testing::KilledBySignal(SIGINT), "");
}

} // namespace
