// asyncio.locks: Lock, Event, Condition, Semaphore, BoundedSemaphore and Barrier.
//
// As asyncio's, these primitives are NOT thread-safe: use them only from the tasks and callbacks
// of one loop. A primitive is bound to the loop of the first task that has to wait on it; waiting
// on it from a task of another loop raises RuntimeError ("... is bound to a different event
// loop"). To act on one from another thread, hand the call to its loop with
// `loop.call_soon_threadsafe([&] { event.set(); })` (or run a coroutine there with
// run_coroutine_threadsafe).
//
// Every waiter queue is fair (FIFO) and cancellation-exact as asyncio 3.12+: a task cancelled
// while it waits leaves the queue at once; a task woken and then cancelled before it ran passes
// its wake-up to the next waiter; nobody barges past queued waiters. All of them park their
// tasks on the one internal WaiterQueue (detail/task/waiter_queue.hpp).
//
// g++ 12 miscompiles a co_await used directly as an if condition (`if (co_await ev.wait())`
// crashes when the coroutine resumes, with any awaitable): name the result first, `bool ok =
// co_await ev.wait(); if (ok) ...`.
#pragma once

#include <coroutine>
#include <cstddef>
#include <iosfwd>
#include <type_traits>
#include <utility>

#include "coroutines.hpp"
#include "detail/task/waiter_queue.hpp"
#include "exceptions.hpp"

namespace asyncio {

// What `co_await x.scoped()` gives: holds a Lock, Semaphore, BoundedSemaphore or Condition
// until it is destroyed (asyncio's `async with lock:`; releasing needs no await, so the
// destructor is exact). Move-only. release() gives it back early. The destructor releases
// whatever happened in the scope: a primitive released by hand inside it makes that release
// fail (e.g. "Lock is not acquired."), which, from a destructor, terminates.
template <class P>
class [[nodiscard("the primitive is released as soon as this guard is destroyed")]] Held {
public:
    explicit Held(P & p) noexcept : m_p(&p) {}
    Held(Held && o) noexcept : m_p(std::exchange(o.m_p, nullptr)) {}
    Held& operator=(Held&& o) noexcept {
        if (this != &o) {
            reset();
            m_p = std::exchange(o.m_p, nullptr);
        }
        return *this;
    }
    ~Held() { reset(); }

    // Releases now; the destructor then does nothing.
    void release() {
        if (P* p = std::exchange(m_p, nullptr))
            p->release();
    }
    bool owns() const noexcept { return m_p != nullptr; }

private:
    void reset() noexcept {
        if (P* p = std::exchange(m_p, nullptr))
            p->release();
    }
    P* m_p;
};

namespace detail {

// The awaiter of `scoped()`: acquires through A, then gives a Held<P>.
template <class P, class A>
class [[nodiscard("the operation does nothing until it is awaited: co_await it")]] ScopedAcquire {
public:
    ScopedAcquire(P & p, A acquire) noexcept : m_p(&p), m_acquire(std::move(acquire)) {}
    bool await_ready() { return m_acquire.await_ready(); }
    template <class Pr>
    decltype(auto) await_suspend(std::coroutine_handle<Pr> h) {
        return m_acquire.await_suspend(h);
    }
    Held<P> await_resume() {
        m_acquire.await_resume();
        return Held<P>(*m_p);
    }

private:
    P* m_p;
    A m_acquire;
};

// The awaiter shared by Lock.acquire, Semaphore.acquire and Event.wait: a fast path answered by
// `Owner::try_fast()` (no suspension, no allocation), else one park on the owner's queue, then
// `Owner::finish_wait(park)`, which gives the result.
template <class Owner>
class [[nodiscard("the operation does nothing until it is awaited: co_await it")]] ParkAwaiter {
public:
    ParkAwaiter(Owner & owner, WaiterQueue & q, const char* what) noexcept
        : m_owner(&owner), m_park(q, what) {}
    bool await_ready() { return m_fast = m_owner->try_fast(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        m_park.await_suspend(h);
    }
    bool await_resume() { return m_fast || m_owner->finish_wait(m_park); }

private:
    Owner* m_owner;
    WaiterQueue::Park m_park;
    bool m_fast = false;
};

} // namespace detail

// asyncio.Lock: a mutual-exclusion lock, not owned by a task (any task may release it).
//
// Invariants (asyncio 3.12's Lock):
// - m_locked is set by an acquire that took the lock: at once when the lock was free with no
//   waiter at all (parked or woken), else when its task runs after release() woke it;
// - release() clears m_locked and wakes the first parked waiter; until that task runs, the woken
//   waiter still counts, so a new acquire() queues behind it (no barging);
// - a woken waiter cancelled before it ran wakes the next one if the lock is still free.
class Lock {
public:
    using Acquire = detail::ParkAwaiter<Lock>;

    Lock() noexcept = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    // `co_await lock.acquire()` takes the lock, waiting in FIFO order while it is held; gives
    // true. Uncontended, it neither suspends nor allocates.
    //
    // Cancellation: a waiter cancelled before its turn leaves the queue and throws
    // CancelledError, holding nothing; one cancelled after release() chose it does not take the
    // lock, and the next waiter gets it instead.
    Acquire acquire() noexcept { return Acquire(*this, m_waiters, "Lock.acquire()"); }
    // `auto held = co_await lock.scoped();`: acquire(), released when `held` is destroyed.
    // Cancellation: as acquire(); a cancelled scoped() holds nothing.
    detail::ScopedAcquire<Lock, Acquire> scoped() noexcept { return {*this, acquire()}; }
    // Frees the lock and wakes the first waiter; RuntimeError("Lock is not acquired.") when free.
    void release();
    bool locked() const noexcept { return m_locked; }

    // asyncio's repr: <asyncio.locks.Lock object at 0x... [locked, waiters:2]>.
    friend std::ostream& operator<<(std::ostream& os, const Lock& l);

private:
    friend Acquire;
    bool try_fast() noexcept {
        if (m_locked || !m_waiters.idle())
            return false;
        m_locked = true;
        return true;
    }
    bool finish_wait(detail::WaiterQueue::Park& park);
    static void pass_on(void* self) noexcept;

    bool m_locked = false;
    detail::LoopBinding m_binding;
    detail::WaiterQueue m_waiters{m_binding, "Lock", &pass_on, this};
};

// asyncio.Event: a flag tasks wait on; set() wakes every waiter.
class Event {
public:
    using Wait = detail::ParkAwaiter<Event>;

    Event() noexcept = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    // `co_await ev.wait()`: returns true at once when the flag is set, else waits until set()
    // is called. Cancellation: the waiter leaves the queue and throws CancelledError; the flag
    // and the other waiters are untouched.
    Wait wait() noexcept { return Wait(*this, m_waiters, "Event.wait()"); }
    // Sets the flag and wakes every waiter (they return true even if clear() follows at once).
    void set() noexcept;
    void clear() noexcept { m_value = false; }
    bool is_set() const noexcept { return m_value; }

    friend std::ostream& operator<<(std::ostream& os, const Event& e);

private:
    friend Wait;
    bool try_fast() const noexcept { return m_value; }
    bool finish_wait(detail::WaiterQueue::Park& park) {
        park.await_resume();
        return true;
    }

    bool m_value = false;
    detail::LoopBinding m_binding;
    detail::WaiterQueue m_waiters{m_binding, "Event"};
};

// asyncio.Condition: tasks wait until notified, under a Lock (its own, or one it shares).
class Condition {
public:
    Condition() noexcept : m_lock(&m_own_lock) {}
    // Shares `lock` (which must outlive the condition).
    explicit Condition(Lock& lock) noexcept : m_lock(&lock) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    // The lock's acquire(), release(), locked() and scoped() (the guard releases the lock).
    Lock::Acquire acquire() noexcept { return m_lock->acquire(); }
    detail::ScopedAcquire<Condition, Lock::Acquire> scoped() noexcept {
        return {*this, m_lock->acquire()};
    }
    void release() { m_lock->release(); }
    bool locked() const noexcept { return m_lock->locked(); }

    // `co_await cond.wait()`: releases the lock, waits for notify(), re-acquires the lock, gives
    // true. RuntimeError("cannot wait on un-acquired lock") when the lock is not held. May
    // return spuriously (as asyncio's): re-check the state, or use wait_for().
    //
    // Cancellation: the lock is re-acquired before CancelledError leaves wait(), even when the
    // task is cancelled again while re-acquiring it; the notification it may have taken goes to
    // another waiter (asyncio's: any error out of wait() notifies one more).
    Coro<bool> wait();
    // `co_await cond.wait_for(predicate)`: waits until predicate() is true, re-checking after
    // each wake-up; gives the predicate's last value. The lock must be held when predicate()
    // is false at first. Cancellation: as wait().
    template <class Pred>
    Coro<std::decay_t<std::invoke_result_t<Pred&>>> wait_for(Pred predicate) {
        auto result = predicate();
        while (!result) {
            co_await wait();
            result = predicate();
        }
        co_return result;
    }
    // Wakes up to n waiters; RuntimeError("cannot notify on un-acquired lock") when not held.
    void notify(std::size_t n = 1);
    void notify_all();

    friend std::ostream& operator<<(std::ostream& os, const Condition& c);

private:
    Lock m_own_lock;
    Lock* m_lock;
    detail::LoopBinding m_binding;
    detail::WaiterQueue m_waiters{m_binding, "Condition"};
};

// asyncio.Semaphore: a counter of free slots; acquire() takes one, release() gives one back.
//
// Invariants (asyncio 3.12's Semaphore):
// - release() hands its slot straight to the first parked waiter (the count goes up and down
//   again), so a woken waiter owns its slot before its task runs;
// - locked() is true while the count is 0 or anyone waits, parked or woken, so a new acquire()
//   never overtakes them (FIFO);
// - a woken waiter cancelled before it ran gives its slot back; and whoever leaves acquire()
//   wakes as many parked waiters as there are free slots.
class Semaphore {
public:
    using Acquire = detail::ParkAwaiter<Semaphore>;

    // ValueError("Semaphore initial value must be >= 0") for a negative value.
    explicit Semaphore(int value = 1);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    // `co_await sem.acquire()` takes a slot, waiting in FIFO order while none is free; gives
    // true. Uncontended, it neither suspends nor allocates.
    //
    // Cancellation: a waiter cancelled before its turn leaves the queue and throws
    // CancelledError, holding nothing; one cancelled after release() chose it gives the slot to
    // the next waiter.
    Acquire acquire() noexcept { return Acquire(*this, m_waiters, m_what); }
    // `auto held = co_await sem.scoped();`: acquire(), released when `held` is destroyed.
    detail::ScopedAcquire<Semaphore, Acquire> scoped() noexcept { return {*this, acquire()}; }
    // Gives a slot back, waking the first waiter. A BoundedSemaphore raises ValueError("Bounded
    // Semaphore released too many times") above its initial value.
    void release();
    // True when acquire() would have to wait.
    bool locked() const noexcept { return m_value == 0 || !m_waiters.idle(); }

    friend std::ostream& operator<<(std::ostream& os, const Semaphore& s);

protected:
    Semaphore(int value, int bound, const char* kind, const char* what);

private:
    friend Acquire;
    bool try_fast() noexcept {
        if (locked())
            return false;
        --m_value;
        return true;
    }
    bool finish_wait(detail::WaiterQueue::Park& park);
    bool wake_up_next() noexcept;
    void wake_up_free() noexcept;
    static void pass_on(void* self) noexcept;

    int m_value;
    int m_bound; // the initial value of a BoundedSemaphore, else -1
    const char* m_what;
    detail::LoopBinding m_binding;
    detail::WaiterQueue m_waiters;
};

// asyncio.BoundedSemaphore: a Semaphore whose release() refuses to go above the initial value.
class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(int value = 1);
};

// asyncio.Barrier: `parties` tasks wait until all have arrived, then all go on together.
//
// Invariants (asyncio 3.11's Barrier, on two WaiterQueues instead of a Condition):
// - filling: arrivals count in m_count and park on m_filling; the parties-th arrival switches to
//   draining and wakes them all;
// - draining (or resetting): every task that passed (or was reset) leaves, decrementing m_count;
//   the last one out switches back to filling and wakes the arrivals that came meanwhile
//   (parked on m_blocked), so phases never mix;
// - reset() with tasks inside switches to resetting: they leave with BrokenBarrierError;
//   abort() switches to broken for good: every waiter and arrival gets BrokenBarrierError.
class Barrier {
public:
    // ValueError("parties must be >= 1") otherwise.
    explicit Barrier(int parties);
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;

    // `co_await b.wait()`: waits until `parties` tasks are waiting, then gives this task's
    // arrival index (0 ... parties-1). BrokenBarrierError when the barrier is broken or is
    // reset while waiting.
    //
    // Cancellation: a cancelled waiter leaves the barrier (n_waiting() goes down) and throws
    // CancelledError; the others keep waiting.
    Coro<int> wait();
    // Back to the empty, filling state; tasks waiting get BrokenBarrierError. Unlike asyncio's
    // (a coroutine only because it takes the condition's lock), it acts at once.
    void reset();
    // Breaks the barrier: current and future waiters get BrokenBarrierError. Acts at once, as
    // reset().
    void abort();
    int parties() const noexcept { return m_parties; }
    // Tasks waiting for the barrier to fill (0 while it drains).
    int n_waiting() const noexcept { return m_state == State::filling ? m_count : 0; }
    bool broken() const noexcept { return m_state == State::broken; }

    friend std::ostream& operator<<(std::ostream& os, const Barrier& b);

private:
    enum class State { filling, draining, resetting, broken };
    void leave() noexcept;

    int m_parties;
    int m_count = 0;
    State m_state = State::filling;
    detail::LoopBinding m_binding;
    detail::WaiterQueue m_filling{m_binding, "Barrier"};
    detail::WaiterQueue m_blocked{m_binding, "Barrier"};
};

} // namespace asyncio
