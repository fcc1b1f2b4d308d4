// HandleImpl: running, cancelling and describing scheduled callbacks.
#include <ostream>
#include <sstream>

#include "asyncio/detail/loop/handle_impl.hpp"
#include "asyncio/detail/runtime/loop_core.hpp"
#include "base/util.hpp"

namespace asyncio::detail {

void Runnable::describe_runnable(std::ostream& os) const { os << "<callback>"; }

void HandleImpl::wait_if_running_elsewhere() const noexcept {
    LoopCore* loop = m_loop.load(std::memory_order_acquire);
    if (m_threadsafe && loop && !loop->on_loop_thread() &&
        m_running.load(std::memory_order_seq_cst)) // pairs with run_kept()'s store
        m_running.wait(true, std::memory_order_acquire);
}

bool HandleImpl::cancelled() const noexcept {
    wait_if_running_elsewhere();
    return m_cancelled.load(std::memory_order_acquire);
}

void HandleImpl::cancel() noexcept {
    if (m_cancelled.exchange(true, std::memory_order_seq_cst)) {
        wait_if_running_elsewhere();
        return;
    }
    // Only the loop's thread touches the timer heap and the callback; elsewhere the flag is
    // enough: the loop skips the handle and drops it. A handle no longer queued has no loop.
    LoopCore* loop = m_loop.load(std::memory_order_acquire);
    if (!loop || !loop->on_loop_thread()) {
        wait_if_running_elsewhere();
        return;
    }
    if (m_timer && scheduled()) {
        loop->remove_timer(this);
        dequeue(); // the heap's reference; the caller still holds one through its Handle
        return;
    }
    if (!m_running.load(std::memory_order_relaxed))
        clear_callback();
}

void HandleImpl::run() {
    if (!cancelled())
        run_kept();
    dequeue();
}

void HandleImpl::run_kept() {
    // A thread-safe handle says it runs before it looks at the flag a second time, with
    // sequential consistency as cancel() sets it: either this sees the cancel and skips the
    // callback, or the canceller sees the run and waits for its end.
    m_running.store(true, m_threadsafe ? std::memory_order_seq_cst : std::memory_order_relaxed);
    if (m_threadsafe && m_cancelled.load(std::memory_order_seq_cst)) {
        m_running.store(false, std::memory_order_release);
        m_running.notify_all();
        return;
    }
    ContextScope scope(&m_context);
    try {
        invoke();
    } catch (...) {
        std::ostringstream what;
        describe(what);
        m_loop.load(std::memory_order_relaxed)
            ->report(LoopReport{"Exception in callback " + what.str(), std::current_exception(),
                                nullptr, false, this});
    }
    m_running.store(false, std::memory_order_release);
    if (m_threadsafe)
        m_running.notify_all();
}

void HandleImpl::on_timer() { m_loop.load(std::memory_order_relaxed)->push_ready(this); }

void HandleImpl::describe(std::ostream& os) const {
    os << "<" << (m_timer ? "TimerHandle" : "Handle");
    if (m_timer)
        os << " when=" << when;
    os << " " << type_name(callback_type()) << "(" << m_args << ")";
    if (m_created.line)
        os << " created at " << m_created.file << ":" << m_created.line;
    if (cancelled())
        os << " cancelled";
    os << ">";
}

} // namespace asyncio::detail
