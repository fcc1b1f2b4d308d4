// asyncio.runners: Runner and run(), the entry point of an asyncio program, and Ctrl-C.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "contextvars.hpp"
#include "coroutines.hpp"
#include "events.hpp"
#include "exceptions.hpp"
#include "tasks.hpp"

namespace asyncio {

struct RunOptions {
    // Unset: on when the environment variable ASYNCIO_DEBUG is non-empty.
    std::optional<bool> debug = std::nullopt;
    // Run on virtual time (see LoopOptions).
    bool virtual_time = false;
};

namespace detail {
// Throws RuntimeError(message) when a loop already runs in this thread.
void check_run_allowed(const char* message);
} // namespace detail

// asyncio.Runner: one loop and one context for any number of run() calls, then close() (also
// by the destructor): leftover tasks are cancelled and awaited, the default executor is shut
// down (waiting up to 300 s for its jobs), and the loop is closed.
//
// Ctrl-C: when run() is called on the main thread while SIGINT has its default disposition, a
// SIGINT cancels the main task (through libuv's signal watcher: nothing runs inside the signal
// handler); once the main task has ended, run() throws KeyboardInterrupt, unless the task had
// another cancellation pending (then CancelledError). A second SIGINT before the main task has
// finished restores the default disposition and raises SIGINT again: the process ends. The
// disposition is back to the default when run() returns. A handler the program set for SIGINT
// (loop.add_signal_handler) takes precedence.
class Runner {
public:
    explicit Runner(RunOptions options = {}) noexcept : m_options(options) {}
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;
    ~Runner() { close(); }

    // Runs `coro` as the main task, in the runner's context, until it is done, and gives its
    // value or rethrows its exception. RuntimeError when a loop already runs in this thread, or
    // once the runner is closed.
    template <class T>
    T run(Coro<T> coro);
    template <class A>
    requires(!iscoroutine_v<A>) void run(A&&) {
        static_assert(iscoroutine_v<A>, "Runner::run() expects a coroutine object (a Coro<T>): "
                                        "an awaitable is required. If you passed a coroutine "
                                        "function, call it: run(main())");
    }

    // The runner's loop, made on first use; RuntimeError once closed.
    EventLoop& get_loop();
    // Cancels and awaits what is left, shuts the default executor down, closes the loop.
    // Idempotent; what goes wrong is reported through the loop's exception handler.
    void close() noexcept;

private:
    enum class State : std::uint8_t { created, initialized, closed };
    void lazy_init();
    // Installs run()'s SIGINT handler for `main` when the conditions hold; gives its serial.
    std::uint64_t install_sigint(TaskRef main);
    void remove_sigint(std::uint64_t serial) noexcept;
    void on_sigint(TaskRef& main);

    RunOptions m_options;
    State m_state = State::created;
    std::unique_ptr<EventLoop> m_loop;
    std::optional<Context> m_context;
    int m_interrupt_count = 0;
};

template <class T>
T Runner::run(Coro<T> coro) {
    detail::check_run_allowed("Runner.run() cannot be called from a running event loop");
    lazy_init();
    Task<T> task = m_loop->create_task(std::move(coro), TaskOptions{.context = *m_context});
    m_interrupt_count = 0;
    struct Sigint {
        Runner& runner;
        std::uint64_t serial;
        ~Sigint() { runner.remove_sigint(serial); }
    } sigint{*this, install_sigint(task)};
    m_loop->run_until_done(task.core());
    if (task.cancelled() && m_interrupt_count > 0 && task.uncancel() == 0)
        throw KeyboardInterrupt();
    task.core().check_result();
    if constexpr (!std::is_void_v<T>)
        return std::move(*task.raw()->m_value);
}

// asyncio.run(): Runner(options).run(main). RuntimeError when called while a loop runs in this
// thread.
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
    detail::check_run_allowed("asyncio.run() cannot be called from a running event loop");
    Runner runner(options);
    return runner.run(std::move(main));
}

template <class A>
requires(!iscoroutine_v<A>) void run(A&&, RunOptions = {}) {
    static_assert(iscoroutine_v<A>, "asyncio::run() expects a coroutine object (a Coro<T>): an "
                                    "awaitable is required. If you passed a coroutine "
                                    "function, call it: run(main())");
}

} // namespace asyncio
