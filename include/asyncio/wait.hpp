// asyncio.tasks.wait: wait for tasks and futures until some, the first failure, or all are done.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/aws/awaitables.hpp"
#include "detail/base/intrusive.hpp"
#include "detail/base/runnable.hpp"
#include "detail/task/future_core.hpp"
#include "detail/task/future_wait.hpp"
#include "detail/task/owner_callback.hpp"
#include "detail/task/task_core.hpp"
#include "events.hpp"
#include "futures.hpp"
#include "tasks.hpp"

namespace asyncio {

// When wait() returns (asyncio's constants).
enum class ReturnWhen : int {
    FIRST_COMPLETED = 1, // any task or future finishes or is cancelled
    FIRST_EXCEPTION = 2, // any finishes by an exception; else as ALL_COMPLETED
    ALL_COMPLETED = 3,   // all finish or are cancelled
};
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

struct WaitOptions {
    // Seconds (a number or a chrono duration); std::nullopt: no timeout.
    detail::OptionalSeconds timeout = std::nullopt;
    ReturnWhen return_when = ALL_COMPLETED;
};

// What wait() gives: the tasks or futures done and those still pending, each in argument order
// (a handle passed twice appears once). `auto [done, pending] = co_await wait(...)`.
template <class H>
struct WaitResult {
    std::vector<H> done;
    std::vector<H> pending;
};

namespace detail {

// Invariants (asyncio's _wait):
// - while the wait runs, a Node is on the done list of every child (children are kept alive by
//   the awaiter's handles); a Node whose child completed is queued (asyncio calls done
//   callbacks through call_soon) and holds a reference on this object and on the child;
// - the task is woken once: by the condition, by the timeout (a fired timer queues this object,
//   asyncio's call_later handle) or by its cancellation (abort); m_state says which;
// - end() unregisters every Node and removes the timer; queued callbacks still run afterwards,
//   as asyncio's do, but wake nothing.
class WaitCore final : public Runnable,
                       public TimerNode,
                       public Waiter,
                       public RefCounted<WaitCore> {
public:
    WaitCore(std::vector<FutureCore*> children, ReturnWhen when, std::optional<double> timeout);

    // Arms the timer, registers on the children, suspends the task.
    void begin(std::coroutine_handle<> h, TaskCore* task, PromiseBase* leaf);
    // Unregisters (idempotent). Then check() throws the CancelledError of an aborted wait or a
    // cancellation pending for the task.
    void end() noexcept;
    void check();

    bool abort(const std::string& msg) override;
    void describe_wait(std::ostream& os) const override;
    void on_timer() override;
    void run() override;
    void discard() noexcept override { release(); }

private:
    enum class State : std::uint8_t { idle, waiting, released, aborted, ended };
    using Node = OwnerCallback<WaitCore, false>;
    friend Node;
    void on_callback(Node& n);
    FutureCore* awaiting_future() const noexcept;

    friend RefCounted<WaitCore>;
    ~WaitCore();
    void on_completion(FutureCore& f);
    void release_waiter() noexcept;
    void remove_timer() noexcept;

    State m_state = State::idle;
    ReturnWhen m_when;
    std::size_t m_counter;
    std::optional<double> m_timeout;
    TaskCore* m_task = nullptr;
    std::string m_message;
    std::unique_ptr<Node[]> m_nodes;
    std::size_t m_count;
};

template <class H>
class [[nodiscard("wait() does nothing until it is awaited")]] WaitAwaiter {
public:
    WaitAwaiter(std::vector<H> fs, ReturnWhen when, std::optional<double> timeout)
        : m_fs(std::move(fs)), m_when(when), m_timeout(timeout) {}
    WaitAwaiter(WaitAwaiter &&) = default;
    ~WaitAwaiter() {
        if (m_core)
            m_core->end();
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        std::vector<FutureCore*> children;
        children.reserve(m_fs.size());
        for (const H& f : m_fs)
            children.push_back(&f.core());
        m_core = IntrusivePtr<WaitCore>(new WaitCore(std::move(children), m_when, m_timeout));
        m_core->begin(h, task_of(h), promise_of(h));
    }
    WaitResult<H> await_resume() {
        m_core->end();
        m_core->check();
        WaitResult<H> result;
        for (H& f : m_fs)
            (f.done() ? result.done : result.pending).push_back(std::move(f));
        return result;
    }

private:
    std::vector<H> m_fs;
    ReturnWhen m_when;
    std::optional<double> m_timeout;
    IntrusivePtr<WaitCore> m_core;
};

void check_return_when(ReturnWhen when);
[[noreturn]] void throw_empty_wait();

} // namespace detail

// Waits for the tasks and futures of `fs` (any range of Task<T>, Future<T>, TaskRef or
// FutureRef of the running loop) until `options.return_when` holds or `options.timeout` passes,
// and gives {done, pending}. It never raises TimeoutError and never cancels anything: on timeout
// the unfinished ones are simply in `pending`. A task finishing at the timeout instant is in
// `done` (the split is made when the wait resumes). ValueError (a std::invalid_argument) for an
// empty range or an invalid return_when; RuntimeError without a running loop; ValueError for a
// task of another loop. Coroutines are refused at compile time: wrap them in create_task() and
// pass the tasks, which you can then find in done/pending (asyncio's pitfall, made impossible).
//
// Cancellation: cancelling the awaiting task ends the wait with CancelledError; the tasks and
// futures waited for are not cancelled.
template <class Range>
auto wait(Range&& fs, WaitOptions options = {}) {
    static_assert(std::ranges::input_range<Range> &&
                      !detail::FutureLike<std::remove_cvref_t<Range>>,
                  "wait() expects a range of tasks or futures (e.g. a std::vector), not a single "
                  "one (asyncio's TypeError)");
    using H = std::remove_cvref_t<std::ranges::range_reference_t<Range>>;
    static_assert(!iscoroutine_v<H>,
                  "wait() does not take coroutines: wrap each one in create_task() and pass the "
                  "tasks (asyncio: passing coroutines is forbidden, use tasks explicitly)");
    static_assert(detail::FutureLike<H>,
                  "wait() expects tasks or futures (Task<T>, Future<T>, TaskRef, FutureRef); "
                  "wrap other awaitables in create_task()");
    detail::check_return_when(options.return_when);
    std::optional<double> timeout;
    if (options.timeout.has_value())
        timeout = options.timeout.checked();
    EventLoop& loop = get_running_loop();
    std::vector<H> all;
    for (auto&& f : fs) {
        if (&detail::loop_of(f) != &loop)
            detail::throw_different_loop();
        all.push_back(f);
    }
    if (all.empty())
        detail::throw_empty_wait();
    return detail::WaitAwaiter<H>(detail::unique_handles(std::move(all)), options.return_when,
                                  timeout);
}

} // namespace asyncio
