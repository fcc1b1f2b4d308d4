// Lock, Event and Semaphore: their slow paths, wake-up rules and reprs.
#include "asyncio/locks.hpp"

#include <ostream>

namespace asyncio {

namespace {

// asyncio's repr of a primitive: <asyncio.locks.Kind object at 0x... [extra, waiters:n]>.
void describe(std::ostream& os, const char* kind, const void* self, std::size_t waiters,
              const auto& extra) {
    os << "<asyncio.locks." << kind << " object at " << self << " [";
    extra(os);
    if (waiters)
        os << ", waiters:" << waiters;
    os << "]>";
}

std::size_t waiters_of(const detail::WaiterQueue& q) noexcept { return q.size() + q.woken(); }

} // namespace

// Lock ------------------------------------------------------------------------------------------

void Lock::release() {
    if (!m_locked)
        throw RuntimeError("Lock is not acquired.");
    m_locked = false;
    m_waiters.unpark_one();
}

bool Lock::finish_wait(detail::WaiterQueue::Park& park) {
    park.await_resume();
    m_locked = true;
    return true;
}

void Lock::pass_on(void* self) noexcept {
    auto* lock = static_cast<Lock*>(self);
    if (!lock->m_locked)
        lock->m_waiters.unpark_one();
}

std::ostream& operator<<(std::ostream& os, const Lock& l) {
    describe(os, "Lock", &l, waiters_of(l.m_waiters),
             [&](std::ostream& o) { o << (l.m_locked ? "locked" : "unlocked"); });
    return os;
}

// Event -----------------------------------------------------------------------------------------

void Event::set() noexcept {
    if (m_value)
        return;
    m_value = true;
    m_waiters.unpark_all();
}

std::ostream& operator<<(std::ostream& os, const Event& e) {
    describe(os, "Event", &e, waiters_of(e.m_waiters),
             [&](std::ostream& o) { o << (e.m_value ? "set" : "unset"); });
    return os;
}

// Semaphore -------------------------------------------------------------------------------------

Semaphore::Semaphore(int value) : Semaphore(value, -1, "Semaphore", "Semaphore.acquire()") {}

Semaphore::Semaphore(int value, int bound, const char* kind, const char* what)
    : m_value(value), m_bound(bound), m_what(what), m_waiters(m_binding, kind, &pass_on, this) {
    if (value < 0)
        throw ValueError("Semaphore initial value must be >= 0");
}

void Semaphore::release() {
    if (m_bound >= 0 && m_value >= m_bound)
        throw ValueError("BoundedSemaphore released too many times");
    ++m_value;
    wake_up_next();
}

bool Semaphore::wake_up_next() noexcept {
    if (!m_waiters.unpark_one())
        return false;
    --m_value; // the slot is the woken waiter's from now on
    return true;
}

void Semaphore::wake_up_free() noexcept {
    // Waiters that queued behind one being woken (FIFO) get the slots still free.
    while (m_value > 0 && wake_up_next()) {
    }
}

bool Semaphore::finish_wait(detail::WaiterQueue::Park& park) {
    try {
        park.await_resume();
    } catch (...) {
        wake_up_free();
        throw;
    }
    wake_up_free();
    return true;
}

void Semaphore::pass_on(void* self) noexcept {
    // Woken, then cancelled before it ran: its slot goes back, and on to the next waiters.
    auto* sem = static_cast<Semaphore*>(self);
    ++sem->m_value;
    sem->wake_up_free();
}

std::ostream& operator<<(std::ostream& os, const Semaphore& s) {
    describe(os, s.m_bound >= 0 ? "BoundedSemaphore" : "Semaphore", &s, waiters_of(s.m_waiters),
             [&](std::ostream& o) {
                 if (s.locked())
                     o << "locked";
                 else
                     o << "unlocked, value:" << s.m_value;
             });
    return os;
}

BoundedSemaphore::BoundedSemaphore(int value)
    : Semaphore(value, value, "BoundedSemaphore", "BoundedSemaphore.acquire()") {}

} // namespace asyncio
