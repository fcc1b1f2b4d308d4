// to_thread(): THREAD conformance cases of CASES.md about it, its cancellation, its stop_token,
// and context variables in the worker.
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <atomic>
#include <condition_variable>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <numeric>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using namespace asyncio;
using asyncio::testing::LoopTest;

class ToThreadTest : public LoopTest {};

int sum(std::vector<int> v) { return std::accumulate(v.begin(), v.end(), 0); }

// THREAD-01: awaiting to_thread(sum, [40, 2]) gives 42.
TEST_F(ToThreadTest, THREAD_01) {
    auto main = []() -> Coro<int> {
        std::vector<int> numbers{40, 2};
        co_return co_await to_thread(sum, numbers);
    };
    EXPECT_EQ(run(main()), 42);
}

// THREAD-02: an exception thrown by the function in the worker is rethrown in the awaiting
// coroutine.
TEST_F(ToThreadTest, THREAD_02) {
    auto main = []() -> Coro<std::string> {
        try {
            co_await to_thread([] { throw RuntimeError("test"); });
        } catch (const RuntimeError& e) {
            co_return e.what();
        }
        co_return "no exception";
    };
    EXPECT_EQ(run(main()), "test");
}

// THREAD-03: the function is called exactly once, with the arguments passed straight through
// (C++ has no keyword arguments: a named flag stands for `something=True`).
TEST_F(ToThreadTest, THREAD_03) {
    std::atomic<int> calls{0};
    std::string seen;
    bool flag = false;
    auto f = [&](std::string s, bool something) {
        ++calls;
        seen = s;
        flag = something;
    };
    auto main = [&]() -> Coro<> { co_await to_thread(f, std::string("test"), true); };
    run(main());
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(seen, "test");
    EXPECT_TRUE(flag);
}

ContextVar<std::string> g_parrot("parrot");

// THREAD-05: the function sees the calling task's context variables: the context is copied into
// the worker. What it sets there stays there.
TEST_F(ToThreadTest, THREAD_05) {
    auto main = []() -> Coro<std::string> {
        g_parrot.set("parrot");
        std::string seen = co_await to_thread([] {
            std::string v = g_parrot.get();
            g_parrot.set("worker");
            return v;
        });
        EXPECT_EQ(g_parrot.get(), "parrot");
        co_return seen;
    };
    EXPECT_EQ(run(main()), "parrot");
    EXPECT_EQ(g_parrot.get("unset"), "unset"); // this thread's own context is untouched
}

// The function runs on another thread; void and move-only results come back.
TEST_F(ToThreadTest, ResultsAndThread) {
    auto main = []() -> Coro<> {
        std::thread::id worker = co_await to_thread([] { return std::this_thread::get_id(); });
        EXPECT_NE(worker, std::this_thread::get_id());
        std::unique_ptr<int> p = co_await to_thread([] { return std::make_unique<int>(7); });
        EXPECT_EQ(*p, 7);
        co_await to_thread([] {});
    };
    run(main());
}

// Cancelling the awaiting task raises CancelledError in it at once, while the function, already
// running, goes on to its end; its result is dropped. The loop keeps running meanwhile.
TEST_F(ToThreadTest, CancelWhileRunning) {
    std::latch started(1);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> finished{false};
    auto blocking = [&] {
        started.count_down();
        released.wait();
        finished = true;
        return 1;
    };
    auto worker = [&]() -> Coro<int> { co_return co_await to_thread(blocking); };
    auto main = [&]() -> Coro<std::string> {
        Task<int> t = create_task(worker());
        co_await to_thread([&] { started.wait(); }); // the function is running now
        t.cancel("stop");
        std::string outcome = "not cancelled";
        try {
            co_await t;
        } catch (const CancelledError& e) {
            EXPECT_FALSE(finished.load()); // raised while the function still runs
            outcome = e.message();
        }
        release.set_value();
        co_return outcome;
    };
    EXPECT_EQ(run(main()), "stop");
    // The default executor is shut down (as run() does), which waits for the function.
    run(loop->shutdown_default_executor());
    EXPECT_TRUE(finished.load());
}

// A function that takes a std::stop_token gets a stop request when the awaiting task is
// cancelled, and can end early.
TEST_F(ToThreadTest, StopTokenOnCancel) {
    std::latch started(1);
    std::atomic<bool> saw_stop{false};
    auto until_stopped = [&](std::stop_token token, int step) {
        started.count_down();
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        cv.wait(lock, token, [] { return false; }); // returns once a stop is requested
        saw_stop = token.stop_requested();
        return step;
    };
    auto worker = [&]() -> Coro<int> { co_return co_await to_thread(until_stopped, 5); };
    auto main = [&]() -> Coro<bool> {
        Task<int> t = create_task(worker());
        co_await to_thread([&] { started.wait(); });
        t.cancel();
        try {
            co_await t;
        } catch (const CancelledError&) {
            co_return true;
        }
        co_return false;
    };
    EXPECT_TRUE(run(main()));
    run(loop->shutdown_default_executor());
    EXPECT_TRUE(saw_stop.load());
}

// Without cancellation, the stop_token is never stopped and the function gets its arguments.
TEST_F(ToThreadTest, StopTokenUntouched) {
    auto main = []() -> Coro<int> {
        co_return co_await to_thread(
            [](std::stop_token token, int a, int b) { return token.stop_requested() ? -1 : a + b; },
            2, 3);
    };
    EXPECT_EQ(run(main()), 5);
}

// A function whose task is cancelled before a worker took it never runs (a one-worker pool, kept
// busy).
TEST_F(ToThreadTest, CancelBeforeStartNeverRuns) {
    loop->set_default_executor(std::make_shared<ThreadPoolExecutor>(1));
    std::latch started(1);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> second_calls{0};
    auto main = [&]() -> Coro<> {
        Task<> busy = create_task(to_thread([&] {
            started.count_down();
            released.wait();
        }));
        Task<> queued = create_task(to_thread([&] { ++second_calls; }));
        co_await sleep(0); // both submitted
        started.wait();
        queued.cancel();
        try {
            co_await queued;
        } catch (const CancelledError&) {
        }
        release.set_value();
        co_await busy;
    };
    run(main());
    run(loop->shutdown_default_executor());
    EXPECT_EQ(second_calls.load(), 0);
}

// After shutdown_default_executor(), to_thread() raises RuntimeError.
TEST_F(ToThreadTest, AfterExecutorShutdown) {
    auto after = []() -> Coro<std::string> {
        co_await get_running_loop().shutdown_default_executor();
        try {
            co_await to_thread([] { return 1; });
        } catch (const RuntimeError& e) {
            co_return e.what();
        }
        co_return "no error";
    };
    EXPECT_EQ(run(after()), "Executor shutdown has been called");
}

// On virtual time, a timer due long after the function finishes does not fire before its
// result is in: while the function runs, the clock runs at the real rate.
TEST_F(ToThreadTest, VirtualTimeWaitsForWorker) {
    std::latch go(1);
    auto main = [&]() -> Coro<bool> {
        bool timer_fired = false;
        TimerHandle timer = loop->call_later(60, [&] { timer_fired = true; });
        Task<int> t = create_task(to_thread([&] {
            go.wait();
            return 1;
        }));
        co_await sleep(0);
        co_await sleep(0);
        go.count_down();
        co_await t;
        timer.cancel();
        co_return timer_fired;
    };
    EXPECT_FALSE(run(main()));
    EXPECT_LT(loop->time(), 60);
}

} // namespace
