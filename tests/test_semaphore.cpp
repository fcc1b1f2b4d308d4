// asyncio.Semaphore and BoundedSemaphore: CPython's test_locks.py SemaphoreTests, and the
// contention stress test (each test is named after its CPython class and method).
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
// SemaphoreTests

TEST_F(LocksTest, SemaphoreTests_test_initial_value_zero) {
    Semaphore sem(0);
    EXPECT_TRUE(sem.locked());
}

TEST_F(LocksTest, SemaphoreTests_test_repr) {
    Semaphore sem;
    EXPECT_TRUE(ends_with(repr(sem), "[unlocked, value:1]>"));
    EXPECT_TRUE(repr_matches(repr(sem)));
    run([](Semaphore* sem) -> Coro<void> {
        co_await sem->acquire();
        EXPECT_TRUE(ends_with(repr(*sem), "[locked]>"));
        EXPECT_FALSE(contains(repr(*sem), "waiters"));
        EXPECT_TRUE(repr_matches(repr(*sem)));
        // CPython appends mocks to _waiters; here tasks wait.
        auto t1 = asyncio::create_task(sem_acquire(sem));
        co_await sleep(0);
        EXPECT_TRUE(contains(repr(*sem), "waiters:1"));
        EXPECT_TRUE(repr_matches(repr(*sem)));
        auto t2 = asyncio::create_task(sem_acquire(sem));
        co_await sleep(0);
        EXPECT_TRUE(contains(repr(*sem), "waiters:2"));
        EXPECT_TRUE(repr_matches(repr(*sem)));
        t1.cancel();
        t2.cancel();
        co_await asyncio::gather(asyncio::return_exceptions, t1, t2);
    }(&sem));
}

TEST_F(LocksTest, SemaphoreTests_test_semaphore_value) {
    expect_raises<asyncio::ValueError>([] { Semaphore sem(-1); },
                                       "Semaphore initial value must be >= 0");
}

TEST_F(LocksTest, SemaphoreTests_test_acquire) {
    Semaphore sem(3);
    Ints result;
    run([](Semaphore* sem, Ints* result) -> Coro<void> {
        EXPECT_TRUE(co_await sem->acquire());
        EXPECT_TRUE(co_await sem->acquire());
        EXPECT_FALSE(sem->locked());
        auto t1 = asyncio::create_task(acquire_append(sem, result, 1));
        auto t2 = asyncio::create_task(acquire_append(sem, result, 2));
        auto t3 = asyncio::create_task(acquire_append(sem, result, 3));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1}));
        EXPECT_TRUE(sem->locked());
        EXPECT_TRUE(contains(repr(*sem), "waiters:2"));

        auto t4 = asyncio::create_task(acquire_append(sem, result, 4));
        sem->release();
        sem->release();
        EXPECT_TRUE(sem->locked()); // both slots went to the woken waiters (value 0)
        co_await sleep(0);
        EXPECT_EQ(result->size(), 3u);
        EXPECT_TRUE(sem->locked());
        EXPECT_TRUE(contains(repr(*sem), "waiters:1"));
        EXPECT_TRUE(t1.done() && t1.result());
        EXPECT_EQ(done_true(t2) + done_true(t3) + done_true(t4), 2);
        sem->release();
        co_await asyncio::gather(t2, t3, t4);
    }(&sem, &result));
}

TEST_F(LocksTest, SemaphoreTests_test_acquire_cancel) {
    Semaphore sem;
    run([](Semaphore* sem, asyncio::EventLoop* loop) -> Coro<void> {
        co_await sem->acquire();
        auto acquire = asyncio::create_task(sem_acquire(sem));
        loop->call_soon([acquire]() mutable { acquire.cancel(); });
        EXPECT_THROW(co_await acquire, CancelledError);
        EXPECT_FALSE(contains(repr(*sem), "waiters"));
    }(&sem, loop.get()));
}

TEST_F(LocksTest, SemaphoreTests_test_acquire_cancel_before_awoken) {
    Semaphore sem(0);
    run([](Semaphore* sem) -> Coro<void> {
        auto t1 = asyncio::create_task(sem_acquire(sem));
        auto t2 = asyncio::create_task(sem_acquire(sem));
        auto t3 = asyncio::create_task(sem_acquire(sem));
        auto t4 = asyncio::create_task(sem_acquire(sem));
        co_await sleep(0);
        t1.cancel();
        t2.cancel();
        sem->release();
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_EQ(int(t3.done()) + int(t4.done()), 1);
        EXPECT_TRUE(t3.done());
        EXPECT_FALSE(t4.done());
        t3.cancel();
        t4.cancel();
        co_await sleep(0);
    }(&sem));
}

TEST_F(LocksTest, SemaphoreTests_test_acquire_hang) {
    Semaphore sem(0);
    run([](Semaphore* sem) -> Coro<void> {
        auto t1 = asyncio::create_task(sem_acquire(sem));
        auto t2 = asyncio::create_task(sem_acquire(sem));
        co_await sleep(0);
        t1.cancel();
        sem->release();
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_TRUE(sem->locked());
        EXPECT_TRUE(t2.done());
    }(&sem));
}

TEST_F(LocksTest, SemaphoreTests_test_acquire_no_hang) {
    Semaphore sem(1);
    Task<void> t2;
    run([](Semaphore* sem, Task<void>* t2) -> Coro<void> {
        auto t1 = asyncio::create_task([](Semaphore* sem, Task<void>* t2) -> Coro<void> {
            {
                auto held = co_await sem->scoped();
                co_await sleep(0);
            }
            t2->cancel();
        }(sem, t2));
        *t2 = asyncio::create_task([](Semaphore* sem) -> Coro<void> {
            auto held = co_await sem->scoped();
            ADD_FAILURE() << "the cancelled task got the semaphore";
        }(sem));
        auto [r1, r2] = co_await asyncio::gather(asyncio::return_exceptions, t1, *t2);
        EXPECT_TRUE(r1.has_value());
        EXPECT_TRUE(asyncio::testing::holds<CancelledError>(r2.error()));
        co_await asyncio::wait_for(sem->acquire(), 1.0);
    }(&sem, &t2));
}

TEST_F(LocksTest, SemaphoreTests_test_release_not_acquired) {
    BoundedSemaphore sem;
    expect_raises<asyncio::ValueError>([&] { sem.release(); },
                                       "BoundedSemaphore released too many times");
}

TEST_F(LocksTest, SemaphoreTests_test_release_no_waiters) {
    Semaphore sem;
    run(release_no_waiters(&sem));
}

Coro<void> fifo_coro(Semaphore* sem, std::vector<std::string>* result, std::string tag) {
    co_await sem->acquire();
    result->push_back(tag + "_1");
    co_await sleep(0.01);
    sem->release();
    co_await sem->acquire();
    result->push_back(tag + "_2");
    co_await sleep(0.01);
    sem->release();
}

TEST_F(LocksTest, SemaphoreTests_test_acquire_fifo_order) {
    Semaphore sem(1);
    std::vector<std::string> result;
    run([](Semaphore* sem, std::vector<std::string>* result) -> Coro<void> {
        co_await asyncio::gather(fifo_coro(sem, result, "c1"), fifo_coro(sem, result, "c2"),
                                 fifo_coro(sem, result, "c3"));
    }(&sem, &result));
    std::vector<std::string> expected{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"};
    EXPECT_EQ(result, expected);
}

TEST_F(LocksTest, SemaphoreTests_test_acquire_fifo_order_2) {
    Semaphore sem(1);
    Ints result;
    run([](Semaphore* sem, Ints* result) -> Coro<void> {
        auto t1 = asyncio::create_task(acquire_append(sem, result, 1));
        auto t2 = asyncio::create_task([](Semaphore* sem, Ints* result) -> Coro<bool> {
            co_await sem->acquire();
            result->push_back(2);
            sem->release();
            co_await sem->acquire();
            result->push_back(4);
            co_return true;
        }(sem, result));
        auto t3 = asyncio::create_task(acquire_append(sem, result, 3));
        co_await sleep(0);
        sem->release();
        sem->release();
        co_await asyncio::gather(t1, t2, t3);
        EXPECT_EQ(*result, Ints({1, 2, 3, 4}));
    }(&sem, &result));
}

TEST_F(LocksTest, SemaphoreTests_test_acquire_fifo_order_3) {
    Semaphore sem(0);
    Ints result;
    run([](Semaphore* sem, Ints* result) -> Coro<void> {
        auto t1 = asyncio::create_task(acquire_append(sem, result, 1));
        auto t2 = asyncio::create_task(acquire_append(sem, result, 2));
        auto t3 = asyncio::create_task(acquire_append(sem, result, 3));
        co_await sleep(0);
        t1.cancel();
        co_await sleep(0);
        sem->release();
        sem->release();
        co_await asyncio::gather(asyncio::return_exceptions, t1, t2, t3);
        EXPECT_EQ(*result, Ints({2, 3}));
    }(&sem, &result));
}

TEST_F(LocksTest, SemaphoreTests_test_acquire_fifo_order_4) {
    // A successful acquire() wakes every task that queued behind it because of FIFO.
    struct State {
        Semaphore sem{0};
        Ints result;
        Task<bool> t4;
    } st;
    run([](State* st) -> Coro<void> {
        auto c4 = [](State* st) -> Coro<bool> {
            st->result.push_back(4);
            co_return true;
        };
        auto t1 = asyncio::create_task([](State* st, decltype(c4) c4) -> Coro<bool> {
            EXPECT_TRUE(st->sem.locked());
            co_await st->sem.acquire();
            // Every waiting task was woken: no slot is left free.
            EXPECT_TRUE(st->sem.locked());
            // A fourth task runs after c3, not c2.
            st->t4 = asyncio::create_task(c4(st));
            st->result.push_back(1);
            co_return true;
        }(st, c4));
        auto t2 = asyncio::create_task([](State* st) -> Coro<bool> {
            // Release three times, for c1, c2 and c3.
            st->sem.release();
            st->sem.release();
            st->sem.release();
            EXPECT_TRUE(contains(repr(st->sem), "waiters:1")); // c1, woken, not run yet
            EXPECT_TRUE(st->sem.locked());
            co_await st->sem.acquire();
            st->result.push_back(2);
            co_return true;
        }(st));
        auto t3 = asyncio::create_task([](State* st) -> Coro<bool> {
            co_await st->sem.acquire();
            EXPECT_TRUE(st->sem.locked());
            st->result.push_back(3);
            co_return true;
        }(st));
        co_await sleep(0);
        // Three tasks are in the queue; the first has not woken up yet.
        EXPECT_TRUE(contains(repr(st->sem), "waiters:3"));
        co_await sleep(0);
        co_await asyncio::gather(t1, t2, t3, st->t4);
        EXPECT_EQ(st->result, Ints({1, 2, 3, 4}));
    }(&st));
}

// Not in CPython: the stress of the issue. 10,000 tasks contend a Semaphore(10) while a
// canceller cancels random tasks at random moments (seeded): never more than 10 holders, every
// task never cancelled gets in, and nothing is left behind.
TEST_F(LocksTest, SemaphoreStress_10000_tasks_random_cancellations) {
    constexpr int n = 10000;
    struct State {
        Semaphore sem{10};
        int holders = 0;
        int max_holders = 0;
        std::vector<char> entered = std::vector<char>(n, 0);
        std::vector<char> cancel_requested = std::vector<char>(n, 0);
    } st;
    run([](State* st) -> Coro<void> {
        std::mt19937 rng(12345);
        std::vector<Task<void>> tasks;
        tasks.reserve(n);
        for (int i = 0; i < n; ++i) {
            double hold = std::uniform_int_distribution<int>(0, 3)(rng) * 0.001;
            tasks.push_back(asyncio::create_task([](State* st, int i, double hold) -> Coro<void> {
                auto held = co_await st->sem.scoped();
                st->entered[i] = 1;
                st->max_holders = std::max(st->max_holders, ++st->holders);
                try {
                    co_await sleep(hold);
                } catch (...) {
                    --st->holders;
                    throw;
                }
                --st->holders;
            }(st, i, hold)));
        }
        // Cancel a random fifth of them, at random moments of the run.
        for (int k = 0; k < n / 5; ++k) {
            int i = std::uniform_int_distribution<int>(0, n - 1)(rng);
            double when = std::uniform_int_distribution<int>(0, 2000)(rng) * 0.0005;
            asyncio::get_running_loop().call_later(when, [st, i, t = tasks[i]]() mutable {
                if (t.cancel())
                    st->cancel_requested[i] = 1;
            });
        }
        co_await asyncio::gather(asyncio::return_exceptions, tasks);
        co_await sleep(2); // past every canceller
        int cancelled = 0;
        for (int i = 0; i < n; ++i) {
            EXPECT_TRUE(tasks[i].done());
            if (!st->cancel_requested[i]) {
                EXPECT_TRUE(st->entered[i]) << "task " << i << " never got in";
            }
            cancelled += tasks[i].cancelled();
        }
        EXPECT_GT(cancelled, 0);
        EXPECT_EQ(asyncio::all_tasks().size(), 1u); // this one
    }(&st));
    EXPECT_LE(st.max_holders, 10);
    EXPECT_EQ(st.max_holders, 10);
    EXPECT_EQ(st.holders, 0);
    EXPECT_TRUE(ends_with(repr(st.sem), "[unlocked, value:10]>")) << repr(st.sem);
}

} // namespace
