// asyncio.gather: run awaitables concurrently and collect their results; Result<T> and
// return_exceptions.
#pragma once

#include <cstddef>
#include <exception>
#include <iosfwd>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "detail/aws/awaitables.hpp"
#include "detail/task/future_core.hpp"
#include "detail/task/owner_callback.hpp"
#include "events.hpp"
#include "futures.hpp"

namespace asyncio {

// The tag for asyncio's `return_exceptions=True`: gather(return_exceptions, aws...).
struct ReturnExceptions {
    explicit constexpr ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

// A value or an exception: what gather(return_exceptions, ...) gives per child. A cancelled
// child gives a CancelledError.
template <class T>
class Result {
public:
    using value_type = T;

    Result(detail::ValueOf<T> value) : m_state(std::in_place_index<0>, std::move(value)) {}
    // A Result holding `error` (not null).
    static Result failure(std::exception_ptr error) {
        return Result(std::in_place_index<1>, std::move(error));
    }

    bool has_value() const noexcept { return m_state.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    // The value; rethrows the exception if there is one.
    const detail::ValueOf<T>& value() const& requires(!std::is_void_v<T>) {
        check();
        return std::get<0>(m_state);
    }
    detail::ValueOf<T>&& value() && requires(!std::is_void_v<T>) {
        check();
        return std::move(std::get<0>(m_state));
    }
    void value() const& requires std::is_void_v<T> { check(); }
    // The exception, or null when there is a value.
    std::exception_ptr error() const noexcept {
        return has_value() ? nullptr : std::get<1>(m_state);
    }

private:
    template <std::size_t I, class V>
    Result(std::in_place_index_t<I> i, V&& v) : m_state(i, std::forward<V>(v)) {}
    void check() const {
        if (!has_value())
            std::rethrow_exception(std::get<1>(m_state));
    }

    std::variant<detail::ValueOf<T>, std::exception_ptr> m_state;
};

namespace detail {

// Invariants (as asyncio's _GatheringFuture and the closure of gather()):
// - one Child per argument (a task or future passed twice has two; each counts once, which is
//   what asyncio's counting of unique futures amounts to);
// - a Child is registered on its pending child's done list and holds a reference on this
//   future meanwhile (so a gather nobody holds still completes and runs its callbacks), but not
//   on the child: a child future nobody else holds can never complete, and dropping it must not
//   leak; its destruction unregisters the Child (`core` becomes null);
// - once the child is done, the Child holds a reference on it, and on this future while its done
//   callback is queued;
// - cancel() cancels every child and records that a cancel was requested if one accepted.
class GatherCore : public FutureCore {
public:
    bool cancel(const std::string& msg) override;

    // Registers child i (every i in [0, count), in order), then start() handles those already
    // done at once, as asyncio 3.12+ does.
    void add_child(std::size_t i, FutureCore& core) noexcept;
    void start();

protected:
    using Child = OwnerCallback<GatherCore, true>;
    friend Child;
    void on_callback(Child& c);
    FutureCore& child(std::size_t i) const noexcept { return *m_children[i].child; }

    GatherCore(LoopCore& loop, std::size_t count, bool return_exceptions);
    ~GatherCore() override;
    const char* kind() const noexcept override { return "_GatheringFuture"; }

    // Every child is done and the outcome is a result: store it in the typed value.
    virtual void store_results() = 0;

    std::unique_ptr<Child[]> m_children;
    std::size_t m_count;

private:
    void child_done(FutureCore& child);
    void mark_retrieved() noexcept;

    std::vector<bool> m_held; // the gather holds a reference on child i (it is done)
    std::size_t m_finished = 0;
    bool m_return_exceptions;
    bool m_cancel_requested = false;
};

// What a child contributes to the result: its value, or with return_exceptions its Result.
template <bool RE, class T>
using gather_element_t = std::conditional_t<RE, Result<T>, ValueOf<T>>;

template <bool RE, class T>
gather_element_t<RE, T> gather_element(FutureCore& core, const ValueSlot<ValueOf<T>>& value) {
    if constexpr (RE) {
        if (core.cancelled())
            return Result<T>::failure(core.cancelled_error());
        if (std::exception_ptr e = core.exception())
            return Result<T>::failure(std::move(e));
        return Result<T>(value.read());
    } else {
        return value.read();
    }
}

template <bool RE, class... Ts>
class GatherTuple final : public GatherCore {
public:
    using result_type = std::tuple<gather_element_t<RE, Ts>...>;
    explicit GatherTuple(LoopCore& loop) : GatherCore(loop, sizeof...(Ts), RE) {}
    Future<result_type> handle() noexcept {
        return Future<result_type>::from_raw({this, &m_value});
    }
    std::tuple<ValueSlot<ValueOf<Ts>>...> m_slots;

private:
    void store_results() override { store(std::index_sequence_for<Ts...>{}); }
    template <std::size_t... I>
    void store(std::index_sequence<I...>) {
        m_value.emplace(gather_element<RE, Ts>(child(I), std::get<I>(m_slots))...);
    }

    std::optional<result_type> m_value;
};

template <bool RE, class T>
class GatherVector final : public GatherCore {
public:
    using result_type = std::vector<gather_element_t<RE, T>>;
    GatherVector(LoopCore& loop, std::size_t count) : GatherCore(loop, count, RE) {
        m_slots.reserve(count);
    }
    Future<result_type> handle() noexcept {
        return Future<result_type>::from_raw({this, &m_value});
    }
    std::vector<ValueSlot<ValueOf<T>>> m_slots;

private:
    void store_results() override {
        result_type results;
        results.reserve(m_count);
        for (std::size_t i = 0; i < m_count; ++i)
            results.push_back(gather_element<RE, T>(child(i), m_slots[i]));
        m_value.emplace(std::move(results));
    }

    std::optional<result_type> m_value;
};

// gather() with nothing to gather: a future already done with the empty result, on the running
// loop (RuntimeError without one).
template <class R>
Future<R> gather_nothing() {
    Future<R> outer = get_running_loop().create_future<R>();
    outer.set_result(R{});
    return outer;
}

template <class A>
void check_loop(const A& a, EventLoop& loop) {
    if constexpr (FutureLike<A>) {
        if (&loop_of(a) != &loop)
            throw_different_loop();
    }
}

template <bool RE, class... A>
auto gather_args(A&&... aws) {
    (check_awaitable_arg<A>(), ...);
    using State = GatherTuple<RE, result_of_t<A>...>;
    using R = typename State::result_type;
    if constexpr (sizeof...(A) == 0) {
        return gather_nothing<R>();
    } else {
        EventLoop& loop = loop_for(std::get<0>(std::forward_as_tuple(aws...)));
        (check_loop(aws, loop), ...); // before any task is made
        // Braced initialization: the arguments become futures in argument order.
        std::tuple<handle_of_t<A>...> handles{ensure_future(std::forward<A>(aws), loop)...};
        auto* state = new State(core_of(loop));
        Future<R> outer = state->handle();
        std::apply(
            [&](auto&... h) {
                state->m_slots = {value_slot(h)...};
                std::size_t i = 0;
                (state->add_child(i++, h.core()), ...);
            },
            handles);
        state->start();
        return outer;
    }
}

template <bool RE, class Range>
auto gather_range(Range&& range) {
    using A = std::ranges::range_reference_t<Range>;
    using E = std::remove_cvref_t<A>;
    check_awaitable_arg<E>();
    static_assert(FutureLike<E> || !std::is_lvalue_reference_v<Range>,
                  "gather() consumes coroutines and awaitables: pass their range with std::move");
    using H = handle_of_t<E>;
    using State = GatherVector<RE, result_of_t<E>>;
    using R = typename State::result_type;
    std::vector<H> handles;
    if constexpr (std::ranges::sized_range<Range>)
        handles.reserve(std::ranges::size(range));
    EventLoop* loop = nullptr;
    for (auto&& a : range) {
        if (!loop)
            loop = &loop_for(a);
        if constexpr (FutureLike<E>)
            handles.push_back(ensure_future(a, *loop));
        else
            handles.push_back(ensure_future(std::move(a), *loop));
    }
    if (handles.empty())
        return gather_nothing<R>();
    auto* state = new State(core_of(*loop), handles.size());
    Future<R> outer = state->handle();
    for (std::size_t i = 0; i < handles.size(); ++i) {
        state->m_slots.push_back(value_slot(handles[i]));
        state->add_child(i, handles[i].core());
    }
    state->start();
    return outer;
}

template <class A>
concept GatherRange =
    std::ranges::input_range<A> && !Awaitable<std::remove_cvref_t<A>> && !FutureLike<A>;

template <bool RE, class... A>
auto gather_dispatch(A&&... aws) {
    if constexpr (sizeof...(A) == 1 && (GatherRange<A> && ...))
        return gather_range<RE>(std::forward<A>(aws)...);
    else
        return gather_args<RE>(std::forward<A>(aws)...);
}

template <class... A>
inline constexpr bool starts_with_tag = false;
template <class A0, class... A>
inline constexpr bool starts_with_tag<A0, A...> =
    std::is_same_v<std::remove_cvref_t<A0>, ReturnExceptions>;

} // namespace detail

// Runs the awaitables concurrently: `co_await gather(a(), b(), task)` gives a std::tuple of
// their results in argument order (void results as an empty placeholder). Each argument is a
// Coro, a Task, a Future or any awaitable; all but tasks and futures become tasks at the call.
// A single range argument (a std::vector of one awaitable type, or any input range) gives a
// std::vector instead; a range of coroutines is passed with std::move. gather() of nothing is
// an already finished future (RuntimeError without a running loop); tasks and futures of
// another loop are a ValueError.
//
// Without return_exceptions, the first exception of a child (a cancelled child counts as a
// CancelledError) completes the gather at once with it; the other children go on running, and
// their later failures are marked retrieved (each failure is reported once, by whoever holds
// it). With `gather(return_exceptions, ...)`, each child gives a Result<T> and the gather
// completes when all children are done.
//
// Cancellation: cancelling the gather (or the task awaiting it) cancels every child not yet
// done; the gather then completes, once all children are done, with a CancelledError as its
// exception, whatever return_exceptions says. A child cancelled by other means does not cancel
// the gather. Once the gather is done, cancelling it does nothing.
template <class... A>
requires(!detail::starts_with_tag<A...>)
    [[nodiscard("gather() gives a future: await it")]] auto gather(A&&... aws) {
    return detail::gather_dispatch<false>(std::forward<A>(aws)...);
}

template <class... A>
[[nodiscard("gather() gives a future: await it")]] auto gather(ReturnExceptions, A&&... aws) {
    return detail::gather_dispatch<true>(std::forward<A>(aws)...);
}

} // namespace asyncio
