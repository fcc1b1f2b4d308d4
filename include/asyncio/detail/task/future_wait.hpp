// Internal: the awaiter shared by Future<T>, Task<T> and FutureRef.
#pragma once

#include <coroutine>

#include "../base/intrusive.hpp"
#include "task_core.hpp"

namespace asyncio::detail {

TaskCore* running_task() noexcept;

// The task a suspending coroutine belongs to: from our promise, else the loop's current task.
template <class P>
TaskCore* task_of(std::coroutine_handle<P> h) noexcept {
    if constexpr (std::is_base_of_v<PromiseBase, P>)
        return h.promise().m_task;
    else
        return running_task();
}
template <class P>
PromiseBase* promise_of(std::coroutine_handle<P> h) noexcept {
    if constexpr (std::is_base_of_v<PromiseBase, P>)
        return &h.promise();
    else
        return nullptr;
}

// Suspends the awaiting task until the future completes. Its done-list node is embedded here,
// so awaiting allocates nothing. Abort hook: cancel the awaited future (for a task, that is
// Task.cancel(), so cancellation propagates down a chain of awaited tasks).
class FutureWait : public CallbackNode, public Waiter {
public:
    explicit FutureWait(FutureCore* f) noexcept : m_fut(f) {}
    FutureWait(const FutureWait&) = delete;
    FutureWait& operator=(const FutureWait&) = delete;
    ~FutureWait() {
        if (linked())
            m_fut->remove_node(this);
    }

    // InvalidStateError for an empty (default-constructed) handle.
    bool await_ready() const {
        if (!m_fut) [[unlikely]]
            throw_empty_handle();
        return m_fut->done();
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        TaskCore* task = task_of(h);
        if (!task || task == m_fut.get() || task->link() != m_fut->link()) [[unlikely]]
            refuse(task);
        m_task = task;
        m_fut->add_node(this);
        task->suspend(h, promise_of(h), this);
    }
    // Throws the awaited future's own cancellation (which stands for a pending cancellation of
    // the task, as in asyncio), else a pending cancellation of the task, else the future's
    // failure. Inlined into the awaiting coroutine (see FutureCore::check_result_inline).
    [[gnu::always_inline]] void check() {
        if (m_task) {
            if (m_fut->cancelled())
                m_task->consume_cancel();
            else
                m_task->deliver_cancel();
        }
        m_fut->check_result_inline();
    }

    void on_done(FutureCore&) noexcept override;
    bool abort(const std::string& msg) override { return m_fut->cancel(msg); }
    void describe_wait(std::ostream& os) const override;
    void describe_callback(std::ostream& os) const override;
    FutureCore* awaiting_future() const noexcept override { return m_task; }

private:
    // RuntimeError: awaited outside a task, by itself, or from another loop.
    [[noreturn]] void refuse(const TaskCore* task) const;

    IntrusivePtr<FutureCore> m_fut;
    TaskCore* m_task = nullptr;
};

} // namespace asyncio::detail
