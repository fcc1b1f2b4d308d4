// Internal: WaiterQueue, the one FIFO of parked tasks under every lock, queue and as_completed.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "../base/short_string.hpp"
#include "future_wait.hpp"
#include "task_core.hpp"

namespace asyncio::detail {

// The loop a primitive is bound to (asyncio's mixins._LoopBoundMixin): the loop of the first
// task that had to wait on it, for good, as asyncio's. The fast paths never bind, as asyncio
// binds only when it makes a future. Holds a reference on the loop's link, so a loop that died
// is never mistaken for a new one at the same address.
class LoopBinding {
public:
    LoopBinding() noexcept = default;
    LoopBinding(const LoopBinding&) = delete;
    LoopBinding& operator=(const LoopBinding&) = delete;
    ~LoopBinding();
    // Binds to `task`'s loop, or checks it is the bound one: RuntimeError("<kind> is bound to a
    // different event loop") otherwise.
    void check(const TaskCore& task, const char* kind);

private:
    LoopLink* m_link = nullptr;
};

// trio's ParkingLot: an intrusive FIFO of tasks parked on a primitive. Each parked task's node
// is the awaiter itself (WaiterQueue::Park, embedded in the awaiting coroutine's frame), so
// parking allocates nothing; the node is the task's Waiter, the abort hook of the library's one
// cancellation protocol.
//
// Invariants:
// - a Park is idle (not awaited yet, or done), parked (on m_parked, in arrival order), woken
//   (unparked, on m_woken until its task runs it) or aborted (cancelled while parked: off both
//   lists, its task scheduled to throw CancelledError);
// - unparking moves the head of m_parked to m_woken and schedules its task; a cancel() that
//   arrives later cannot undo the wake-up (abort() returns false), so the task resumes with the
//   cancellation pending: the Park then leaves m_woken and, before the CancelledError goes on,
//   calls the owner's pass-on hook (asyncio's rule: a waiter woken but cancelled before it takes
//   what it was woken for passes the wake-up on). The hook also runs when the frame of a woken
//   Park is destroyed before its task ran it;
// - the owner sees size() (parked) and woken() separately: a woken Park still counts as a
//   waiter for fairness (asyncio keeps its done future in _waiters until the task runs), which
//   is what forbids barging;
// - a WaiterQueue destroyed with Parks on it detaches them: their tasks stay suspended (as
//   asyncio's would on a future nobody completes), and their destructors touch nothing.
class WaiterQueue {
public:
    // Called with the owner when a woken waiter gives up its wake-up (see above). Must not
    // throw; it runs inside the resumed task, or in a destructor.
    using PassOn = void (*)(void* owner) noexcept;

    class Park;

    // `kind` names the owner in error messages ("Lock").
    explicit WaiterQueue(LoopBinding& binding, const char* kind, PassOn pass_on = nullptr,
                         void* owner = nullptr) noexcept
        : m_binding(&binding), m_kind(kind), m_pass_on(pass_on), m_owner(owner) {}
    WaiterQueue(const WaiterQueue&) = delete;
    WaiterQueue& operator=(const WaiterQueue&) = delete;
    ~WaiterQueue();

    // The awaiter that parks the current task at the back of the queue. `what` names the
    // operation in the task's repr and in "<what> must be awaited inside a Task".
    Park park(const char* what) noexcept;

    // Parked waiters (not yet woken).
    std::size_t size() const noexcept { return m_parked.count; }
    bool empty() const noexcept { return m_parked.count == 0; }
    // Woken waiters whose tasks have not run yet.
    std::size_t woken() const noexcept { return m_woken.count; }
    // No waiter at all, parked or woken.
    bool idle() const noexcept { return m_parked.count == 0 && m_woken.count == 0; }

    // Wakes the first parked waiter; false when none is parked.
    bool unpark_one() noexcept;
    // Wakes the first n parked waiters (fewer if fewer are parked); gives how many.
    std::size_t unpark(std::size_t n) noexcept;
    std::size_t unpark_all() noexcept { return unpark(m_parked.count); }

private:
    struct List {
        Park* head = nullptr;
        Park* tail = nullptr;
        std::size_t count = 0;
        void push_back(Park* p) noexcept;
        void remove(Park* p) noexcept;
    };

    LoopBinding* m_binding;
    const char* m_kind;
    PassOn m_pass_on;
    void* m_owner;
    List m_parked;
    List m_woken;
};

// `co_await queue.park(what)`: suspends the current task until it is unparked (returns) or
// cancelled (throws CancelledError). Must be awaited inside a Task (RuntimeError otherwise) of
// the queue's loop.
class WaiterQueue::Park final : public Waiter {
public:
    Park(WaiterQueue& q, const char* what) noexcept : m_queue(&q), m_what(what) {}
    // Movable only before it is awaited (an awaiter that embeds it may be moved).
    Park(Park&& o) noexcept : m_queue(o.m_queue), m_what(o.m_what) {}
    Park& operator=(const Park&) = delete;
    ~Park() {
        if (m_state == State::parked || m_state == State::woken)
            leave_on_destroy();
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        suspend(h, task_of(h), promise_of(h));
    }
    void await_resume() {
        if (m_state != State::woken) [[unlikely]]
            throw_aborted();
        if (m_queue) [[likely]]
            m_queue->m_woken.remove(this);
        m_state = State::idle;
        take_cancel();
    }

    bool abort(const std::string& msg) override;
    void describe_wait(std::ostream& os) const override;

private:
    friend class WaiterQueue;
    enum class State : std::uint8_t { idle, parked, woken, aborted };

    void suspend(std::coroutine_handle<> h, TaskCore* task, PromiseBase* leaf);
    [[noreturn]] void throw_aborted();
    // Throws a cancellation that arrived after the wake-up, passing the wake-up on first.
    void take_cancel();
    void leave_on_destroy() noexcept;

    WaiterQueue* m_queue;
    const char* m_what;
    TaskCore* m_task = nullptr;
    Park* m_prev = nullptr;
    Park* m_next = nullptr;
    State m_state = State::idle;
    RareString m_message;
};

inline WaiterQueue::Park WaiterQueue::park(const char* what) noexcept { return Park(*this, what); }

} // namespace asyncio::detail
