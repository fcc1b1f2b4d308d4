// concurrent.futures.Future: ConcurrentFuture<T>, the thread-safe future that
// run_coroutine_threadsafe() and ThreadPoolExecutor::submit() give.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "detail/base/intrusive.hpp"
#include "detail/base/intrusive_list.hpp"
#include "detail/base/seconds.hpp"
#include "detail/task/future_core.hpp"
#include "exceptions.hpp"

namespace asyncio {

namespace detail {

class ConcurrentCore;

// A done callback of a concurrent future. Called once, by the thread that completes the future
// (or at once by the registering thread when it is already done), then destroyed; a callback
// dropped with a future that never completes is only destroyed.
class ConcurrentCallback : public detail::ListHook<ConcurrentCallback> {
public:
    ConcurrentCallback() = default;
    ConcurrentCallback(const ConcurrentCallback&) = delete;
    ConcurrentCallback& operator=(const ConcurrentCallback&) = delete;
    virtual void invoke(ConcurrentCore& future) noexcept = 0;
    // Deletes a callback allocated on its own; one embedded in another object releases that.
    virtual void destroy() noexcept { delete this; }

protected:
    virtual ~ConcurrentCallback() = default;

public:
};

// The state behind ConcurrentFuture<T> (concurrent.futures.Future), shared by every thread.
//
// Invariants:
// - m_state goes pending -> running -> finished, or pending -> cancelled, or pending ->
//   finished; a done state never changes again;
// - the value and m_exception are written under m_mutex before m_state turns finished (a release
//   store) and never again, so whoever saw a done state (an acquire load) reads them without the
//   lock;
// - callbacks registered while not done run once each, in registration order, in the thread that
//   completes the future, after it released the lock; after that the list stays empty;
// - m_waiters counts threads blocked on m_cv (changed under m_mutex), so completing a future
//   nobody waits for makes no system call.
class ConcurrentCore : public detail::AtomicRefCounted<ConcurrentCore> {
public:
    enum class State : std::uint8_t { pending, running, cancelled, finished };

    ConcurrentCore() = default;

    State state() const noexcept { return m_state.load(std::memory_order_acquire); }
    bool done() const noexcept {
        State s = state();
        return s == State::cancelled || s == State::finished;
    }
    // False when running or finished; true when cancelled (now or before).
    bool cancel();
    // What an executor calls before it runs the work: false when cancelled (the work must not
    // run), true after moving to running. RuntimeError in any other state.
    bool set_running_or_notify_cancel();
    void set_exception(std::exception_ptr e);

    // Waits until done or `timeout` seconds passed (nullopt: no limit); gives the state.
    State wait(std::optional<double> timeout) const;
    // Returns when finished with a value; throws CancelledError, TimeoutError or the exception.
    void check_result(std::optional<double> timeout) const;
    // The exception (null for a value); CancelledError or TimeoutError as check_result().
    std::exception_ptr get_exception(std::optional<double> timeout) const;

    // Takes ownership of `cb`; runs it at once (in this thread) when already done.
    void add_callback(ConcurrentCallback* cb);
    void describe(std::ostream& os) const;

    // Completing with a value: begin_set() locks and checks the state (InvalidStateError when
    // done), the caller stores the value, end_set() publishes it. begin_set_unless_cancelled()
    // gives an unlocked lock instead of throwing when the future is already done (what an
    // executor does with work whose future was cancelled meanwhile).
    std::unique_lock<std::mutex> begin_set();
    std::unique_lock<std::mutex> begin_set_unless_cancelled();
    // For completing from a place where user code must not run (a task step): locks and says
    // `locked` only if the future is pending and `allowed` (or nothing) is its one callback;
    // `done` if it is done already; `deferred` if user callbacks would run.
    enum class QuietSet : unsigned char { locked, done, deferred };
    QuietSet begin_set_quietly(const ConcurrentCallback* allowed,
                               std::unique_lock<std::mutex>& lock);
    void end_set(std::unique_lock<std::mutex> lock) noexcept;
    void end_set_exception(std::unique_lock<std::mutex> lock, std::exception_ptr e) noexcept;

protected:
    friend class detail::AtomicRefCounted<ConcurrentCore>; // deletes it
    virtual ~ConcurrentCore();

private:
    // Sets a done state under `lock`, releases it, wakes waiters and runs the callbacks.
    void complete(std::unique_lock<std::mutex> lock, State s) noexcept;

    mutable std::mutex m_mutex;
    mutable std::condition_variable m_cv;
    mutable int m_waiters = 0;
    std::atomic<State> m_state{State::pending};
    std::exception_ptr m_exception;
    IntrusiveList<ConcurrentCallback> m_callbacks; // guarded by m_mutex
};

// A submission of run_coroutine_threadsafe() extends it (one allocation for both).
template <class T>
class ConcurrentState : public ConcurrentCore {
public:
    std::optional<ValueOf<T>> m_value;
};

// Prints the exception that escaped a concurrent future's done callback (asyncio logs it as
// "exception calling callback for <Future ...>").
void report_concurrent_callback_error(ConcurrentCore& future, std::exception_ptr e) noexcept;

} // namespace detail

// A future that any thread may wait on (Python's concurrent.futures.Future): what
// run_coroutine_threadsafe() and ThreadPoolExecutor::submit() give. A cheap, copyable handle;
// copies share one future. Every method is thread-safe.
//
// Cancellation: cancel() succeeds while the work has not started running (a future of
// run_coroutine_threadsafe() never counts as running, so it can be cancelled until it is done,
// which also cancels its task in the loop); waiters then get CancelledError.
template <class T = void>
class ConcurrentFuture {
public:
    using value_type = T;

    // A new pending future (Python's concurrent.futures.Future()); set it with set_result() or
    // set_exception().
    ConcurrentFuture() : m_state(new detail::ConcurrentState<T>()) {}
    explicit ConcurrentFuture(detail::ConcurrentState<T>* state) noexcept : m_state(state) {}

    explicit operator bool() const noexcept { return static_cast<bool>(m_state); }
    bool done() const { return core().done(); }
    bool cancelled() const { return core().state() == detail::ConcurrentCore::State::cancelled; }
    bool running() const { return core().state() == detail::ConcurrentCore::State::running; }
    // False if the work is running or done; true if the future is (now) cancelled.
    bool cancel() { return core().cancel(); }

    // Waits for the result: gives it, or throws CancelledError or the work's exception. With a
    // timeout (seconds or a chrono duration), TimeoutError if it is not done by then.
    decltype(auto) result() const { return get(std::nullopt); }
    template <detail::Seconds D>
    decltype(auto) result(D timeout) const {
        return get(detail::to_seconds(timeout));
    }
    // Waits, then gives the work's exception (null when it gave a value); CancelledError and
    // TimeoutError as result().
    std::exception_ptr exception() const { return core().get_exception(std::nullopt); }
    template <detail::Seconds D>
    std::exception_ptr exception(D timeout) const {
        return core().get_exception(detail::to_seconds(timeout));
    }

    // `fn(const ConcurrentFuture&)` or `fn()` runs once the future is done, in the thread that
    // completes it (at once, here, if it is done already). An exception it throws is printed
    // to stderr and otherwise ignored, as Python logs it.
    template <class F>
    void add_done_callback(F&& fn) {
        using Fn = std::decay_t<F>;
        static_assert(std::is_invocable_v<Fn&, const ConcurrentFuture&> || std::is_invocable_v<Fn&>,
                      "add_done_callback(): the callback must be callable with the future "
                      "(const ConcurrentFuture<T>&) or with no argument");
        core().add_callback(new Callback<Fn>(std::forward<F>(fn)));
    }

    // For executors and tests, as in Python.
    bool set_running_or_notify_cancel() { return core().set_running_or_notify_cancel(); }
    template <class U = detail::ValueOf<T>>
    void set_result(U&& value) requires(!std::is_void_v<T>) {
        auto lock = core().begin_set();
        m_state->m_value.emplace(std::forward<U>(value));
        core().end_set(std::move(lock));
    }
    void set_result() requires std::is_void_v<T> {
        auto lock = core().begin_set();
        m_state->m_value.emplace();
        core().end_set(std::move(lock));
    }
    void set_exception(std::exception_ptr e) { core().set_exception(std::move(e)); }

    friend bool operator==(const ConcurrentFuture& a, const ConcurrentFuture& b) noexcept {
        return a.m_state == b.m_state;
    }
    friend std::ostream& operator<<(std::ostream& os, const ConcurrentFuture& f) {
        f.core().describe(os);
        return os;
    }

    detail::ConcurrentState<T>* raw() const noexcept { return m_state.get(); }
    detail::ConcurrentCore& core() const {
        if (!m_state)
            throw InvalidStateError("operation on an empty ConcurrentFuture");
        return *m_state;
    }

private:
    decltype(auto) get(std::optional<double> timeout) const {
        core().check_result(timeout);
        if constexpr (!std::is_void_v<T>)
            return static_cast<const T&>(*m_state->m_value);
    }

    template <class Fn>
    class Callback final : public detail::ConcurrentCallback {
    public:
        template <class G>
        explicit Callback(G&& fn) : m_fn(std::forward<G>(fn)) {}
        void invoke(detail::ConcurrentCore& future) noexcept override {
            try {
                if constexpr (std::is_invocable_v<Fn&, const ConcurrentFuture&>) {
                    ConcurrentFuture handle(static_cast<detail::ConcurrentState<T>*>(&future));
                    std::invoke(m_fn, handle);
                } else {
                    std::invoke(m_fn);
                }
            } catch (...) {
                detail::report_concurrent_callback_error(future, std::current_exception());
            }
        }

    private:
        Fn m_fn;
    };

    detail::IntrusivePtr<detail::ConcurrentState<T>> m_state;
};

} // namespace asyncio
