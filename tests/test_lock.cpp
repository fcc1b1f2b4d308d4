// asyncio.Lock and asyncio.Event: CPython's test_locks.py LockTests and EventTests (each test is
// named after its CPython class and method).
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
// LockTests

TEST_F(LocksTest, LockTests_test_repr) {
    Lock lock;
    run([](Lock* lock) -> Coro<void> {
        EXPECT_TRUE(ends_with(repr(*lock), "[unlocked]>"));
        EXPECT_TRUE(repr_matches(repr(*lock)));
        co_await lock->acquire();
        EXPECT_TRUE(ends_with(repr(*lock), "[locked]>"));
        EXPECT_TRUE(repr_matches(repr(*lock)));
    }(&lock));
}

TEST_F(LocksTest, LockTests_test_acquire) {
    Lock lock;
    Ints result;
    run([](Lock* lock, Ints* result) -> Coro<void> {
        EXPECT_TRUE(co_await lock->acquire());
        auto t1 = asyncio::create_task(acquire_append(lock, result, 1));
        auto t2 = asyncio::create_task(acquire_append(lock, result, 2));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});
        lock->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1}));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1}));
        auto t3 = asyncio::create_task(acquire_append(lock, result, 3));
        lock->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1, 2}));
        lock->release();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({1, 2, 3}));
        expect_done_true(t1, t2, t3);
    }(&lock, &result));
}

TEST_F(LocksTest, LockTests_test_acquire_cancel) {
    Lock lock;
    run([](Lock* lock, asyncio::EventLoop* loop) -> Coro<void> {
        EXPECT_TRUE(co_await lock->acquire());
        auto task = asyncio::create_task(lock_acquire(lock));
        loop->call_soon([task]() mutable { task.cancel(); });
        EXPECT_THROW(co_await task, CancelledError);
        EXPECT_FALSE(contains(repr(*lock), "waiters"));
    }(&lock, loop.get()));
}

Coro<void> lockit(Lock* lock, asyncio::Future<void>* blocker) {
    co_await lock->acquire();
    try {
        if (blocker)
            co_await *blocker;
    } catch (...) {
        lock->release();
        throw;
    }
    lock->release();
}

TEST_F(LocksTest, LockTests_test_cancel_race) {
    // A holds the lock, B and C wait; B is cancelled while A releases: C must get the lock.
    Lock lock;
    run([](Lock* lock, asyncio::EventLoop* loop) -> Coro<void> {
        auto fa = loop->create_future<void>();
        auto ta = asyncio::create_task(lockit(lock, &fa));
        co_await sleep(0);
        EXPECT_TRUE(lock->locked());
        auto tb = asyncio::create_task(lockit(lock, nullptr));
        co_await sleep(0);
        EXPECT_TRUE(contains(repr(*lock), "waiters:1"));
        auto tc = asyncio::create_task(lockit(lock, nullptr));
        co_await sleep(0);
        EXPECT_TRUE(contains(repr(*lock), "waiters:2"));

        fa.set_result();
        tb.cancel();
        co_await sleep(0);
        EXPECT_FALSE(lock->locked());
        EXPECT_TRUE(ta.done());
        EXPECT_TRUE(tb.cancelled());
        co_await tc;
    }(&lock, loop.get()));
}

TEST_F(LocksTest, LockTests_test_cancel_release_race) {
    // Issue 32734: acquire 4 times, cancel the second, release the first: only one gets it.
    struct State {
        Lock lock;
        int lock_count = 0;
        int call_count = 0;
    } st;
    auto lockit2 = [](State* st) -> Coro<void> {
        ++st->call_count;
        co_await st->lock.acquire();
        ++st->lock_count;
    };
    run([](State* st, asyncio::EventLoop* loop, auto lockit2) -> Coro<void> {
        co_await st->lock.acquire();
        auto t1 = asyncio::create_task(lockit2(st));
        auto t2 = asyncio::create_task(lockit2(st));
        auto t3 = asyncio::create_task(lockit2(st));
        co_await sleep(0);
        loop->call_soon([st, t1]() mutable {
            t1.cancel();
            st->lock.release();
        });
        EXPECT_THROW(co_await t1, CancelledError);
        EXPECT_EQ(st->lock_count, 1);
        EXPECT_EQ(st->call_count, 3);
        EXPECT_TRUE(t1.cancelled() && t2.done());
        t3.cancel();
        co_await sleep(0);
        EXPECT_TRUE(t3.cancelled());
    }(&st, loop.get(), lockit2));
}

TEST_F(LocksTest, LockTests_test_finished_waiter_cancelled) {
    Lock lock;
    run([](Lock* lock) -> Coro<void> {
        co_await lock->acquire();
        EXPECT_TRUE(lock->locked());
        auto tb = asyncio::create_task(lock_acquire(lock));
        co_await sleep(0);
        EXPECT_TRUE(contains(repr(*lock), "waiters:1"));
        // A second waiter; wake the first and cancel it: the second must be woken.
        auto tc = asyncio::create_task(lock_acquire(lock));
        tb.cancel();
        lock->release();
        co_await sleep(0);
        EXPECT_TRUE(lock->locked());
        EXPECT_TRUE(tb.cancelled());
        co_await tc;
    }(&lock));
}

TEST_F(LocksTest, LockTests_test_release_not_acquired) {
    Lock lock;
    expect_raises<asyncio::RuntimeError>([&] { lock.release(); }, "Lock is not acquired.");
}

TEST_F(LocksTest, LockTests_test_release_no_waiters) {
    Lock lock;
    run(release_no_waiters(&lock));
}

TEST_F(LocksTest, LockTests_test_context_manager) {
    Lock lock;
    run(context_manager(&lock));
}

// Not in CPython: a waiter cancelled after it was woken, with nobody behind it, leaves the lock
// free (and free for the fast path).
TEST_F(LocksTest, LockTests_woken_waiter_cancelled_frees_lock) {
    Lock lock;
    run([](Lock* lock) -> Coro<void> {
        co_await lock->acquire();
        auto tb = asyncio::create_task(lock_acquire(lock));
        co_await sleep(0);
        lock->release();
        tb.cancel();
        co_await sleep(0);
        EXPECT_TRUE(tb.cancelled());
        EXPECT_FALSE(lock->locked());
        EXPECT_FALSE(contains(repr(*lock), "waiters"));
        EXPECT_TRUE(co_await lock->acquire());
    }(&lock));
}

// Not in CPython: no barging. A task that acquires right after release() queues behind the
// woken waiter instead of taking the free lock.
TEST_F(LocksTest, LockTests_no_barging_after_release) {
    Lock lock;
    Ints order;
    run([](Lock* lock, Ints* order) -> Coro<void> {
        co_await lock->acquire();
        auto t1 = asyncio::create_task(acquire_append(lock, order, 1));
        co_await sleep(0);
        lock->release();
        EXPECT_FALSE(lock->locked());
        auto t2 = asyncio::create_task(acquire_append(lock, order, 2));
        co_await sleep(0);
        EXPECT_EQ(*order, Ints({1}));
        lock->release();
        co_await t2;
        EXPECT_EQ(*order, Ints({1, 2}));
    }(&lock, &order));
}

// Not in CPython: the error outside a task, and a Lock waited on from a second loop (CPython's
// test_ambiguous_loops reaches this through private attributes; here two real loops do).
TEST_F(LocksTest, LockTests_bound_to_one_loop) {
    Lock lock;
    run([](Lock* lock) -> Coro<void> {
        co_await lock->acquire();
        auto t = asyncio::create_task(lock_acquire(lock)); // waits: binds the lock to this loop
        co_await sleep(0);
        lock->release();
        co_await t;
        lock->release();
    }(&lock));
    auto other = asyncio::new_event_loop({.virtual_time = true});
    bool raised = false;
    other->run_until_complete([](Lock* lock, bool* raised) -> Coro<void> {
        co_await lock->acquire(); // the fast path binds nothing and checks nothing
        try {
            co_await lock->acquire();
        } catch (const asyncio::RuntimeError& e) {
            *raised = std::string(e.what()) == "Lock is bound to a different event loop";
        }
        lock->release();
    }(&lock, &raised));
    EXPECT_TRUE(raised);
}

// ---------------------------------------------------------------------------------------------
// EventTests

TEST_F(LocksTest, EventTests_test_repr) {
    Event ev;
    EXPECT_TRUE(ends_with(repr(ev), "[unset]>"));
    EXPECT_TRUE(repr_matches(repr(ev)));
    ev.set();
    EXPECT_TRUE(ends_with(repr(ev), "[set]>"));
    EXPECT_TRUE(repr_matches(repr(ev)));
    ev.clear();
    // CPython appends a mock to _waiters; here a task waits.
    Ints result;
    run([](Event* ev, Ints* result) -> Coro<void> {
        auto t = asyncio::create_task(event_append(ev, result, 1));
        co_await sleep(0);
        EXPECT_TRUE(contains(repr(*ev), "waiters:1"));
        EXPECT_TRUE(repr_matches(repr(*ev)));
        ev->set();
        co_await t;
    }(&ev, &result));
}

TEST_F(LocksTest, EventTests_test_wait) {
    Event ev;
    Ints result;
    run([](Event* ev, Ints* result) -> Coro<void> {
        EXPECT_FALSE(ev->is_set());
        auto t1 = asyncio::create_task(event_append(ev, result, 1));
        auto t2 = asyncio::create_task(event_append(ev, result, 2));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});
        auto t3 = asyncio::create_task(event_append(ev, result, 3));
        ev->set();
        co_await sleep(0);
        EXPECT_EQ(*result, Ints({3, 1, 2}));
        EXPECT_TRUE(t1.done() && t2.done() && t3.done());
    }(&ev, &result));
}

TEST_F(LocksTest, EventTests_test_wait_on_set) {
    Event ev;
    ev.set();
    EXPECT_TRUE(run([](Event* ev) -> Coro<bool> { co_return co_await ev->wait(); }(&ev)));
}

Coro<bool> event_wait(Event* ev) { co_return co_await ev->wait(); }

TEST_F(LocksTest, EventTests_test_wait_cancel) {
    Event ev;
    run([](Event* ev, asyncio::EventLoop* loop) -> Coro<void> {
        auto wait = asyncio::create_task(event_wait(ev));
        loop->call_soon([wait]() mutable { wait.cancel(); });
        EXPECT_THROW(co_await wait, CancelledError);
        EXPECT_FALSE(contains(repr(*ev), "waiters"));
    }(&ev, loop.get()));
}

TEST_F(LocksTest, EventTests_test_clear) {
    Event ev;
    EXPECT_FALSE(ev.is_set());
    ev.set();
    EXPECT_TRUE(ev.is_set());
    ev.clear();
    EXPECT_FALSE(ev.is_set());
}

TEST_F(LocksTest, EventTests_test_clear_with_waiters) {
    Event ev;
    Ints result;
    run([](Event* ev, Ints* result) -> Coro<void> {
        auto t = asyncio::create_task(event_wait(ev));
        co_await sleep(0);
        EXPECT_EQ(*result, Ints{});
        ev->set();
        ev->clear();
        EXPECT_FALSE(ev->is_set());
        ev->set();
        ev->set();
        EXPECT_TRUE(contains(repr(*ev), "waiters:1"));
        co_await sleep(0);
        EXPECT_TRUE(t.done());
        EXPECT_TRUE(t.result());
        EXPECT_FALSE(contains(repr(*ev), "waiters"));
    }(&ev, &result));
}

// Not in CPython: a coroutine that is not run by a task (here a foreign coroutine type, resumed
// by hand) cannot wait on a primitive: RuntimeError, as the library's other awaitables.
struct Foreign {
    struct promise_type {
        std::exception_ptr error;
        Foreign get_return_object() {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { error = std::current_exception(); }
    };
    std::coroutine_handle<promise_type> h;
    std::string message() const {
        try {
            if (h.promise().error)
                std::rethrow_exception(h.promise().error);
        } catch (const asyncio::RuntimeError& e) {
            return e.what();
        }
        return "<no RuntimeError>";
    }
    ~Foreign() { h.destroy(); }
};

Foreign foreign_acquire(Lock* lock) { co_await lock->acquire(); }

TEST_F(LocksTest, AwaitedOutsideTask_raises_RuntimeError) {
    Lock lock;
    Foreign first = foreign_acquire(&lock); // the fast path needs no task
    EXPECT_EQ(first.message(), "<no RuntimeError>");
    EXPECT_TRUE(lock.locked());
    Foreign second = foreign_acquire(&lock);
    EXPECT_EQ(second.message(), "Lock.acquire() must be awaited inside a Task");
    EXPECT_FALSE(contains(repr(lock), "waiters"));
}

} // namespace
