// asyncio.tasks: Task<T>, TaskRef, create_task, current_task, all_tasks, and the async stack.
#pragma once

#include <coroutine>
#include <cstddef>
#include <functional>
#include <iostream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "contextvars.hpp"
#include "coroutines.hpp"
#include "detail/task/task_core.hpp"
#include "futures.hpp"

namespace asyncio {

class EventLoop;

// One entry of a task's stack (get_stack): the coroutine function, and the file and line of the
// co_await it is suspended at (or that the exception passed through).
struct Frame {
    std::string name;
    std::string filename;
    int lineno = 0;
    friend bool operator==(const Frame&, const Frame&) = default;
    // As Python's traceback shows it: `  File "f.cpp", line 12, in amain`.
    friend std::ostream& operator<<(std::ostream& os, const Frame& f);
};

// The type-erased task handle: every Task<T> converts to it. Cheap to copy; equality and hash
// follow the task's identity. Default-constructed, it is empty: false in a boolean context, and
// every method throws InvalidStateError.
//
// Cancellation: awaiting a TaskRef (it gives no value) behaves like awaiting the task: the
// awaiting task's cancellation cancels the awaited task.
class TaskRef {
public:
    TaskRef() noexcept = default;
    explicit TaskRef(detail::TaskCore* core) noexcept : m_core(core) {}

    explicit operator bool() const noexcept { return static_cast<bool>(m_core); }

    // Requests cancellation: CancelledError(msg) is thrown into the coroutine at the co_await
    // where it is suspended, on the next loop iteration. False if the task is already done.
    bool cancel(const std::string& msg = "") { return core().cancel(msg); }
    bool cancelled() const { return core().cancelled(); }
    bool done() const { return core().done(); }
    std::exception_ptr exception() const { return core().exception(); }
    // The number of pending cancellation requests (cancel() calls not yet uncancel()ed).
    int cancelling() const { return core().cancelling(); }
    int uncancel() { return core().uncancel(); }

    // The callback runs in `context`, or in a copy of the current context when none is given.
    template <class F>
    CallbackId add_done_callback(F&& fn, const std::optional<Context>& context = std::nullopt) {
        return detail::add_done_callback(core(), *this, std::forward<F>(fn), context);
    }
    std::size_t remove_done_callback(CallbackId id) {
        return core().remove_callback(static_cast<std::uint64_t>(id));
    }

    std::vector<Frame> get_stack(std::optional<std::size_t> limit = std::nullopt) const {
        return core().get_stack(limit);
    }
    void print_stack(std::optional<std::size_t> limit = std::nullopt,
                     std::ostream& os = std::cerr) const {
        core().print_stack(limit, os);
    }
    // The task's coroutine frame while it has one (null once the task is done: a finished
    // task's frame is freed at once). Compare with Coro::address().
    std::coroutine_handle<> get_coro() const { return core().coro(); }
    std::string get_name() const { return core().name(); }
    template <class N>
    void set_name(const N& value) {
        if constexpr (std::is_convertible_v<const N&, std::string>)
            core().set_name(std::string(value));
        else
            core().set_name(to_string_any(value));
    }
    EventLoop& get_loop() const { return core().loop(); }
    // The context the task runs in: the one given to create_task, or the copy made then.
    Context get_context() const { return Context(&core().context().materialize()); }

    operator FutureRef() const noexcept { return FutureRef(m_core.get()); }

    struct Awaiter : detail::FutureWait {
        using FutureWait::FutureWait;
        void await_resume() { check(); }
    };
    Awaiter operator co_await() const noexcept { return Awaiter(m_core.get()); }

    friend bool operator==(const TaskRef& a, const TaskRef& b) noexcept {
        return a.m_core == b.m_core;
    }
    friend std::ostream& operator<<(std::ostream& os, const TaskRef& t);

    detail::TaskCore& core() const {
        if (!m_core)
            detail::throw_empty_handle();
        return *m_core;
    }

    using Raw = detail::TaskCore*;
    Raw raw() const noexcept { return m_core.get(); }
    static TaskRef from_raw(Raw r) noexcept { return TaskRef(r); }

private:
    template <class N>
    static std::string to_string_any(const N& value) {
        if constexpr (requires { std::to_string(value); })
            return std::to_string(value);
        else {
            std::ostringstream os;
            os << value;
            return os.str();
        }
    }

    detail::IntrusivePtr<detail::TaskCore> m_core;
};

namespace detail {

template <class T>
class TaskState final : public TaskCore {
public:
    using handle_type = typename Coro<T>::handle_type;

    TaskState(LoopCore& loop, handle_type h) : TaskCore(loop, h, &h.promise()) {
        h.promise().m_task = this;
        h.promise().m_started = true;
    }

    ~TaskState() override {
        if (done()) [[likely]] // a done task's frame is gone already
            return;
        if (PromiseBase* root = root_promise()) // made, and dropped before it ran
            frame_of(*root).destroy();
    }

    std::coroutine_handle<> frame_of(PromiseBase& root) const noexcept override {
        return handle_type::from_promise(static_cast<Promise<T>&>(root));
    }

    void root_done(PromiseBase& root) noexcept override {
        auto& p = static_cast<Promise<T>&>(root);
        bool has_value = !p.m_exception && !m_cancel.requested();
        if (has_value) {
            if constexpr (std::is_void_v<T>)
                m_value.emplace();
            else
                m_value.emplace(std::move(*p.m_value));
        }
        finish_from(p, has_value);
    }

    std::optional<ValueOf<T>> m_value;
};

template <class T>
typename Coro<T>::handle_type take_fresh(Coro<T>& coro) {
    if (!coro || coro.address() == nullptr)
        throw_reused_coroutine();
    auto h = coro.release();
    if (h.promise().m_started) {
        h.destroy();
        throw_reused_coroutine();
    }
    return h;
}

} // namespace detail

// A coroutine scheduled on the loop: `create_task(coro)`.
//
// A cheap, copyable handle (a TaskRef with the result's type). The loop keeps every pending
// task alive, so a task whose handles were all dropped still runs to completion. `co_await
// task` gives its result or rethrows its exception, from any number of awaiting tasks;
// `co_await std::move(task)` moves a move-only result out. Done callbacks are called with the
// task, through the loop, in registration order.
//
// Cancellation: cancel(msg) throws CancelledError(msg) into the coroutine at its current
// co_await on the next iteration; if it waits on a future or task of this library, that one is
// cancelled too. The coroutine may catch it, clean up (co_await included) and rethrow, or
// swallow it and go on. A task that awaits this one and is cancelled cancels this one.
template <class T = void>
class Task : public TaskRef {
public:
    using value_type = T;

    Task() noexcept = default;

    // The result; InvalidStateError while pending, CancelledError when cancelled, the
    // exception when failed.
    const detail::ValueOf<T>& result() const {
        core().check_result();
        return *state().m_value;
    }

    // The callback runs in `context`, or in a copy of the current context when none is given.
    template <class F>
    CallbackId add_done_callback(F&& fn, const std::optional<Context>& context = std::nullopt) {
        return detail::add_done_callback(core(), *this, std::forward<F>(fn), context);
    }

    operator Future<T>() const noexcept {
        return Future<T>(raw(), raw() ? &state().m_value : nullptr);
    }

    template <bool Move>
    struct Awaiter : detail::FutureWait {
        Awaiter(detail::TaskState<T>* s) noexcept : FutureWait(s), st(s) {}
        detail::ValueOf<T> await_resume() {
            check();
            if constexpr (Move)
                return std::move(*st->m_value);
            else
                return *st->m_value;
        }
        detail::TaskState<T>* st;
    };
    Awaiter<false> operator co_await() const& noexcept { return {ptr()}; }
    Awaiter<true> operator co_await() && noexcept { return {ptr()}; }

    friend std::ostream& operator<<(std::ostream& os, const Task& t) {
        os << "<";
        t.core().describe(os);
        if (t.done() && !t.cancelled() && t.state().m_value)
            detail::describe_value(os, *t.state().m_value);
        return os << ">";
    }

    using Raw = detail::TaskState<T>*;
    Raw raw() const noexcept { return ptr(); }
    static Task from_raw(Raw r) noexcept { return Task(r); }
    explicit Task(detail::TaskState<T>* s) noexcept : TaskRef(s) {}

private:
    detail::TaskState<T>* ptr() const noexcept {
        return static_cast<detail::TaskState<T>*>(TaskRef::raw());
    }
    detail::TaskState<T>& state() const { return static_cast<detail::TaskState<T>&>(core()); }
};

// How create_task makes a task (asyncio's keyword arguments): its name (empty: "Task-N"), the
// context it runs in (none: a copy of the current one), and whether its first step runs at once,
// inside create_task, on a running loop (asyncio 3.12's eager_start; on a loop that is not
// running the task is scheduled as usual). A loop's task factory may change them.
struct TaskOptions {
    std::string name = {};
    std::optional<Context> context = std::nullopt;
    bool eager_start = false;
};

// The task factory that makes every task of its loop eager (asyncio.eager_task_factory):
// `loop.set_task_factory(asyncio::eager_task_factory)`.
void eager_task_factory(TaskOptions& options);

namespace detail {
// The loop's tasks that are not done, in creation order.
std::vector<TaskRef> pending_tasks(const LoopCore& loop);

// A task of the coroutine, started with these options (the task factory has seen them).
template <class T>
Task<T> make_task(LoopCore& loop, Coro<T>& coro, std::string& name,
                  const std::optional<Context>& context, bool eager, SourceLoc where) {
    auto h = take_fresh(coro);
    Task<T> task(new TaskState<T>(loop, h));
    TaskCore& core = task.core();
    if (loop.get_debug()) [[unlikely]]
        core.set_created(where);
    if (!name.empty()) [[unlikely]]
        core.set_name(std::move(name));
    core.start(context ? context->impl() : nullptr, eager);
    return task;
}
// create_task()'s work, on the arguments in place (the by-value ones of the spellings are not
// copied again, and none is gathered into a TaskOptions unless a task factory is to see them).
// A coroutine refused here (closed loop, wrong thread) is destroyed unrun, without a "never
// awaited" report: it was handed over, not forgotten.
template <class T>
Task<T> start_task(LoopCore& loop, Coro<T>& coro, std::string& name,
                   std::optional<Context>& context, bool eager, SourceLoc where) {
    if (loop.is_closed() || loop.get_debug()) [[unlikely]]
        check_create_task(loop, coro);
    if (loop.task_factory) [[unlikely]] {
        TaskOptions options{std::move(name), std::move(context), eager};
        loop.task_factory(options);
        return make_task(loop, coro, options.name, options.context, options.eager_start, where);
    }
    return make_task(loop, coro, name, context, eager, where);
}
template <class T>
Task<T> start_task(LoopCore& loop, Coro<T>& coro, TaskOptions& options, SourceLoc where) {
    return start_task(loop, coro, options.name, options.context, options.eager_start, where);
}
// check_callable_state("create_task"); on failure the coroutine is destroyed unreported.
template <class T>
void check_create_task(LoopCore& loop, Coro<T>& coro) {
    try {
        loop.check_callable_state("create_task");
    } catch (...) {
        if (auto h = coro.release())
            h.destroy();
        throw;
    }
}

// Runs the callable's coroutine and keeps the callable (a lambda's captures) alive in this frame
// until that coroutine has finished: the owned-callable spelling of create_task.
template <class F>
Coro<typename std::invoke_result_t<F&>::value_type> owned_call(F f) {
    if constexpr (std::is_void_v<typename std::invoke_result_t<F&>::value_type>)
        co_await std::invoke(f);
    else
        co_return co_await std::invoke(f);
}
template <class F>
concept CoroutineFunction = !iscoroutine_v<F> && iscoroutinefunction_v<std::decay_t<F>&>;
} // namespace detail

// Wraps the coroutine in a Task scheduled to start on the next iteration of the running loop,
// and returns it. RuntimeError without a running loop. Unnamed tasks are "Task-1", "Task-2", ...
// in creation order (loops running at once on different threads number from blocks of their
// own: see runtime/task_numbers.hpp). The task runs in `context`, or in a copy of the current
// context when none is given.
template <class T>
Task<T> create_task(Coro<T> coro, std::string name = {},
                    std::optional<Context> context = std::nullopt,
                    detail::SourceLoc where = detail::SourceLoc::current()) {
    return detail::start_task(detail::running_core_or_raise(), coro, name, context, false, where);
}
template <class T>
Task<T> create_task(Coro<T> coro, TaskOptions options,
                    detail::SourceLoc where = detail::SourceLoc::current()) {
    return detail::start_task(detail::running_core_or_raise(), coro, options, where);
}
// The same with the coroutine function itself (a callable taking nothing and returning a Coro):
// the task keeps it alive until it is done, so a lambda's captures stay valid (the safe spelling
// of `create_task([x]() -> Coro<> { ... }())`, whose closure dies before the task runs).
template <detail::CoroutineFunction F>
auto create_task(F&& fn, std::string name = {}, std::optional<Context> context = std::nullopt,
                 detail::SourceLoc where = detail::SourceLoc::current()) {
    return create_task(detail::owned_call(std::decay_t<F>(std::forward<F>(fn))), std::move(name),
                       std::move(context), where);
}
template <detail::CoroutineFunction F>
auto create_task(F&& fn, TaskOptions options,
                 detail::SourceLoc where = detail::SourceLoc::current()) {
    return create_task(detail::owned_call(std::decay_t<F>(std::forward<F>(fn))), std::move(options),
                       where);
}

template <class A>
requires(!iscoroutine_v<A> &&
         !detail::CoroutineFunction<A>) void create_task(A&&, std::string = "",
                                                         std::optional<Context> = std::nullopt) {
    static_assert(iscoroutine_v<A>,
                  "create_task() expects a coroutine object (a Coro<T>), or a coroutine "
                  "function taking no arguments (the task keeps it alive): a coroutine was "
                  "expected. For a function that takes arguments, call it: create_task(f(x))");
}

// The running task, or an empty TaskRef outside any task; RuntimeError with no running loop.
TaskRef current_task();
// The not-yet-done tasks of the running loop, in creation order; RuntimeError with no loop.
std::vector<TaskRef> all_tasks();

} // namespace asyncio

template <>
struct std::hash<asyncio::TaskRef> {
    std::size_t operator()(const asyncio::TaskRef& t) const noexcept {
        return std::hash<const void*>()(t.raw());
    }
};
