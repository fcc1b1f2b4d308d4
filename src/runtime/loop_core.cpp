// LoopCore: one iteration of the loop, the OS wait, timers, the inbox, the task registry.
#include "asyncio/detail/runtime/loop_core.hpp"

#include <chrono>
#include <sstream>

#include "asyncio/detail/runtime/task_numbers.hpp"
#include "asyncio/exceptions.hpp"
#include "backend/backend.hpp"
#include "base/util.hpp"

namespace asyncio::detail {

namespace {
thread_local LoopCore* t_running_core = nullptr;

// The clock's resolution: timers due within it of now count as due (asyncio does the same),
// so a wait rounded to the OS's granularity never spins.
constexpr double clock_resolution = 1e-9;
} // namespace

LoopCore* running_core() noexcept { return t_running_core; }

LoopCore& running_core_or_raise() {
    if (!t_running_core)
        throw RuntimeError("no running event loop");
    return *t_running_core;
}

LoopCore::LoopCore(EventLoop* face, bool debug, bool virtual_time)
    : m_debug(debug), m_virtual(virtual_time), m_thread(std::this_thread::get_id()),
      m_link(new LoopLink(this, face)), m_backend(std::make_unique<Backend>()),
      m_inbox(new Inbox(m_backend.get())) {
    m_link->add_ref();
    m_inbox->add_ref();
}

LoopCore::~LoopCore() {
    m_link->core = nullptr;
    m_link->loop = nullptr;
    m_link->release();
    m_inbox->release();
}

double LoopCore::time() const noexcept { return m_virtual ? m_vnow : monotonic(); }

void LoopCore::check_closed() const {
    if (m_closed)
        throw RuntimeError("Event loop is closed");
}

void LoopCore::check_not_running() const {
    if (is_running())
        throw RuntimeError("This event loop is already running");
    if (t_running_core)
        throw RuntimeError("Cannot run the event loop while another loop is running");
}

void LoopCore::check_thread(const char* what) const {
    if (is_running() && std::this_thread::get_id() != m_thread.load(std::memory_order_relaxed))
        throw RuntimeError(std::string("Non-thread-safe operation (") + what +
                           ") invoked on an event loop other than the current one");
}

void LoopCore::check_callable_state(const char* what) const {
    check_closed();
    if (m_debug)
        check_thread(what);
}

void LoopCore::run_until_stopped() {
    check_closed();
    check_not_running();
    m_thread.store(std::this_thread::get_id(), std::memory_order_relaxed);
    m_running.store(true, std::memory_order_relaxed);
    t_running_core = this;
    struct Reset {
        LoopCore& core;
        ~Reset() {
            core.m_stopping = false;
            core.m_running.store(false, std::memory_order_relaxed);
            t_running_core = nullptr;
            return_task_numbers(); // a loop run next, on any thread, goes on from here
        }
    } reset{*this};
    for (;;) {
        run_once();
        if (m_stopping)
            break;
    }
}

void LoopCore::run_once() {
    if (m_inbox->has_items())
        drain_inbox();
    if (m_poll_countdown != 0 && --m_poll_countdown == 0) [[unlikely]]
        poll_signals();
    if (m_ready.empty() && !m_stopping)
        wait_for_work();
    else if (m_io_count > 0) [[unlikely]]
        poll_io(); // its callbacks may make more ready: they run below
    if (!m_timers.empty())
        process_timers();
    // Only what is ready now runs in this iteration; what it schedules runs in the next.
    std::size_t n = m_ready.size();
    if (m_debug) [[unlikely]] {
        run_timed(n);
        return;
    }
    for (; n > 0; --n)
        m_ready.pop()->run();
}

void LoopCore::wait_for_work() {
    if (m_timers.empty()) {
        wait_os(-1.0);
    } else if (double delay = m_timers.top_when() - time(); delay > 0) {
        if (m_virtual && m_external.load(std::memory_order_relaxed) == 0 && m_io_count == 0)
            m_vnow = m_timers.top_when();
        else
            wait_os(delay);
    }
    drain_inbox();
    if (m_virtual && m_io_count > 0)
        follow_real_time();
}

void LoopCore::poll_io() {
    m_backend->poll_nowait();
    if (m_virtual)
        follow_real_time();
}

void LoopCore::follow_real_time() noexcept {
    double now = monotonic();
    if (m_real_mark > 0.0)
        m_vnow += now - m_real_mark;
    m_real_mark = now;
}

void LoopCore::run_timed(std::size_t n) {
    for (; n > 0; --n) {
        Runnable* r = m_ready.pop();
        if (r->is_cancelled()) { // a cancelled handle is dropped, not timed
            r->run();
            continue;
        }
        std::ostringstream what;
        r->describe_runnable(what);
        double start = monotonic();
        r->run();
        double took = monotonic() - start;
        if (took >= slow_callback_duration) {
            std::ostringstream msg;
            msg << "Executing " << what.str() << " took " << took << " seconds";
            report(LoopReport{msg.str(), nullptr, nullptr, false, nullptr});
        }
    }
}

void LoopCore::wait_os(double timeout) {
    double start = m_virtual ? monotonic() : 0.0;
    // Work is coming back from other threads (jobs in flight, or the inbox had something just
    // now): busy-wait a little for it before sleeping in the kernel, which costs both sides a
    // wake-up of several microseconds.
    if (m_external.load(std::memory_order_relaxed) > 0 || m_inbox_active) {
        auto limit = timeout >= 0 ? spin_limit_for(timeout) : spin_limit;
        m_inbox_active = spin_until([this] { return m_inbox->has_items(); }, limit);
    }
    // With I/O open, virtual time follows the real clock through follow_real_time() instead.
    bool add_elapsed = m_virtual && m_io_count == 0;
    if (m_inbox_active || !m_inbox->prepare_sleep()) { // something was posted meanwhile
        if (add_elapsed)
            m_vnow += monotonic() - start;
        return;
    }
    m_backend->wait(timeout);
    m_inbox->end_sleep();
    if (add_elapsed) // something outside the loop is in flight: virtual time runs at the real rate
        m_vnow += monotonic() - start;
}

void LoopCore::process_timers() {
    double end = time() + clock_resolution;
    while (!m_timers.empty() && m_timers.top_when() <= end)
        m_timers.pop()->on_timer();
}

void LoopCore::drain_inbox() {
    if (!m_inbox->has_items())
        return;
    InboxItem* item = m_inbox->take_newest_first();
    if (!item)
        return;
    m_inbox_active = true;
    std::size_t count = 0;
    for (; item; ++count) {
        InboxItem* next = item->m_inbox_next;
        m_ready.push(item);
        item = next;
    }
    m_ready.reverse_last(count); // first posted first
}

void LoopCore::poll_signals() {
    m_poll_countdown = k_signal_poll_interval;
    m_backend->poll_nowait();
}

void LoopCore::watch_signal(int signum, SignalSink* sink) {
    m_backend->watch_signal(
        signum, [](void* s, int n) { static_cast<SignalSink*>(s)->on_signal(n); }, sink);
    if (m_signal_sinks.empty())
        m_poll_countdown = k_signal_poll_interval;
    m_signal_sinks[signum] = sink;
}

void LoopCore::unwatch_signal(int signum) noexcept {
    if (m_signal_sinks.erase(signum) == 0)
        return;
    m_backend->unwatch_signal(signum);
    if (m_signal_sinks.empty())
        m_poll_countdown = 0;
}

void LoopCore::track(ExternalWork* w) noexcept {
    m_external_work.push_back(w);
    if (w->m_outside)
        begin_external();
}

void LoopCore::untrack(ExternalWork* w) noexcept {
    if (!w->tracked())
        return;
    m_external_work.remove(w);
    if (w->m_outside)
        end_external();
}

void LoopCore::close_engine() noexcept {
    m_closed = true;
    InboxItem* left = m_inbox->close();
    // Open sockets and servers release their OS handles; the backend finishes closing them.
    while (IoResource* r = m_io.front()) {
        remove_io(r);
        r->close_for_loop();
    }
    // Work still in flight can no longer deliver: it lets go of the loop's objects here, on the
    // loop's thread.
    while (ExternalWork* w = m_external_work.front()) {
        untrack(w);
        w->detach();
    }
    while (!m_ready.empty())
        m_ready.pop()->discard();
    while (!m_timers.empty())
        m_timers.pop()->discard_timer();
    while (left) {
        InboxItem* next = left->m_inbox_next;
        left->discard();
        left = next;
    }
}

} // namespace asyncio::detail
