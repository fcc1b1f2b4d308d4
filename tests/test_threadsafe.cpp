// run_coroutine_threadsafe and call_soon_threadsafe from other threads: the RCT cases of
// CASES.md, and stress with many threads, and with the loop shutting down under load.
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <atomic>
#include <deque>
#include <future>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using namespace asyncio;
using asyncio::testing::holds;
using asyncio::testing::LoopTest;

class ThreadsafeTest : public LoopTest {};

Coro<int> add(int a, int b, bool fail = false) {
    co_await sleep(0.05);
    if (fail)
        throw RuntimeError("Fail!");
    co_return a + b;
}

Coro<int> one() { co_return 1; }

Coro<> sleep_forever() { co_await sleep(10); }

template <class T>
Coro<T> sleep_result(double delay, T value) {
    co_return co_await sleep(delay, std::move(value));
}

// RCT-01: a worker thread submits a coroutine that returns 1+2 after 0.05 s to the running loop;
// blocking on the thread-safe future gives 3.
TEST_F(ThreadsafeTest, RCT_01) {
    auto target = [this] { return run_coroutine_threadsafe(add(1, 2), *loop).result(); };
    EXPECT_EQ(loop->run_until_complete(loop->run_in_executor(nullptr, target)), 3);
}

// result() with an unbounded timeout (infinite, or too large for the clock) waits as result()
// does, until the answer comes; it does not time out at once.
TEST_F(ThreadsafeTest, UnboundedResultTimeout) {
    for (double timeout : {std::numeric_limits<double>::infinity(), 1e300}) {
        auto target = [this, timeout] {
            return run_coroutine_threadsafe(add(1, 2), *loop).result(timeout);
        };
        EXPECT_EQ(loop->run_until_complete(loop->run_in_executor(nullptr, target)), 3) << timeout;
    }
}

// RCT-02: an exception raised by the submitted coroutine is rethrown by the future's result() in
// the worker thread.
TEST_F(ThreadsafeTest, RCT_02) {
    auto target = [this] { return run_coroutine_threadsafe(add(1, 2, true), *loop).result(); };
    try {
        loop->run_until_complete(loop->run_in_executor(nullptr, target));
        ADD_FAILURE() << "no exception";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Fail!");
    }
}

// RCT-03: result(timeout=0) in the worker raises TimeoutError; the worker then cancels the future,
// which cancels the task in the loop, so no task is left pending.
TEST_F(ThreadsafeTest, RCT_03) {
    auto target = [this] {
        auto future = run_coroutine_threadsafe(add(1, 2), *loop);
        try {
            return future.result(0);
        } catch (...) {
            if (!future.done())
                future.cancel();
            throw;
        }
    };
    EXPECT_THROW(loop->run_until_complete(loop->run_in_executor(nullptr, target)), TimeoutError);
    run_briefly();
    for (const TaskRef& t : loop->all_tasks())
        EXPECT_TRUE(t.done());
    EXPECT_TRUE(loop->all_tasks().empty());
}

// RCT-05 (there is no task factory; the nearest failure when the loop wraps the coroutine in a
// task is a coroutine object already used): the error is set on the thread-safe future and
// reported exactly once to the loop's exception handler.
TEST_F(ThreadsafeTest, RCT_05) {
    auto main = [this]() -> Coro<> {
        Coro<int> used = one();
        EXPECT_EQ(co_await used, 1); // started and finished: it cannot become a task
        auto future = run_coroutine_threadsafe(std::move(used), *loop);
        co_await sleep(0);
        EXPECT_TRUE(future.done());
        EXPECT_TRUE(holds<RuntimeError>(future.exception()));
    };
    run(main());
    ASSERT_EQ(messages(),
              std::vector<std::string>{"Exception in callback run_coroutine_threadsafe()"});
    EXPECT_TRUE(holds<RuntimeError>(reports[0].exception));
}

// RCT-06: cancelling the thread-safe future right after the submission was picked up cancels the
// loop task; both end up cancelled.
TEST_F(ThreadsafeTest, RCT_06) {
    auto main = [this]() -> Coro<> {
        auto future = run_coroutine_threadsafe(sleep_forever(), *loop);
        co_await sleep(0);
        std::vector<TaskRef> tasks = all_tasks();
        EXPECT_EQ(tasks.size(), 2u);
        TaskRef task = tasks[0] == current_task() ? tasks[1] : tasks[0];
        EXPECT_TRUE(future.cancel());
        while (!task.done())
            co_await sleep(0);
        EXPECT_TRUE(task.cancelled());
        EXPECT_TRUE(future.cancelled());
    };
    run(main());
}

// RCT-07: ten worker threads, started with to_thread, each submit sleep(0.1, 42) back to the same
// loop and each receive 42.
TEST_F(ThreadsafeTest, RCT_07) {
    loop->set_default_executor(std::make_shared<ThreadPoolExecutor>(10));
    auto main = [this]() -> Coro<int> {
        std::vector<Task<int>> tasks;
        for (int i = 0; i < 10; ++i)
            tasks.push_back(create_task(to_thread([this] {
                return run_coroutine_threadsafe(sleep_result(0.1, 42), *loop).result();
            })));
        int total = 0;
        for (auto& t : tasks)
            total += co_await t;
        co_return total;
    };
    EXPECT_EQ(run(main()), 420);
}

// The submitted task runs in a copy of the submitting thread's context.
TEST_F(ThreadsafeTest, SubmitterContext) {
    static ContextVar<int> var("var", 0);
    auto read = []() -> Coro<int> { co_return var.get(); };
    auto target = [this, read] {
        var.set(17); // the worker's own context
        return run_coroutine_threadsafe(read(), *loop).result();
    };
    EXPECT_EQ(loop->run_until_complete(loop->run_in_executor(nullptr, target)), 17);
    EXPECT_EQ(var.get(), 0);
}

// Submitting to a closed loop raises RuntimeError at once; a submission still queued when the
// loop closes fails its future with RuntimeError, and so does one whose task is still pending at
// close(); one whose task finished gets its value even if the loop closes before delivering it.
TEST_F(ThreadsafeTest, ClosedLoop) {
    auto pending = run_coroutine_threadsafe(sleep_forever(), *loop);
    auto finished = run_coroutine_threadsafe(one(), *loop);
    run_briefly(); // both picked up: their tasks are created
    run_briefly(); // both tasks ran their first step: one() finished, its delivery is queued
    EXPECT_FALSE(pending.done());
    loop->close();
    EXPECT_EQ(finished.result(), 1);
    try {
        pending.result();
        ADD_FAILURE() << "no exception";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop is closed");
    }
    try {
        (void)run_coroutine_threadsafe(one(), *loop);
        ADD_FAILURE() << "no exception";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop is closed");
    }
    EXPECT_THROW(loop->call_soon_threadsafe([] {}), RuntimeError);

    auto other = new_event_loop({.debug = false, .virtual_time = true});
    auto never_picked = run_coroutine_threadsafe(one(), *other);
    other->close();
    EXPECT_THROW(never_picked.result(), RuntimeError);
}

// Stress: 8 foreign threads each submit 10,000 coroutines (64 in flight per thread) while the loop
// also runs work of its own; every result is accounted for.
TEST_F(ThreadsafeTest, EightThreadsTenThousandEach) {
    constexpr int threads = 8;
    constexpr int per_thread = 10000;
    auto work = [](int i) -> Coro<long long> {
        if (i % 3 == 0)
            co_await sleep(0);
        co_return i;
    };
    std::atomic<long long> total{0};
    long long own_ticks = 0;
    auto main = [&]() -> Coro<> {
        std::atomic<bool> done{false};
        Task<> own = create_task([](std::atomic<bool>* done, long long* ticks) -> Coro<> {
            while (!done->load()) {
                ++*ticks;
                co_await sleep(0);
            }
        }(&done, &own_ticks));
        std::vector<std::thread> producers;
        for (int t = 0; t < threads; ++t)
            producers.emplace_back([&, t] {
                std::deque<ConcurrentFuture<long long>> in_flight;
                long long sum = 0;
                for (int i = 0; i < per_thread; ++i) {
                    if (in_flight.size() == 64) {
                        sum += in_flight.front().result();
                        in_flight.pop_front();
                    }
                    in_flight.push_back(run_coroutine_threadsafe(work(t * per_thread + i), *loop));
                }
                for (auto& f : in_flight)
                    sum += f.result();
                total += sum;
            });
        co_await to_thread([&] {
            for (auto& p : producers)
                p.join();
        });
        done = true;
        co_await own;
    };
    run(main());
    const long long n = static_cast<long long>(threads) * per_thread;
    EXPECT_EQ(total.load(), n * (n - 1) / 2);
    EXPECT_GT(own_ticks, 0);
    EXPECT_TRUE(loop->all_tasks().empty());
}

// Stress: the loop shuts down (as run() does: cancel the tasks, shut the default executor down,
// close) while foreign threads keep submitting and worker jobs run. Nothing hangs or crashes, and
// every submission ends with a result, CancelledError, or RuntimeError ("Event loop is closed").
TEST(ThreadsafeShutdownTest, ShutdownUnderLoad) {
    auto loop = new_event_loop();
    int reports = 0;
    loop->set_exception_handler([&](EventLoop&, const ExceptionContext&) { ++reports; });
    std::atomic<bool> running{false};
    std::atomic<long> submitted{0}, results{0}, cancelled{0}, failed{0}, refused{0};
    auto work = [](int i) -> Coro<int> {
        co_await sleep(0.0005 * (i % 4));
        co_return 1;
    };
    std::thread loop_thread([&] {
        auto main = [&]() -> Coro<> {
            running = true;
            for (int i = 0; i < 8; ++i)
                (void)create_task(to_thread([] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                    return 1;
                }));
            co_await sleep(0.05);
        };
        loop->run_until_complete(main());
        loop->cancel_all_tasks();
        loop->run_until_complete(loop->shutdown_default_executor(300));
        loop->close();
    });
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t)
        producers.emplace_back([&, t] {
            while (!running.load())
                std::this_thread::yield();
            std::deque<ConcurrentFuture<int>> in_flight;
            auto settle = [&](ConcurrentFuture<int>& f) {
                try {
                    results += f.result();
                } catch (const CancelledError&) {
                    ++cancelled;
                } catch (const RuntimeError&) {
                    ++failed;
                }
            };
            for (int i = 0;; ++i) {
                try {
                    in_flight.push_back(run_coroutine_threadsafe(work(t + i), *loop));
                    ++submitted;
                } catch (const RuntimeError&) {
                    ++refused;
                    break;
                }
                if (in_flight.size() == 16) {
                    settle(in_flight.front());
                    in_flight.pop_front();
                }
            }
            for (auto& f : in_flight)
                settle(f);
        });
    for (auto& p : producers)
        p.join();
    loop_thread.join();
    EXPECT_EQ(refused.load(), 4);
    EXPECT_GT(results.load(), 0);
    EXPECT_EQ(submitted.load(), results.load() + cancelled.load() + failed.load());
    loop.reset();
    (void)reports;
}

// call_soon_threadsafe from many threads: every callback runs once, and each thread's callbacks
// run in the order it scheduled them; a handle cancelled from another thread never runs.
TEST(CallSoonThreadsafeTest, ManyThreadsOrder) {
    auto loop = new_event_loop();
    constexpr int threads = 8;
    constexpr int per_thread = 5000;
    std::vector<std::vector<int>> seen(threads);
    int count = 0;
    std::vector<std::thread> producers;
    for (int t = 0; t < threads; ++t)
        producers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i)
                loop->call_soon_threadsafe([&, t, i] {
                    seen[t].push_back(i);
                    if (++count == threads * per_thread)
                        loop->stop();
                });
        });
    loop->run_forever();
    for (auto& p : producers)
        p.join();
    for (int t = 0; t < threads; ++t) {
        ASSERT_EQ(seen[t].size(), static_cast<std::size_t>(per_thread));
        for (int i = 0; i < per_thread; ++i)
            ASSERT_EQ(seen[t][i], i);
    }

    bool ran = false;
    Handle h = loop->call_soon_threadsafe([&] { ran = true; });
    std::thread canceller([&] { h.cancel(); });
    canceller.join();
    loop->call_soon_threadsafe([&] { loop->stop(); });
    loop->run_forever();
    EXPECT_FALSE(ran);
    EXPECT_TRUE(h.cancelled());
    loop->close();
}

} // namespace
