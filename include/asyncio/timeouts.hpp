// asyncio.timeouts and asyncio.tasks.wait_for: wait for an awaitable with a timeout.
#pragma once

#include <cmath>
#include <coroutine>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <ostream>
#include <type_traits>
#include <utility>
#include <variant>

#include "coroutines.hpp"
#include "detail/aws/awaitables.hpp"
#include "detail/base/runnable.hpp"
#include "detail/task/future_wait.hpp"
#include "detail/task/task_core.hpp"
#include "events.hpp"
#include "exceptions.hpp"
#include "futures.hpp"
#include "tasks.hpp"

namespace asyncio {

class Timeout;

namespace detail {
template <class T, class F>
Coro<T> run_timeout(double deadline, bool absolute, F body);

// A timeout scope of one task (asyncio's Timeout; wait_for and timeout() use it). Invariants:
// - entered: on the task's scope stack from enter() to exit(), with the task's cancelling()
//   count at entry;
// - the deadline is a delay (seconds from the moment the scope is armed), a point on the loop's
//   clock (`absolute`), or none (NaN);
// - armed lazily (ScopeTimer): a delay counts from the first suspension inside the scope, which
//   on the loop's clock is the moment of entry unless the work runs synchronously for a while
//   first (or until when() asks for the deadline); work that completes without suspending never
//   touches the timer heap;
// - when the timer fires, a Fire is queued (asyncio's call_at handle: it runs after what is
//   already ready) and cancels the task, unless the task or future awaited in the scope is done
//   by then: the task is about to resume with its result, and the result wins (asyncio 3.12+
//   would cancel the task anyway and raise TimeoutError);
// - exit() removes the timer and detaches a queued Fire, so none outlives the scope.
class TimeoutScope : public TimerNode, public ScopeTimer {
public:
    explicit TimeoutScope(double deadline, bool absolute = false) noexcept
        : m_absolute(absolute), m_delay(deadline) {}
    TimeoutScope(const TimeoutScope&) = delete;
    TimeoutScope& operator=(const TimeoutScope&) = delete;
    ~TimeoutScope() {
        if (m_entered) // the frame is destroyed while suspended in the scope
            exit();
    }

    // RuntimeError without a task. `awaited`: the task or future awaited in the scope, if any.
    void enter(TaskCore* task, FutureCore* awaited,
               const char* no_task = "wait_for() with a timeout must be awaited inside a Task") {
        if (!task)
            throw_no_task(no_task);
        m_task = task;
        m_awaited = awaited;
        m_cancelling = task->cancelling();
        m_armed = false;
        m_expired = false;
        m_entered = true;
        task->push_scope(this);
        // A deadline on the clock, or one already due, is armed at once, as asyncio arms it on
        // entry: a due one then expires before what the task does next (a timeout(0) around a
        // sleep(0) expires). Only a pending delay waits for the first suspension.
        if (m_absolute || m_delay <= 0)
            task->arm_scopes();
    }
    bool entered() const noexcept { return m_entered; }
    bool exited() const noexcept { return m_exited; }
    bool expired() const noexcept { return m_expired; }
    // Leaves the scope; true if it expired, in which case the caller uncancels the task.
    bool exit() noexcept {
        m_entered = false;
        m_exited = true;
        m_task->pop_scope(this);
        if (m_armed) // only then can a timer or a queued Fire exist, or the scope have expired
            disarm();
        return m_expired;
    }
    TaskCore* task() const noexcept { return m_task; }
    int cancelling_on_entry() const noexcept { return m_cancelling; }
    // The deadline as given: seconds from arming, or a time when absolute(); NaN: none.
    double delay() const noexcept { return m_delay; }
    bool absolute() const noexcept { return m_absolute; }
    // The deadline on the loop's clock (the scope is armed now if it was not), or none.
    std::optional<double> deadline();
    // A new deadline on the loop's clock, or none; replaces the timer (and a queued expiry).
    void reschedule(std::optional<double> deadline);

    void arm() override;
    void on_timer() override;

private:
    struct Fire;
    [[noreturn]] static void throw_no_task(const char* message);
    void disarm() noexcept;
    void expire();

    // The small fields first: they fill the padding at the end of ScopeTimer.
    bool m_entered = false;
    bool m_exited = false;
    bool m_expired = false;
    bool m_absolute;
    int m_cancelling = 0;
    TaskCore* m_task = nullptr;
    FutureCore* m_awaited = nullptr;
    Fire* m_fire = nullptr;
    double m_delay;
};

// asyncio's _cancel_and_wait: cancels `fut` and waits until it is done, through a future of its
// own so that this wait itself stays cancellable.
Coro<void> cancel_and_wait(FutureRef fut);

// The TimeoutError raised from the CancelledError being handled (asyncio's `raise TimeoutError
// from exc`): std::rethrow_if_nested gives the cancellation back. Thrown directly, where
// std::throw_with_nested could add a frame of its own to the unwinding.
struct TimeoutFromCancel final : TimeoutError, std::nested_exception {};

template <class R, class H>
R result_of_handle(H& h) {
    h.core().check_result();
    if constexpr (!std::is_void_v<R>)
        return value_slot(h).read();
}

// wait_for() with a timeout <= 0 on work not yet done: cancel it, wait, then TimeoutError.
template <class R, class H>
Coro<R> timeout_now(H fut) {
    co_await cancel_and_wait(fut);
    try {
        co_return result_of_handle<R>(fut);
    } catch (const CancelledError&) {
        throw TimeoutFromCancel();
    }
}
template <class H>
Coro<void> timeout_now_void(H fut) {
    co_await cancel_and_wait(fut);
    try {
        fut.core().check_result();
    } catch (const CancelledError&) {
        throw TimeoutFromCancel();
    }
}

// Resumes `h` per the result of an inner await_suspend (void, bool or a handle).
template <class Inner, class P>
std::coroutine_handle<> suspend_inner(Inner& inner, std::coroutine_handle<P> h) {
    using S = decltype(inner.await_suspend(h));
    if constexpr (std::is_void_v<S>) {
        inner.await_suspend(h);
        return std::noop_coroutine();
    } else if constexpr (std::is_same_v<S, bool>) {
        if (inner.await_suspend(h))
            return std::noop_coroutine();
        return h;
    } else {
        return inner.await_suspend(h);
    }
}

// Awaits S in place, in the current task, under a TimeoutScope: wait_for()'s awaiter (and that of
// a timeout scope around one awaitable). An lvalue argument is awaited as an lvalue, so a task's
// value is copied, not moved out. A NaN delay: no deadline (the scope never expires).
template <class S, bool Move>
class [[nodiscard("timeout() and wait_for() do nothing until awaited")]] ScopedAwait {
    using Src = std::conditional_t<Move, S&&, S&>;
    using Got = awaiter_t<Src>;
    static constexpr bool k_self = std::is_reference_v<Got>;
    using Inner = std::remove_reference_t<Got>;
    using Stored = std::conditional_t<k_self, Empty, Inner>;

public:
    using R = raw_await_t<Src>;

    template <class A>
    ScopedAwait(A && aw, double deadline, bool absolute = false)
        : m_aw(std::forward<A>(aw)), m_scope(deadline, absolute) {}
    // Movable only before it is awaited (a combinator that takes it by value moves it).
    ScopedAwait(ScopedAwait && o) noexcept(std::is_nothrow_move_constructible_v<S>)
        : m_aw(std::move(o.m_aw)), m_scope(o.m_scope.delay(), o.m_scope.absolute()) {}
    ScopedAwait& operator=(const ScopedAwait&) = delete;
    ~ScopedAwait() {
        if (m_has_inner)
            m_inner.Stored::~Stored(); // qualified: the awaiter is destroyed as what it is
    }

    bool await_ready() {
        if constexpr (!k_self) {
            ::new (static_cast<void*>(std::addressof(m_inner)))
                Inner(get_awaiter(static_cast<Src>(m_aw)));
            m_has_inner = true;
        }
        return inner().await_ready();
    }

    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
        FutureCore* awaited = nullptr;
        if constexpr (FutureLike<S>)
            awaited = &m_aw.core();
        m_scope.enter(task_of(h), awaited);
        try {
            return suspend_inner(inner(), h);
        } catch (...) {
            m_scope.exit();
            throw;
        }
    }

    // Inlined into the awaiting coroutine, so that the TimeoutError leaves from the frame of its
    // handler (see FutureCore::check_result_inline).
    [[gnu::always_inline]] R await_resume() {
        if (!m_scope.entered() || !m_scope.exit())
            return inner().await_resume();
        // The timeout expired: asyncio's Timeout.__aexit__.
        const int left = m_scope.task()->uncancel();
        try {
            return inner().await_resume();
        } catch (const CancelledError&) {
            if (left <= m_scope.cancelling_on_entry())
                throw TimeoutFromCancel();
            throw; // a cancel of the task besides the timeout's: it wins
        }
    }

private:
    Inner& inner() noexcept {
        if constexpr (k_self)
            return m_aw;
        else
            return m_inner;
    }

    S m_aw;
    union {
        Stored m_inner;
    };
    bool m_has_inner = false;
    TimeoutScope m_scope;
};

// wait_for()'s special case, a timeout <= 0 (asyncio's): the work becomes a task or future; if it
// is not done at once, it is cancelled and waited for, and TimeoutError follows.
template <class S, bool Move>
class CancelNowAwait {
    using Src = std::conditional_t<Move, S&&, S&>;
    using H = handle_of_t<S>;

public:
    using R = raw_await_t<Src>;

    template <class A>
    explicit CancelNowAwait(A&& aw) : m_aw(std::forward<A>(aw)) {}

    bool await_ready() {
        m_handle.emplace(ensure_future(static_cast<Src>(m_aw), get_running_loop()));
        if (m_handle->done())
            return true;
        if constexpr (std::is_void_v<R>)
            m_cancel.emplace(timeout_now_void(*m_handle));
        else
            m_cancel.emplace(timeout_now<R>(*m_handle));
        return false;
    }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
        auto awaiter = m_cancel->operator co_await();
        (void)awaiter.await_ready();
        return awaiter.await_suspend(h);
    }
    R await_resume() {
        if (!m_cancel) // done at once
            return result_of_handle<R>(*m_handle);
        if constexpr (std::is_void_v<R>)
            (void)m_cancel->operator co_await().await_resume();
        else
            return m_cancel->operator co_await().await_resume();
    }

private:
    S m_aw;
    std::optional<H> m_handle;
    std::optional<Coro<R>> m_cancel;
};

// The awaiter of wait_for(): one of the two above, chosen by the timeout.
template <class S, bool Move>
class [[nodiscard("wait_for() does nothing until it is awaited")]] WaitFor {
    using Scoped = ScopedAwait<S, Move>;
    using Now = CancelNowAwait<S, Move>;

public:
    using R = typename Scoped::R;

    // `timeout`: seconds, or NaN for none.
    template <class A>
    WaitFor(A && aw, double timeout) : m_awaiter(make(std::forward<A>(aw), timeout)) {}

    bool await_ready() {
        return std::visit([](auto& a) { return a.await_ready(); }, m_awaiter);
    }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
        return std::visit([h](auto& a) { return a.await_suspend(h); }, m_awaiter);
    }
    [[gnu::always_inline]] R await_resume() {
        if (Scoped* s = std::get_if<Scoped>(&m_awaiter)) [[likely]]
            return s->await_resume();
        return std::get<Now>(m_awaiter).await_resume();
    }

private:
    template <class A>
    static std::variant<Scoped, Now> make(A && aw, double timeout) {
        if (timeout <= 0) // NaN (no timeout) compares false
            return std::variant<Scoped, Now>(std::in_place_type<Now>, std::forward<A>(aw));
        return std::variant<Scoped, Now>(std::in_place_type<Scoped>, std::forward<A>(aw), timeout);
    }

    std::variant<Scoped, Now> m_awaiter;
};

} // namespace detail

// Waits for `aw` (a Coro, Task, Future or any awaitable) with a timeout in seconds (a number
// or any chrono duration; std::nullopt: no timeout) and gives its result, as asyncio 3.12+:
// a coroutine is awaited in place in the current task, under a timeout scope (no task is made).
// When the timeout expires, the current task is cancelled, which cancels the awaited work at
// its innermost co_await (an awaited task is cancelled in turn); once the work has finished
// cancelling, TimeoutError is thrown, with the CancelledError nested in it
// (std::rethrow_if_nested). If the work swallows the cancellation and returns a value, that
// value is returned; if its clean-up throws another exception, that one comes out. A timeout
// <= 0 on work not yet done cancels it at once and waits for it the same way (a coroutine is
// made a task first, asyncio's special case). Must be awaited inside a task (RuntimeError);
// ValueError for a NaN timeout.
//
// Two deviations, both invisible on virtual time: if the awaited task or future finished in the
// iteration in which the timeout expires, its result wins (asyncio 3.12+ would still raise
// TimeoutError; this library's contract keeps the result). And the deadline counts from the
// first suspension of the work rather than from the call: on the loop's clock that is the
// same moment, unless the work first computes synchronously for a while. That is what keeps the
// fast path free: a coroutine that completes without suspending costs no allocation of
// wait_for's own, no clock read and no timer.
//
// Cancellation: cancelling the awaiting task cancels the awaited work (a task or future being
// awaited is cancelled too) and is never lost, even when it races with the work's completion:
// CancelledError comes out, not the result. To keep the work running, wrap it in shield().
template <class A>
detail::WaitFor<std::remove_cvref_t<A>, !std::is_lvalue_reference_v<A>>
wait_for(A&& aw, detail::OptionalSeconds timeout) {
    detail::check_awaitable_arg<A>();
    return {std::forward<A>(aw),
            timeout.has_value() ? timeout.checked() : std::numeric_limits<double>::quiet_NaN()};
}

// A timeout scope as a body sees it (asyncio's Timeout, the `cm` of `async with timeout(...) as
// cm`): the deadline on the loop's clock, and whether it expired.
class Timeout {
public:
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;

    // The deadline on the loop's clock, or none.
    std::optional<double> when() { return m_scope.deadline(); }
    // Moves the deadline (a time on the loop's clock), or removes it (std::nullopt). A deadline
    // already past expires the scope at the next iteration. RuntimeError once the scope has
    // expired or ended: "Cannot change state of expiring Timeout" (or expired, finished).
    void reschedule(std::optional<double> when);
    // True once the deadline has passed and the scope cancelled its task.
    bool expired() const noexcept { return m_scope.expired(); }
    // "<Timeout [active] when=12.5>", "<Timeout [expired]>", ...
    friend std::ostream& operator<<(std::ostream& os, const Timeout& t);

private:
    template <class T, class F>
    friend Coro<T> detail::run_timeout(double deadline, bool absolute, F body);
    Timeout(double deadline, bool absolute) noexcept : m_scope(deadline, absolute) {}
    detail::TimeoutScope m_scope;
};

namespace detail {

template <class F>
decltype(auto) call_body(F& body, Timeout& cm) {
    if constexpr (std::is_invocable_v<F&, Timeout&>)
        return std::invoke(body, cm);
    else
        return std::invoke(body);
}
template <class F>
struct TimeoutBody {
    using type = void;
};
template <class F>
requires std::is_invocable_v<F&, Timeout&>
struct TimeoutBody<F> {
    using type = std::invoke_result_t<F&, Timeout&>;
};
template <class F>
requires(!std::is_invocable_v<F&, Timeout&> && std::is_invocable_v<F&>) struct TimeoutBody<F> {
    using type = std::invoke_result_t<F&>;
};
// What a body returns (void if it is no body).
template <class F>
using timeout_body_t = typename TimeoutBody<F>::type;

// The body form of timeout(): the scope around the body's coroutine, as asyncio's
// Timeout.__aenter__/__aexit__ do around an `async with` block.
template <class T, class F>
Coro<T> run_timeout(double deadline, bool absolute, F body) {
    Timeout cm(deadline, absolute);
    TaskCore* task = running_task();
    cm.m_scope.enter(task, nullptr, "Timeout should be used inside a task");
    std::exception_ptr error;
    bool error_is_cancel = false;
    std::optional<ValueOf<T>> value;
    try {
        if constexpr (std::is_void_v<T>)
            co_await call_body(body, cm);
        else
            value.emplace(co_await call_body(body, cm));
    } catch (...) {
        error = std::current_exception();
        error_is_cancel = current_exception_is_cancel();
    }
    if (cm.m_scope.exit() && task->uncancel() <= cm.m_scope.cancelling_on_entry() &&
        error_is_cancel) {
        try {
            std::rethrow_exception(error);
        } catch (const CancelledError&) {
            throw TimeoutFromCancel(); // the CancelledError nested in it
        }
    }
    if (error)
        std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>)
        co_return std::move(*value);
}

template <class X>
constexpr bool is_timeout_body_v = !iscoroutine_v<X> && iscoroutine_v<timeout_body_t<X>>;

template <class X>
constexpr void check_timeout_arg() {
    static_assert(iscoroutine_v<X> || is_timeout_body_v<X>,
                  "timeout() expects a Coro<T> or a callable returning one, taking nothing or "
                  "asyncio::Timeout&: timeout(5s, work()) or timeout(5s, [&](asyncio::Timeout& "
                  "cm) -> asyncio::Coro<> { ... })");
}

template <class X>
auto timeout_scope(double deadline, bool absolute, X&& x) {
    using D = std::remove_cvref_t<X>;
    check_timeout_arg<D>();
    if constexpr (iscoroutine_v<D>)
        return ScopedAwait<D, true>(std::forward<X>(x), deadline, absolute);
    else
        return run_timeout<typename timeout_body_t<D>::value_type>(deadline, absolute,
                                                                   D(std::forward<X>(x)));
}

} // namespace detail

// `async with asyncio.timeout(delay):` around `x`, in the current task (no new task, unlike
// wait_for's special cases): `x` is a Coro<T> (awaited in place) or a body, a callable returning
// a Coro<T> that takes nothing or a Timeout& (kept alive until it finishes). Gives x's value.
// `delay` is seconds (a number or a chrono duration) or std::nullopt (no deadline yet: see
// Timeout::reschedule). At the deadline the task is cancelled where it waits inside x, and the
// scope turns that cancellation into TimeoutError (with the CancelledError nested) as it ends,
// as asyncio 3.11+; a body that swallows the cancellation and returns gives its value, with
// expired() true. ValueError for a NaN delay; RuntimeError outside a task. The delay counts from
// the first suspension inside x (as wait_for's does; see there), or from a call of when().
//
// Cancellation: a cancellation of the task from elsewhere propagates as CancelledError, even one
// that arrives in the same iteration as the deadline; nested scopes each own their deadline, and
// the one that expired is the one that raises TimeoutError.
template <class X>
[[nodiscard("timeout() does nothing until it is awaited")]] auto
timeout(detail::OptionalSeconds delay, X&& x) {
    const double d = delay.has_value() ? delay.checked() : std::numeric_limits<double>::quiet_NaN();
    return detail::timeout_scope(d, false, std::forward<X>(x));
}

// The same with the deadline as a time on the loop's clock (loop.time()), or std::nullopt.
template <class X>
[[nodiscard("timeout_at() does nothing until it is awaited")]] auto
timeout_at(detail::OptionalSeconds when, X&& x) {
    const double w = when.has_value() ? when.checked() : std::numeric_limits<double>::quiet_NaN();
    return detail::timeout_scope(w, true, std::forward<X>(x));
}

} // namespace asyncio
