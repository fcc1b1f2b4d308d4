// asyncio.Condition: CPython's test_locks.py ConditionTests (each test is named after its CPython
// class and method).
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
// ConditionTests

Coro<bool> cond_wait_append(Condition* cond, Ints* result, int tag, bool release) {
    co_await cond->acquire();
    bool ok = co_await cond->wait();
    if (ok) {
        result->push_back(tag);
        if (release)
            cond->release();
    }
    co_return true;
}

TEST_F(LocksTest, ConditionTests_test_wait) {
    Condition cond;
    Ints result;
    run([](Condition* cond, Ints* result) -> Coro<void> {
        auto t1 = asyncio::create_task(cond_wait_append(cond, result, 1, false));
        auto t2 = asyncio::create_task(cond_wait_append(cond, result, 2, false));
        auto t3 = asyncio::create_task(cond_wait_append(cond, result, 3, false));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});
        EXPECT_FALSE(cond->locked());

        EXPECT_TRUE(co_await cond->acquire());
        cond->notify();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});
        EXPECT_TRUE(cond->locked());

        cond->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1}));
        EXPECT_TRUE(cond->locked());

        cond->notify(2);
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1}));
        EXPECT_TRUE(cond->locked());

        cond->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1, 2}));
        EXPECT_TRUE(cond->locked());

        cond->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1, 2, 3}));
        EXPECT_TRUE(cond->locked());

        expect_done_true(t1, t2, t3);
    }(&cond, &result));
}

Coro<bool> cond_wait(Condition* cond) { co_return co_await cond->wait(); }

TEST_F(LocksTest, ConditionTests_test_wait_cancel) {
    Condition cond;
    run([](Condition* cond, asyncio::EventLoop* loop) -> Coro<void> {
        co_await cond->acquire();
        auto wait = asyncio::create_task(cond_wait(cond));
        loop->call_soon([wait]() mutable { wait.cancel(); });
        EXPECT_THROW(co_await wait, CancelledError);
        EXPECT_FALSE(contains(repr(*cond), "waiters"));
        EXPECT_TRUE(cond->locked());
    }(&cond, loop.get()));
}

TEST_F(LocksTest, ConditionTests_test_wait_cancel_contested) {
    Condition cond;
    run([](Condition* cond, asyncio::EventLoop* loop) -> Coro<void> {
        co_await cond->acquire();
        EXPECT_TRUE(cond->locked());
        auto wait_task = asyncio::create_task(cond_wait(cond));
        co_await sleep(0);
        EXPECT_FALSE(cond->locked());

        // Notify, but contest the lock before cancelling.
        co_await cond->acquire();
        EXPECT_TRUE(cond->locked());
        cond->notify();
        loop->call_soon([wait_task]() mutable { wait_task.cancel(); });
        loop->call_soon([cond] { cond->release(); });
        try {
            co_await wait_task;
        } catch (const CancelledError&) {
            // Should not happen, since no cancellation points.
        }
        EXPECT_TRUE(cond->locked());
    }(&cond, loop.get()));
}

TEST_F(LocksTest, ConditionTests_test_wait_cancel_after_notify) {
    // bpo-32841.
    Condition cond;
    bool waited = false;
    run([](Condition* cond, bool* waited) -> Coro<void> {
        auto waiter = asyncio::create_task([](Condition* cond, bool* waited) -> Coro<void> {
            auto held = co_await cond->scoped();
            *waited = true;
            co_await cond->wait();
        }(cond, waited));
        co_await sleep(0); // start waiting
        co_await cond->acquire();
        cond->notify();
        co_await sleep(0); // get to acquire()
        waiter.cancel();
        co_await sleep(0); // activate cancellation
        cond->release();
        co_await sleep(0); // cancellation should occur
        EXPECT_TRUE(waiter.cancelled());
        EXPECT_TRUE(*waited);
    }(&cond, &waited));
}

TEST_F(LocksTest, ConditionTests_test_wait_unacquired) {
    Condition cond;
    run([](Condition* cond) -> Coro<void> {
        EXPECT_THROW(co_await cond->wait(), asyncio::RuntimeError);
    }(&cond));
}

TEST_F(LocksTest, ConditionTests_test_wait_for) {
    Condition cond;
    bool presult = false;
    Ints result;
    run([](Condition* cond, bool* presult, Ints* result) -> Coro<void> {
        auto t =
            asyncio::create_task([](Condition* cond, bool* presult, Ints* result) -> Coro<bool> {
                co_await cond->acquire();
                bool ok = co_await cond->wait_for([presult] { return *presult; });
                if (ok) {
                    result->push_back(1);
                    cond->release();
                }
                co_return true;
            }(cond, presult, result));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});

        co_await cond->acquire();
        cond->notify();
        cond->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});

        *presult = true;
        co_await cond->acquire();
        cond->notify();
        cond->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1}));
        EXPECT_TRUE(t.done() && t.result());
    }(&cond, &presult, &result));
}

TEST_F(LocksTest, ConditionTests_test_wait_for_unacquired) {
    Condition cond;
    run([](Condition* cond) -> Coro<void> {
        // The predicate may be true at once (its value is given back).
        int res = co_await cond->wait_for([] { return 123; });
        EXPECT_EQ(res, 123);
        EXPECT_THROW(co_await cond->wait_for([] { return false; }), asyncio::RuntimeError);
    }(&cond));
}

TEST_F(LocksTest, ConditionTests_test_notify) {
    Condition cond;
    Ints result;
    run([](Condition* cond, Ints* result) -> Coro<void> {
        auto t1 = asyncio::create_task(cond_wait_append(cond, result, 1, true));
        auto t2 = asyncio::create_task(cond_wait_append(cond, result, 2, true));
        auto t3 = asyncio::create_task(cond_wait_append(cond, result, 3, true));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});

        co_await cond->acquire();
        cond->notify(1);
        cond->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1}));

        co_await cond->acquire();
        cond->notify(1);
        cond->notify(2048);
        cond->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1, 2, 3}));
        expect_done_true(t1, t2, t3);
    }(&cond, &result));
}

TEST_F(LocksTest, ConditionTests_test_notify_all) {
    Condition cond;
    Ints result;
    run([](Condition* cond, Ints* result) -> Coro<void> {
        auto t1 = asyncio::create_task(cond_wait_append(cond, result, 1, true));
        auto t2 = asyncio::create_task(cond_wait_append(cond, result, 2, true));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});
        co_await cond->acquire();
        cond->notify_all();
        cond->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1, 2}));
        EXPECT_TRUE(t1.done() && t1.result() && t2.done() && t2.result());
    }(&cond, &result));
}

TEST_F(LocksTest, ConditionTests_test_notify_unacquired) {
    Condition cond;
    EXPECT_THROW(cond.notify(), asyncio::RuntimeError);
}

TEST_F(LocksTest, ConditionTests_test_notify_all_unacquired) {
    Condition cond;
    EXPECT_THROW(cond.notify_all(), asyncio::RuntimeError);
}

Coro<void> cond_wait_scoped(Condition* cond) {
    auto held = co_await cond->scoped();
    co_await cond->wait();
}

TEST_F(LocksTest, ConditionTests_test_repr) {
    Condition cond;
    EXPECT_TRUE(contains(repr(cond), "unlocked"));
    EXPECT_TRUE(repr_matches(repr(cond)));
    run([](Condition* cond) -> Coro<void> {
        co_await cond->acquire();
        EXPECT_TRUE(contains(repr(*cond), "locked"));
        // CPython appends mocks to _waiters; here tasks wait.
        auto t1 = asyncio::create_task(cond_wait_scoped(cond));
        auto t2 = asyncio::create_task(cond_wait_scoped(cond));
        cond->release();
        co_await sleep(0);
        EXPECT_TRUE(contains(repr(*cond), "waiters:2"));
        EXPECT_TRUE(repr_matches(repr(*cond)));
        t1.cancel();
        t2.cancel();
        co_await asyncio::gather(asyncio::return_exceptions, t1, t2);
    }(&cond));
}

TEST_F(LocksTest, ConditionTests_test_context_manager) {
    Condition cond;
    run(context_manager(&cond));
}

Coro<void> explicit_lock_case(Lock* lock, Condition* cond) {
    EXPECT_FALSE(lock->locked());
    EXPECT_FALSE(cond->locked());
    {
        auto held = co_await cond->scoped();
        EXPECT_TRUE(lock->locked());
        EXPECT_TRUE(cond->locked());
    }
    EXPECT_FALSE(lock->locked());
    EXPECT_FALSE(cond->locked());
    {
        auto held = co_await lock->scoped();
        EXPECT_TRUE(lock->locked());
        EXPECT_TRUE(cond->locked());
    }
    EXPECT_FALSE(lock->locked());
    EXPECT_FALSE(cond->locked());
}

TEST_F(LocksTest, ConditionTests_test_explicit_lock) {
    Lock lock;
    Condition cond(lock);
    run(explicit_lock_case(&lock, &cond));
    Lock lock2;
    Condition cond2(lock2);
    run(explicit_lock_case(&lock2, &cond2));
}

TEST_F(LocksTest, ConditionTests_test_ambiguous_loops) {
    // CPython swaps the private _loop; here the condition is bound by a wait on one loop and
    // waited on from another.
    Condition cond;
    run([](Condition* cond) -> Coro<void> {
        co_await cond->acquire();
        auto t = asyncio::create_task(cond_wait(cond));
        co_await sleep(0);
        co_await cond->acquire();
        cond->notify();
        cond->release();
        co_await t;
        cond->release();
    }(&cond));
    auto other = asyncio::new_event_loop({.virtual_time = true});
    std::string message;
    other->run_until_complete([](Condition* cond, std::string* message) -> Coro<void> {
        co_await cond->acquire();
        try {
            co_await cond->wait();
        } catch (const asyncio::RuntimeError& e) {
            *message = e.what();
        }
    }(&cond, &message));
    EXPECT_EQ(message, "Condition is bound to a different event loop");
    EXPECT_TRUE(cond.locked()); // re-acquired even so
}

TEST_F(LocksTest, ConditionTests_test_timeout_in_block) {
    Condition cond;
    run([](Condition* cond) -> Coro<void> {
        auto held = co_await cond->scoped();
        EXPECT_THROW(co_await asyncio::wait_for(cond->wait(), 0.5), asyncio::TimeoutError);
    }(&cond));
}

Coro<void> wait_for_flag_then_raise(Condition* cond, bool* wake, std::string* seen) {
    auto held = co_await cond->scoped();
    try {
        co_await cond->wait_for([wake] { return *wake; });
    } catch (const CancelledError& e) {
        *seen = e.message();
        throw;
    }
}

TEST_F(LocksTest, ConditionTests_test_cancelled_error_wakeup) {
    // A CancelledError received while waiting for the wake-up comes out unchanged.
    Condition cond;
    bool wake = false;
    std::string seen;
    run([](Condition* cond, bool* wake, std::string* seen) -> Coro<void> {
        auto task = asyncio::create_task(wait_for_flag_then_raise(cond, wake, seen));
        co_await sleep(0);
        task.cancel("foo");
        std::string message;
        try {
            co_await task;
        } catch (const CancelledError& e) {
            message = e.message();
        }
        EXPECT_EQ(message, "foo");
        EXPECT_EQ(*seen, "foo");
        EXPECT_FALSE(cond->locked());
    }(&cond, &wake, &seen));
}

TEST_F(LocksTest, ConditionTests_test_cancelled_error_re_aquire) {
    // A CancelledError received while re-acquiring the lock comes out unchanged.
    Condition cond;
    bool wake = false;
    std::string seen;
    run([](Condition* cond, bool* wake, std::string* seen) -> Coro<void> {
        auto task = asyncio::create_task(wait_for_flag_then_raise(cond, wake, seen));
        co_await sleep(0);
        co_await cond->acquire();
        *wake = true;
        cond->notify();
        co_await sleep(0);
        // The task now tries to re-acquire the lock: cancel it there.
        task.cancel("foo");
        cond->release();
        std::string message;
        try {
            co_await task;
        } catch (const CancelledError& e) {
            message = e.message();
        }
        EXPECT_EQ(message, "foo");
        EXPECT_EQ(*seen, "foo");
        EXPECT_FALSE(cond->locked());
    }(&cond, &wake, &seen));
}

Coro<void> consumer(Condition* cond, int* state) {
    auto held = co_await cond->scoped();
    for (;;) {
        co_await cond->wait_for([state] { return *state != 0; });
        if (*state < 0)
            co_return;
        --*state;
    }
}

// CPython's test_cancelled_wakeup (cancel while waiting for the wake-up) and
// test_cancelled_wakeup_relock (cancel while re-acquiring): a notify that races with a cancel()
// is not lost.
void cancelled_wakeup_case(asyncio::EventLoop* loop, bool relock) {
    Condition cond;
    int state = 0;
    loop->run_until_complete([](Condition* cond, int* state, bool relock) -> Coro<void> {
        std::vector<Task<void>> c;
        c.push_back(asyncio::create_task(consumer(cond, state)));
        c.push_back(asyncio::create_task(consumer(cond, state)));
        co_await sleep(0);
        {
            auto held = co_await cond->scoped();
            ++*state;
            cond->notify(1);
            if (relock)
                co_await sleep(0); // the notified task now waits for the lock
            c[0].cancel();
            // The item must be consumed: if not, the notify was lost to the cancel().
            try {
                co_await asyncio::wait_for(cond->wait_for([state] { return *state == 0; }), 0.01);
            } catch (const asyncio::TimeoutError&) {
            }
            EXPECT_EQ(*state, 0);
            *state = -1;
            cond->notify_all();
        }
        co_await c[1];
    }(&cond, &state, relock));
}

TEST_F(LocksTest, ConditionTests_test_cancelled_wakeup) {
    cancelled_wakeup_case(loop.get(), false);
}

TEST_F(LocksTest, ConditionTests_test_cancelled_wakeup_relock) {
    cancelled_wakeup_case(loop.get(), true);
}

} // namespace
