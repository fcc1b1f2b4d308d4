// asyncio.tasks.sleep: suspend the current task for a delay, allocation-free.
#pragma once

#include <cmath>
#include <coroutine>
#include <string>
#include <utility>

#include "detail/base/runnable.hpp"
#include "detail/base/short_string.hpp"
#include "detail/task/future_wait.hpp"
#include "detail/task/task_core.hpp"
#include "events.hpp"
#include "exceptions.hpp"

namespace asyncio {

namespace detail {

// The awaiter of sleep(): its timer node lives inside it (in the coroutine frame), so sleeping
// allocates nothing. A delay <= 0 is the bare yield: the task goes to the back of the ready
// queue, and no timer is involved. The node's deadline holds the delay until the timer is armed
// (8 bytes of every sleeping frame).
class [[nodiscard("sleep() does nothing until it is awaited")]] SleepAwaiter : public Waiter,
                                                                               public TimerNode {
public:
    explicit SleepAwaiter(double delay) noexcept { when = delay; }
    // Movable only before it is awaited (a combinator that takes it by value moves it).
    SleepAwaiter(SleepAwaiter && o) noexcept { when = o.when; }
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;
    ~SleepAwaiter() {
        if (scheduled()) // the frame is destroyed while sleeping: leave no timer behind
            unschedule();
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        TaskCore* task = task_of(h);
        if (delay() <= 0 && task && task->yield_now(h, promise_of(h), this)) {
            m_task = task;
            m_state = State::yielded;
            return;
        }
        suspend(h, task, promise_of(h));
    }
    void await_resume() {
        if (m_state == State::aborted) { // undone by cancel(): that cancel's message is thrown
            m_task->consume_cancel();
            throw CancelledError(m_message.get());
        }
        m_task->deliver_cancel();
    }

    void on_timer() override;
    bool abort(const std::string& msg) override;
    void describe_wait(std::ostream & os) const override;

private:
    enum class State : unsigned char { idle, yielded, armed, fired, aborted };
    void suspend(std::coroutine_handle<> h, TaskCore * task, PromiseBase * leaf);
    void unschedule() noexcept;

    // Until armed, the deadline field holds the delay.
    double delay() const noexcept { return when; }

    State m_state = State::idle; // first: it fills the padding at the end of TimerNode
    TaskCore* m_task = nullptr;
    RareString m_message;
};

template <class R>
class SleepResult : public SleepAwaiter {
public:
    SleepResult(double delay, R result) : SleepAwaiter(delay), m_result(std::move(result)) {}
    R await_resume() {
        SleepAwaiter::await_resume();
        return std::move(m_result);
    }

private:
    R m_result;
};

[[noreturn]] void throw_nan_delay();
inline double checked_delay(double seconds) {
    if (std::isnan(seconds)) [[unlikely]]
        throw_nan_delay();
    return seconds;
}

inline bool TaskCore::yield_now(std::coroutine_handle<> h, PromiseBase* leaf, Waiter* waiter) {
    if (needs_slow_suspend() || m_scheduled)
        return false;
    m_link->core->push_ready(this);
    m_scheduled = true;
    m_resume = h;
    if (leaf)
        m_leaf = leaf;
    m_waiter = waiter;
    return true;
}

} // namespace detail

// Suspends the current task for `delay` (seconds as a number, or any chrono duration).
// sleep(0), or any delay <= 0, yields to the loop once: the cheap way to let other tasks run.
// ValueError for a NaN delay. Must be awaited inside a task.
//
// Cancellation: the timer is removed at once and CancelledError is thrown at the co_await on
// the next iteration; no timer is left behind.
template <detail::Seconds D>
detail::SleepAwaiter sleep(D delay) {
    return detail::SleepAwaiter(detail::checked_delay(detail::to_seconds(delay)));
}

// The same, giving `result` when it completes.
template <detail::Seconds D, class R>
detail::SleepResult<std::decay_t<R>> sleep(D delay, R&& result) {
    return detail::SleepResult<std::decay_t<R>>(detail::checked_delay(detail::to_seconds(delay)),
                                                std::forward<R>(result));
}

} // namespace asyncio
