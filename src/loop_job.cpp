// LoopJob: an executor job that reports back to its loop through the loop's inbox.
#include "asyncio/detail/loop_job.hpp"

#include "asyncio/events.hpp"

namespace asyncio::detail {

LoopJob::LoopJob(EventLoop& loop) : m_loop(&loop), m_inbox(&loop.inbox()) {
    loop.begin_external();
}

LoopJob::~LoopJob() = default;

void LoopJob::end_external() noexcept {
    if (std::exchange(m_external, false))
        m_loop->end_external();
}

void LoopJob::attach(FutureCore& future) {
    m_future = &future;
    add_ref(); // the registration's
    future.add_node(this);
}

void LoopJob::submit(Executor& executor) {
    add_ref(); // the worker side's
    try {
        executor.submit_job(this);
    } catch (...) {
        if (m_future) { // nothing will ever deliver: detach from the future
            m_future->remove_node(this);
            m_future = nullptr;
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
    end_external();
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
        end_external();
        if (FutureCore* f = m_future) {
            if (m_abandoned)
                f->cancel("");
            else if (m_error)
                f->set_exception(m_error);
            else {
                store_in_future();
                f->set_finished();
            }
            // on_done() has detached the future by now
        } else if (m_waiter) {
            m_waiter->job_done();
        }
    }
    release(); // the inbox's reference
}

void LoopJob::on_done(FutureCore& f) noexcept {
    m_future = nullptr;
    if (f.cancelled())
        cancel(); // a cancelled future cancels the work, as asyncio's wrap_future does
    else
        end_external();
    release(); // the registration's
}

void LoopJob::dispose() noexcept {
    // The future goes away while pending: its loop may be gone too, so ask the future's link.
    if (!m_future->link()->loop)
        m_external = false;
    m_future = nullptr;
    cancel();
    release();
}

} // namespace asyncio::detail
