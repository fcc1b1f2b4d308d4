// asyncio.futures.wrap_future: a loop Future that follows a ConcurrentFuture.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "concurrent.hpp"
#include "detail/base/intrusive.hpp"
#include "detail/runtime/external_work.hpp"
#include "detail/runtime/inbox.hpp"
#include "detail/task/future_core.hpp"
#include "events.hpp"
#include "futures.hpp"

namespace asyncio {

namespace detail {

// Links a ConcurrentFuture (the source) to a loop Future (the destination), both ways, as
// asyncio's _chain_future does.
//
// Invariants:
// - references to the link (atomic) are held by the relay on the source (until it completes),
//   by the inbox while the source's outcome is posted, by the registration on the destination
//   (until it is done or dropped) and by a scheduled cancellation of the source;
// - while the source is pending the link is tracked by the loop (ExternalWork) and holds the
//   destination, which it lets go of on the loop's thread (delivered, done otherwise, or the
//   loop closed); m_dest belongs to the loop's thread.
class FutureLink : public InboxItem,
                   public CallbackNode,
                   public ExternalWork,
                   public AtomicRefCounted<FutureLink> {
public:
    FutureLink(LoopCore& loop, ConcurrentCore* source, FutureCore& dest);
    // Registers on both futures.
    void start();

    // InboxItem: the source is done (the loop's thread).
    void run() final;
    void discard() noexcept final { release(); }
    // CallbackNode: the destination is done, or dropped.
    void on_done(FutureCore& f) noexcept final;
    void dispose() noexcept final { release(); }
    // ExternalWork: the loop closes.
    void detach() noexcept final { m_dest.reset(); }

protected:
    friend class AtomicRefCounted<FutureLink>; // deletes it
    virtual ~FutureLink() = default;
    // Copies the source's value into the destination's slot (the destination is pending).
    virtual void store_value() = 0;

    IntrusivePtr<ConcurrentCore> m_source;

private:
    struct CancelSource final : Runnable {
        FutureLink* self;
        void run() override;
        void discard() noexcept override { self->release(); }
    };
    class Relay;
    void untrack() noexcept;

    IntrusivePtr<FutureCore> m_dest;
    LoopCore* m_loop;
    IntrusivePtr<Inbox> m_inbox;
    CancelSource m_cancel;
};

template <class T>
class TypedFutureLink final : public FutureLink {
public:
    TypedFutureLink(LoopCore& loop, ConcurrentState<T>* source, const Future<T>& dest)
        : FutureLink(loop, source, dest.core()), m_slot(dest.raw().value) {}

private:
    void store_value() override {
        m_slot->emplace(*static_cast<ConcurrentState<T>*>(m_source.get())->m_value);
    }
    std::optional<ValueOf<T>>* m_slot;
};

} // namespace detail

// A Future of `loop` (default: the running loop; RuntimeError without one) that completes as the
// ConcurrentFuture does: same value (copied), exception or cancellation. The result must be
// copyable (the concurrent future keeps its own).
//
// Cancellation: cancelling the returned Future (or the task awaiting it) cancels the
// ConcurrentFuture, which stops its work if it has not started.
template <class T>
Future<T> wrap_future(const ConcurrentFuture<T>& future, EventLoop& loop) {
    static_assert(std::is_void_v<T> || std::is_copy_constructible_v<T>,
                  "wrap_future(): the result type must be copyable (the concurrent future keeps "
                  "its own copy)");
    Future<T> dest = loop.create_future<T>();
    (new detail::TypedFutureLink<T>(detail::core_of(loop), future.raw(), dest))->start();
    return dest;
}
template <class T>
Future<T> wrap_future(const ConcurrentFuture<T>& future) {
    return wrap_future(future, get_running_loop());
}
// A loop Future or Task is returned as it is.
template <class T>
Future<T> wrap_future(Future<T> future) {
    return future;
}
template <class T>
Task<T> wrap_future(Task<T> task) {
    return task;
}

} // namespace asyncio
