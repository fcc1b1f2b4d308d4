// asyncio.coroutines: Coro<T>, the coroutine type (Python's `async def`), and its traits.
#pragma once

#include <concepts>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "detail/task/promise.hpp"
#include "detail/task/task_core.hpp"
#include "exceptions.hpp"

namespace asyncio {

template <class T>
class Coro;

namespace detail {

void report_never_awaited(const PromiseBase& p) noexcept;
[[noreturn]] void throw_reused_coroutine();

template <class T>
class Promise;

// Hands control back when a frame finishes: to the awaiting frame (symmetric transfer, no trip
// through the loop), or, for a task's root frame, to the task, which takes the outcome.
template <class T>
struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise<T>> h) noexcept {
        PromiseBase& p = h.promise();
        if (p.m_continuation) {
            if (p.m_task) {
                p.m_task->set_leaf(p.m_parent);
                p.m_task->leave_coroutine();
            }
            return p.m_continuation;
        }
        if (p.m_task)
            p.m_task->root_done(p); // destroys this frame: touch nothing after
        return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
};

// A frame starts lazily, and its initial suspension keeps nothing in the frame (a pointer here
// would cost a small coroutine's frame a 16-byte size class). A cancellation already pending when
// the frame would start is thrown before it does, by whoever starts it: a task's first step
// (TaskCore::run), or the awaiting frame's co_await (Coro::Awaiter::await_suspend).
using InitialAwaiter = std::suspend_always;

template <class T>
class PromiseValue : public PromiseBase {
public:
    explicit PromiseValue(SourceLoc where) noexcept : PromiseBase(where) {}
    template <class U = T>
    requires std::convertible_to<U&&, T>
    void return_value(U&& v) { m_value.emplace(std::forward<U>(v)); }
    std::optional<T> m_value;
};

template <>
class PromiseValue<void> : public PromiseBase {
public:
    explicit PromiseValue(SourceLoc where) noexcept : PromiseBase(where) {}
    void return_void() noexcept {}
};

template <class T>
class Promise final : public PromiseValue<T> {
public:
    // The default argument is evaluated in the coroutine itself: it names the coroutine
    // function and where it is defined.
    explicit Promise(SourceLoc where = SourceLoc::current()) noexcept : PromiseValue<T>(where) {}
    Coro<T> get_return_object() noexcept;
    InitialAwaiter initial_suspend() noexcept { return {}; }
    FinalAwaiter<T> final_suspend() noexcept { return {}; }

    ValueOf<T> take() {
        if (this->m_exception)
            std::rethrow_exception(this->m_exception);
        if constexpr (std::is_void_v<T>)
            return {};
        else
            return std::move(*this->m_value);
    }
};

} // namespace detail

// The return type of a coroutine function: `Coro<int> f() { co_return 42; }`.
//
// Calling the function creates the coroutine object and runs nothing. `co_await f()` runs it to
// completion inside the awaiting task, with no new task and no trip through the loop, and gives
// its value or rethrows its exception. `create_task(f())` runs it as a task. A Coro is move-only
// and can be awaited once: awaiting it again (or after moving it into a task) throws
// RuntimeError("cannot reuse already awaited coroutine"). In debug mode, a Coro destroyed
// without ever running is reported ("coroutine 'f' was never awaited"), with where `f` is
// defined: unlike Python, the frame cannot see the line that called `f`, so the definition
// stands in for asyncio's creation traceback.
//
// Cancellation: a Coro is not a cancellation point itself; a cancellation of the task reaches
// the innermost co_await of the chain, and propagates up through the frames like any exception.
template <class T = void>
class [[nodiscard(
    "a coroutine object runs nothing until it is awaited or wrapped in a task")]] Coro {
    static_assert(!std::is_reference_v<T>, "Coro<T>: T must not be a reference; return a value");

public:
    using promise_type = detail::Promise<T>;
    using value_type = T;
    using handle_type = std::coroutine_handle<promise_type>;

    Coro() noexcept = default;
    Coro(Coro && o) noexcept : m_h(std::exchange(o.m_h, {})) {}
    Coro& operator=(Coro&& o) noexcept {
        if (this != &o) {
            destroy();
            m_h = std::exchange(o.m_h, {});
        }
        return *this;
    }
    ~Coro() { destroy(); }

    // False for a moved-from or default-constructed Coro.
    explicit operator bool() const noexcept { return static_cast<bool>(m_h); }
    // The coroutine function's name, as recorded where the frame was made.
    const char* name() const noexcept { return m_h ? m_h.promise().function() : ""; }
    // The frame's address: the identity Task::get_coro() reports.
    void* address() const noexcept { return m_h.address(); }

    struct Awaiter {
        handle_type h;
        bool await_ready() const {
            if (!h || h.promise().m_started)
                detail::throw_reused_coroutine();
            return false;
        }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) {
            auto& child = h.promise();
            child.m_started = true; // refused below, it is still no coroutine never awaited
            if constexpr (std::is_base_of_v<detail::PromiseBase, P>) {
                if (detail::TaskCore* task = parent.promise().m_task) {
                    // A cancellation the task has not thrown yet is thrown here, at this
                    // co_await, and the child never runs (as asyncio throws into a coroutine
                    // before its first line).
                    task->deliver_cancel();
                    task->enter_coroutine(); // RecursionError in debug mode, nothing entered
                }
            }
            child.m_continuation = parent;
            if constexpr (std::is_base_of_v<detail::PromiseBase, P>) {
                child.m_parent = &parent.promise();
                child.m_task = parent.promise().m_task;
                if (child.m_task)
                    child.m_task->set_leaf(&child);
            }
            return h;
        }
        detail::ValueOf<T> await_resume() { return h.promise().take(); }
    };

    Awaiter operator co_await()& noexcept { return Awaiter{m_h}; }
    Awaiter operator co_await()&& noexcept { return Awaiter{m_h}; }

    // Gives up ownership of the frame (used by create_task).
    handle_type release() noexcept { return std::exchange(m_h, {}); }

private:
    friend class detail::Promise<T>;
    explicit Coro(handle_type h) noexcept : m_h(h) {}

    void destroy() noexcept {
        if (auto h = std::exchange(m_h, {})) {
            if (!h.promise().m_started)
                detail::report_never_awaited(h.promise());
            h.destroy();
        }
    }

    handle_type m_h;
};

template <class T>
Coro<T> detail::Promise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

// asyncio.iscoroutine: is T a coroutine object (a Coro)?
template <class T>
struct iscoroutine : std::false_type {};
template <class T>
struct iscoroutine<Coro<T>> : std::true_type {};
template <class T>
inline constexpr bool iscoroutine_v = iscoroutine<std::remove_cvref_t<T>>::value;

namespace detail {
template <class F, class... Args>
consteval bool returns_coro() {
    if constexpr (std::is_invocable_v<F, Args...>)
        return iscoroutine_v<std::invoke_result_t<F, Args...>>;
    else
        return false;
}
} // namespace detail

// asyncio.iscoroutinefunction: is F a callable (with Args...) that returns a Coro?
template <class F, class... Args>
struct iscoroutinefunction : std::bool_constant<detail::returns_coro<F, Args...>()> {};
template <class F, class... Args>
inline constexpr bool iscoroutinefunction_v = iscoroutinefunction<F, Args...>::value;

namespace detail {
template <class A>
concept IsAwaiter = requires(A& a) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_resume();
};
} // namespace detail

// Anything `co_await` accepts inside a Coro: ours (Coro, Task, Future, sleep, ...) or another
// library's awaiter.
template <class A>
concept Awaitable = detail::HasMemberCoAwait<A> || detail::HasFreeCoAwait<A> ||
    detail::IsAwaiter<std::remove_reference_t<A>>;

} // namespace asyncio
