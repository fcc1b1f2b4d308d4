// ConcurrentCore: the thread-safe future state behind ConcurrentFuture<T>.
#include "asyncio/concurrent.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>

#include "base/util.hpp"

namespace asyncio::detail {

namespace {
const char* state_name(ConcurrentCore::State s) {
    switch (s) {
    case ConcurrentCore::State::pending:
        return "pending";
    case ConcurrentCore::State::running:
        return "running";
    case ConcurrentCore::State::cancelled:
        return "cancelled";
    case ConcurrentCore::State::finished:
        return "finished";
    }
    return "?";
}

bool is_done(ConcurrentCore::State s) {
    return s == ConcurrentCore::State::cancelled || s == ConcurrentCore::State::finished;
}
} // namespace

ConcurrentCore::~ConcurrentCore() {
    while (ConcurrentCallback* cb = m_callbacks.pop_front()) // never completed: never run
        cb->destroy();
}

bool ConcurrentCore::cancel() {
    std::unique_lock lock(m_mutex);
    State s = m_state.load(std::memory_order_relaxed);
    if (s == State::running || s == State::finished)
        return false;
    if (s == State::cancelled)
        return true;
    complete(std::move(lock), State::cancelled);
    return true;
}

bool ConcurrentCore::set_running_or_notify_cancel() {
    std::lock_guard lock(m_mutex);
    State s = m_state.load(std::memory_order_relaxed);
    if (s == State::cancelled)
        return false;
    if (s != State::pending)
        throw RuntimeError(std::string("Future in unexpected state: ") + state_name(s));
    m_state.store(State::running, std::memory_order_release);
    return true;
}

std::unique_lock<std::mutex> ConcurrentCore::begin_set_unless_cancelled() {
    std::unique_lock lock(m_mutex);
    if (is_done(m_state.load(std::memory_order_relaxed)))
        lock.unlock(); // cancelled (or set by its owner meanwhile): leave it as it is
    return lock;
}

ConcurrentCore::QuietSet ConcurrentCore::begin_set_quietly(const ConcurrentCallback* allowed,
                                                           std::unique_lock<std::mutex>& lock) {
    lock = std::unique_lock(m_mutex);
    if (is_done(m_state.load(std::memory_order_relaxed))) {
        lock.unlock();
        return QuietSet::done;
    }
    if (!m_callbacks.empty() &&
        (m_callbacks.front() != allowed || m_callbacks.front() != m_callbacks.back())) {
        lock.unlock();
        return QuietSet::deferred;
    }
    return QuietSet::locked;
}

std::unique_lock<std::mutex> ConcurrentCore::begin_set() {
    std::unique_lock lock(m_mutex);
    State s = m_state.load(std::memory_order_relaxed);
    if (is_done(s)) {
        std::ostringstream os;
        os << state_name(s) << ": ";
        lock.unlock();
        describe(os);
        throw InvalidStateError(os.str());
    }
    return lock;
}

void ConcurrentCore::end_set(std::unique_lock<std::mutex> lock) noexcept {
    complete(std::move(lock), State::finished);
}

void ConcurrentCore::set_exception(std::exception_ptr e) {
    if (!e)
        throw ValueError("set_exception() needs an exception");
    end_set_exception(begin_set(), std::move(e));
}

void ConcurrentCore::end_set_exception(std::unique_lock<std::mutex> lock,
                                       std::exception_ptr e) noexcept {
    m_exception = std::move(e);
    complete(std::move(lock), State::finished);
}

void ConcurrentCore::complete(std::unique_lock<std::mutex> lock, State s) noexcept {
    m_state.store(s, std::memory_order_release);
    ConcurrentCallback* cb = m_callbacks.take_all();
    const bool wake = m_waiters > 0;
    lock.unlock();
    if (wake)
        m_cv.notify_all();
    while (cb) {
        ConcurrentCallback* next = IntrusiveList<ConcurrentCallback>::next(cb);
        cb->invoke(*this);
        cb->destroy();
        cb = next;
    }
}

ConcurrentCore::State ConcurrentCore::wait(std::optional<double> timeout) const {
    State s = state();
    if (is_done(s) || (timeout && *timeout <= 0))
        return s;
    // The answer usually comes within microseconds (a loop finishing a short task): busy-wait a
    // little before sleeping in the kernel.
    if (timeout && !(*timeout <= longest_timeout))
        timeout.reset();
    auto limit = timeout ? spin_limit_for(*timeout) : spin_limit;
    if (spin_until([this] { return is_done(state()); }, limit))
        return state();
    std::unique_lock lock(m_mutex);
    ++m_waiters;
    auto finished = [&] { return is_done(m_state.load(std::memory_order_relaxed)); };
    if (timeout)
        m_cv.wait_for(lock, std::chrono::duration<double>(*timeout), finished);
    else
        m_cv.wait(lock, finished);
    --m_waiters;
    return m_state.load(std::memory_order_relaxed);
}

void ConcurrentCore::check_result(std::optional<double> timeout) const {
    switch (wait(timeout)) {
    case State::cancelled:
        throw CancelledError();
    case State::finished:
        if (m_exception)
            std::rethrow_exception(m_exception);
        return;
    default:
        throw TimeoutError();
    }
}

std::exception_ptr ConcurrentCore::get_exception(std::optional<double> timeout) const {
    switch (wait(timeout)) {
    case State::cancelled:
        throw CancelledError();
    case State::finished:
        return m_exception;
    default:
        throw TimeoutError();
    }
}

void ConcurrentCore::add_callback(ConcurrentCallback* cb) {
    {
        std::lock_guard lock(m_mutex);
        if (!is_done(m_state.load(std::memory_order_relaxed))) {
            m_callbacks.push_back(cb);
            return;
        }
    }
    cb->invoke(*this);
    cb->destroy();
}

void ConcurrentCore::describe(std::ostream& os) const {
    State s = state();
    os << "<ConcurrentFuture at " << static_cast<const void*>(this) << " state=" << state_name(s);
    if (s == State::finished) {
        if (m_exception) {
            try {
                std::rethrow_exception(m_exception);
            } catch (const std::exception& e) {
                os << " raised " << type_name(typeid(e));
            } catch (...) {
                os << " raised an exception";
            }
        } else {
            os << " returned";
        }
    }
    os << ">";
}

void report_concurrent_callback_error(ConcurrentCore& future, std::exception_ptr e) noexcept {
    try {
        std::ostringstream os;
        os << "exception calling callback for ";
        future.describe(os);
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            os << "\n" << type_name(typeid(x)) << ": " << x.what();
        } catch (...) {
            os << "\nunknown exception";
        }
        os << "\n";
        std::cerr << os.str() << std::flush;
    } catch (...) {
    }
}

} // namespace asyncio::detail
