// asyncio.futures: Future<T>, the low-level awaitable, and FutureRef, its type-erased handle.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "contextvars.hpp"
#include "coroutines.hpp"
#include "detail/base/intrusive.hpp"
#include "detail/task/future_core.hpp"
#include "detail/task/future_wait.hpp"
#include "exceptions.hpp"

namespace asyncio {

class EventLoop;

// Identifies one add_done_callback() registration, for remove_done_callback().
enum class CallbackId : std::uint64_t {};

namespace detail {

// A done callback registered by the user. It holds no reference while registered (the future
// owns its list, so a future nobody can complete is freed with its callbacks); once the future
// is done it holds a handle until it has run.
template <class H, class F>
class DoneCallback final : public CallbackNode, public Runnable, public PoolAllocated {
public:
    DoneCallback(const H& handle, F fn, ContextImpl* context)
        : m_raw(handle.raw()), m_fn(std::move(fn)) {
        if (context)
            m_context.adopt(context);
        else
            m_context.capture();
    }

    void on_done(FutureCore& f) noexcept override {
        m_handle.emplace(H::from_raw(m_raw));
        f.schedule(this);
    }
    void dispose() noexcept override { delete this; }
    void describe_callback(std::ostream& os) const override { describe_callable(os, typeid(F)); }
    void run() override {
        std::unique_ptr<DoneCallback> self(this);
        ContextScope scope(&m_context);
        try {
            if constexpr (std::is_invocable_v<F&, const H&>)
                std::invoke(m_fn, *m_handle);
            else
                std::invoke(m_fn);
        } catch (...) {
            m_handle->core().report_callback_error(std::current_exception());
        }
    }
    void discard() noexcept override { delete this; }

private:
    typename H::Raw m_raw;
    F m_fn;
    std::optional<H> m_handle;
    LazyContext m_context;
};

// The callback runs in `context`, or, when it is null, in a copy of the current context.
template <class H, class F>
CallbackId add_done_callback(FutureCore& core, const H& handle, F&& fn,
                             const std::optional<Context>& context) {
    using Fn = std::decay_t<F>;
    static_assert(!iscoroutine_v<Fn>,
                  "add_done_callback() expects a plain callable, not a Coro: a callback's "
                  "coroutine would never be awaited; wrap it in create_task() instead");
    static_assert(std::is_invocable_v<Fn&, const H&> || std::is_invocable_v<Fn&>,
                  "add_done_callback(): the callback must be callable with the future/task "
                  "(const Future<T>& / const Task<T>&) or with no argument");
    if constexpr (std::is_invocable_v<Fn&, const H&>)
        static_assert(!iscoroutinefunction_v<Fn&, const H&>,
                      "add_done_callback() expects a plain callable, not a coroutine function "
                      "(asyncio's TypeError); wrap the coroutine in create_task() instead");
    else
        static_assert(!iscoroutinefunction_v<Fn&>,
                      "add_done_callback() expects a plain callable, not a coroutine function "
                      "(asyncio's TypeError); wrap the coroutine in create_task() instead");
    auto* node =
        new DoneCallback<H, Fn>(handle, std::forward<F>(fn), context ? context->impl() : nullptr);
    if (core.done()) {
        std::uint64_t id = core.add_node(node);
        core.remove_node(node);
        node->on_done(core);
        return CallbackId{id};
    }
    return CallbackId{core.add_node(node)};
}

} // namespace detail

// The type-erased future handle: every Future/Task converts to it. Awaiting it waits for the
// future and rethrows its failure (the value, if any, is not given).
class FutureRef {
public:
    FutureRef() noexcept = default;
    explicit FutureRef(detail::FutureCore* core) noexcept : m_core(core) {}

    explicit operator bool() const noexcept { return static_cast<bool>(m_core); }
    bool done() const { return core().done(); }
    bool cancelled() const { return core().cancelled(); }
    bool cancel(const std::string& msg = "") { return core().cancel(msg); }
    std::exception_ptr exception() { return core().exception(); }
    EventLoop& get_loop() const { return core().loop(); }
    // The callback runs in `context`, or in a copy of the current context when none is given.
    template <class F>
    CallbackId add_done_callback(F&& fn, const std::optional<Context>& context = std::nullopt) {
        return detail::add_done_callback(core(), *this, std::forward<F>(fn), context);
    }
    std::size_t remove_done_callback(CallbackId id) {
        return core().remove_callback(static_cast<std::uint64_t>(id));
    }

    struct Awaiter : detail::FutureWait {
        using FutureWait::FutureWait;
        void await_resume() { check(); }
    };
    Awaiter operator co_await() const noexcept { return Awaiter(m_core.get()); }

    detail::FutureCore& core() const {
        if (!m_core)
            detail::throw_empty_handle();
        return *m_core;
    }
    friend bool operator==(const FutureRef& a, const FutureRef& b) noexcept {
        return a.m_core == b.m_core;
    }
    friend std::ostream& operator<<(std::ostream& os, const FutureRef& f);

    using Raw = detail::FutureCore*;
    Raw raw() const noexcept { return m_core.get(); }
    static FutureRef from_raw(Raw r) noexcept { return FutureRef(r); }

private:
    detail::IntrusivePtr<detail::FutureCore> m_core;
};

namespace detail {

template <class T>
class FutureState final : public FutureCore {
public:
    using FutureCore::FutureCore;
    std::optional<ValueOf<T>> m_value;
};

// Prints `value` if it can be printed.
template <class V>
void describe_value(std::ostream& os, const V& value) {
    if constexpr (requires { os << value; })
        os << " result=" << value;
    else
        os << " result=<" << sizeof(V) << "-byte value>";
}

} // namespace detail

// An eventual result, set from callback-based code: `loop.create_future<T>()`.
//
// A Future<T> is a cheap, copyable handle; copies share one future. A Task<T> converts to a
// Future<T>. Awaiting gives the result or rethrows the exception; a Future that is already done
// is awaited without suspending.
//
// Cancellation: cancelling the task that awaits a Future cancels the Future (asyncio's rule);
// cancel(msg) on the Future itself makes every awaiting task raise CancelledError(msg).
template <class T = void>
class Future {
public:
    using value_type = T;

    Future() noexcept = default;

    explicit operator bool() const noexcept { return static_cast<bool>(m_core); }
    bool done() const { return core().done(); }
    bool cancelled() const { return core().cancelled(); }
    bool cancel(const std::string& msg = "") { return core().cancel(msg); }
    // The result; InvalidStateError while pending, CancelledError when cancelled, the
    // exception when failed.
    const detail::ValueOf<T>& result() const {
        core().check_result();
        return **m_value;
    }
    std::exception_ptr exception() { return core().exception(); }

    template <class U = detail::ValueOf<T>>
    void set_result(U&& value) {
        detail::FutureCore& c = settable();
        m_value->emplace(std::forward<U>(value));
        c.set_finished();
    }
    void set_result() requires std::is_void_v<T> {
        detail::FutureCore& c = settable();
        m_value->emplace();
        c.set_finished();
    }
    void set_exception(std::exception_ptr e) {
        settable();
        m_core->set_exception(std::move(e));
    }
    // The callback runs in `context`, or in a copy of the current context when none is given.
    template <class F>
    CallbackId add_done_callback(F&& fn, const std::optional<Context>& context = std::nullopt) {
        return detail::add_done_callback(core(), *this, std::forward<F>(fn), context);
    }
    std::size_t remove_done_callback(CallbackId id) {
        return core().remove_callback(static_cast<std::uint64_t>(id));
    }
    EventLoop& get_loop() const { return core().loop(); }

    template <bool Move>
    struct Awaiter : detail::FutureWait {
        Awaiter(detail::FutureCore* c, std::optional<detail::ValueOf<T>>* v) noexcept
            : FutureWait(c), value(v) {}
        detail::ValueOf<T> await_resume() {
            check();
            if constexpr (Move)
                return std::move(**value);
            else
                return **value;
        }
        std::optional<detail::ValueOf<T>>* value;
    };
    Awaiter<false> operator co_await() const& noexcept { return {m_core.get(), m_value}; }
    Awaiter<true> operator co_await() && noexcept { return {m_core.get(), m_value}; }

    operator FutureRef() const noexcept { return FutureRef(m_core.get()); }
    friend bool operator==(const Future& a, const Future& b) noexcept {
        return a.m_core == b.m_core;
    }
    friend std::ostream& operator<<(std::ostream& os, const Future& f) {
        os << "<";
        f.core().describe(os);
        if (f.m_core->done() && !f.m_core->cancelled() && *f.m_value)
            detail::describe_value(os, **f.m_value);
        return os << ">";
    }

    detail::FutureCore& core() const {
        if (!m_core)
            detail::throw_empty_handle();
        return *m_core;
    }

    struct Raw {
        detail::FutureCore* core;
        std::optional<detail::ValueOf<T>>* value;
    };
    Raw raw() const noexcept { return {m_core.get(), m_value}; }
    static Future from_raw(Raw r) noexcept { return Future(r.core, r.value); }

private:
    friend class EventLoop;
    template <class>
    friend class Task;

    Future(detail::FutureCore* core, std::optional<detail::ValueOf<T>>* value) noexcept
        : m_core(core), m_value(value) {}
    detail::FutureCore& settable() const {
        detail::FutureCore& c = core();
        if (c.is_task())
            throw RuntimeError("Task does not support set_result/set_exception operation");
        c.ensure_pending();
        return c;
    }

    detail::IntrusivePtr<detail::FutureCore> m_core;
    std::optional<detail::ValueOf<T>>* m_value = nullptr;
};

} // namespace asyncio

template <>
struct std::hash<asyncio::FutureRef> {
    std::size_t operator()(const asyncio::FutureRef& f) const noexcept {
        return std::hash<const void*>()(f.raw());
    }
};
