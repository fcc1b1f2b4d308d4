// Internal: what the combinators (gather, shield, wait_for, wait, as_completed) accept, the type
// awaiting it gives, asyncio's ensure_future, and the optional timeout they take.
#pragma once

#include <cmath>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../coroutines.hpp"
#include "../../events.hpp"
#include "../../exceptions.hpp"
#include "../../futures.hpp"
#include "../../tasks.hpp"

namespace asyncio::detail {

template <class A>
struct FutureLikeTraits {
    static constexpr bool value = false;
};
template <class T>
struct FutureLikeTraits<Task<T>> {
    static constexpr bool value = true;
    using type = T;
};
template <class T>
struct FutureLikeTraits<Future<T>> {
    static constexpr bool value = true;
    using type = T;
};
template <>
struct FutureLikeTraits<TaskRef> {
    static constexpr bool value = true;
    using type = void;
};
template <>
struct FutureLikeTraits<FutureRef> {
    static constexpr bool value = true;
    using type = void;
};

// A task or future handle of this library: Task<T>, Future<T>, TaskRef, FutureRef.
template <class A>
concept FutureLike = FutureLikeTraits<std::remove_cvref_t<A>>::value;

// The awaiter `co_await a` uses (a reference to `a` itself when it is its own awaiter).
template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (HasMemberCoAwait<A>)
        return static_cast<A&&>(a).operator co_await();
    else if constexpr (HasFreeCoAwait<A>)
        return operator co_await(static_cast<A&&>(a));
    else
        return static_cast<A&&>(a);
}

template <class A>
using awaiter_t = decltype(get_awaiter(std::declval<A>()));

// What `co_await a` gives for an rvalue `a` (decayed; void stays void), and the same with void
// as Empty.
template <class A>
using raw_await_t = std::remove_cvref_t<
    decltype(std::declval<std::remove_reference_t<awaiter_t<A>>&>().await_resume())>;
template <class A>
using await_value_t = ValueOf<raw_await_t<A>>;

// The result type a combinator reports for an argument of type A: T for a Coro<T>, Task<T> or
// Future<T>, void for TaskRef and FutureRef, what co_await gives for any other awaitable.
template <class A>
struct ResultOf {
    using type = raw_await_t<A>;
};
template <class T>
struct ResultOf<Coro<T>> {
    using type = T;
};
template <FutureLike A>
struct ResultOf<A> {
    using type = typename FutureLikeTraits<A>::type;
};
template <class A>
using result_of_t = typename ResultOf<std::remove_cvref_t<A>>::type;

// The handle ensure_future gives for A: a task or future stays itself; a coroutine or any other
// awaitable becomes a task.
template <class A>
struct HandleOf {
    using type = Task<result_of_t<A>>;
};
template <FutureLike A>
struct HandleOf<A> {
    using type = std::remove_cvref_t<A>;
};
template <class A>
using handle_of_t = typename HandleOf<std::remove_cvref_t<A>>::type;

// asyncio's _wrap_awaitable: a coroutine that awaits `aw`, so that a task can run it.
template <class A>
Coro<raw_await_t<A>> wrap_awaitable(A aw) {
    if constexpr (std::is_void_v<raw_await_t<A>>)
        co_await std::move(aw);
    else
        co_return co_await std::move(aw);
}

// Checks an argument of gather(), shield() or wait_for().
template <class A>
constexpr void check_awaitable_arg() {
    using D = std::remove_cvref_t<A>;
    static_assert(Awaitable<D> || FutureLike<D>,
                  "expected an awaitable: a Coro, a Task, a Future, or any object co_await "
                  "accepts (asyncio's TypeError: An asyncio.Future, a coroutine or an awaitable "
                  "is required)");
    static_assert(!iscoroutine_v<D> || !std::is_lvalue_reference_v<A>,
                  "a coroutine object is consumed: pass it as f() or std::move(coro)");
}

// The loop of a task or future.
template <FutureLike H>
EventLoop& loop_of(const H& h) {
    return h.core().loop();
}

// asyncio's ensure_future(aw, loop=loop): a task or future is returned as is (ValueError if it
// belongs to another loop); a coroutine or awaitable becomes a task on `loop`.
template <class A>
handle_of_t<A> ensure_future(A&& aw, EventLoop& loop) {
    using D = std::remove_cvref_t<A>;
    if constexpr (FutureLike<D>) {
        if (&loop_of(aw) != &loop)
            throw_different_loop();
        return static_cast<A&&>(aw);
    } else if constexpr (iscoroutine_v<D>) {
        return loop.create_task(static_cast<A&&>(aw));
    } else {
        return loop.create_task(wrap_awaitable<D>(static_cast<A&&>(aw)));
    }
}

// The loop a combinator's arguments bind to: the first task's or future's, else the running one
// (RuntimeError without one, as asyncio's "no current event loop").
template <class A>
EventLoop& loop_for(const A& first) {
    if constexpr (FutureLike<A>)
        return loop_of(first);
    else
        return get_running_loop();
}

// Where a finished child's value lives: the `std::optional<V>` of a Task<T> or Future<T> (V is
// ValueOf<T>), or nothing for TaskRef and FutureRef (whose value is Empty).
template <class V>
class ValueSlot {
public:
    ValueSlot() noexcept = default;
    explicit ValueSlot(std::optional<V>* value) noexcept : m_value(value) {}
    // A copy (the caller's handle may read it again), or, for a move-only type, the value itself.
    V read() const {
        if (!m_value)
            return V{};
        if constexpr (std::is_copy_constructible_v<V>)
            return **m_value;
        else
            return std::move(**m_value);
    }

private:
    std::optional<V>* m_value = nullptr;
};

template <FutureLike H>
auto value_slot(const H& h) noexcept {
    using D = std::remove_cvref_t<H>;
    using T = typename FutureLikeTraits<D>::type;
    if constexpr (std::is_same_v<D, TaskRef> || std::is_same_v<D, FutureRef>)
        return ValueSlot<ValueOf<T>>();
    else if constexpr (std::is_same_v<D, Future<T>>)
        return ValueSlot<ValueOf<T>>(h.raw().value);
    else
        return ValueSlot<ValueOf<T>>(Future<T>(h).raw().value);
}

// A timeout argument: seconds as a number, any chrono duration, or std::nullopt for none.
class OptionalSeconds {
public:
    OptionalSeconds() noexcept = default;
    OptionalSeconds(std::nullopt_t) noexcept {}
    template <Seconds D>
    OptionalSeconds(D d) noexcept : m_value(to_seconds(d)) {}
    template <Seconds D>
    OptionalSeconds(const std::optional<D>& d) noexcept {
        if (d)
            m_value = to_seconds(*d);
    }

    bool has_value() const noexcept { return m_value.has_value(); }
    // The seconds; ValueError for NaN.
    double checked() const {
        if (std::isnan(*m_value))
            throw_nan();
        return *m_value;
    }
    const std::optional<double>& value() const noexcept { return m_value; }

private:
    [[noreturn]] static void throw_nan();
    std::optional<double> m_value;
};

// First occurrences: keep[i] is false when items[i] appeared at a smaller index (asyncio's
// set(fs)), in O(n log n).
std::vector<bool> first_occurrences(const std::vector<const void*>& items);

// The handles with duplicates (the same future or task) left out, first occurrences in order.
template <class H>
std::vector<H> unique_handles(std::vector<H> all) {
    std::vector<const void*> ids;
    ids.reserve(all.size());
    for (const H& f : all)
        ids.push_back(&f.core());
    std::vector<bool> keep = first_occurrences(ids);
    std::vector<H> unique;
    unique.reserve(all.size());
    for (std::size_t i = 0; i < all.size(); ++i)
        if (keep[i])
            unique.push_back(std::move(all[i]));
    return unique;
}

} // namespace asyncio::detail
