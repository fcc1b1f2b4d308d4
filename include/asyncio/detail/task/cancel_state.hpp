// Internal: CancelState, a task's pending cancellation (asyncio's Task._must_cancel, and its
// delivery at the co_await a step resumes) as one byte with named transitions.
#pragma once

#include <cstdint>

namespace asyncio::detail {

// Two facts, either, both or none (and, apart, whether a task's coroutine has started):
// - requested: a cancel() that no waiter could act on (the task was ready to run, or running),
//   to be delivered at the next step (asyncio's _must_cancel);
// - throwing: the step has begun with a request pending, so the co_await it resumes throws
//   CancelledError (unless that co_await throws one of its own, which consumes it).
// The transitions, in the order a cancellation goes through them:
//   unstarted() a task is made: its coroutine has not run yet;
//   request()   cancel() found no waiter that could act on it;
//   step()      a step begins: a request becomes a throw at the resumed co_await; true when
//               it is the task's first step and a request is pending: the coroutine must not
//               run at all (the task finishes cancelled without resuming it);
//   deliver()   the resumed co_await takes the throw (true: it must throw);
//   consume()   the resumed co_await throws a CancelledError of its own instead;
//   suspend()   the task suspends with a throw nobody took (a foreign awaitable resumed it): it
//               becomes a request again, which the new waiter may act on (handed_over());
//   uncancel()  every request was withdrawn (cancelling() dropped to zero);
//   finish()    the task is done: nothing is pending.
class CancelState {
public:
    bool requested() const noexcept { return m_bits & k_requested; }
    bool throwing() const noexcept { return m_bits & k_throwing; }
    // A request or a throw (a started task's: never the unstarted bit, which its first step
    // clears).
    bool any() const noexcept { return m_bits != 0; }

    void unstarted() noexcept { m_bits = k_unstarted; }
    void request() noexcept { m_bits |= k_requested; }
    bool step() noexcept {
        if (!(m_bits & (k_requested | k_unstarted))) [[likely]]
            return false;
        bool first = m_bits & k_unstarted;
        m_bits &= static_cast<std::uint8_t>(~k_unstarted);
        if (!(m_bits & k_requested))
            return false;
        m_bits = static_cast<std::uint8_t>((m_bits & ~k_requested) | k_throwing);
        return first;
    }
    [[gnu::always_inline]] bool deliver() noexcept {
        if (!(m_bits & k_throwing)) [[likely]]
            return false;
        m_bits &= static_cast<std::uint8_t>(~k_throwing);
        return true;
    }
    void consume() noexcept { m_bits &= static_cast<std::uint8_t>(~k_throwing); }
    void suspend() noexcept {
        if (m_bits & k_throwing)
            m_bits = static_cast<std::uint8_t>((m_bits & ~k_throwing) | k_requested);
    }
    // The new waiter acted on the request (it wakes the task with CancelledError itself).
    void handed_over() noexcept { m_bits &= static_cast<std::uint8_t>(~k_requested); }
    void uncancel() noexcept { m_bits &= static_cast<std::uint8_t>(~k_requested); }
    void finish() noexcept { m_bits = 0; }

private:
    static constexpr std::uint8_t k_requested = 1;
    static constexpr std::uint8_t k_throwing = 2;
    static constexpr std::uint8_t k_unstarted = 4;
    std::uint8_t m_bits = 0;
};

} // namespace asyncio::detail
