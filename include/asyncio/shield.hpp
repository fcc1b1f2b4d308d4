// asyncio.shield: protect an awaitable from the cancellation of whoever awaits it.
#pragma once

#include <iosfwd>
#include <optional>
#include <type_traits>
#include <utility>

#include "detail/aws/awaitables.hpp"
#include "detail/task/future_core.hpp"
#include "detail/task/owner_callback.hpp"
#include "events.hpp"
#include "futures.hpp"

namespace asyncio {

namespace detail {

// The outer future of shield(). Invariants (as the closures of asyncio's shield()):
// - while both are pending, m_inner_node is on the inner's done list and holds a reference on
//   this future (so the outer completes even if nobody holds it), but none on the inner: an
//   inner future nobody else holds can never complete, and dropping it must not leak;
// - m_outer_node is on this future's own done list; when this future is done (cancelled), it
//   unregisters m_inner_node from a still pending inner and leaves one "exception in shielded
//   future" reporter there instead (one per inner, however many shields it has);
// - a queued node holds a reference on the future it reads.
class ShieldCore : public FutureCore {
protected:
    ShieldCore(LoopCore& loop, FutureCore& inner) noexcept;
    ~ShieldCore() override;
    // The inner finished with a value: copy it into this future's value.
    virtual void copy_value() = 0;

private:
    // The inner's completion (m_inner_node), and this future's own (m_outer_node).
    using InnerNode = OwnerCallback<ShieldCore, true>;
    using OuterNode = OwnerCallback<ShieldCore, false>;
    friend InnerNode;
    friend OuterNode;
    void on_callback(InnerNode& n);
    void on_callback(OuterNode&) { outer_done(); }
    void inner_done(FutureCore& inner);
    void outer_done();

    InnerNode m_inner_node;
    OuterNode m_outer_node;
};

template <class T>
class ShieldState final : public ShieldCore {
public:
    ShieldState(LoopCore& loop, FutureCore& inner, ValueSlot<ValueOf<T>> inner_value) noexcept
        : ShieldCore(loop, inner), m_inner_value(inner_value) {}
    Future<T> handle() noexcept { return Future<T>::from_raw({this, &m_value}); }

private:
    void copy_value() override { m_value.emplace(m_inner_value.read()); }
    ValueSlot<ValueOf<T>> m_inner_value;
    std::optional<ValueOf<T>> m_value;
};

} // namespace detail

// Protects `aw` from cancellation: `co_await shield(aw)` is `co_await aw`, except that
// cancelling the awaiting task does not cancel the work. `aw` is a Task<T>, a Future<T>, a Coro
// (which becomes a task here; RuntimeError without a running loop) or any awaitable. Returns
// the outer Future<T>, which completes like the inner; a shield of something already done is
// that future itself.
//
// Cancellation: cancelling the outer future (or the task awaiting it) cancels only the outer:
// the awaiting task gets CancelledError at once while the inner keeps running. If the inner then
// fails, its exception goes to the loop's exception handler ("... exception in shielded
// future"), once, however many shields were cancelled over it. Cancelling the inner by other
// means cancels the outer too.
template <class A>
[[nodiscard("shield() gives a future: await it")]] Future<detail::result_of_t<A>> shield(A&& aw) {
    detail::check_awaitable_arg<A>();
    using D = std::remove_cvref_t<A>;
    static_assert(!std::is_same_v<D, TaskRef> && !std::is_same_v<D, FutureRef>,
                  "shield() needs a typed Task<T> or Future<T> (or a Coro), not a TaskRef or "
                  "FutureRef");
    using T = detail::result_of_t<A>;
    EventLoop& loop = detail::loop_for(aw);
    Future<T> inner = detail::ensure_future(std::forward<A>(aw), loop);
    if (inner.done())
        return inner;
    auto* state =
        new detail::ShieldState<T>(detail::core_of(loop), inner.core(), detail::value_slot(inner));
    return state->handle();
}

} // namespace asyncio
