// Internal: PromiseBase, the non-template part of every Coro<T>'s promise.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>

#include "../base/frame_pool.hpp"
#include "../base/source_loc.hpp"

namespace asyncio::detail {

class TaskCore;

template <class A>
concept HasMemberCoAwait = requires(A&& a) {
    static_cast<A&&>(a).operator co_await();
};
template <class A>
concept HasFreeCoAwait = requires(A&& a) {
    operator co_await(static_cast<A&&>(a));
};

// What await_transform gives the compiler for `co_await a`: a pointer to `a`, which stays where
// the expression put it. g++ stores whatever await_transform returns in the coroutine frame, as a
// copy: returning `a` itself would cost every co_await a second copy of its awaitable in the
// frame (docs/performance.md has the figures); a pointer costs one word. Awaiting it is awaiting
// `a`: its operator co_await, or its own await_* calls.
template <class A>
class AwaitRef {
    static constexpr bool k_converts = HasMemberCoAwait<A> || HasFreeCoAwait<A>;

public:
    explicit AwaitRef(std::remove_reference_t<A>& a) noexcept : m_a(&a) {}

    decltype(auto) operator co_await() requires k_converts {
        if constexpr (HasMemberCoAwait<A>)
            return static_cast<A&&>(*m_a).operator co_await();
        else
            return operator co_await(static_cast<A&&>(*m_a));
    }
    // Inlined, so that what await_resume throws leaves from the awaiting coroutine's own frame
    // (see FutureCore::check_result_inline).
    [[gnu::always_inline]] bool await_ready() requires(!k_converts) { return m_a->await_ready(); }
    template <class P>
    [[gnu::always_inline]] decltype(auto)
    await_suspend(std::coroutine_handle<P> h) requires(!k_converts) {
        return m_a->await_suspend(h);
    }
    [[gnu::always_inline]] decltype(auto) await_resume() requires(!k_converts) {
        return static_cast<A&&>(*m_a).await_resume();
    }

private:
    std::remove_reference_t<A>* m_a;
};

// Every coroutine frame of ours knows its task, the frame that awaits it (for the async stack),
// where its function is and the line of the co_await it is suspended at. Recording that line is
// one store per await, done by await_transform's defaulted location argument.
class PromiseBase : public PoolAllocated {
public:
    explicit PromiseBase(SourceLoc where = SourceLoc::current()) noexcept
        : m_function(where.function), m_file(where.file), m_line(where.line) {}

    // Records where the coroutine awaits; the awaitable itself is awaited, through AwaitRef.
    // The line alone is taken: g++ keeps the arguments of this call in the frame across the
    // suspension, and a whole SourceLoc would cost every co_await 24 bytes there.
    template <class A>
    AwaitRef<A> await_transform(A&& awaitable, int line = __builtin_LINE()) noexcept {
        m_await_line = line;
        return AwaitRef<A>(awaitable);
    }

    void unhandled_exception() noexcept;

    const char* function() const noexcept { return m_function; }
    const char* file() const noexcept { return m_file; }
    // The line of the co_await the frame is suspended at, or of the function if none yet.
    int line() const noexcept { return m_await_line ? m_await_line : m_line; }
    // The line of the function itself.
    int defined_line() const noexcept { return m_line; }
    PromiseBase* parent() const noexcept { return m_parent; }

    std::coroutine_handle<> m_continuation;
    PromiseBase* m_parent = nullptr;
    TaskCore* m_task = nullptr;
    std::exception_ptr m_exception;

private:
    const char* m_function;
    const char* m_file;
    // The function's line shares its word with the two flags: one word less in every frame,
    // which a program with a million tasks pays a million times (docs/performance.md).
    int m_line : 30;

public:
    bool m_started : 1 = false;
    bool m_exception_is_cancel : 1 = false;

private:
    int m_await_line = 0;
};

// True while handling an exception whose type is CancelledError. Tells cancellation apart
// without a rethrow, so a cancellation costs its one throw.
bool current_exception_is_cancel() noexcept;

} // namespace asyncio::detail
