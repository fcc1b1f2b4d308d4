// Test support for the locks tests: the fixture, repr checks and small coroutines shared by
// test_lock.cpp, test_condition.cpp, test_semaphore.cpp and test_barrier.cpp.
#pragma once

#include "asyncio_test.hpp"
#include <algorithm>
#include <asyncio.hpp>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace asyncio::testing::locks {

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
inline bool repr_matches(const std::string& r) {
    static const std::regex rgx(
        R"(^<(.*?) object at (.*?)\[((set|unset|locked|unlocked|filling|draining|resetting|broken))"
        R"((, value:\d)?(, waiters:\d+)?(, waiters:\d+\/\d+)?)\]>$)");
    return std::regex_match(r, rgx);
}

inline bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

inline bool contains(const std::string& s, const std::string& part) {
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

inline Coro<void> event_append(Event* ev, Ints* result, int tag) {
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

inline Coro<bool> lock_acquire(Lock* lock) { co_return co_await lock->acquire(); }
inline Coro<bool> sem_acquire(Semaphore* sem) { co_return co_await sem->acquire(); }

} // namespace asyncio::testing::locks
