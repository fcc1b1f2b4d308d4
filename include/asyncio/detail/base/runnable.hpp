// Internal: the unit of work of the ready queue and of the timer heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>

namespace asyncio::detail {

// Something the loop can run from its ready queue: a task step, a callback handle, a done
// callback. run() also releases whatever the queue held; discard() does the same without running
// (when a closed loop drops its queue).
class Runnable {
public:
    virtual void run() = 0;
    virtual void discard() noexcept {}
    // What debug mode names in its slow-callback reports.
    virtual void describe_runnable(std::ostream& os) const;
    // True for a cancelled callback handle: run() only drops it, so debug mode does not time it.
    virtual bool is_cancelled() const noexcept { return false; }

protected:
    ~Runnable() = default;
};

// Something waiting in the timer heap. The loop pops it when `when` is reached and calls
// on_timer(), which typically pushes a Runnable on the ready queue.
class TimerNode {
public:
    static constexpr std::uint32_t npos = ~std::uint32_t{0};
    double when = 0.0;
    std::uint64_t seq = 0;           // insertion order: equal deadlines fire first-in first-out
    std::uint32_t heap_index = npos; // position in the heap, npos when not in it

    bool scheduled() const noexcept { return heap_index != npos; }
    virtual void on_timer() = 0;
    virtual void discard_timer() noexcept {}

protected:
    ~TimerNode() = default;
};

} // namespace asyncio::detail
