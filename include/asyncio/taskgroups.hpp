// asyncio.taskgroups: TaskGroup and task_group(), structured concurrency.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "contextvars.hpp"
#include "coroutines.hpp"
#include "detail/base/intrusive.hpp"
#include "detail/base/intrusive_list.hpp"
#include "detail/task/owner_callback.hpp"
#include "detail/task/task_core.hpp"
#include "exceptions.hpp"
#include "futures.hpp"
#include "tasks.hpp"

namespace asyncio {

class TaskGroup;

namespace detail {

// The state of one task group (asyncio's TaskGroup object). Invariants:
// - a child is on m_tasks, with its Child node on its done list, from create_task until its
//   node has run (asyncio's _on_task_done); the group holds no reference on a pending child
//   (the loop's task list does), a queued node holds one on the child and on the group;
// - m_errors are the children's failures in the order they happened (the body's is added at
//   exit, last); a child that ends cancelled is no error;
// - the group cancels its parent task at most once (m_parent_cancel_requested), and withdraws
//   exactly that cancellation at exit (uncancel), so an outer cancellation still propagates;
// - when the group's frame goes (close()), registrations left on pending children are removed:
//   nothing refers to the group afterwards but queued nodes, which find it closed.
class TaskGroupCore : public RefCounted<TaskGroupCore> {
public:
    TaskGroupCore() = default;

    // asyncio's __aenter__: RuntimeError outside a task.
    void enter();
    // asyncio's __aexit__, for a body that ended with `error` (null: returned normally), which
    // is a CancelledError when `error_is_cancel`. Returns normally when the body's outcome
    // stands (or was a cancellation the group itself made); otherwise throws the
    // ExceptionGroup, the CancelledError to propagate, or a base error (KeyboardInterrupt).
    Coro<void> exit(std::exception_ptr error, bool error_is_cancel);
    // Why no task may be created now ("is finished", "is shutting down"), or null.
    const char* refusal() const noexcept;
    // RuntimeError("TaskGroup <...> <why>").
    [[noreturn]] void refuse(const char* why) const;
    // Registers a child just created.
    void adopt(TaskCore& task);
    // TaskGroup.cancel(): cancels the children and the body; the group then ends without error.
    void cancel();
    LoopCore& loop() const noexcept { return m_parent->pending_loop(); }
    // The group's frame goes: unregisters from the children still pending.
    void close() noexcept;
    void describe(std::ostream& os) const;

private:
    friend RefCounted<TaskGroupCore>;
    struct ChildTag;
    // One per child, from the frame pool (glibc's malloc and free of it were more than the
    // rest of a child's cost together).
    struct Child final : OwnerCallback<TaskGroupCore, false>, ListHook<ChildTag>, PoolAllocated {
        // On its task's done list (not yet called back).
        bool registered() const noexcept { return CallbackNode::linked(); }
    };
    friend OwnerCallback<TaskGroupCore, false>;

    ~TaskGroupCore();
    void on_callback(OwnerCallback<TaskGroupCore, false>& node); // node: a Child
    // The task running the group awaits its children (while it is open).
    FutureCore* awaiting_future() const noexcept;
    void abort();

    TaskCore* m_parent = nullptr;
    IntrusiveList<Child, ChildTag> m_tasks;
    std::size_t m_task_count = 0;
    std::vector<std::exception_ptr> m_errors;
    std::exception_ptr m_base_error;
    std::optional<Future<void>> m_on_completed;
    bool m_entered = false;
    bool m_exiting = false;
    bool m_aborting = false;
    bool m_parent_cancel_requested = false;
    bool m_cancel_on_enter = false;
    bool m_closed = false;
};

template <class T, class F>
Coro<T> run_task_group(F body);

template <class F>
using group_body_t = std::conditional_t<std::is_invocable_v<F&, TaskGroup&>,
                                        std::invoke_result_t<F&, TaskGroup&>, void>;

} // namespace detail

// What task_group() hands its body (asyncio's TaskGroup, as bound by `async with ... as tg`): a
// cheap handle. A copy kept past the group's end stays safe to use: create_task on it raises
// RuntimeError("... is finished").
class TaskGroup {
public:
    // A task in this group (see asyncio::create_task). RuntimeError("TaskGroup ... is finished")
    // once the group has ended, RuntimeError("TaskGroup ... is shutting down") once it is
    // cancelling after a failure: the coroutine is then destroyed unrun, with no "never
    // awaited" report.
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name = {},
                        std::optional<Context> context = std::nullopt,
                        detail::SourceLoc where = detail::SourceLoc::current()) {
        return create_task(std::move(coro), TaskOptions{std::move(name), std::move(context)},
                           where);
    }
    template <class T>
    Task<T> create_task(Coro<T> coro, TaskOptions options,
                        detail::SourceLoc where = detail::SourceLoc::current()) {
        if (const char* why = m_core->refusal()) [[unlikely]] {
            if (auto h = coro.release())
                h.destroy();
            m_core->refuse(why);
        }
        Task<T> task = detail::start_task(m_core->loop(), coro, options, where);
        m_core->adopt(task.core());
        return task;
    }
    // The same with the coroutine function itself (a callable taking nothing and returning a
    // Coro), kept alive until its task is done: a lambda's captures stay valid.
    template <detail::CoroutineFunction F>
    auto create_task(F&& fn, std::string name = {}, std::optional<Context> context = std::nullopt,
                     detail::SourceLoc where = detail::SourceLoc::current()) {
        return create_task(detail::owned_call(std::decay_t<F>(std::forward<F>(fn))),
                           std::move(name), std::move(context), where);
    }
    template <detail::CoroutineFunction F>
    auto create_task(F&& fn, TaskOptions options,
                     detail::SourceLoc where = detail::SourceLoc::current()) {
        return create_task(detail::owned_call(std::decay_t<F>(std::forward<F>(fn))),
                           std::move(options), where);
    }

    // Cancels the children and the body (the task running the group); the group then ends
    // without an error. asyncio 3.14's TaskGroup.cancel(); idempotent, and harmless once the
    // group has ended.
    void cancel() { m_core->cancel(); }

    friend std::ostream& operator<<(std::ostream& os, const TaskGroup& tg) {
        tg.m_core->describe(os);
        return os;
    }

private:
    template <class T, class F>
    friend Coro<T> detail::run_task_group(F body);
    TaskGroup() : m_core(new detail::TaskGroupCore) {}

    detail::IntrusivePtr<detail::TaskGroupCore> m_core;
};

namespace detail {
template <class T, class F>
Coro<T> run_task_group(F body) {
    TaskGroup tg;
    struct Close {
        TaskGroupCore& core;
        ~Close() { core.close(); } // also when the frame is destroyed before the group ends
    } close{*tg.m_core};
    tg.m_core->enter();
    std::exception_ptr error;
    bool error_is_cancel = false;
    std::optional<detail::ValueOf<T>> value;
    try {
        if constexpr (std::is_void_v<T>)
            co_await std::invoke(body, tg);
        else
            value.emplace(co_await std::invoke(body, tg));
    } catch (...) {
        error = std::current_exception();
        error_is_cancel = detail::current_exception_is_cancel();
    }
    co_await tg.m_core->exit(error, error_is_cancel);
    if constexpr (!std::is_void_v<T>) {
        if (!value) {
            // The body was cut short by the group's own cancellation (TaskGroup::cancel()) and
            // the group ended without error: there is no value to give.
            if constexpr (std::is_default_constructible_v<T>)
                co_return T{};
            else
                std::rethrow_exception(error);
        }
        co_return std::move(*value);
    }
}
} // namespace detail

// `async with asyncio.TaskGroup() as tg:` — runs `body(tg)` (a callable taking TaskGroup& and
// returning a Coro<T>; it is kept alive until the group ends) in the current task, then waits
// for every child, including children created while the group is exiting, and gives the body's
// value. As asyncio 3.12+:
// - the first child that fails with an exception other than CancelledError cancels the other
//   children and the body; the group then raises one ExceptionGroup with the children's errors
//   in the order they happened, and the body's error, if any, last; cancelled children are no
//   errors; a KeyboardInterrupt of a child or of the body is raised as itself;
// - the group's own cancellation of the task is withdrawn at exit (cancelling() is back to its
//   value at entry), an outer one is not: that still ends as CancelledError.
// A non-void body cut short by TaskGroup::cancel() gives T{} (or, for a T that cannot be
// default-constructed, its CancelledError): asyncio's `async with` has no value to give.
// RuntimeError outside a task.
//
// Cancellation: cancelling the task running the group cancels the body where it waits and every
// child; the group waits for them all, then CancelledError propagates (unless children failed:
// the ExceptionGroup wins, and the task's cancellation stays requested).
template <class F>
[[nodiscard("task_group() runs nothing until it is awaited")]] auto task_group(F body) {
    static_assert(std::is_invocable_v<F&, TaskGroup&> && iscoroutine_v<detail::group_body_t<F>>,
                  "task_group() expects a callable taking TaskGroup& and returning a Coro<T>: "
                  "task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> { ... })");
    using T = typename detail::group_body_t<F>::value_type;
    return detail::run_task_group<T>(std::move(body));
}

} // namespace asyncio
