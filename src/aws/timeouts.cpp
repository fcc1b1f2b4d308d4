// wait_for(): the timeout scope (lazily armed timer, queued expiry) and _cancel_and_wait.
#include "asyncio/timeouts.hpp"

#include <cmath>
#include <limits>
#include <ostream>
#include <string>

namespace asyncio::detail {

// What the fired timer queues: asyncio's call_at handle of Timeout._on_timeout. It runs after
// what was already ready in this iteration; a scope that ends first detaches it.
struct TimeoutScope::Fire final : Runnable, PoolAllocated {
    TimeoutScope* scope;
    explicit Fire(TimeoutScope* s) noexcept : scope(s) {}
    void run() override {
        std::unique_ptr<Fire> self(this);
        if (TimeoutScope* s = scope) {
            s->m_fire = nullptr;
            s->expire();
        }
    }
    void discard() noexcept override {
        if (scope)
            scope->m_fire = nullptr;
        delete this;
    }
};

void TimeoutScope::throw_no_task(const char* message) { throw RuntimeError(message); }

void TimeoutScope::disarm() noexcept {
    if (scheduled()) // a closed loop has dropped its timers already
        m_task->link()->core->remove_timer(this);
    if (m_fire) {
        m_fire->scope = nullptr;
        m_fire = nullptr;
    }
}

void TimeoutScope::arm() {
    m_armed = true;
    if (std::isnan(m_delay))
        return; // no deadline
    LoopCore& loop = m_task->pending_loop();
    const double now = loop.time();
    when = m_absolute ? m_delay : now + m_delay;
    if (when <= now)
        on_timer(); // due already: expires in the next iteration (asyncio's call_soon)
    else
        loop.add_timer(this);
}

std::optional<double> TimeoutScope::deadline() {
    if (!m_armed && m_entered)
        m_task->arm_scopes(); // this one and the unarmed ones inside it, as a suspension would
    if (std::isnan(m_delay))
        return std::nullopt;
    if (!m_armed)
        return m_absolute ? std::optional<double>(m_delay) : std::nullopt;
    return when;
}

void TimeoutScope::reschedule(std::optional<double> deadline) {
    const bool armed = m_armed;
    if (armed)
        disarm();
    m_delay = deadline ? *deadline : std::numeric_limits<double>::quiet_NaN();
    m_absolute = true;
    if (armed)
        arm();
    else if (m_entered)
        m_task->arm_scopes(); // a deadline on the clock is armed at once, as on entry
}

void TimeoutScope::on_timer() {
    m_fire = new Fire(this);
    m_task->pending_loop().push_ready(m_fire);
}

void TimeoutScope::expire() {
    if (m_awaited && m_awaited->done())
        return; // it finished in this iteration: the task resumes with its result
    m_expired = true;
    m_task->cancel("");
}

Coro<void> cancel_and_wait(FutureRef fut) {
    Future<void> waiter = get_running_loop().create_future<void>();
    // Like asyncio's release of the waiter by a done callback (one iteration later).
    struct Unregister {
        FutureRef fut;
        CallbackId id;
        ~Unregister() { fut.remove_done_callback(id); }
    } unregister{fut, fut.add_done_callback([waiter]() mutable {
                     if (!waiter.done())
                         waiter.set_result();
                 })};
    fut.cancel();
    co_await waiter;
}

} // namespace asyncio::detail

namespace asyncio {

std::ostream& operator<<(std::ostream& os, const Timeout& t) {
    const detail::TimeoutScope& s = t.m_scope;
    const char* state = "created";
    if (s.exited())
        state = s.expired() ? "expired" : "finished";
    else if (s.entered())
        state = s.expired() ? "expiring" : "active";
    os << "<Timeout [" << state << "]";
    if (s.entered() && !s.expired()) {
        // Asking for the deadline arms a scope that waited for its first suspension.
        std::optional<double> when = const_cast<detail::TimeoutScope&>(s).deadline();
        os << " when=";
        if (when)
            os << std::round(*when * 1000) / 1000;
        else
            os << "None";
    }
    return os << ">";
}

void Timeout::reschedule(std::optional<double> when) {
    const char* state = nullptr;
    if (!m_scope.entered() && !m_scope.exited())
        throw RuntimeError("Timeout has not been entered");
    if (m_scope.exited())
        state = m_scope.expired() ? "expired" : "finished";
    else if (m_scope.expired())
        state = "expiring";
    if (state)
        throw RuntimeError(std::string("Cannot change state of ") + state + " Timeout");
    m_scope.reschedule(when);
}

} // namespace asyncio
