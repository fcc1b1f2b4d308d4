// Internal: QueueCore, the non-template part of every Queue: counts, waiters, join, shutdown.
#pragma once

#include <coroutine>
#include <cstddef>
#include <iosfwd>

#include "../../locks.hpp"
#include "../task/waiter_queue.hpp"

namespace asyncio::detail {

// A queue kind's name and its operations', for reprs and error messages.
struct QueueNames {
    const char* kind;
    const char* get;
    const char* put;
};

// Invariants (asyncio 3.13's Queue):
// - m_size mirrors the item store of the template on top (which calls item_put / item_taken);
// - every item put wakes the first parked getter, every item taken the first parked putter; a
//   getter (putter) woken but cancelled before it took an item (a slot) wakes the next one if
//   there still is an item (a slot); a woken one that finds nothing left (another task took it
//   without waiting, as asyncio allows) parks again at the back;
// - m_unfinished counts items put and not yet task_done(); m_finished is set exactly when it is
//   0, so join() is a wait on it;
// - after shutdown, put raises QueueShutDown, get drains what is left and then raises it; an
//   immediate shutdown drops the items (and their unfinished counts) and every waiter wakes to
//   see the new state.
class QueueCore {
public:
    QueueCore(const QueueCore&) = delete;
    QueueCore& operator=(const QueueCore&) = delete;

    // Number of items in the queue.
    std::size_t qsize() const noexcept { return m_size; }
    // The bound given at construction (0 or less: unbounded).
    long maxsize() const noexcept { return m_maxsize; }
    bool empty() const noexcept { return m_size == 0; }
    // True when the queue holds maxsize items (never for an unbounded queue).
    bool full() const noexcept {
        return m_maxsize > 0 && m_size >= static_cast<std::size_t>(m_maxsize);
    }
    // Marks one item got earlier as processed; ValueError("task_done() called too many times")
    // when none is unfinished.
    void task_done();

    // The awaiter of join().
    class [[nodiscard("the operation does nothing until it is awaited: co_await it")]] Join {
    public:
        explicit Join(Event & finished) noexcept : m_wait(finished.wait()) {}
        bool await_ready() { return m_wait.await_ready(); }
        template <class P>
        void await_suspend(std::coroutine_handle<P> h) {
            m_wait.await_suspend(h);
        }
        void await_resume() { m_wait.await_resume(); }

    private:
        Event::Wait m_wait;
    };
    // `co_await q.join()`: waits until every item put has been marked task_done() (at once when
    // none is unfinished). Cancellation: only the waiting ends (CancelledError); the queue is
    // untouched.
    Join join() noexcept { return Join(m_finished); }

protected:
    QueueCore(long maxsize, const QueueNames& names) noexcept;
    ~QueueCore() = default;

    bool is_shut_down() const noexcept { return m_shutdown; }
    // Throws what put_nowait() / get_nowait() throw when they cannot act now.
    void check_put() const;
    void check_get() const;
    void item_put() noexcept;
    void item_taken() noexcept;
    // Shuts down after the template dropped `dropped` items (immediate) or none.
    void shut_down(bool immediate, std::size_t dropped) noexcept;
    WaiterQueue::Park park_getter() noexcept { return m_getters.park(m_get_what); }
    WaiterQueue::Park park_putter() noexcept { return m_putters.park(m_put_what); }
    [[noreturn]] static void throw_shut_down();
    // asyncio's _format() after the items: maxsize, getters, putters, tasks, shutdown.
    void describe_head(std::ostream& os) const;
    void describe_tail(std::ostream& os) const;

private:
    static void pass_on_get(void* self) noexcept;
    static void pass_on_put(void* self) noexcept;

    const char* m_kind;
    const char* m_get_what;
    const char* m_put_what;
    long m_maxsize;
    std::size_t m_size = 0;
    std::size_t m_unfinished = 0;
    bool m_shutdown = false;
    Event m_finished;
    LoopBinding m_binding;
    WaiterQueue m_getters;
    WaiterQueue m_putters;
};

} // namespace asyncio::detail
