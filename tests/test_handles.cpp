// Handle lifetimes: when a scheduled callback's state is released, and handles that outlive the
// loop.
#include <gtest/gtest.h>

#include <memory>

#include "asyncio_test.hpp"

namespace {

using namespace asyncio;
using asyncio::testing::LoopTest;

class HandleTest : public LoopTest {};

Coro<> sleep_for(double seconds) { co_await sleep(seconds); }

// A callback's captured state: `alive` tells whether the closure still exists.
struct Probe {
    std::shared_ptr<int> token = std::make_shared<int>(0);
    std::weak_ptr<int> alive = token;
    auto callback(int* calls) {
        return [token = std::exchange(token, nullptr), calls] { ++*calls; };
    }
};

TEST_F(HandleTest, CallbackReleasedRightAfterItRuns) {
    Probe probe;
    int calls = 0;
    Handle h = loop->call_soon(probe.callback(&calls));
    EXPECT_FALSE(probe.alive.expired());
    run_briefly();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(probe.alive.expired()); // the handle itself is still held
    EXPECT_FALSE(h.cancelled());
}

TEST_F(HandleTest, CancelReleasesTheCallbackAtOnce) {
    Probe soon, later;
    int calls = 0;
    Handle h1 = loop->call_soon(soon.callback(&calls));
    TimerHandle h2 = loop->call_later(10, later.callback(&calls));
    h1.cancel();
    h2.cancel();
    EXPECT_TRUE(soon.alive.expired());
    EXPECT_TRUE(later.alive.expired());
    run_briefly();
    EXPECT_EQ(calls, 0);
    EXPECT_TRUE(h1.cancelled() && h2.cancelled());
    h2.cancel(); // a second cancel is harmless
}

TEST_F(HandleTest, ClosingTheLoopReleasesWhatNeverRan) {
    Probe soon, later;
    int calls = 0;
    Handle h1 = loop->call_soon(soon.callback(&calls));
    TimerHandle h2 = loop->call_later(10, later.callback(&calls));
    loop->close();
    EXPECT_TRUE(soon.alive.expired());
    EXPECT_TRUE(later.alive.expired());
    EXPECT_EQ(calls, 0);
}

TEST_F(HandleTest, HandlesOutliveTheirLoop) {
    Probe probe;
    int calls = 0;
    Handle h = loop->call_soon([] {});
    TimerHandle t = loop->call_later(5, probe.callback(&calls));
    double when = t.when();
    loop.reset(); // the loop is gone; the handles are not
    EXPECT_TRUE(probe.alive.expired());
    EXPECT_FALSE(t.cancelled());
    t.cancel();
    h.cancel();
    EXPECT_TRUE(t.cancelled() && h.cancelled());
    EXPECT_DOUBLE_EQ(t.when(), when);
}

TEST_F(HandleTest, TimerHandleCancelledAfterItRanIsHarmless) {
    int calls = 0;
    TimerHandle t = loop->call_later(1, [&calls] { ++calls; });
    loop->run_until_complete(sleep_for(2));
    EXPECT_EQ(calls, 1);
    t.cancel();
    EXPECT_TRUE(t.cancelled());
    EXPECT_DOUBLE_EQ(loop->time(), 2.0);
}

TEST(Handle, EmptyHandleThrowsInvalidStateError) {
    Handle h;
    EXPECT_FALSE(h);
    EXPECT_THROW(h.cancel(), InvalidStateError);
    EXPECT_THROW((void)TimerHandle().when(), InvalidStateError);
}

} // namespace
