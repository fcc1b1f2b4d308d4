// asyncio.runners: run(), the entry point of an asyncio program.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "coroutines.hpp"
#include "events.hpp"

namespace asyncio {

struct RunOptions {
    // Unset: on when the environment variable ASYNCIO_DEBUG is non-empty.
    std::optional<bool> debug = std::nullopt;
    // Run on virtual time (see LoopOptions).
    bool virtual_time = false;
};

namespace detail {
// Throws RuntimeError when a loop already runs in this thread.
void check_run_allowed();
// Cancels and awaits leftover tasks, shuts the default executor down (waiting up to 300 s for
// its jobs), then closes the loop: what run() does on its way out.
void finish_run(EventLoop& loop) noexcept;

struct RunGuard {
    EventLoop& loop;
    ~RunGuard() { finish_run(loop); }
};
} // namespace detail

// Creates a new event loop, runs `main` to completion as a task, cancels and awaits every task
// still pending, shuts the loop down and closes it; returns main's value or rethrows its
// exception. RuntimeError when called while a loop runs in this thread.
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
    detail::check_run_allowed();
    EventLoop loop(LoopOptions{options.debug, options.virtual_time});
    detail::RunGuard guard{loop};
    return loop.run_until_complete(std::move(main));
}

template <class A>
requires(!iscoroutine_v<A>) void run(A&&, RunOptions = {}) {
    static_assert(iscoroutine_v<A>, "asyncio::run() expects a coroutine object (a Coro<T>): an "
                                    "awaitable is required. If you passed a coroutine "
                                    "function, call it: run(main())");
}

} // namespace asyncio
