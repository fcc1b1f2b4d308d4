// asyncio.threads: to_thread(), running a blocking function in a thread without blocking the loop.
#pragma once

#include <stop_token>
#include <type_traits>
#include <utility>

#include "coroutines.hpp"
#include "detail/threads/loop_job.hpp"
#include "events.hpp"
#include "executor.hpp"

namespace asyncio {

namespace detail {
template <class F, class... A>
inline constexpr bool takes_stop_token_v =
    std::is_invocable_v<std::decay_t<F>, std::stop_token, std::decay_t<A>...>;

template <class F, class... A>
struct ThreadResult {
    using type = call_result_t<F, A...>;
};
template <class F, class... A>
requires takes_stop_token_v<F, A...>
struct ThreadResult<F, A...> {
    using type = std::invoke_result_t<std::decay_t<F>, std::stop_token, std::decay_t<A>...>;
};
template <class F, class... A>
using thread_result_t = typename ThreadResult<F, A...>::type;

template <class F, class... A>
constexpr void check_thread_call() {
    if constexpr (!takes_stop_token_v<F, A...>)
        check_executor_call<F, A...>();
    else
        static_assert(!iscoroutinefunction_v<std::decay_t<F>, std::stop_token, std::decay_t<A>...>,
                      "to_thread() runs plain functions, not coroutine functions: the coroutine "
                      "would never be awaited (asyncio's TypeError); await it in a task instead");
}
} // namespace detail

// Runs f(args...) on the running loop's default executor (a thread pool) and gives its result or
// rethrows its exception; the loop keeps running meanwhile. The function sees the caller's
// context variables (it runs in a copy of the caller's context). The arguments are copied (or
// moved) into the call; pass std::ref to share an object. RuntimeError without a running loop,
// or after the loop's shutdown_default_executor().
//
// If f takes a std::stop_token before the arguments, it gets one that is stopped when the
// awaiting task is cancelled, so a long function can notice and end early.
//
// Cancellation: cancelling the awaiting task raises CancelledError in it at once; a function
// that has not started yet never runs, and one that runs goes on to its end (its stop_token is
// stopped) and its outcome is dropped.
template <class F, class... A>
Coro<detail::thread_result_t<F, A...>> to_thread(F f, A... args) {
    detail::check_thread_call<F, A...>();
    using R = detail::thread_result_t<F, A...>;
    using Call = detail::BoundCall<F, A...>;
    EventLoop& loop = get_running_loop();
    Executor& executor = loop.default_executor();
    constexpr bool stop = detail::takes_stop_token_v<F, A...>;
    auto* job = new detail::LoopCall<R, Call, stop>(detail::core_of(loop),
                                                    Call(std::move(f), std::move(args)...));
    detail::ThreadAwaiter<R, Call, stop> awaiter(job); // holds the job from here on
    job->use_current_context();
    if constexpr (stop)
        job->make_stop_token();
    job->submit(executor);
    if constexpr (std::is_void_v<R>)
        co_await std::move(awaiter);
    else
        co_return co_await std::move(awaiter);
}

} // namespace asyncio
