// ctest-labels: thread
// A call_soon_threadsafe handle cancelled, or asked whether it is, from another thread while its
// callback runs: the call waits until the callback has finished (asyncio's handle lock), so the
// callback runs exactly once and never after cancel() returned.
#include <asyncio.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "asyncio_test.hpp"

namespace {

TEST(HandleThreadsTest, CancelFromAnotherThreadWaitsForTheRunningCallback) {
    auto loop = asyncio::new_event_loop();
    std::atomic<bool> started{false};
    std::atomic<bool> finished{false};
    std::atomic<int> runs{0};
    asyncio::Handle h = loop->call_soon_threadsafe([&] {
        ++runs;
        started = true;
        started.notify_all();
        // Long enough for the other thread to call cancel() while this runs.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        finished = true;
    });
    bool finished_when_cancel_returned = false;
    bool cancelled_during_run = true;
    std::thread other([&] {
        started.wait(false);
        cancelled_during_run = h.cancelled(); // waits for the end of the run
        h.cancel();
        finished_when_cancel_returned = finished.load();
    });
    loop->call_later(0.2, [&] { loop->stop(); });
    loop->run_forever();
    other.join();
    EXPECT_EQ(runs.load(), 1);
    EXPECT_FALSE(cancelled_during_run);
    EXPECT_TRUE(finished_when_cancel_returned);
    loop->close();
}

TEST(HandleThreadsTest, CancelBeforeTheRunKeepsTheCallbackFromRunning) {
    auto loop = asyncio::new_event_loop();
    int runs = 0;
    asyncio::Handle h = loop->call_soon_threadsafe([&] { ++runs; });
    std::thread other([&] { h.cancel(); });
    other.join();
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    EXPECT_EQ(runs, 0);
    EXPECT_TRUE(h.cancelled());
    loop->close();
}

} // namespace
