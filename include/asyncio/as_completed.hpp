// asyncio.tasks.as_completed: the results of tasks and futures in the order they finish.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "coroutines.hpp"
#include "detail/aws/awaitables.hpp"
#include "detail/base/intrusive.hpp"
#include "detail/base/runnable.hpp"
#include "detail/task/future_core.hpp"
#include "detail/task/future_wait.hpp"
#include "detail/task/owner_callback.hpp"
#include "detail/task/task_core.hpp"
#include "detail/task/waiter_queue.hpp"
#include "events.hpp"
#include "futures.hpp"
#include "tasks.hpp"

namespace asyncio {

namespace detail {

// The shared state of an as_completed() iteration: asyncio's _AsCompletedIterator with its
// queue of finished children. Invariants:
// - m_nodes[i] is on child i's done list while child i is pending and in todo (the state keeps
//   the children alive, and unregisters in its destructor); when child i completes, its node is
//   queued (asyncio's call_soon) holding a reference on the state, and then moves i from todo
//   to the done queue;
// - when the timeout fires (a queued hop, asyncio's call_later handle), every child still in
//   todo is unregistered and gives a timeout marker (npos) to the queue instead;
// - every push to the queue wakes the first waiting getter (m_getters, the library's WaiterQueue);
//   a getter woken but cancelled before it takes an item passes the wake-up on (pass_on);
// - m_left counts the items iteration may still take (one per distinct child).
class AsCompletedCore : public Runnable, public TimerNode, public RefCounted<AsCompletedCore> {
public:
    static constexpr std::size_t npos = ~std::size_t{0};

    // Registers on the children and arms the timeout; called once a reference holds this.
    void start(LoopCore* loop, std::optional<double> timeout);

    // Takes one item of the iteration; false when all were taken.
    bool take() noexcept {
        if (m_left == 0)
            return false;
        --m_left;
        return true;
    }
    bool empty() const noexcept { return m_done.empty(); }
    // The index of the next finished child, or npos for a timeout.
    std::size_t pop() noexcept {
        std::size_t i = m_done.front();
        m_done.pop_front();
        return i;
    }

    // Parks the current task until an item is pushed (one round of asyncio's Queue.get).
    WaiterQueue::Park wait_item() noexcept { return m_getters.park("as_completed()'s awaitables"); }

    void on_timer() override;
    void run() override;
    void discard() noexcept override { release(); }

protected:
    explicit AsCompletedCore(std::vector<FutureCore*> children);
    friend RefCounted<AsCompletedCore>;
    virtual ~AsCompletedCore();

private:
    using Node = OwnerCallback<AsCompletedCore, false>;
    friend Node;
    void on_callback(Node& n) { handle_completion(n.index); }
    FutureCore* awaiting_future() const noexcept { return nullptr; } // getters wait, not a task

    void handle_completion(std::size_t i);
    void handle_timeout();
    void put(std::size_t i);
    static void pass_on(void* self) noexcept;

    LoopLink* m_link = nullptr;
    std::vector<FutureCore*> m_cores;
    std::unique_ptr<Node[]> m_nodes;
    std::vector<bool> m_todo;
    std::size_t m_todo_count;
    std::size_t m_left;
    std::deque<std::size_t> m_done;
    LoopBinding m_binding;
    WaiterQueue m_getters{m_binding, "as_completed()", &pass_on, this};
};

template <class H>
class AsCompletedState final : public AsCompletedCore {
public:
    AsCompletedState(std::vector<H> children, std::vector<FutureCore*> cores)
        : AsCompletedCore(std::move(cores)), m_children(std::move(children)) {}
    std::vector<H> m_children;
};

// asyncio's _wait_for_one: the next finished child's result (or exception), TimeoutError once
// the timeout has passed.
template <class V, class H>
Coro<V> as_completed_next(IntrusivePtr<AsCompletedState<H>> s) {
    while (s->empty())
        co_await s->wait_item();
    std::size_t i = s->pop();
    if (i == AsCompletedCore::npos)
        throw TimeoutError();
    H& f = s->m_children[i];
    f.core().check_result();
    co_return value_slot(f).read();
}

// The same, giving the finished task or future itself (asyncio 3.13's async iteration).
template <class H>
Coro<std::optional<H>> as_completed_anext(IntrusivePtr<AsCompletedState<H>> s) {
    if (!s->take())
        co_return std::nullopt;
    while (s->empty())
        co_await s->wait_item();
    std::size_t i = s->pop();
    if (i == AsCompletedCore::npos)
        throw TimeoutError();
    co_return s->m_children[i];
}

} // namespace detail

// The iteration as_completed() returns; H is the handle type (Task<T>, Future<T>, TaskRef or
// FutureRef; a coroutine's task is a Task<T>).
//
// Plain iteration: `for (auto next : as_completed(aws)) { T r = co_await next; }` gives one
// Coro per distinct child (dereference each position once); awaiting any of them gives the
// earliest result not yet given (they are not tied to particular children, and may be awaited
// in any order or concurrently), rethrows that child's exception (CancelledError if it was
// cancelled), or throws TimeoutError once the timeout has passed with results missing. Leaving
// the loop early and iterating again goes on where it stopped.
//
// Async iteration (asyncio 3.13): `while (auto t = co_await it.anext())` gives the children
// themselves as they finish (the tasks made for coroutines), then std::nullopt; TimeoutError
// as above.
//
// Cancellation: cancelling a task awaiting one of the Coros (or anext()) ends that await with
// CancelledError; the children are not cancelled, and a result it was about to take stays
// for the next await.
template <class H>
class AsCompleted {
    using State = detail::AsCompletedState<H>;

public:
    using handle_type = H;
    using value_type = detail::ValueOf<typename detail::FutureLikeTraits<H>::type>;

    explicit AsCompleted(detail::IntrusivePtr<State> state) noexcept : m_state(std::move(state)) {}

    class iterator {
    public:
        using value_type = Coro<AsCompleted::value_type>;
        using difference_type = std::ptrdiff_t;

        iterator() noexcept = default;
        value_type operator*() const {
            return detail::as_completed_next<AsCompleted::value_type>(m_state);
        }
        iterator& operator++() {
            m_has = m_state->take();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return !it.m_has;
        }

    private:
        friend class AsCompleted;
        explicit iterator(detail::IntrusivePtr<State> s) : m_state(std::move(s)) { ++*this; }
        detail::IntrusivePtr<State> m_state;
        bool m_has = false;
    };

    // Takes the first item (or none): the next position of the iteration.
    iterator begin() { return iterator(m_state); }
    std::default_sentinel_t end() const noexcept { return {}; }

    // The next child to finish, itself; std::nullopt once all were given.
    Coro<std::optional<H>> anext() { return detail::as_completed_anext<H>(m_state); }

private:
    detail::IntrusivePtr<State> m_state;
};

// Runs the awaitables of `aws` (any range of Task<T>, Future<T>, TaskRef, FutureRef, or - moved -
// coroutines and other awaitables, which become tasks: RuntimeError without a running loop)
// concurrently and iterates their results in the order they finish; duplicates count once.
// `timeout` (seconds, a chrono duration, or std::nullopt) bounds the whole iteration. See
// AsCompleted for the two ways to iterate.
//
// Cancellation: cancelling the task awaiting one of the iteration's awaitables ends that await
// with CancelledError and nothing else: the inputs go on running, and the result it would have
// taken stays for the next await. The timeout never cancels the inputs either.
template <class Range>
[[nodiscard("as_completed() gives an iteration: loop over it")]] auto
as_completed(Range&& aws, detail::OptionalSeconds timeout = std::nullopt) {
    static_assert(std::ranges::input_range<Range> &&
                      !detail::FutureLike<std::remove_cvref_t<Range>> &&
                      !Awaitable<std::remove_cvref_t<Range>>,
                  "as_completed() expects a range of awaitables (e.g. a std::vector), not a "
                  "single one (asyncio's TypeError)");
    using E = std::remove_cvref_t<std::ranges::range_reference_t<Range>>;
    detail::check_awaitable_arg<E>();
    static_assert(detail::FutureLike<E> || !std::is_lvalue_reference_v<Range>,
                  "as_completed() consumes coroutines and awaitables: pass their range with "
                  "std::move");
    using H = detail::handle_of_t<E>;
    std::optional<double> seconds;
    if (timeout.has_value())
        seconds = timeout.checked();
    EventLoop* loop = nullptr;
    std::vector<H> all;
    for (auto&& a : aws) {
        if (!loop)
            loop = &detail::loop_for(a);
        if constexpr (detail::FutureLike<E>)
            all.push_back(detail::ensure_future(a, *loop));
        else
            all.push_back(detail::ensure_future(std::move(a), *loop));
    }
    std::vector<H> unique = detail::unique_handles(std::move(all));
    std::vector<detail::FutureCore*> cores;
    cores.reserve(unique.size());
    for (const H& f : unique)
        cores.push_back(&f.core());
    detail::IntrusivePtr<detail::AsCompletedState<H>> state(
        new detail::AsCompletedState<H>(std::move(unique), std::move(cores)));
    state->start(loop ? &detail::core_of(*loop) : nullptr, seconds);
    return AsCompleted<H>(std::move(state));
}

} // namespace asyncio
