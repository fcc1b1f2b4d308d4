// Internal: PromiseBase, the non-template part of every Coro<T>'s promise.
#pragma once

#include <coroutine>
#include <exception>

#include "frame_pool.hpp"
#include "source_loc.hpp"

namespace asyncio::detail {

class TaskCore;

// Every coroutine frame of ours knows its task, the frame that awaits it (for the async stack),
// where its function is and the line of the co_await it is suspended at. Recording that line is
// one store per await, done by await_transform's defaulted location argument.
class PromiseBase : public PoolAllocated {
public:
    explicit PromiseBase(SourceLoc where = SourceLoc::current()) noexcept
        : m_function(where.function), m_file(where.file), m_line(where.line) {}

    // Records where the coroutine awaits; the awaitable itself passes through unchanged.
    template <class A>
    A&& await_transform(A&& awaitable, SourceLoc where = SourceLoc::current()) noexcept {
        m_await_line = where.line;
        return static_cast<A&&>(awaitable);
    }

    void unhandled_exception() noexcept;

    const char* function() const noexcept { return m_function; }
    const char* file() const noexcept { return m_file; }
    // The line of the co_await the frame is suspended at, or of the function if none yet.
    int line() const noexcept { return m_await_line ? m_await_line : m_line; }
    PromiseBase* parent() const noexcept { return m_parent; }

    std::coroutine_handle<> m_continuation;
    PromiseBase* m_parent = nullptr;
    TaskCore* m_task = nullptr;
    std::exception_ptr m_exception;
    bool m_started = false;
    bool m_exception_is_cancel = false;

private:
    const char* m_function;
    const char* m_file;
    int m_line;
    int m_await_line = 0;
};

// True while handling an exception whose type is CancelledError. Tells cancellation apart
// without a rethrow, so a cancellation costs its one throw.
bool current_exception_is_cancel() noexcept;

} // namespace asyncio::detail
