// Executors: ThreadPoolExecutor, ConcurrentFuture, run_in_executor, the default executor and its
// shutdown, wrap_future; the THREAD conformance cases of CASES.md about them.
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <atomic>
#include <future>
#include <latch>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using namespace asyncio;
using asyncio::testing::holds;
using asyncio::testing::LoopTest;

class ExecutorTest : public LoopTest {};

// Holds the jobs it is given, so a test decides when and on which thread each one runs.
class ManualExecutor final : public Executor {
public:
    void submit_job(detail::Job* job) override { jobs.push_back(job); }
    void shutdown(bool, bool) override {}
    std::vector<detail::Job*> jobs;
};

// A gate a worker waits at until the test opens it.
struct Gate {
    std::promise<void> promise;
    std::shared_future<void> future = promise.get_future().share();
    void open() { promise.set_value(); }
    void wait() const { future.wait(); }
};

// THREAD-06: run_in_executor(nullptr, f, "yo") runs f on a thread other than the loop's and
// resolves to its return value.
TEST_F(ExecutorTest, THREAD_06) {
    auto f = [](std::string arg) { return std::make_pair(arg, std::this_thread::get_id()); };
    auto result = loop->run_until_complete(loop->run_in_executor(nullptr, f, std::string("yo")));
    EXPECT_EQ(result.first, "yo");
    EXPECT_NE(result.second, std::this_thread::get_id());
}

// THREAD-07: a run_in_executor future is cancelled while its function runs; the function's end
// then schedules nothing on the loop (checked before the loop is closed, and after it is closed,
// and after it is destroyed, where only the shared inbox may be touched).
TEST_F(ExecutorTest, THREAD_07) {
    ManualExecutor manual;
    Gate gate;
    std::latch running(1);
    Future<int> f = loop->run_in_executor(&manual, [&] {
        running.count_down();
        gate.wait();
        return 1;
    });
    ASSERT_EQ(manual.jobs.size(), 1u);
    std::thread worker([job = manual.jobs[0]] { job->work(); });
    running.wait();
    EXPECT_TRUE(f.cancel());
    gate.open();
    worker.join();
    EXPECT_FALSE(
        asyncio::detail::core_of(*loop).inbox().has_items()); // the finished job posted nothing
    run_briefly();
    EXPECT_TRUE(f.cancelled());

    // The asyncio sequence: cancel, shut the default executor down, close; nothing runs after.
    Gate gate2;
    Future<int> g = loop->run_in_executor(nullptr, [&] {
        gate2.wait();
        return 2;
    });
    g.cancel();
    gate2.open();
    run(loop->shutdown_default_executor());
    loop->close();
    EXPECT_TRUE(g.cancelled());
    EXPECT_TRUE(reports.empty());
}

// A job that runs after its loop was closed, or destroyed, still runs (as asyncio's executor
// runs it), and its end finds the inbox closed: nothing is scheduled and nothing freed is touched
// (ASan and TSan check the destroyed case). Its future, dropped by the test, was kept alive by
// the job until the loop closed.
TEST_F(ExecutorTest, JobOutlivesLoop) {
    for (bool destroy : {false, true}) {
        auto l = new_event_loop({.debug = false, .virtual_time = true});
        ManualExecutor manual;
        std::atomic<bool> ran{false};
        (void)l->run_in_executor(&manual, [&] {
            ran = true;
            return 1;
        });
        l->close();
        if (destroy)
            l.reset();
        std::thread worker([job = manual.jobs[0]] { job->work(); });
        worker.join();
        EXPECT_TRUE(ran.load());
    }
}

// A run_in_executor future whose handles were all dropped is kept alive by its job, so its done
// callbacks still run (asyncio's chained futures do the same).
TEST_F(ExecutorTest, DroppedFutureStillCompletes) {
    int seen = 0;
    loop->run_in_executor(nullptr, [] { return 4; }).add_done_callback([&](const Future<int>& f) {
        seen = f.result();
    });
    run(loop->shutdown_default_executor());
    EXPECT_EQ(seen, 4);
}

// The same with a job whose future is still wanted when the loop closes: it runs, and its
// result is dropped by the closed inbox.
TEST_F(ExecutorTest, JobFinishesAfterClose) {
    ManualExecutor manual;
    std::atomic<bool> ran{false};
    Future<int> f = loop->run_in_executor(&manual, [&] {
        ran = true;
        return 1;
    });
    loop->close();
    std::thread worker([job = manual.jobs[0]] { job->work(); });
    worker.join();
    EXPECT_TRUE(ran.load());
    EXPECT_FALSE(f.done());
}

// THREAD-09: the default executor can only be replaced by a ThreadPoolExecutor (anything else
// does not compile: tests/compile_fail/set_default_executor_not_thread_pool.cpp), and
// shutdown_default_executor(0.01) with a worker that does not finish reports that joining did not
// complete, then returns.
TEST_F(ExecutorTest, THREAD_09) {
    auto pool = std::make_shared<ThreadPoolExecutor>(2);
    loop->set_default_executor(pool);
    EXPECT_EQ(&loop->default_executor(), pool.get());

    Gate gate;
    std::latch running(1);
    Future<void> f = loop->run_in_executor(nullptr, [&] {
        running.count_down();
        gate.wait();
    });
    running.wait();
    run(loop->shutdown_default_executor(0.01));
    ASSERT_EQ(messages(),
              std::vector<std::string>{
                  "The executor did not finishing joining its threads within 0.01 seconds."});
    // Once the worker is let go, shutting down again waits for it to the end.
    gate.open();
    run(loop->shutdown_default_executor());
    EXPECT_EQ(reports.size(), 1u);
    EXPECT_TRUE(f.done());
}

// THREAD-10: wrapping a thread-pool future gives a loop future, bound to the running loop, that
// resolves to the worker's result, computed on another thread.
TEST_F(ExecutorTest, THREAD_10) {
    ThreadPoolExecutor ex(1);
    ConcurrentFuture<std::pair<std::string, std::thread::id>> f1 =
        ex.submit([](std::string s) { return std::make_pair(s, std::this_thread::get_id()); },
                  std::string("oi"));
    auto main = [&]() -> Coro<> {
        auto f2 = wrap_future(f1);
        EXPECT_EQ(&f2.get_loop(), loop.get());
        auto [value, thread] = co_await f2;
        EXPECT_EQ(value, "oi");
        EXPECT_NE(thread, std::this_thread::get_id());
    };
    run(main());
}

// THREAD-11: cancelling the loop-side wrapper also cancels the wrapped concurrent future.
TEST_F(ExecutorTest, THREAD_11) {
    ConcurrentFuture<int> f1;
    Future<int> f2 = wrap_future(f1, *loop);
    f2.cancel();
    run_briefly();
    EXPECT_TRUE(f1.cancelled());
    EXPECT_TRUE(f2.cancelled());
}

// THREAD-13: wrapping a loop future (or task) gives it back unchanged; wrapping a concurrent
// future with no running loop raises RuntimeError.
TEST_F(ExecutorTest, THREAD_13) {
    Future<int> f = loop->create_future<int>();
    EXPECT_EQ(wrap_future(f), f);
    ConcurrentFuture<int> c;
    EXPECT_THROW((void)wrap_future(c), RuntimeError);
}

// A wrapped concurrent future passes on its exception and cancellation, whichever thread
// completes it.
TEST_F(ExecutorTest, WrapFutureOutcomes) {
    ConcurrentFuture<int> failing;
    ConcurrentFuture<int> cancelled;
    Future<int> a = wrap_future(failing, *loop);
    Future<int> b = wrap_future(cancelled, *loop);
    std::thread t([&] {
        failing.set_exception(std::make_exception_ptr(ValueError("bad")));
        cancelled.cancel();
    });
    t.join();
    auto main = [&]() -> Coro<> {
        try {
            co_await a;
            ADD_FAILURE() << "no exception";
        } catch (const ValueError& e) {
            EXPECT_STREQ(e.what(), "bad");
        }
        try {
            co_await b;
            ADD_FAILURE() << "not cancelled";
        } catch (const CancelledError&) {
        }
    };
    run(main());
}

// ThreadPoolExecutor: workers start on demand up to max_workers (default min(32, cores + 4)),
// results and exceptions come back through the concurrent future, and after shutdown submit()
// raises RuntimeError.
TEST(ThreadPoolExecutorTest, Basics) {
    EXPECT_THROW(ThreadPoolExecutor(0), ValueError);
    unsigned cores = std::thread::hardware_concurrency();
    EXPECT_EQ(ThreadPoolExecutor().max_workers(), static_cast<int>(std::min(32u, cores + 4)));

    ThreadPoolExecutor ex(3);
    EXPECT_EQ(ex.threads(), 0);
    auto f = ex.submit([](int a, int b) { return a * b; }, 6, 7);
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(ex.threads(), 1);
    auto g = ex.submit([] { throw ValueError("nope"); });
    EXPECT_TRUE(holds<ValueError>(g.exception()));
    EXPECT_THROW(g.result(), ValueError);
    ex.shutdown();
    try {
        (void)ex.submit([] {});
        ADD_FAILURE() << "no exception";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "cannot schedule new futures after shutdown");
    }
}

// shutdown(cancel_futures=true) cancels the jobs not started yet; the running one finishes.
TEST(ThreadPoolExecutorTest, ShutdownCancelFutures) {
    ThreadPoolExecutor ex(1);
    Gate gate;
    std::latch running(1);
    auto first = ex.submit([&] {
        running.count_down();
        gate.wait();
        return 1;
    });
    auto second = ex.submit([] { return 2; });
    running.wait();
    ex.shutdown(false, true);
    EXPECT_TRUE(second.cancelled());
    gate.open();
    ex.shutdown(true);
    EXPECT_EQ(first.result(), 1);
    EXPECT_TRUE(second.cancelled());
    EXPECT_THROW(second.result(), CancelledError);
}

// Blocking jobs run side by side, up to max_workers: four jobs that each wait for all four to have
// started finish only if four workers run them at once.
TEST(ThreadPoolExecutorTest, BlockingJobsFanOut) {
    ThreadPoolExecutor ex(4);
    std::latch all_started(4);
    std::vector<ConcurrentFuture<int>> futures;
    for (int i = 0; i < 4; ++i)
        futures.push_back(ex.submit([&all_started, i] {
            all_started.arrive_and_wait();
            return i;
        }));
    int sum = 0;
    for (auto& f : futures)
        sum += f.result();
    EXPECT_EQ(sum, 6);
    EXPECT_EQ(ex.threads(), 4);
}

// Stress: four threads submit 20,000 small jobs each, in bursts and one by one, while the
// workers come and go between busy-waiting and sleeping; every job runs once.
TEST(ThreadPoolExecutorTest, ManySubmittersNoJobLost) {
    ThreadPoolExecutor ex(3);
    std::atomic<long long> sum{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < 4; ++t)
        submitters.emplace_back([&, t] {
            std::vector<ConcurrentFuture<void>> futures;
            for (int i = 0; i < 20000; ++i) {
                futures.push_back(ex.submit([&sum, i] { sum += i; }));
                if ((i + t) % 1000 == 0) { // let the pool run dry now and then
                    for (auto& f : futures)
                        f.result();
                    futures.clear();
                }
            }
            for (auto& f : futures)
                f.result();
        });
    for (auto& s : submitters)
        s.join();
    EXPECT_EQ(sum.load(), 4LL * (20000LL * 19999 / 2));
    EXPECT_LE(ex.threads(), 3);
}

// A queued job whose future is cancelled is never run.
TEST(ThreadPoolExecutorTest, CancelledBeforeStart) {
    ThreadPoolExecutor ex(1);
    Gate gate;
    std::latch running(1);
    auto first = ex.submit([&] {
        running.count_down();
        gate.wait();
    });
    std::atomic<bool> ran{false};
    auto second = ex.submit([&] { ran = true; });
    running.wait();
    EXPECT_TRUE(second.cancel());
    EXPECT_FALSE(first.cancel()); // running
    gate.open();
    ex.shutdown();
    EXPECT_FALSE(ran.load());
}

// ConcurrentFuture: states, result(timeout) raising TimeoutError, set_result/set_exception rules,
// and done callbacks (run at once when already done, else by the completing thread).
TEST(ConcurrentFutureTest, States) {
    ConcurrentFuture<int> f;
    EXPECT_FALSE(f.done());
    EXPECT_THROW(f.result(0), TimeoutError);
    EXPECT_THROW(f.result(std::chrono::milliseconds(1)), TimeoutError);
    EXPECT_THROW(f.exception(0.0), TimeoutError);
    std::vector<int> seen;
    f.add_done_callback([&](const ConcurrentFuture<int>& d) { seen.push_back(d.result()); });
    std::thread t([&] { f.set_result(5); });
    t.join();
    EXPECT_EQ(seen, std::vector<int>{5});
    EXPECT_EQ(f.result(), 5);
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_THROW(f.set_result(6), InvalidStateError);
    EXPECT_FALSE(f.cancel());
    f.add_done_callback([&] { seen.push_back(0); });
    EXPECT_EQ(seen, (std::vector<int>{5, 0}));

    ConcurrentFuture<void> c;
    EXPECT_TRUE(c.cancel());
    EXPECT_TRUE(c.cancel());
    EXPECT_TRUE(c.cancelled());
    EXPECT_FALSE(c.set_running_or_notify_cancel());
    EXPECT_THROW(c.result(), CancelledError);
    EXPECT_THROW(c.set_exception(std::make_exception_ptr(ValueError("x"))), InvalidStateError);

    ConcurrentFuture<void> r;
    EXPECT_TRUE(r.set_running_or_notify_cancel());
    EXPECT_TRUE(r.running());
    EXPECT_FALSE(r.cancel());
    r.set_result();
    r.result();
}

// A future's result waited for by several threads reaches each one.
TEST(ConcurrentFutureTest, ManyWaiters) {
    ConcurrentFuture<int> f;
    std::atomic<int> sum{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i)
        waiters.emplace_back([&] { sum += f.result(); });
    f.set_result(10);
    for (auto& t : waiters)
        t.join();
    EXPECT_EQ(sum.load(), 40);
}

// run_in_executor on a user executor; a cancelled future keeps a queued function from running;
// after shutdown_default_executor() the default executor refuses with RuntimeError.
TEST_F(ExecutorTest, RunInExecutor) {
    ThreadPoolExecutor ex(1);
    EXPECT_EQ(loop->run_until_complete(loop->run_in_executor(
                  &ex, [](int x) { return x + 1; }, 1)),
              2);

    Gate gate;
    std::latch running(1);
    std::atomic<bool> ran{false};
    Future<void> busy = loop->run_in_executor(&ex, [&] {
        running.count_down();
        gate.wait();
    });
    Future<void> queued = loop->run_in_executor(&ex, [&] { ran = true; });
    running.wait();
    queued.cancel();
    gate.open();
    loop->run_until_complete(busy);
    ex.shutdown();
    EXPECT_FALSE(ran.load());

    run(loop->shutdown_default_executor());
    try {
        (void)loop->run_in_executor(nullptr, [] {});
        ADD_FAILURE() << "no exception";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Executor shutdown has been called");
    }
}

// run() shuts the default executor down before closing the loop: a job still running when main
// returns delivers its result to the loop (its done callback runs).
TEST(RunExecutorTest, RunWaitsForDefaultExecutor) {
    bool delivered = false;
    Gate gate;
    auto main = [&]() -> Coro<> {
        Future<int> f = get_running_loop().run_in_executor(nullptr, [&] {
            gate.wait();
            return 3;
        });
        f.add_done_callback([&](const Future<int>& d) { delivered = d.result() == 3; });
        gate.open();
        co_return;
    };
    run(main());
    EXPECT_TRUE(delivered);
}

} // namespace
