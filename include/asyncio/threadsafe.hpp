// asyncio.tasks.run_coroutine_threadsafe: submitting a coroutine to a loop from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "concurrent.hpp"
#include "coroutines.hpp"
#include "detail/base/intrusive.hpp"
#include "detail/context/context_core.hpp"
#include "detail/runtime/external_work.hpp"
#include "detail/runtime/inbox.hpp"
#include "detail/task/future_core.hpp"
#include "events.hpp"
#include "tasks.hpp"

namespace asyncio {

namespace detail {

// One run_coroutine_threadsafe() call, shared by the submitting thread, the loop and the
// concurrent future: one object, the concurrent future's state itself (Submission<T> is a
// ConcurrentState<T>), so a submission is one allocation, which the submitting thread usually
// frees when it drops the future.
//
// Invariants:
// - references are the concurrent future's (atomic): its handles', and the submission's while it
//   sits in the inbox, while it is registered on its task, while the outcome waits in the ready
//   queue and while a cancel request is posted;
// - the concurrent future always completes: with the task's outcome, with the error that kept
//   the task from being created, or with RuntimeError when the loop is closed or the task
//   destroyed before that;
// - m_task (the loop's thread only) is the task while it is pending and registered, else null;
//   the task's outcome is moved out when it completes and handed to the concurrent future at
//   once if that runs no user code (no callbacks but ours), else by a later callback (user code
//   never runs inside a task step);
// - a cancel request is posted at most once (m_cancel_posted);
// - while its task is pending the submission is on the loop's list of work with a waiter outside
//   (ExternalWork, not counted as work outside the loop for virtual time): when the loop closes
//   with the task unfinished, the concurrent future fails with RuntimeError at once, so a thread
//   blocked on it never waits for a loop that will not run again.
class SubmissionBase : public InboxItem, public CallbackNode, public ExternalWork {
public:
    // `future` is this very object's concurrent future state.
    SubmissionBase(LoopCore& loop, ConcurrentCore* future);
    SubmissionBase(const SubmissionBase&) = delete;
    SubmissionBase& operator=(const SubmissionBase&) = delete;

    void add_ref() noexcept { m_future->add_ref(); }
    void release() noexcept { m_future->release(); }

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
    ~SubmissionBase();
    // Creates the task from the coroutine (throws what create_task throws).
    virtual TaskCore* create_task(LoopCore& loop) = 0;
    // Moves the finished task's value into this submission.
    virtual void take_value(TaskCore& task) noexcept = 0;
    // Completes the concurrent future (locked by the caller, pending) with the stored value.
    virtual void set_value(std::unique_lock<std::mutex> lock) noexcept = 0;
    void fail(std::exception_ptr e) noexcept;

private:
    // Hands the stored outcome to the concurrent future (ready queue, or the loop's close()).
    struct Deliver final : Runnable {
        SubmissionBase* self;
        void run() override;
        void discard() noexcept override;
    };
    // On the concurrent future: its cancellation cancels the task. Part of the future itself,
    // it holds no reference.
    struct CancelRelay final : ConcurrentCallback {
        SubmissionBase* self;
        void invoke(ConcurrentCore& future) noexcept override;
        void destroy() noexcept override {}
    };
    // Cancels the task (posted by another thread).
    struct CancelTask final : InboxItem {
        SubmissionBase* self;
        void run() override;
        void discard() noexcept override { self->release(); }
    };
    void deliver() noexcept;
    bool deliver_quietly() noexcept;

    std::atomic<bool> m_cancel_posted{false};
    enum class Outcome : unsigned char { none, value, error, cancelled } m_outcome = Outcome::none;
    std::exception_ptr m_error;
    TaskCore* m_task = nullptr;
    LoopCore* m_loop;
    IntrusivePtr<Inbox> m_inbox;
    ConcurrentCore* m_future; // this object
    LazyContext m_context;
    Deliver m_deliver;
    CancelRelay m_relay;
    CancelTask m_cancel;

    friend void submit_threadsafe(SubmissionBase& submission);
};

template <class T>
class Submission final : public ConcurrentState<T>, public SubmissionBase {
public:
    Submission(LoopCore& loop, Coro<T> coro)
        : SubmissionBase(loop, this), m_coro(std::move(coro)) {}

private:
    TaskCore* create_task(LoopCore& loop) override {
        TaskOptions options;
        return start_task(loop, m_coro, options, SourceLoc::current()).raw();
    }
    void take_value(TaskCore& task) noexcept override {
        m_result.emplace(std::move(*static_cast<TaskState<T>&>(task).m_value));
    }
    void set_value(std::unique_lock<std::mutex> lock) noexcept override {
        try {
            if constexpr (std::is_void_v<T>)
                this->m_value.emplace();
            else
                this->m_value.emplace(std::move(*m_result));
        } catch (...) { // the value's move threw
            this->end_set_exception(std::move(lock), std::current_exception());
            return;
        }
        this->end_set(std::move(lock));
    }

    Coro<T> m_coro;
    std::optional<ValueOf<T>> m_result; // the task's, until the future takes it
};

// Registers the cancel relay and posts; throws RuntimeError when the loop is closed (the future,
// held by the caller, then fails).
void submit_threadsafe(SubmissionBase& submission);

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
    auto* submission = new detail::Submission<T>(detail::core_of(loop), std::move(coro));
    ConcurrentFuture<T> future(submission); // holds it from here on
    detail::submit_threadsafe(*submission);
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
