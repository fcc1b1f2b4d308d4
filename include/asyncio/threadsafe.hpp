// asyncio.tasks.run_coroutine_threadsafe: submitting a coroutine to a loop from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "concurrent.hpp"
#include "coroutines.hpp"
#include "detail/context_core.hpp"
#include "detail/external_work.hpp"
#include "detail/future_core.hpp"
#include "detail/inbox.hpp"
#include "detail/intrusive.hpp"
#include "events.hpp"
#include "tasks.hpp"

namespace asyncio {

namespace detail {

// One run_coroutine_threadsafe() call, shared by the submitting thread, the loop and the
// concurrent future.
//
// Invariants:
// - references (atomic) are held while the submission sits in the inbox, while it is registered
//   on its task, while the outcome waits in the ready queue, while a cancel request is posted,
//   and by the cancel relay on the concurrent future (until that future completes);
// - the concurrent future always completes: with the task's outcome, with the error that kept
//   the task from being created, or with RuntimeError when the loop is closed or the task
//   destroyed before that;
// - m_task (the loop's thread only) is the task while it is pending and registered, else null;
//   the task's outcome is moved out when it completes, and handed to the concurrent future by a
//   later callback (the future's callbacks are user code, which never runs inside a task step);
// - a cancel request is posted at most once (m_cancel_posted);
// - while its task is pending the submission is on the loop's list of work with a waiter outside
//   (ExternalWork, not counted as work outside the loop for virtual time): when the loop closes
//   with the task unfinished, the concurrent future fails with RuntimeError at once, so a thread
//   blocked on it never waits for a loop that will not run again.
class SubmissionBase : public InboxItem, public CallbackNode, public ExternalWork {
public:
    SubmissionBase(EventLoop& loop, ConcurrentCore* future);
    SubmissionBase(const SubmissionBase&) = delete;
    SubmissionBase& operator=(const SubmissionBase&) = delete;

    void add_ref() noexcept { m_refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete this;
    }

    // Any thread: posts the submission; false when the loop is closed (the future then fails).
    bool post();
    // Any thread (the concurrent future was cancelled): asks the loop to cancel the task.
    void post_cancel() noexcept;

    // InboxItem: creates the task (the loop's thread).
    void run() final;
    void discard() noexcept final;
    // CallbackNode: the task completed or went away.
    void on_done(FutureCore& f) noexcept final;
    void dispose() noexcept final;
    // ExternalWork: the loop closes with the task unfinished.
    void detach() noexcept final;

protected:
    virtual ~SubmissionBase();
    // Creates the task from the coroutine (throws what create_task throws).
    virtual TaskCore* create_task(EventLoop& loop) = 0;
    // Moves the finished task's value into this submission.
    virtual void take_value(TaskCore& task) noexcept = 0;
    // Completes the concurrent future with the stored value, unless it was cancelled.
    virtual void set_value() noexcept = 0;
    void fail(std::exception_ptr e) noexcept;

private:
    // Hands the stored outcome to the concurrent future (ready queue, or the loop's close()).
    struct Deliver final : Runnable {
        SubmissionBase* self;
        void run() override;
        void discard() noexcept override;
    };
    // On the concurrent future: its cancellation cancels the task.
    struct CancelRelay final : ConcurrentCallback {
        SubmissionBase* self;
        void invoke(ConcurrentCore& future) noexcept override;
        void destroy() noexcept override { self->release(); }
    };
    // Cancels the task (posted by another thread).
    struct CancelTask final : InboxItem {
        SubmissionBase* self;
        void run() override;
        void discard() noexcept override { self->release(); }
    };
    void deliver() noexcept;

    std::atomic<std::uint32_t> m_refs{0};
    std::atomic<bool> m_cancel_posted{false};
    enum class Outcome : unsigned char { none, value, error, cancelled } m_outcome = Outcome::none;
    std::exception_ptr m_error;
    TaskCore* m_task = nullptr;
    EventLoop* m_loop;
    IntrusivePtr<Inbox> m_inbox;
    IntrusivePtr<ConcurrentCore> m_future;
    LazyContext m_context;
    Deliver m_deliver;
    CancelRelay m_relay;
    CancelTask m_cancel;

    friend void submit_threadsafe(SubmissionBase* submission, ConcurrentCore& future);
};

template <class T>
class Submission final : public SubmissionBase {
public:
    Submission(EventLoop& loop, Coro<T> coro, ConcurrentState<T>* future)
        : SubmissionBase(loop, future), m_coro(std::move(coro)), m_state(future) {}

private:
    TaskCore* create_task(EventLoop& loop) override {
        return loop.create_task(std::move(m_coro)).raw();
    }
    void take_value(TaskCore& task) noexcept override {
        m_value.emplace(std::move(*static_cast<TaskState<T>&>(task).m_value));
    }
    void set_value() noexcept override {
        auto lock = m_state->begin_set_unless_cancelled();
        if (!lock.owns_lock())
            return; // cancelled meanwhile
        try {
            if constexpr (std::is_void_v<T>)
                m_state->m_value.emplace();
            else
                m_state->m_value.emplace(std::move(*m_value));
        } catch (...) { // the value's move threw
            m_state->end_set_exception(std::move(lock), std::current_exception());
            return;
        }
        m_state->end_set(std::move(lock));
    }

    Coro<T> m_coro;
    ConcurrentState<T>* m_state; // held by the base
    std::optional<ValueOf<T>> m_value;
};

// Registers the cancel relay and posts; throws RuntimeError when the loop is closed.
void submit_threadsafe(SubmissionBase* submission, ConcurrentCore& future);

} // namespace detail

// Submits the coroutine to `loop` from any thread (asyncio's run_coroutine_threadsafe) and gives
// a ConcurrentFuture to wait for its result from another thread. The loop runs it as a task, in a
// copy of the submitting thread's context. RuntimeError("Event loop is closed") when the loop is
// closed; a submission still queued when the loop closes, and a task destroyed unfinished with
// its loop, fail the future with RuntimeError, so a waiter never hangs on a loop that is gone.
// The loop object itself must outlive the call.
//
// Cancellation: future.cancel() (from any thread) cancels the task in the loop; cancelling or
// failing the task shows in the future.
template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
    ConcurrentFuture<T> future;
    detail::submit_threadsafe(new detail::Submission<T>(loop, std::move(coro), future.raw()),
                              future.core());
    return future;
}

template <class A>
requires(!iscoroutine_v<A>) void run_coroutine_threadsafe(A&&, EventLoop&) {
    static_assert(iscoroutine_v<A>, "run_coroutine_threadsafe() expects a coroutine object (a "
                                    "Coro<T>): a coroutine object is required. If you passed a "
                                    "coroutine function, call it: run_coroutine_threadsafe(f(), "
                                    "loop)");
}

} // namespace asyncio
