// run_coroutine_threadsafe(): the submission's trip to the loop and its outcome's trip back.
#include "asyncio/threadsafe.hpp"

namespace asyncio::detail {

namespace {
std::exception_ptr closed_error() {
    return std::make_exception_ptr(RuntimeError("Event loop is closed"));
}
} // namespace

SubmissionBase::SubmissionBase(LoopCore& loop, ConcurrentCore* future)
    : m_loop(&loop), m_inbox(&loop.inbox()), m_future(future) {
    m_deliver.self = this;
    m_relay.self = this;
    m_cancel.self = this;
    m_outside = false;   // the task runs in the loop
    m_context.capture(); // the submitting thread's context, as call_soon_threadsafe copies it
}

SubmissionBase::~SubmissionBase() = default;

void submit_threadsafe(SubmissionBase& submission) {
    submission.m_future->add_callback(&submission.m_relay);
    if (!submission.post()) {
        submission.m_future->set_exception(closed_error());
        throw RuntimeError("Event loop is closed");
    }
}

bool SubmissionBase::post() {
    add_ref(); // the inbox's
    if (m_inbox->post(this))
        return true;
    release();
    return false;
}

void SubmissionBase::post_cancel() noexcept {
    if (m_cancel_posted.exchange(true, std::memory_order_acq_rel))
        return;
    add_ref();
    if (!m_inbox->post(&m_cancel))
        release();
}

void SubmissionBase::run() {
    IntrusivePtr<SubmissionBase> hold(this);
    release();                      // the inbox's reference, now held by `hold`
    ContextScope scope(&m_context); // the task copies this context
    try {
        TaskCore* task = create_task(*m_loop);
        m_task = task;
        add_ref(); // the registration's
        task->add_node(this);
        m_loop->track(this);
    } catch (...) {
        // As asyncio: the error goes to the future and to the loop's exception handler.
        std::exception_ptr e = std::current_exception();
        fail(e);
        m_loop->report(LoopReport{"Exception in callback run_coroutine_threadsafe()", e, nullptr,
                                  false, nullptr});
    }
}

void SubmissionBase::discard() noexcept {
    fail(closed_error()); // the loop was closed before the coroutine could start
    release();
}

void SubmissionBase::fail(std::exception_ptr e) noexcept {
    m_outcome = Outcome::error;
    m_error = std::move(e);
    deliver();
}

void SubmissionBase::on_done(FutureCore& f) noexcept {
    auto& task = static_cast<TaskCore&>(f);
    m_task = nullptr;
    if (tracked())
        m_loop->untrack(this);
    if (m_outcome != Outcome::none) { // the loop was closed first: the future has its answer
        release();
        return;
    }
    if (task.cancelled()) {
        m_outcome = Outcome::cancelled;
    } else if (std::exception_ptr e = task.exception()) {
        m_outcome = Outcome::error;
        m_error = std::move(e);
    } else {
        m_outcome = Outcome::value;
        take_value(task);
    }
    if (m_outcome != Outcome::cancelled && deliver_quietly()) {
        release(); // the registration's
        return;
    }
    // The registration's reference passes to the delivery, which runs as a callback of its own.
    f.schedule(&m_deliver);
}

bool SubmissionBase::deliver_quietly() noexcept {
    std::unique_lock<std::mutex> lock;
    switch (m_future->begin_set_quietly(&m_relay, lock)) {
    case ConcurrentCore::QuietSet::deferred:
        return false;
    case ConcurrentCore::QuietSet::done:
        return true;
    case ConcurrentCore::QuietSet::locked:
        break;
    }
    if (m_outcome == Outcome::error)
        m_future->end_set_exception(std::move(lock), m_error);
    else
        set_value(std::move(lock));
    return true;
}

void SubmissionBase::detach() noexcept {
    m_task = nullptr;
    fail(closed_error());
}

void SubmissionBase::dispose() noexcept {
    m_task = nullptr;
    if (tracked()) // else the loop may be gone
        m_loop->untrack(this);
    if (m_outcome == Outcome::none)
        fail(std::make_exception_ptr(RuntimeError("Task was destroyed but it is pending!")));
    release();
}

void SubmissionBase::deliver() noexcept {
    switch (m_outcome) {
    case Outcome::cancelled:
        m_future->cancel();
        break;
    case Outcome::error:
        if (auto lock = m_future->begin_set_unless_cancelled(); lock.owns_lock())
            m_future->end_set_exception(std::move(lock), m_error);
        break;
    case Outcome::value:
        if (auto lock = m_future->begin_set_unless_cancelled(); lock.owns_lock())
            set_value(std::move(lock));
        break;
    case Outcome::none:
        break;
    }
}

void SubmissionBase::CancelRelay::invoke(ConcurrentCore& future) noexcept {
    if (future.state() == ConcurrentCore::State::cancelled)
        self->post_cancel();
}

void SubmissionBase::Deliver::run() {
    self->deliver();
    self->release();
}

void SubmissionBase::Deliver::discard() noexcept {
    self->deliver(); // the loop closed before the callback ran: the outcome is known anyway
    self->release();
}

void SubmissionBase::CancelTask::run() {
    if (self->m_task)
        TaskRef(self->m_task).cancel();
    self->release();
}

} // namespace asyncio::detail
