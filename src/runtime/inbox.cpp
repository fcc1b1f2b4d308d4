// The loop's inbox: lock-free posting from any thread, coalesced wake-ups.
#include "asyncio/detail/runtime/inbox.hpp"

#include <thread>

#include "backend/backend.hpp"

namespace asyncio::detail {

bool Inbox::post(InboxItem* item) noexcept {
    InboxItem* head = m_head.load(std::memory_order_relaxed);
    do {
        if (head == closed_tag())
            return false;
        item->m_inbox_next = head;
    } while (!m_head.compare_exchange_weak(head, item, std::memory_order_seq_cst,
                                           std::memory_order_relaxed));
    // Only the first item of a batch may find the loop asleep (see the invariants). The loop sets
    // m_sleeping before it looks at m_head one last time; both sides are seq_cst, so either it
    // sees this item or this sees it sleeping.
    if (head != nullptr || !m_sleeping.load(std::memory_order_seq_cst))
        return true;
    // Waking touches the loop's backend, which close() may be about to destroy: announce it, then
    // make sure the inbox is still open (close() marks it closed, then waits for announced
    // wake-ups to finish).
    m_waking.fetch_add(1, std::memory_order_seq_cst);
    if (m_head.load(std::memory_order_seq_cst) != closed_tag())
        m_backend->wake();
    m_waking.fetch_sub(1, std::memory_order_release);
    return true;
}

InboxItem* Inbox::reversed(InboxItem* head) noexcept {
    InboxItem* fifo = nullptr;
    while (head) {
        InboxItem* next = head->m_inbox_next;
        head->m_inbox_next = fifo;
        fifo = head;
        head = next;
    }
    return fifo;
}

InboxItem* Inbox::take_newest_first() noexcept {
    if (!has_items())
        return nullptr;
    return m_head.exchange(nullptr, std::memory_order_acquire);
}

bool Inbox::prepare_sleep() noexcept {
    m_sleeping.store(true, std::memory_order_seq_cst);
    if (m_head.load(std::memory_order_seq_cst) != nullptr) {
        m_sleeping.store(false, std::memory_order_relaxed);
        return false;
    }
    return true;
}

InboxItem* Inbox::close() noexcept {
    InboxItem* head = m_head.exchange(closed_tag(), std::memory_order_seq_cst);
    // A poster may be waking the loop right now: wait for it (a few instructions), so that the
    // backend can go away after this.
    while (m_waking.load(std::memory_order_seq_cst) != 0)
        std::this_thread::yield();
    return head == closed_tag() ? nullptr : reversed(head);
}

} // namespace asyncio::detail
