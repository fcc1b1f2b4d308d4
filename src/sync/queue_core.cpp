// QueueCore: the counts, wake-ups, join and shutdown every Queue shares.
#include "asyncio/detail/sync/queue_core.hpp"

#include <algorithm>
#include <ostream>

namespace asyncio::detail {

QueueCore::QueueCore(long maxsize, const QueueNames& names) noexcept
    : m_kind(names.kind), m_get_what(names.get), m_put_what(names.put), m_maxsize(maxsize),
      m_getters(m_binding, names.kind, &pass_on_get, this),
      m_putters(m_binding, names.kind, &pass_on_put, this) {
    m_finished.set();
}

void QueueCore::task_done() {
    if (m_unfinished == 0)
        throw ValueError("task_done() called too many times");
    if (--m_unfinished == 0)
        m_finished.set();
}

void QueueCore::throw_shut_down() { throw QueueShutDown(); }

void QueueCore::check_put() const {
    if (m_shutdown)
        throw_shut_down();
    if (full())
        throw QueueFull();
}

void QueueCore::check_get() const {
    if (m_size == 0) {
        if (m_shutdown)
            throw_shut_down();
        throw QueueEmpty();
    }
}

void QueueCore::item_put() noexcept {
    ++m_size;
    ++m_unfinished;
    m_finished.clear();
    m_getters.unpark_one();
}

void QueueCore::item_taken() noexcept {
    --m_size;
    m_putters.unpark_one();
}

void QueueCore::shut_down(bool immediate, std::size_t dropped) noexcept {
    m_shutdown = true;
    if (immediate) {
        m_size = 0;
        m_unfinished -= std::min(dropped, m_unfinished);
        if (m_unfinished == 0)
            m_finished.set();
    }
    // Every waiter wakes to see the new state: getters drain or raise, putters raise.
    m_getters.unpark_all();
    m_putters.unpark_all();
}

void QueueCore::pass_on_get(void* self) noexcept {
    auto* q = static_cast<QueueCore*>(self);
    if (!q->empty())
        q->m_getters.unpark_one();
}

void QueueCore::pass_on_put(void* self) noexcept {
    auto* q = static_cast<QueueCore*>(self);
    if (!q->full())
        q->m_putters.unpark_one();
}

void QueueCore::describe_head(std::ostream& os) const {
    os << "<" << m_kind << " maxsize=" << m_maxsize;
}

void QueueCore::describe_tail(std::ostream& os) const {
    if (!m_getters.empty())
        os << " _getters[" << m_getters.size() << "]";
    if (!m_putters.empty())
        os << " _putters[" << m_putters.size() << "]";
    if (m_unfinished)
        os << " tasks=" << m_unfinished;
    if (m_shutdown)
        os << " shutdown";
    os << ">";
}

} // namespace asyncio::detail
