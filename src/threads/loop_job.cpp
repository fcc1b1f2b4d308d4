// LoopJob: an executor job that reports back to its loop through the loop's inbox.
#include "asyncio/detail/threads/loop_job.hpp"

namespace asyncio::detail {

LoopJob::LoopJob(LoopCore& loop) : m_loop(&loop), m_inbox(&loop.inbox()) {}

LoopJob::~LoopJob() = default;

void LoopJob::untrack() noexcept {
    if (tracked()) // else the loop may be gone
        m_loop->untrack(this);
}

void LoopJob::attach(FutureCore& future) {
    m_future = IntrusivePtr<FutureCore>(&future);
    add_ref(); // the registration's
    future.add_node(this);
}

void LoopJob::submit(Executor& executor) {
    add_ref(); // the worker side's
    m_loop->track(this);
    try {
        executor.submit_job(this);
    } catch (...) {
        if (m_future) { // nothing will ever deliver: detach from the future
            m_future->remove_node(this);
            m_future.reset();
            release();
        }
        cancel();
        release();
        throw;
    }
}

void LoopJob::cancel() noexcept {
    m_cancelled.store(true, std::memory_order_release);
    if (m_stop)
        m_stop->request_stop();
    untrack();
}

void LoopJob::detach() noexcept {
    // The job still runs, as asyncio's executor runs it after close(); its outcome will find
    // the inbox closed.
    m_future.reset(); // may drop the future, and with it its registration's reference
}

void LoopJob::work() noexcept {
    if (!m_cancelled.load(std::memory_order_acquire)) {
        ContextScope scope(m_has_context ? &m_context : nullptr);
        try {
            invoke();
        } catch (...) {
            m_error = std::current_exception();
        }
    }
    // Nobody wants the outcome, or the loop is closed: post nothing.
    if (m_cancelled.load(std::memory_order_acquire) || !m_inbox->post(this))
        release();
}

void LoopJob::abandon() noexcept {
    m_abandoned = true;
    if (m_cancelled.load(std::memory_order_acquire) || !m_inbox->post(this))
        release();
}

void LoopJob::run() {
    if (!m_cancelled.load(std::memory_order_relaxed)) {
        untrack();
        if (IntrusivePtr<FutureCore> f = std::move(m_future)) { // on_done() sees it delivered
            if (m_abandoned)
                f->cancel("");
            else if (m_error)
                f->set_exception(m_error);
            else {
                store_in_future();
                f->set_finished();
            }
        } else if (m_waiter) {
            m_waiter->job_done();
        }
    }
    release(); // the inbox's reference
}

void LoopJob::on_done(FutureCore& f) noexcept {
    if (m_future) {       // done by someone else (cancelled, most likely): the outcome is unwanted
        cancel();         // a cancelled future cancels the work, as asyncio's wrap_future does
        m_future.reset(); // whoever completed it holds it too
    }
    (void)f;
    release(); // the registration's
}

} // namespace asyncio::detail
