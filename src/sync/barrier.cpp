// Barrier: the filling and draining phases, reset() and abort().
#include <ostream>

#include "asyncio/locks.hpp"

namespace asyncio {

Barrier::Barrier(int parties) : m_parties(parties) {
    if (parties < 1)
        throw ValueError("parties must be >= 1");
}

Coro<int> Barrier::wait() {
    // Arrivals wait while the previous phase drains or resets.
    while (m_state == State::draining || m_state == State::resetting)
        co_await m_blocked.park("Barrier.wait()");
    if (m_state == State::broken)
        throw BrokenBarrierError("Barrier aborted");
    int index = m_count++;
    try {
        if (index + 1 == m_parties) { // the last party: release them all
            m_state = State::draining;
            m_filling.unpark_all();
        } else {
            while (m_state == State::filling)
                co_await m_filling.park("Barrier.wait()");
            if (m_state == State::broken || m_state == State::resetting)
                throw BrokenBarrierError("Abort or reset of barrier");
        }
    } catch (...) {
        leave();
        throw;
    }
    leave();
    co_return index;
}

void Barrier::leave() noexcept {
    if (--m_count > 0)
        return;
    // The last one out ends draining or resetting, and lets the next phase's arrivals in.
    if (m_state == State::resetting || m_state == State::draining)
        m_state = State::filling;
    m_blocked.unpark_all();
}

void Barrier::reset() {
    if (m_count > 0)
        m_state = State::resetting; // the tasks inside leave with BrokenBarrierError
    else
        m_state = State::filling;
    m_filling.unpark_all();
    m_blocked.unpark_all();
}

void Barrier::abort() {
    m_state = State::broken;
    m_filling.unpark_all();
    m_blocked.unpark_all();
}

std::ostream& operator<<(std::ostream& os, const Barrier& b) {
    static const char* const names[] = {"filling", "draining", "resetting", "broken"};
    os << "<asyncio.locks.Barrier object at " << &b << " [" << names[static_cast<int>(b.m_state)];
    if (!b.broken())
        os << ", waiters:" << b.n_waiting() << "/" << b.m_parties;
    return os << "]>";
}

} // namespace asyncio
