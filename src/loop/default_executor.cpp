// EventLoop's default executor: made on first use, replaced, shut down without blocking the loop.
#include <sstream>

#include "asyncio/events.hpp"

namespace asyncio {

void EventLoop::JoinerDone::run() {
    finished = true;
    for (Future<void>& f : waiters)
        if (!f.done())
            f.set_result();
    waiters.clear();
}

Executor& EventLoop::default_executor() {
    if (m_executor_shutdown_called)
        throw RuntimeError("Executor shutdown has been called");
    if (!m_default_executor)
        m_default_executor = std::make_shared<ThreadPoolExecutor>(std::nullopt, "asyncio");
    return *m_default_executor;
}

void EventLoop::set_default_executor(std::shared_ptr<ThreadPoolExecutor> executor) {
    if (!executor)
        throw ValueError("set_default_executor() needs an executor");
    m_default_executor = std::move(executor);
}

Coro<> EventLoop::shutdown_default_executor_for(std::optional<double> timeout) {
    m_executor_shutdown_called = true;
    if (!m_default_executor)
        co_return;
    if (!m_joiner_done) {
        m_default_executor->shutdown(false); // refuse new work at once
        m_joiner_done = std::make_unique<JoinerDone>();
        detail::IntrusivePtr<detail::Inbox> posts(&inbox());
        m_executor_joiner =
            std::thread([executor = m_default_executor, posts, done = m_joiner_done.get()] {
                executor->shutdown(true);
                posts->post(done); // refused once the loop is closed: then nobody waits
            });
    }
    if (!m_joiner_done->finished) {
        Future<void> done = create_future<void>();
        m_joiner_done->waiters.push_back(done);
        TimerHandle timer;
        if (timeout)
            timer = call_later(*timeout, [done]() mutable {
                if (!done.done())
                    done.set_result();
            });
        // The helper thread is work in flight outside the loop: on virtual time, the timeout
        // runs at the real rate.
        begin_external();
        struct Cleanup {
            EventLoop& loop;
            TimerHandle& timer;
            ~Cleanup() {
                loop.end_external();
                if (timer)
                    timer.cancel();
            }
        } cleanup{*this, timer};
        co_await done;
        if (!m_joiner_done->finished) {
            std::ostringstream msg;
            msg << "The executor did not finishing joining its threads within " << *timeout
                << " seconds.";
            call_exception_handler(ExceptionContext{msg.str(), nullptr, {}, {}, {}});
            co_return;
        }
    }
    if (m_executor_joiner.joinable())
        m_executor_joiner.join();
}

} // namespace asyncio
