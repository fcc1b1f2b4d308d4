// Internal: the loop's inbox, the one way other threads hand work to a loop.
#pragma once

#include <atomic>
#include <cstdint>

#include "../base/runnable.hpp"

namespace asyncio::detail {

class Backend;

// Something another thread hands to the loop (a call_soon_threadsafe handle, a worker's result, a
// thread-safe submission). The inbox links items through m_inbox_next, so posting allocates
// nothing. discard() is called instead of run() when the loop is closed with the item unrun.
class InboxItem : public Runnable {
public:
    InboxItem* m_inbox_next = nullptr;

protected:
    ~InboxItem() = default;
};

// A lock-free multi-producer, single-consumer inbox, shared (reference-counted, atomically)
// between the loop and whoever may post to it later: worker jobs, concurrent futures. The loop
// closes it when it is closed; from then on post() refuses, so a job that finishes after its
// loop was closed or destroyed touches nothing but this object.
//
// Invariants:
// - m_head is null (empty), closed_tag (closed), or the last posted item, whose m_inbox_next
//   chain leads back to the first: a Treiber stack that the loop takes whole and reverses, which
//   gives the items in posting order;
// - only the loop takes items and closes; producers only push, so there is no ABA;
// - the poster that makes the inbox non-empty wakes the loop if it waits in the OS (m_sleeping);
//   later posters of the same batch need not (the loop has not looked yet, or was woken): with
//   a busy loop, posting costs one compare-and-swap and no system call;
// - m_waking counts posters about to wake the loop; a poster counts itself, then checks that the
//   inbox is still open before it touches the backend, and close() marks the inbox closed, then
//   waits for the count to drop to zero, after which nobody touches the backend again;
// - the reference count sits on a cache line of its own: holders come and go from every thread,
//   and should not slow down posting and taking.
class Inbox {
public:
    explicit Inbox(Backend* backend) noexcept : m_backend(backend) {}
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    void add_ref() noexcept { m_refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete this;
    }

    // Any thread. False when the loop is closed: the item was not taken.
    bool post(InboxItem* item) noexcept;
    // Any thread: true once the loop is closed.
    bool closed() const noexcept { return m_head.load(std::memory_order_acquire) == closed_tag(); }

    // The loop's side.
    bool has_items() const noexcept {
        InboxItem* h = m_head.load(std::memory_order_acquire);
        return h != nullptr && h != closed_tag();
    }
    // Everything posted so far, LAST posted first (linked by m_inbox_next), or null: the caller
    // puts them in order (walking the items twice would cost two cache misses each when many
    // arrive at once).
    InboxItem* take_newest_first() noexcept;
    // Before waiting in the OS: false if something arrived meanwhile (then do not wait).
    bool prepare_sleep() noexcept;
    void end_sleep() noexcept { m_sleeping.store(false, std::memory_order_relaxed); }
    // Refuses further posts and gives what was left, first posted first.
    InboxItem* close() noexcept;

private:
    static InboxItem* closed_tag() noexcept {
        return reinterpret_cast<InboxItem*>(alignof(InboxItem)); // never dereferenced
    }
    static InboxItem* reversed(InboxItem* head) noexcept;

    std::atomic<InboxItem*> m_head{nullptr};
    std::atomic<bool> m_sleeping{false};
    std::atomic<int> m_waking{0};
    Backend* m_backend;
    // Its own count, not AtomicRefCounted's: kept off the cache line the producers write.
    alignas(64) std::atomic<std::uint32_t> m_refs{0};
};

} // namespace asyncio::detail
