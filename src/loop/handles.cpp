// HandleImpl: running, cancelling and describing scheduled callbacks.
#include <ostream>
#include <sstream>

#include "asyncio/detail/loop/handle_impl.hpp"
#include "asyncio/detail/runtime/loop_core.hpp"
#include "base/util.hpp"

namespace asyncio::detail {

void Runnable::describe_runnable(std::ostream& os) const { os << "<callback>"; }

void HandleImpl::cancel() noexcept {
    if (m_cancelled.exchange(true, std::memory_order_acq_rel))
        return;
    // Only the loop's thread touches the timer heap and the callback; elsewhere the flag is
    // enough: the loop skips the handle and drops it. A handle no longer queued has no loop.
    LoopCore* loop = m_loop.load(std::memory_order_acquire);
    if (!loop || !loop->on_loop_thread())
        return;
    if (m_timer && scheduled()) {
        loop->remove_timer(this);
        dequeue(); // the heap's reference; the caller still holds one through its Handle
        return;
    }
    if (!m_running)
        clear_callback();
}

void HandleImpl::run() {
    if (!cancelled())
        run_kept();
    dequeue();
}

void HandleImpl::run_kept() {
    ContextScope scope(&m_context);
    m_running = true;
    try {
        invoke();
    } catch (...) {
        std::ostringstream what;
        describe(what);
        m_loop.load(std::memory_order_relaxed)
            ->report(LoopReport{"Exception in callback " + what.str(), std::current_exception(),
                                nullptr, false, this});
    }
    m_running = false;
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
