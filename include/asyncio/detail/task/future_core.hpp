// Internal: FutureCore, the non-template state machine shared by Future<T> and Task<T>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>

#include "../../exceptions.hpp"
#include "../base/frame_pool.hpp"
#include "../base/intrusive_list.hpp"
#include "../base/runnable.hpp"
#include "../base/source_loc.hpp"
#include "../runtime/loop_core.hpp"
#include "cancel_state.hpp"

namespace asyncio {
class EventLoop;
}

namespace asyncio::detail {

class FutureCore;
class LazyContext;

// An empty stand-in for `void` results, so storage code can treat every T alike.
struct Empty {
    friend bool operator==(Empty, Empty) noexcept { return true; }
};
template <class T>
using ValueOf = std::conditional_t<std::is_void_v<T>, Empty, T>;

// A registration on a future's done list. The list is intrusive (an awaiter embeds its node,
// so awaiting allocates nothing) and doubly linked (unlinking on destruction is O(1)).
class CallbackNode : public ListHook<CallbackNode> {
public:
    std::uint64_t id = 0;
    // Called once, in registration order, when the future completes; the node is already off
    // the list. It must not run user code inline: it schedules (asyncio's call_soon).
    virtual void on_done(FutureCore& f) noexcept = 0;
    // Called when the registration is removed, or dropped with a future that never completed.
    virtual void dispose() noexcept {}
    // What the future's description shows for this registration (asyncio's "cb=[...]").
    virtual void describe_callback(std::ostream& os) const;
    // The future or task that awaits through this registration (asyncio 3.14's awaited_by), or
    // null for a plain callback: what the call graph follows.
    virtual FutureCore* awaiting_future() const noexcept { return nullptr; }

protected:
    ~CallbackNode() = default;
};

// A failed task's traceback (defined with TaskCore).
struct TaskTraceback;
struct TaskTracebackDelete {
    void operator()(TaskTraceback* t) const noexcept;
};

// What a future or task rarely has, behind one pointer made on first use.
struct FutureExtras {
    std::string cancel_msg;
    std::optional<SourceLoc> created; // debug mode: where it was made
    std::string name;                 // a task's name, once given or asked for
    std::unique_ptr<TaskTraceback, TaskTracebackDelete> traceback; // a task's, once it fails
};

// InvalidStateError("operation on an empty handle"): a default-constructed Task, Future,
// TaskRef or FutureRef was used.
[[noreturn]] void throw_empty_handle();

// ValueError: a future given with a loop argument belongs to another loop.
[[noreturn]] void throw_different_loop();

// Writes "<type>: <what>" and a new line: how a report shows an exception.
void describe_exception_line(std::ostream& os, const std::exception_ptr& e);

// Writes "<callable type>()": how a done callback of that type is described.
void describe_callable(std::ostream& os, const std::type_info& type);

// Invariants (as asyncio.Future):
// - state goes pending -> finished or pending -> cancelled, once;
// - the done list is non-empty only while pending: completing hands every node to on_done()
//   in registration order and empties the list (callbacks work on that snapshot);
// - m_log_traceback is true exactly when an exception is stored and nobody has looked at it
//   (result(), exception(), an await, or cancel() clear it); the last reference reports it;
// - a cancelled future's CancelledError is m_exception if one was caught, else made on demand
//   from the cancel message.
//
// A FutureCore is a Runnable only so that a task, which is both, carries one vtable pointer
// instead of two (8 bytes of every task); a plain future is never scheduled.
class FutureCore : public PoolAllocated, public Runnable {
public:
    enum class State : std::uint8_t { pending, cancelled, finished };

    explicit FutureCore(LoopCore& loop);
    FutureCore(const FutureCore&) = delete;
    FutureCore& operator=(const FutureCore&) = delete;

    void add_ref() noexcept { ++m_refs; }
    void release() noexcept {
        if (--m_refs == 0)
            last_ref();
    }

    bool done() const noexcept { return m_state != State::pending; }
    bool cancelled() const noexcept { return m_state == State::cancelled; }
    bool is_task() const noexcept { return m_is_task; }

    // Future.cancel(): false when already done. Task overrides it with Task.cancel().
    virtual bool cancel(const std::string& msg);
    // Throws what result() would throw (InvalidStateError, CancelledError, the exception);
    // returns normally when a result is there. Marks the exception retrieved.
    void check_result();
    // check_result() for the awaiters, inlined into the awaiting coroutine so that the exception
    // leaves from the coroutine's own frame, where its handler is. Thrown from a helper, it would
    // cost the unwinder more frames and a stop at each cleanup on the way (every stop restarts
    // the unwinding): together, as much again as the throw itself.
    [[gnu::always_inline]] void check_result_inline() {
        if (m_state == State::finished && !m_exception) [[likely]]
            return;
        if (m_state == State::pending)
            throw_result_not_set();
        m_log_traceback = false;
        throw_cancelled(); // a finished future here has an exception, which this rethrows
    }
    std::exception_ptr exception();
    void set_exception(std::exception_ptr e);
    // InvalidStateError if already done (before a result is stored).
    void ensure_pending() const {
        if (done()) [[unlikely]]
            throw_invalid_state();
    }
    // Done with a result (stored by the caller): the done callbacks are scheduled.
    void set_finished() {
        m_state = State::finished;
        if (!m_callbacks.empty())
            schedule_callbacks_or_raise();
    }

    // Appends to the done list and returns the registration's id (ids start at 1).
    std::uint64_t add_node(CallbackNode* n) noexcept {
        n->id = ++m_next_cb_id;
        m_callbacks.push_back(n);
        return n->id;
    }
    // Hands a Runnable to the loop's ready queue (asyncio's call_soon for done callbacks).
    void schedule(Runnable* r) noexcept;
    // Reports an exception that escaped a done callback through the loop's exception handler.
    void report_callback_error(std::exception_ptr e) noexcept;
    void remove_node(CallbackNode* n) noexcept;
    std::size_t remove_callback(std::uint64_t id) noexcept;
    // The done list, in registration order.
    const IntrusiveList<CallbackNode>& callbacks() const noexcept { return m_callbacks; }

    // The loop, or RuntimeError if the loop was destroyed.
    EventLoop& loop() const;
    // The loop's engine, null once the loop is destroyed.
    LoopCore* loop_core() const noexcept { return m_link->core; }
    LoopLink* link() const noexcept { return m_link; }

    // asyncio's repr, without the angle brackets' type name; value printing is the caller's.
    // `callbacks`: list the registered done callbacks (left out where a waiting task shows
    // what it waits for: its own wake-up would be the only entry).
    virtual void describe(std::ostream& os, bool callbacks = true) const;
    void run() override {} // see above: never called for a plain future
    void describe_outcome(std::ostream& os) const;
    // " cb=[...]" while callbacks are registered (asyncio's format: the first, "<N more>", the
    // last); nothing otherwise.
    void describe_callbacks(std::ostream& os) const;
    // Rethrows the stored exception, else raises CancelledError with the cancel message.
    [[noreturn, gnu::always_inline]] void throw_cancelled() const {
        if (m_exception)
            std::rethrow_exception(m_exception);
        throw CancelledError(cancel_msg());
    }
    [[noreturn]] static void throw_result_not_set();
    [[noreturn]] static void throw_invalid_state();
    std::exception_ptr cancelled_error() const;

    // Debug mode: where the future or task was created (null otherwise), for the reports.
    const SourceLoc* created() const noexcept {
        return m_extras && m_extras->created ? &*m_extras->created : nullptr;
    }
    void set_created(SourceLoc where) { extras().created = where; }
    // The message of the cancel() that cancelled it (or is pending, for a task).
    const std::string& cancel_msg() const noexcept;

protected:
    virtual ~FutureCore();
    void set_cancelled(std::exception_ptr cancelled, const std::string& msg);
    void schedule_callbacks() noexcept;
    // schedule_callbacks(), then RuntimeError("Event loop is closed") if there were callbacks
    // and the loop is closed or gone (they were dropped).
    void schedule_callbacks_or_raise();
    // Called when the last reference goes: reports an unretrieved exception, then deletes.
    void last_ref() noexcept;
    virtual const char* kind() const noexcept { return "Future"; }
    // The context the exception handler runs in when this object is reported (a task's own).
    virtual LazyContext* report_context() noexcept { return nullptr; }

    FutureExtras& extras() const; // made on first use, also by readers (a task's made-up name)
    void set_cancel_msg(const std::string& msg);

    // Small fields first: a million live tasks pay for every byte of padding.
    std::uint32_t m_refs = 0;
    std::uint32_t m_next_cb_id = 0;
    State m_state = State::pending;
    bool m_log_traceback = false;
    // Task state kept here, where it fills what would be padding.
    CancelState m_cancel;
    bool m_scheduled = false;
    bool m_is_task = false; // a TaskCore (fills padding: no virtual call to tell)
    std::exception_ptr m_exception;
    mutable std::unique_ptr<FutureExtras> m_extras;
    // The done list (one pointer: its head's `prev` is its tail).
    IntrusiveList<CallbackNode> m_callbacks;
    LoopLink* m_link;
};

} // namespace asyncio::detail
