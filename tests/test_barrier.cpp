// asyncio.Barrier: CPython's test_locks.py BarrierTests (each test is named after its CPython class
// and method).
#include <asyncio.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "locks_support.hpp"

namespace {

using namespace asyncio::testing::locks;

// ---------------------------------------------------------------------------------------------
// BarrierTests (N = 5 unless the case says otherwise)

constexpr int N = 5;

Coro<int> barrier_wait(Barrier* b) { co_return co_await b->wait(); }

// CPython's BarrierTests.gather_tasks: n tasks of coro(st), awaited together.
template <class S>
Coro<void> gather_tasks(int n, S* st, std::type_identity_t<Coro<void> (*)(S*)> coro) {
    std::vector<Task<void>> tasks;
    for (int i = 0; i < n; ++i)
        tasks.push_back(asyncio::create_task(coro(st)));
    co_await asyncio::gather(tasks);
}

// The first phase of test_abort_barrier_when_exception(_then_resetting): the task that gets
// index N/2 fails and aborts the barrier; the others see BrokenBarrierError.
Coro<void> abort_on_exception(Barrier* barrier, int* results1, int* results2) {
    bool failed = false;
    try {
        int i = co_await barrier->wait();
        if (i == N / 2)
            throw std::runtime_error("RuntimeError");
        co_await barrier->wait();
        ++*results1;
    } catch (const BrokenBarrierError&) {
        ++*results2;
    } catch (const std::runtime_error&) {
        failed = true;
    }
    if (failed)
        barrier->abort();
}

TEST_F(LocksTest, BarrierTests_test_repr) {
    Barrier barrier(N);
    run([](Barrier* barrier, asyncio::EventLoop* loop) -> Coro<void> {
        EXPECT_TRUE(repr_matches(repr(*barrier)));
        EXPECT_TRUE(contains(repr(*barrier), "filling"));
        std::vector<Task<int>> waiters;
        int incr = 2;
        for (int i = 0; i < incr; ++i)
            waiters.push_back(asyncio::create_task(barrier_wait(barrier)));
        co_await sleep(0);
        EXPECT_TRUE(repr_matches(repr(*barrier)));
        EXPECT_TRUE(contains(repr(*barrier), "waiters:2/5"));
        EXPECT_TRUE(contains(repr(*barrier), "filling"));
        // The missing waiters.
        for (int i = 0; i < barrier->parties() - barrier->n_waiting(); ++i)
            waiters.push_back(asyncio::create_task(barrier_wait(barrier)));
        co_await sleep(0);
        EXPECT_TRUE(repr_matches(repr(*barrier)));
        EXPECT_TRUE(contains(repr(*barrier), "draining"));
        // Some more waiters, and reset.
        for (int i = 0; i < incr; ++i)
            waiters.push_back(asyncio::create_task(barrier_wait(barrier)));
        co_await sleep(0);
        barrier->reset();
        EXPECT_TRUE(repr_matches(repr(*barrier)));
        EXPECT_TRUE(contains(repr(*barrier), "resetting"));
        // Some more again, and abort.
        for (int i = 0; i < incr; ++i)
            waiters.push_back(asyncio::create_task(barrier_wait(barrier)));
        co_await sleep(0);
        barrier->abort();
        EXPECT_TRUE(repr_matches(repr(*barrier)));
        EXPECT_TRUE(contains(repr(*barrier), "broken"));
        EXPECT_TRUE(barrier->broken());
        co_await asyncio::gather(asyncio::return_exceptions, waiters);
        (void)loop;
    }(&barrier, loop.get()));
}

TEST_F(LocksTest, BarrierTests_test_barrier_parties) {
    EXPECT_THROW(Barrier(0), asyncio::ValueError);
    EXPECT_THROW(Barrier(-4), asyncio::ValueError);
    Barrier b(N);
    EXPECT_EQ(b.parties(), N);
}

TEST_F(LocksTest, BarrierTests_test_context_manager) {
    // `async with barrier as i` is `int i = co_await barrier.wait()`.
    Barrier barrier(3);
    Ints results;
    run([](Barrier* barrier, Ints* results) -> Coro<void> {
        std::vector<Task<void>> tasks;
        for (int i = 0; i < 3; ++i)
            tasks.push_back(asyncio::create_task([](Barrier* b, Ints* results) -> Coro<void> {
                results->push_back(co_await b->wait());
            }(barrier, results)));
        co_await asyncio::gather(tasks);
    }(&barrier, &results));
    std::sort(results.begin(), results.end());
    EXPECT_EQ(results, Ints({0, 1, 2}));
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(barrier.broken());
}

TEST_F(LocksTest, BarrierTests_test_filling_one_task) {
    Barrier barrier(1);
    EXPECT_EQ(run(barrier_wait(&barrier)), 0);
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(barrier.broken());
}

TEST_F(LocksTest, BarrierTests_test_filling_one_task_twice) {
    Barrier barrier(1);
    run([](Barrier* barrier) -> Coro<void> {
        auto t1 = asyncio::create_task(barrier_wait(barrier));
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 0);
        auto t2 = asyncio::create_task(barrier_wait(barrier));
        co_await sleep(0);
        EXPECT_EQ(t1.result(), t2.result());
        EXPECT_EQ(t1.done(), t2.done());
        EXPECT_EQ(barrier->n_waiting(), 0);
        EXPECT_FALSE(barrier->broken());
    }(&barrier));
}

TEST_F(LocksTest, BarrierTests_test_filling_task_by_task) {
    Barrier barrier(3);
    run([](Barrier* barrier) -> Coro<void> {
        auto t1 = asyncio::create_task(barrier_wait(barrier));
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 1);
        EXPECT_TRUE(contains(repr(*barrier), "filling"));
        auto t2 = asyncio::create_task(barrier_wait(barrier));
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 2);
        EXPECT_TRUE(contains(repr(*barrier), "filling"));
        auto t3 = asyncio::create_task(barrier_wait(barrier));
        co_await sleep(0);
        std::vector<Task<int>> all;
        all.push_back(t1);
        all.push_back(t2);
        all.push_back(t3);
        co_await asyncio::wait(all);
        EXPECT_EQ(barrier->n_waiting(), 0);
        EXPECT_FALSE(barrier->broken());
    }(&barrier));
}

TEST_F(LocksTest, BarrierTests_test_filling_tasks_wait_twice) {
    Barrier barrier(N);
    std::vector<bool> results;
    run([](Barrier* barrier, std::vector<bool>* results) -> Coro<void> {
        std::vector<Task<void>> tasks;
        for (int i = 0; i < N; ++i)
            tasks.push_back(
                asyncio::create_task([](Barrier* b, std::vector<bool>* results) -> Coro<void> {
                    co_await b->wait();
                    results->push_back(true);
                    co_await b->wait();
                    results->push_back(false);
                }(barrier, results)));
        co_await asyncio::gather(tasks);
    }(&barrier, &results));
    EXPECT_EQ(results.size(), 2u * N);
    EXPECT_EQ(std::count(results.begin(), results.end(), true), N);
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(barrier.broken());
}

TEST_F(LocksTest, BarrierTests_test_filling_tasks_check_return_value) {
    Barrier barrier(N);
    int results1 = 0, results2 = 0;
    auto res = run([](Barrier* barrier, int* r1, int* r2) -> Coro<std::vector<int>> {
        std::vector<Task<int>> tasks;
        for (int i = 0; i < N; ++i)
            tasks.push_back(asyncio::create_task([](Barrier* b, int* r1, int* r2) -> Coro<int> {
                co_await b->wait();
                ++*r1;
                int i = co_await b->wait();
                ++*r2;
                co_return i;
            }(barrier, r1, r2)));
        co_return co_await asyncio::gather(tasks);
    }(&barrier, &results1, &results2));
    EXPECT_EQ(results1, N);
    EXPECT_EQ(results2, N);
    std::sort(res.begin(), res.end());
    EXPECT_EQ(res, Ints({0, 1, 2, 3, 4}));
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(barrier.broken());
}

TEST_F(LocksTest, BarrierTests_test_draining_state) {
    Barrier barrier(N);
    std::vector<bool> results;
    run([](Barrier* barrier, std::vector<bool>* results) -> Coro<void> {
        std::vector<Task<void>> tasks;
        for (int i = 0; i < N; ++i)
            tasks.push_back(
                asyncio::create_task([](Barrier* b, std::vector<bool>* results) -> Coro<void> {
                    co_await b->wait();
                    // The state goes back to filling once the last task has left.
                    results->push_back(contains(repr(*b), "draining"));
                }(barrier, results)));
        co_await asyncio::gather(tasks);
    }(&barrier, &results));
    ASSERT_EQ(results.size(), size_t(N));
    EXPECT_FALSE(results.back());
    EXPECT_TRUE(std::all_of(results.begin(), results.end() - 1, [](bool b) { return b; }));
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(barrier.broken());
}

TEST_F(LocksTest, BarrierTests_test_blocking_tasks_while_draining) {
    struct State {
        Barrier barrier{N};
        Barrier barrier_nowaiting{N - 2};
        int rewait_n = 2;
    } st;
    // Success: barrier_nowaiting was waited on exactly N - rewait times.
    run(gather_tasks(N, &st, [](State* st) -> Coro<void> {
        co_await st->barrier.wait();
        if (st->rewait_n > 0) {
            --st->rewait_n;
            co_await st->barrier.wait(); // waits again, for the other tasks
        } else {
            co_await st->barrier_nowaiting.wait(); // the end of draining
            co_await st->barrier.wait();
        }
    }));
}

TEST_F(LocksTest, BarrierTests_test_filling_tasks_cancel_one) {
    Barrier barrier(3);
    int results = 0;
    run([](Barrier* barrier, int* results) -> Coro<void> {
        auto coro = [](Barrier* b, int* results) -> Coro<void> {
            co_await b->wait();
            ++*results;
        };
        auto t1 = asyncio::create_task(coro(barrier, results));
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 1);
        auto t2 = asyncio::create_task(coro(barrier, results));
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 2);
        t1.cancel();
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 1);
        EXPECT_THROW(co_await t1, CancelledError);
        EXPECT_TRUE(t1.cancelled());
        auto t3 = asyncio::create_task(coro(barrier, results));
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 2);
        auto t4 = asyncio::create_task(coro(barrier, results));
        co_await asyncio::gather(t2, t3, t4);
        EXPECT_EQ(*results, 3);
        EXPECT_EQ(barrier->n_waiting(), 0);
        EXPECT_FALSE(barrier->broken());
    }(&barrier, &results));
}

TEST_F(LocksTest, BarrierTests_test_reset_barrier) {
    Barrier barrier(1);
    run([](Barrier* barrier, asyncio::EventLoop* loop) -> Coro<void> {
        loop->call_soon([barrier] { barrier->reset(); });
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 0);
        EXPECT_FALSE(barrier->broken());
    }(&barrier, loop.get()));
}

Coro<void> wait_catch_broken(Barrier* b, int* results) {
    try {
        co_await b->wait();
    } catch (const BrokenBarrierError&) {
        ++*results;
    }
}

TEST_F(LocksTest, BarrierTests_test_reset_barrier_while_tasks_waiting) {
    Barrier barrier(N);
    int results = 0;
    run([](Barrier* barrier, int* results, asyncio::EventLoop* loop) -> Coro<void> {
        std::vector<Task<void>> tasks;
        for (int i = 0; i < N - 1; ++i)
            tasks.push_back(asyncio::create_task(wait_catch_broken(barrier, results)));
        co_await sleep(0);
        loop->call_soon([barrier] { barrier->reset(); });
        co_await asyncio::gather(tasks);
    }(&barrier, &results, loop.get()));
    EXPECT_EQ(results, N - 1);
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(contains(repr(barrier), "resetting"));
    EXPECT_FALSE(barrier.broken());
}

TEST_F(LocksTest, BarrierTests_test_reset_barrier_when_tasks_half_draining) {
    struct State {
        Barrier barrier{N};
        int results1 = 0;
        int passed = 0; // CPython reads barrier._count: the tasks still inside are N - passed
    } st;
    run(gather_tasks(N, &st, [](State* st) -> Coro<void> {
        try {
            co_await st->barrier.wait();
        } catch (const BrokenBarrierError&) {
            ++st->results1; // the tasks still waiting
            co_return;
        }
        // A drained task, outside the barrier.
        if (N - ++st->passed == N / 2)
            st->barrier.reset();
    }));
    EXPECT_EQ(st.results1, N / 2);
    EXPECT_EQ(st.barrier.n_waiting(), 0);
    EXPECT_FALSE(contains(repr(st.barrier), "resetting"));
    EXPECT_FALSE(st.barrier.broken());
}

TEST_F(LocksTest, BarrierTests_test_reset_barrier_when_tasks_half_draining_half_blocking) {
    struct State {
        Barrier barrier{N};
        int results1 = 0;
        int results2 = 0;
        int count = 0;
    } st;
    run(gather_tasks(N, &st, [](State* st) -> Coro<void> {
        bool broken = false;
        try {
            co_await st->barrier.wait();
        } catch (const BrokenBarrierError&) {
            broken = true;
        }
        if (broken) {
            ++st->results1; // still waiting: wait again to reach the parties
            co_await st->barrier.wait();
        } else if (++st->count > N / 2) {
            st->barrier.reset(); // BrokenBarrierError for the waiting tasks
            co_await st->barrier.wait();
        } else {
            try {
                co_await st->barrier.wait();
            } catch (const BrokenBarrierError&) {
                ++st->results2; // never: blocked tasks go on waiting
            }
        }
    }));
    EXPECT_EQ(st.results1, N / 2);
    EXPECT_EQ(st.results2, 0);
    EXPECT_EQ(st.barrier.n_waiting(), 0);
    EXPECT_FALSE(contains(repr(st.barrier), "resetting"));
    EXPECT_FALSE(st.barrier.broken());
}

TEST_F(LocksTest, BarrierTests_test_reset_barrier_while_tasks_waiting_and_waiting_again) {
    struct State {
        Barrier barrier{N};
        int results1 = 0;
        int results2 = 0;
    } st;
    run([](State* st, asyncio::EventLoop* loop) -> Coro<void> {
        std::vector<Task<void>> tasks;
        for (int i = 0; i < N - 1; ++i)
            tasks.push_back(asyncio::create_task([](State* st) -> Coro<void> {
                try {
                    co_await st->barrier.wait();
                } catch (const BrokenBarrierError&) {
                    ++st->results1;
                }
                co_await st->barrier.wait(); // CPython's `finally:`
                ++st->results2;
            }(st)));
        // Reset: the N-1 waiting tasks get BrokenBarrierError.
        loop->call_soon([st] { st->barrier.reset(); });
        co_await sleep(0);
        // Completes the waiting tasks' second wait.
        auto last = asyncio::create_task([](State* st) -> Coro<void> {
            co_await st->barrier.wait();
            ++st->results2;
        }(st));
        co_await asyncio::gather(tasks);
        co_await last;
    }(&st, loop.get()));
    EXPECT_FALSE(st.barrier.broken());
    EXPECT_EQ(st.results1, N - 1);
    EXPECT_EQ(st.results2, N);
    EXPECT_EQ(st.barrier.n_waiting(), 0);
}

TEST_F(LocksTest, BarrierTests_test_reset_barrier_while_tasks_draining) {
    struct State {
        Barrier barrier{N};
        int results1 = 0;
        int results2 = 0;
        int results3 = 0;
        int count = 0;
    } st;
    run(gather_tasks(N, &st, [](State* st) -> Coro<void> {
        co_await st->barrier.wait();
        if (++st->count == N) {
            st->barrier.reset(); // the last task out of the barrier
            co_await st->barrier.wait();
        } else {
            try {
                co_await st->barrier.wait(); // the second wait
                ++st->results1;
            } catch (const std::exception&) {
                ++st->results2; // never
            }
        }
        // Pass the barrier once more: this one must complete.
        co_await st->barrier.wait();
        ++st->results3;
    }));
    EXPECT_FALSE(st.barrier.broken());
    EXPECT_EQ(st.results1, N - 1);
    EXPECT_EQ(st.results2, 0);
    EXPECT_EQ(st.results3, N);
    EXPECT_EQ(st.barrier.n_waiting(), 0);
}

TEST_F(LocksTest, BarrierTests_test_abort_barrier) {
    Barrier barrier(1);
    run([](Barrier* barrier, asyncio::EventLoop* loop) -> Coro<void> {
        loop->call_soon([barrier] { barrier->abort(); });
        co_await sleep(0);
        EXPECT_EQ(barrier->n_waiting(), 0);
        EXPECT_TRUE(barrier->broken());
    }(&barrier, loop.get()));
}

TEST_F(LocksTest, BarrierTests_test_abort_barrier_when_tasks_half_draining_half_blocking) {
    struct State {
        Barrier barrier{N};
        int results1 = 0;
        int results2 = 0;
        int count = 0;
    } st;
    run(gather_tasks(N, &st, [](State* st) -> Coro<void> {
        try {
            co_await st->barrier.wait();
        } catch (const BrokenBarrierError&) {
            ++st->results1; // tasks waiting to drain
            co_return;
        }
        if (++st->count > N / 2) {
            st->barrier.abort(); // BrokenBarrierError for every task
        } else {
            try {
                co_await st->barrier.wait();
            } catch (const BrokenBarrierError&) {
                ++st->results2; // the blocked tasks (already drained)
            }
        }
    }));
    EXPECT_TRUE(st.barrier.broken());
    EXPECT_EQ(st.results1, N / 2);
    EXPECT_EQ(st.results2, N - N / 2 - 1);
    EXPECT_EQ(st.barrier.n_waiting(), 0);
    EXPECT_FALSE(contains(repr(st.barrier), "resetting"));
}

TEST_F(LocksTest, BarrierTests_test_abort_barrier_when_exception) {
    // From threading.Barrier's lock_tests.test_reset.
    struct State {
        Barrier barrier{N};
        int results1 = 0;
        int results2 = 0;
    } st;
    run(gather_tasks(N, &st, [](State* st) -> Coro<void> {
        co_await abort_on_exception(&st->barrier, &st->results1, &st->results2);
    }));
    EXPECT_TRUE(st.barrier.broken());
    EXPECT_EQ(st.results1, 0);
    EXPECT_EQ(st.results2, N - 1);
    EXPECT_EQ(st.barrier.n_waiting(), 0);
}

TEST_F(LocksTest, BarrierTests_test_abort_barrier_when_exception_then_resetting) {
    // From threading.Barrier's lock_tests.test_abort_and_reset.
    struct State {
        Barrier barrier1{N};
        Barrier barrier2{N};
        int results1 = 0;
        int results2 = 0;
        int results3 = 0;
    } st;
    run(gather_tasks(N, &st, [](State* st) -> Coro<void> {
        co_await abort_on_exception(&st->barrier1, &st->results1, &st->results2);
        // Synchronise and reset barrier1: first so that everyone has left it, after so
        // that no one enters it before the reset.
        int i = co_await st->barrier2.wait();
        if (i == N / 2)
            st->barrier1.reset();
        co_await st->barrier2.wait();
        co_await st->barrier1.wait();
        ++st->results3;
    }));
    EXPECT_FALSE(st.barrier1.broken());
    EXPECT_EQ(st.results1, 0);
    EXPECT_EQ(st.results2, N - 1);
    EXPECT_EQ(st.results3, N);
    EXPECT_EQ(st.barrier1.n_waiting(), 0);
}

} // namespace
