// Runner: the loop's life around run(), and run()'s Ctrl-C handling.
#include "asyncio/runners.hpp"

#include <csignal>
#include <unistd.h>

namespace asyncio {

namespace detail {
void check_run_allowed(const char* message) {
    if (running_core())
        throw RuntimeError(message);
}

namespace {
// The conditions of asyncio's Runner for handling Ctrl-C: the main thread, and SIGINT at its
// default disposition (nobody else handles it).
bool sigint_is_ours_to_handle() {
    if (getpid() != gettid())
        return false;
    struct sigaction current {};
    if (sigaction(SIGINT, nullptr, &current) != 0)
        return false;
    return !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL;
}
} // namespace
} // namespace detail

EventLoop& Runner::get_loop() {
    lazy_init();
    return *m_loop;
}

void Runner::lazy_init() {
    if (m_state == State::closed)
        throw RuntimeError("Runner is closed");
    if (m_state == State::initialized)
        return;
    m_loop = std::make_unique<EventLoop>(LoopOptions{m_options.debug, m_options.virtual_time});
    m_context = copy_context();
    m_state = State::initialized;
}

void Runner::close() noexcept {
    if (m_state != State::initialized) {
        m_state = State::closed;
        return;
    }
    EventLoop& loop = *m_loop;
    try {
        loop.cancel_all_tasks();
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "error while cancelling the remaining tasks at asyncio.run() shutdown";
        ctx.exception = std::current_exception();
        loop.call_exception_handler(ctx);
    }
    try {
        // asyncio's THREAD_JOIN_TIMEOUT
        loop.run_until_complete(loop.shutdown_default_executor(300));
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "error while shutting down the default executor at asyncio.run() shutdown";
        ctx.exception = std::current_exception();
        loop.call_exception_handler(ctx);
    }
    loop.close();
    m_loop.reset();
    m_context.reset();
    m_state = State::closed;
}

std::uint64_t Runner::install_sigint(TaskRef main) {
    if (!detail::sigint_is_ours_to_handle())
        return 0;
    auto handler = [this, main]() mutable { on_sigint(main); };
    detail::CallbackAt<> fn(handler); // refers to `handler` until make_handle() copies it
    try {
        return m_loop->m_signals.add(SIGINT, fn.make_handle(*m_loop, false));
    } catch (const RuntimeError&) {
        return 0; // SIGINT cannot be watched here: run without Ctrl-C handling
    }
}

void Runner::remove_sigint(std::uint64_t serial) noexcept {
    if (serial != 0 && m_loop)
        m_loop->m_signals.remove(SIGINT, serial); // only if it is still ours
}

void Runner::on_sigint(TaskRef& main) {
    ++m_interrupt_count;
    if (m_interrupt_count == 1 && !main.done()) {
        main.cancel();
        return;
    }
    // A second Ctrl-C: the default disposition comes back (the watch ends) and the signal is
    // raised again, which ends the process as an unhandled SIGINT does.
    m_loop->m_signals.remove(SIGINT);
    std::raise(SIGINT);
}

} // namespace asyncio
