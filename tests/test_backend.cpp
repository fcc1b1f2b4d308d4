// Unit tests of the loop's wait in the operating system (detail::Backend, over libuv).
// ctest-labels: thread
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>

#include "../src/backend/backend.hpp"

namespace {

using namespace std::chrono_literals;
using asyncio::detail::Backend;

// Calls backend.wake() if the test has not finished within `limit`: a wait that would block for
// ever then ends, late, and the test's time check reports it.
class Watchdog {
public:
    Watchdog(Backend& backend, std::chrono::milliseconds limit)
        : m_thread([this, &backend, limit] {
              auto end = std::chrono::steady_clock::now() + limit;
              while (!m_done && std::chrono::steady_clock::now() < end)
                  std::this_thread::sleep_for(1ms);
              if (!m_done)
                  backend.wake();
          }) {}
    ~Watchdog() {
        m_done = true;
        m_thread.join();
    }

private:
    std::atomic<bool> m_done{false};
    std::thread m_thread;
};

// The deadline passes between arming the timer and polling (libuv's clock ticks over in
// between, or the thread is preempted): the poll must still return, not wait for ever.
TEST(Backend, PollReturnsWhenTheDeadlinePassedBeforeIt) {
    Backend backend;
    for (int i = 0; i < 3; ++i) {
        backend.arm(0.001);
        std::this_thread::sleep_for(5ms);
        auto start = std::chrono::steady_clock::now();
        {
            Watchdog watchdog(backend, 3s);
            backend.poll();
        }
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "iteration " << i;
    }
}

TEST(Backend, WaitReturnsAtItsTimeoutOrAtAWake) {
    Backend backend;
    auto start = std::chrono::steady_clock::now();
    backend.wait(0.002);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 1ms);

    backend.wake(); // before the wait: it is not lost
    start = std::chrono::steady_clock::now();
    {
        Watchdog watchdog(backend, 3s);
        backend.wait(-1.0);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

// A timeout too long to arm (infinite, or beyond libuv's milliseconds) waits like no timeout:
// until woken, not at once.
TEST(Backend, AnUnboundedTimeoutWaitsUntilWoken) {
    Backend backend;
    for (double timeout : {1e300, std::numeric_limits<double>::infinity()}) {
        auto start = std::chrono::steady_clock::now();
        {
            Watchdog watchdog(backend, 50ms);
            backend.wait(timeout);
        }
        EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms) << timeout;
    }
}

} // namespace
