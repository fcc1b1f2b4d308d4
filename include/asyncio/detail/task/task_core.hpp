// Internal: TaskCore, the non-template machinery of Task<T>, and the cancellation protocol.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../context/context_core.hpp"
#include "future_core.hpp"
#include "promise.hpp"

namespace asyncio {
struct Frame;
}

namespace asyncio::detail {

// The abort hook of the cancellation protocol. Every awaitable of this library registers one
// with its task while the task is suspended on it. Task.cancel() calls abort(msg): the hook
// undoes the wait (removes the timer, cancels the awaited future) and arranges for the task to
// be woken with CancelledError thrown at that co_await, and returns true; it returns false when
// it can no longer act (already woken), in which case the task delivers the cancellation itself
// at its next step.
class Waiter {
public:
    virtual bool abort(const std::string& msg) = 0;
    // What the task waits for, for its repr ("wait_for=...").
    virtual void describe_wait(std::ostream& os) const;

protected:
    ~Waiter() = default;
};

// A timeout scope open in a task (wait_for's deadline, asyncio's Timeout). Scopes nest, so the
// task keeps them as a stack (innermost first). Arming is lazy: the task arms its unarmed scopes
// when it suspends, so work that completes inside a scope without ever suspending costs no clock
// read and no timer. Unarmed scopes are always the innermost ones.
class ScopeTimer {
public:
    ScopeTimer* m_outer_scope = nullptr;
    bool m_armed = false;
    // Starts the scope's timer (its deadline counts from now) and sets m_armed.
    virtual void arm() = 0;

protected:
    ~ScopeTimer() = default;
};

// Invariants (as asyncio.Task):
// - while pending, the task is on its loop's task list, which holds one reference: dropping
//   every handle never loses a task;
// - a pending task is either scheduled (on the ready queue, once) or suspended on a Waiter,
//   or suspended on a foreign awaitable that resumes it itself;
// - m_cancel (see CancelState): a cancel() the waiter could not act on is requested, and the
//   next step turns it into a throw at the resumed co_await; when that co_await throws a
//   CancelledError of its own (its wait was aborted, or the future it awaited was cancelled),
//   that one is thrown and consumes the pending one, as asyncio's step keeps a CancelledError it
//   is already throwing in;
// - m_scopes lists the timeout scopes open in the task's coroutine chain, innermost first; the
//   unarmed ones are a prefix, and none is unarmed while the task is suspended;
// - every step runs with m_context current (a pointer swap), so a task sees its own context
//   variables and never another's;
// - m_leaf is the innermost frame of the task's coroutine chain while the task has a frame
//   (null once its loop dropped it), and the root frame is the end of m_leaf's parents;
//   m_resume, m_leaf and m_waiter are read only while pending (m_coro_* once done);
// - once done, the coroutine frame is destroyed and the result lives in TaskState<T>.
class TaskCore : public FutureCore, public TaskHook {
public:
    TaskCore(LoopCore& loop, std::coroutine_handle<> root, PromiseBase* root_promise);

    bool cancel(const std::string& msg) override;
    int cancelling() const noexcept { return m_num_cancels_requested; }
    int uncancel() noexcept;

    // Registers on the loop's task list and schedules the first step, or, `eager` on a running
    // loop, runs it now (asyncio 3.12's eager start: the task is current_task() meanwhile, and
    // one that finishes without suspending is never scheduled). The task runs in `context`, or,
    // when it is null, in a copy of the current context.
    void start(ContextImpl* context = nullptr, bool eager = false);
    const std::string& name() const;
    void set_name(std::string name) { extras().name = std::move(name); }
    // The root frame while the task has one (null once done, or dropped with its loop).
    std::coroutine_handle<> coro() const noexcept;
    // The loop's engine; only while the task is pending (a pending task's loop is alive).
    LoopCore& pending_loop() const noexcept { return *m_link->core; }

    // The awaitable side of the protocol.
    void suspend(std::coroutine_handle<> h, PromiseBase* leaf, Waiter* waiter) {
        m_resume = h;
        if (leaf)
            m_leaf = leaf;
        m_waiter = waiter;
        if (needs_slow_suspend()) [[unlikely]]
            suspend_slow(waiter);
    }
    void wake();
    // sleep(0)'s suspend() and wake() in one step, inlined into the awaiting coroutine (defined
    // in sleep.hpp); false, having done nothing, when the full suspend() is needed: a timeout
    // scope waits to be armed, or a cancellation is pending.
    inline bool yield_now(std::coroutine_handle<> h, PromiseBase* leaf, Waiter* waiter);
    // Inlined into the resumed coroutine, like FutureCore::check_result_inline.
    [[gnu::always_inline]] void deliver_cancel() {
        if (m_cancel.deliver()) [[unlikely]]
            throw CancelledError(cancel_msg());
    }
    // The resumed co_await throws its own CancelledError instead: nothing is left pending.
    void consume_cancel() noexcept { m_cancel.consume(); }
    void set_leaf(PromiseBase* p) noexcept { m_leaf = p; }
    // A coroutine is awaited inside the chain (enter) or returns to its awaiter (leave). In
    // debug mode a chain deeper than k_max_await_depth raises RecursionError at the co_await
    // that would go deeper, where a deep enough chain would overflow the stack of a build
    // without tail calls.
    static constexpr int k_max_await_depth = 1000;
    void enter_coroutine() {
        if (++m_depth > k_max_await_depth) [[unlikely]]
            check_depth();
    }
    void leave_coroutine() noexcept { --m_depth; }
    // Timeout scopes (innermost first); see ScopeTimer.
    void push_scope(ScopeTimer* s) noexcept {
        s->m_outer_scope = m_scopes;
        m_scopes = s;
    }
    void pop_scope(ScopeTimer* s) noexcept {
        if (m_scopes == s) {
            m_scopes = s->m_outer_scope;
            s->m_outer_scope = nullptr;
        } else {
            pop_inner_scope(s);
        }
    }
    void arm_scopes() {
        if (m_scopes && !m_scopes->m_armed)
            arm_unarmed_scopes();
    }
    void record_traceback(const PromiseBase& p);

    // The stack: the frames of the suspended chain, or the traceback of the failure.
    std::vector<Frame> get_stack(std::optional<std::size_t> limit) const;
    void print_stack(std::optional<std::size_t> limit, std::ostream& os) const;
    void describe(std::ostream& os, bool callbacks = true) const override;

    // The context every step runs in (asyncio's Task._context).
    LazyContext& context() noexcept { return m_context; }
    LazyContext* report_context() noexcept override { return &m_context; }

    // Called by the root frame's final suspend, with the root's promise; destroys the frame.
    virtual void root_done(PromiseBase& root) noexcept = 0;

    // The loop asks a pending task whose loop goes away to destroy its coroutine frame (running
    // the destructors of what the frame holds) and to leave the loop's task list.
    void drop_pending_frame() noexcept;

protected:
    void run() override;
    void describe_runnable(std::ostream& os) const override;
    const char* kind() const noexcept override { return "Task"; }
    void finish_from(PromiseBase& p, bool has_value) noexcept;
    // The root frame: a task keeps no pointer to it, but reaches it from the innermost frame
    // through the frames' parents (8 bytes of every task); null once done or dropped.
    PromiseBase* root_promise() const noexcept;
    // The frame whose promise that is (the task's type knows the promise's).
    virtual std::coroutine_handle<> frame_of(PromiseBase& root) const noexcept = 0;
    // The first step, with a cancellation already requested: the task ends cancelled, its
    // coroutine never run.
    void finish_unstarted();
    void arm_unarmed_scopes();
    // A suspension has more to do: arm the scopes, or act on a pending cancellation.
    bool needs_slow_suspend() const noexcept {
        return (m_scopes && !m_scopes->m_armed) || m_cancel.any();
    }
    void suspend_slow(Waiter* waiter);
    void check_depth();
    void pop_inner_scope(ScopeTimer* s) noexcept;

    // A pending task's suspension (where to resume, the innermost frame, the awaitable's hook)
    // and a done task's coroutine (its function and where it is defined, static strings kept for
    // descriptions once the frame is gone) share their storage: finish_from() switches them.
    union {
        std::coroutine_handle<> m_resume;
        const char* m_coro_function;
    };
    union {
        PromiseBase* m_leaf;
        const char* m_coro_file;
    };
    union {
        Waiter* m_waiter = nullptr;
        int m_coro_line;
    };
    ScopeTimer* m_scopes = nullptr;
    int m_num_cancels_requested = 0;
    int m_depth = 0; // coroutines awaited inside the root one, nested (fills padding)
    std::uint64_t m_number = 0;
    LazyContext m_context;

    ~TaskCore() override;
    void unregister() noexcept;
};

} // namespace asyncio::detail
