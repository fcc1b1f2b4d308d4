// Internal: LoopJob, an executor job whose outcome goes back to a loop (run_in_executor() and
// to_thread()), and the awaiter of to_thread().
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include "../../executor.hpp"
#include "../base/intrusive.hpp"
#include "../context/context_core.hpp"
#include "../runtime/external_work.hpp"
#include "../runtime/inbox.hpp"
#include "../task/future_core.hpp"
#include "../task/future_wait.hpp"
#include "../task/task_core.hpp"

namespace asyncio::detail {

// What waits in the loop for a LoopJob without a Future: the to_thread() awaiter.
class JobWaiter {
public:
    virtual void job_done() noexcept = 0;

protected:
    ~JobWaiter() = default;
};

// Invariants:
// - references to the job (atomic) are held by the worker side (from submission until work()
//   posted the job back, then by the inbox until the loop ran or discarded it), by the
//   registration on the future (until it is done or dropped) and by the to_thread() awaiter;
// - m_cancelled is set by the loop side when nobody wants the outcome any more: a job not started
//   then never calls the function, one that finishes later posts nothing;
// - the outcome is written by the worker before it posts the job and read by the loop after it
//   took it: the inbox orders the two;
// - while in flight the job is tracked by the loop (ExternalWork) and holds its future, as
//   asyncio's chained futures keep it alive; it lets go of the future on the loop's thread when
//   it delivers, when the future is done otherwise, or when the loop closes, so a job finishing
//   after its loop was closed or destroyed touches only itself and the shared inbox;
// - m_future and m_waiter belong to the loop's thread.
class LoopJob : public Job,
                public InboxItem,
                public CallbackNode,
                public ExternalWork,
                public AtomicRefCounted<LoopJob> {
public:
    explicit LoopJob(LoopCore& loop);

    // Set-up, before submit().
    // The function runs in a copy of the current context (to_thread(), not run_in_executor()).
    void use_current_context() noexcept {
        m_context.capture();
        m_has_context = true;
    }
    // The function takes a std::stop_token, stopped when the loop side gives up.
    void make_stop_token() { m_stop.emplace(); }
    // Delivers to this future (registers on its done list and holds it).
    void attach(FutureCore& future);
    // Hands the job to the executor; on failure the loop side is detached and the error thrown.
    void submit(Executor& executor);

    // The loop side gives up on the outcome: the task awaiting it was cancelled, or its future
    // was done by someone else.
    void cancel() noexcept;
    // The executor dropped the job unrun (shut down with cancel_futures): the waiting side gets
    // CancelledError, as a cancelled concurrent future gives it.
    bool abandoned() const noexcept { return m_abandoned; }

    JobWaiter* m_waiter = nullptr;

    // Job: a worker thread.
    void work() noexcept final;
    void abandon() noexcept final;
    // InboxItem: the loop's thread.
    void run() final;
    void discard() noexcept final { release(); }
    // CallbackNode: the future of run_in_executor().
    void on_done(FutureCore& f) noexcept final;
    void dispose() noexcept final { release(); }
    // ExternalWork: the loop closes.
    void detach() noexcept final;

protected:
    virtual ~LoopJob();
    // A worker thread: calls the function and stores its value (an exception goes to m_error).
    virtual void invoke() = 0;
    // The loop's thread: stores the value in the future's slot (before it is marked finished).
    virtual void store_in_future() = 0;

    std::exception_ptr m_error;
    std::optional<std::stop_source> m_stop;

private:
    friend class AtomicRefCounted<LoopJob>; // deletes it
    void untrack() noexcept;

    std::atomic<bool> m_cancelled{false};
    bool m_abandoned = false; // set before the job is posted
    bool m_has_context = false;
    LazyContext m_context;
    IntrusivePtr<FutureCore> m_future;
    LoopCore* m_loop;
    IntrusivePtr<Inbox> m_inbox;
};

// The job with its function and its typed outcome. With `Stop`, the function gets a
// std::stop_token in front of its arguments.
template <class R, class Call, bool Stop = false>
class LoopCall final : public LoopJob {
public:
    LoopCall(LoopCore& loop, Call call) : LoopJob(loop), m_call(std::move(call)) {}
    void set_future_slot(std::optional<ValueOf<R>>* slot) noexcept { m_slot = slot; }

    // The outcome, once delivered: the value, or the function's exception rethrown.
    ValueOf<R> take() {
        if (m_error)
            std::rethrow_exception(m_error);
        return std::move(*m_value);
    }

private:
    void invoke() override {
        if constexpr (std::is_void_v<R>) {
            if constexpr (Stop)
                m_call(m_stop->get_token());
            else
                m_call();
            m_value.emplace();
        } else {
            if constexpr (Stop)
                m_value.emplace(m_call(m_stop->get_token()));
            else
                m_value.emplace(m_call());
        }
    }
    void store_in_future() override { m_slot->emplace(std::move(*m_value)); }

    Call m_call;
    std::optional<ValueOf<R>> m_value;
    std::optional<ValueOf<R>>* m_slot = nullptr;
};

// The awaiter of to_thread(): suspends the task until the job's outcome is back. Abort hook:
// give up on the job (it is not run if not started yet; its stop_token is stopped) and wake the
// task at once with CancelledError; a running function runs to its end.
template <class R, class Call, bool Stop>
class ThreadAwaiter final : public Waiter, public JobWaiter {
public:
    explicit ThreadAwaiter(LoopCall<R, Call, Stop>* job) noexcept : m_job(job) { m_job->add_ref(); }
    // Movable only before it is awaited (a combinator that takes it by value moves it).
    ThreadAwaiter(ThreadAwaiter&& o) noexcept : m_job(std::exchange(o.m_job, nullptr)) {}
    ThreadAwaiter& operator=(const ThreadAwaiter&) = delete;
    ~ThreadAwaiter() {
        if (!m_job)
            return;
        if (m_job->m_waiter == this || m_state == State::idle)
            m_job->cancel(); // the frame goes while still waiting: nobody wants the outcome
        if (m_job->m_waiter == this)
            m_job->m_waiter = nullptr;
        m_job->release();
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        TaskCore* task = task_of(h);
        if (!task)
            throw RuntimeError("to_thread() must be awaited inside a Task");
        m_task = task;
        m_state = State::waiting;
        m_job->m_waiter = this;
        task->suspend(h, promise_of(h), this);
    }
    ValueOf<R> await_resume() {
        if (m_state == State::aborted) {
            m_task->consume_cancel();
            throw CancelledError(std::move(m_message));
        }
        if (m_job->abandoned()) {
            m_task->consume_cancel();
            throw CancelledError();
        }
        m_task->deliver_cancel();
        return m_job->take();
    }

    void job_done() noexcept override {
        m_state = State::done;
        m_job->m_waiter = nullptr;
        m_task->wake();
    }
    bool abort(const std::string& msg) override {
        if (m_state != State::waiting)
            return false;
        m_state = State::aborted;
        m_message = msg;
        m_job->m_waiter = nullptr;
        m_job->cancel();
        m_task->wake();
        return true;
    }
    void describe_wait(std::ostream& os) const override { os << "<to_thread>"; }

private:
    enum class State : unsigned char { idle, waiting, done, aborted };
    LoopCall<R, Call, Stop>* m_job;
    TaskCore* m_task = nullptr;
    State m_state = State::idle;
    std::string m_message;
};

} // namespace asyncio::detail
