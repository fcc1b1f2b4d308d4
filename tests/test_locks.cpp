// asyncio.locks: CPython's Lib/test/test_asyncio/test_locks.py, ported case by case (each test is
// named after its CPython class and method), plus the contention stress test of a Semaphore.
#include <asyncio.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::Barrier;
using asyncio::BoundedSemaphore;
using asyncio::BrokenBarrierError;
using asyncio::CancelledError;
using asyncio::Condition;
using asyncio::Coro;
using asyncio::Event;
using asyncio::Lock;
using asyncio::Semaphore;
using asyncio::sleep;
using asyncio::Task;
using Ints = std::vector<int>;

class LocksTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: a task left waiting forever makes run_until_complete fail instead of hanging.
    LocksTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }
};

template <class P>
std::string repr(const P& p) {
    std::ostringstream os;
    os << p;
    return os.str();
}

// CPython's RGX_REPR.
bool repr_matches(const std::string& r) {
    static const std::regex rgx(
        R"(^<(.*?) object at (.*?)\[((set|unset|locked|unlocked|filling|draining|resetting|broken))"
        R"((, value:\d)?(, waiters:\d+)?(, waiters:\d+\/\d+)?)\]>$)");
    return std::regex_match(r, rgx);
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// CPython's c1/c2/c3 helpers: acquire (or wait), then record the tag. (`if (co_await x)` is
// miscompiled by g++ 12 - the coroutine crashes when it resumes - so the result is named first.)
template <class P>
Coro<bool> acquire_append(P* p, Ints* result, int tag) {
    bool ok = co_await p->acquire();
    if (ok)
        result->push_back(tag);
    co_return true;
}

Coro<void> event_append(Event* ev, Ints* result, int tag) {
    bool ok = co_await ev->wait();
    if (ok)
        result->push_back(tag);
}

// Runs f, which must throw E with exactly `message`.
template <class E, class F>
void expect_raises(F f, const char* message) {
    try {
        f();
        ADD_FAILURE() << "no exception";
    } catch (const E& e) {
        EXPECT_STREQ(e.what(), message);
    }
}

// CPython's test_release_no_waiters of Lock and Semaphore.
template <class P>
Coro<void> release_no_waiters(P* p) {
    co_await p->acquire();
    EXPECT_TRUE(p->locked());
    p->release();
    EXPECT_FALSE(p->locked());
}

// CPython's test_context_manager of Lock and Condition: `async with` is scoped().
template <class P>
Coro<void> context_manager(P* p) {
    EXPECT_FALSE(p->locked());
    {
        auto held = co_await p->scoped();
        EXPECT_TRUE(p->locked());
    }
    EXPECT_FALSE(p->locked());
}

template <class T>
int done_true(const Task<T>& t) {
    return t.done() && t.result();
}

template <class... T>
void expect_done_true(const T&... t) {
    for (int d : {done_true(t)...})
        EXPECT_EQ(d, 1);
}

Coro<bool> lock_acquire(Lock* lock) { co_return co_await lock->acquire(); }
Coro<bool> sem_acquire(Semaphore* sem) { co_return co_await sem->acquire(); }

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
