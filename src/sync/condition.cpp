// Condition: wait() (release, park, re-acquire whatever happens) and notify().
#include <exception>
#include <ostream>

#include "asyncio/locks.hpp"

namespace asyncio {

Coro<bool> Condition::wait() {
    if (!locked())
        throw RuntimeError("cannot wait on un-acquired lock");
    release();
    std::exception_ptr error;
    try {
        co_await m_waiters.park("Condition.wait()");
    } catch (...) {
        error = std::current_exception();
    }
    // The lock is re-acquired before wait() ends, however it ends; a cancellation while
    // re-acquiring is kept (the latest one is thrown) and the re-acquiring goes on.
    for (;;) {
        try {
            co_await m_lock->acquire();
            break;
        } catch (const CancelledError&) {
            error = std::current_exception();
        } catch (...) {
            m_waiters.unpark_one();
            throw;
        }
    }
    if (error) {
        // This task may have been notified before the error: notify another instead (a
        // spurious wake-up at worst, which the condition-variable protocol allows).
        m_waiters.unpark_one();
        std::rethrow_exception(error);
    }
    co_return true;
}

void Condition::notify(std::size_t n) {
    if (!locked())
        throw RuntimeError("cannot notify on un-acquired lock");
    m_waiters.unpark(n);
}

void Condition::notify_all() { notify(m_waiters.size()); }

std::ostream& operator<<(std::ostream& os, const Condition& c) {
    os << "<asyncio.locks.Condition object at " << &c << " ["
       << (c.locked() ? "locked" : "unlocked");
    if (std::size_t n = c.m_waiters.size() + c.m_waiters.woken())
        os << ", waiters:" << n;
    return os << "]>";
}

} // namespace asyncio
