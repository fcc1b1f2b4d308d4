// Internal: the slow path of an awaiter whose fast path completes without suspending.
#pragma once

#include <coroutine>
#include <utility>

#include "../../coroutines.hpp"

namespace asyncio::detail {

// An awaiter (Queue.get, Queue.put) answers await_ready() from its fast path; when it must
// suspend, it runs its slow path (a loop of parks, as asyncio's `while self.empty(): await
// getter`) as a Coro awaited in its place. The frame exists only on the slow path, so the fast
// path allocates nothing.
template <class T>
class SlowPath {
public:
    // Starts `coro` inside the awaiting coroutine `h` (symmetric transfer into its frame).
    template <class P>
    std::coroutine_handle<> start(Coro<T> coro, std::coroutine_handle<P> h) {
        m_coro = std::move(coro);
        auto awaiter = m_coro.operator co_await();
        (void)awaiter.await_ready();
        return awaiter.await_suspend(h);
    }
    bool started() const noexcept { return static_cast<bool>(m_coro); }
    // Its value, or its exception rethrown.
    ValueOf<T> result() { return m_coro.operator co_await().await_resume(); }

private:
    Coro<T> m_coro;
};

} // namespace asyncio::detail
