// Test support: a virtual-time loop fixture, one-iteration stepping, and a handler that
// captures what the loop reports.
#pragma once

#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

// The loop's ready queue, timer heap and single iterations are not public; LoopCore befriends
// this struct for tests.
namespace asyncio::detail {
struct LoopTestAccess {
    static std::size_t timer_count(EventLoop& loop) { return core_of(loop).m_timers.size(); }
    static std::size_t ready_count(EventLoop& loop) { return core_of(loop).m_ready.size(); }
    static void run_once(EventLoop& loop) { core_of(loop).run_once(); }
};
} // namespace asyncio::detail

namespace asyncio::testing {

// A loop on virtual time (time starts at 0 and jumps to the next timer when idle), with an
// exception handler that records every report instead of printing it.
class LoopTest : public ::testing::Test {
protected:
    LoopTest() {
        loop->set_exception_handler(
            [this](EventLoop&, const ExceptionContext& c) { reports.push_back(c); });
    }

    // CPython's run_briefly: exactly one iteration of the loop.
    void run_briefly() {
        loop->call_soon([this] { loop->stop(); });
        loop->run_forever();
    }

    // CPython's `while loop._ready: run_briefly(loop)`: iterates until nothing is ready.
    void run_until_idle() {
        while (detail::LoopTestAccess::ready_count(*loop) > 0)
            run_briefly();
    }

    template <class T>
    T run(Coro<T> coro) {
        return loop->run_until_complete(std::move(coro));
    }

    // The messages reported so far, in order.
    std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const auto& r : reports)
            out.push_back(r.message);
        return out;
    }

    std::unique_ptr<EventLoop> loop = new_event_loop({.debug = false, .virtual_time = true});
    std::vector<ExceptionContext> reports;

    ~LoopTest() override {
        // Reports may hold tasks of this loop: drop them first, then the loop.
        reports.clear();
        loop.reset();
        reports.clear();
    }
};

// Throws `e` as the exception_ptr's content, to compare what a future or task holds.
template <class E>
bool holds(const std::exception_ptr& p) {
    try {
        std::rethrow_exception(p);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

// Runs `f` and gives the message of the CancelledError it throws ("<no CancelledError>" if it
// returns).
template <class F>
std::string cancelled_message(F&& f) {
    try {
        f();
    } catch (const CancelledError& e) {
        return e.message();
    }
    return "<no CancelledError>";
}

} // namespace asyncio::testing
