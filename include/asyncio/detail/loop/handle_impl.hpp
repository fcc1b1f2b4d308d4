// Internal: the state behind a callback Handle (call_soon, call_later, call_at,
// call_soon_threadsafe).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <tuple>
#include <typeinfo>
#include <utility>

#include "../base/frame_pool.hpp"
#include "../base/intrusive.hpp"
#include "../base/runnable.hpp"
#include "../base/source_loc.hpp"
#include "../context/context_core.hpp"
#include "../runtime/inbox.hpp"
#include "../runtime/loop_core.hpp"

namespace asyncio::detail {

// Invariants: the callback (and the exception handler, if it throws) runs with m_context
// current; the ready queue or the timer heap holds one reference while the handle is queued;
// m_loop is set exactly while the handle is queued (so a Handle that outlives its loop never
// reaches it); `cancelled` only goes false -> true and may be set from any thread (thread-safe
// handles); the callback is released on cancel() when called on the loop's thread, else when
// the loop drops the handle.
class HandleImpl : public InboxItem,
                   public TimerNode,
                   public PoolAllocated,
                   public AtomicRefCounted<HandleImpl> {
public:
    // The callback runs in `context`, or, when it is null, in a copy of the current context.
    HandleImpl(LoopCore& loop, bool timer, SourceLoc created, ContextImpl* context) noexcept
        : m_loop(&loop), m_timer(timer), m_created(created) {
        if (context)
            m_context.adopt(context);
        else
            m_context.capture();
    }

    // From another thread while the callback runs, cancel() and cancelled() of a thread-safe
    // handle wait until it has finished (asyncio's handle lock): the callback runs once or not
    // at all, never after cancel() has returned.
    void cancel() noexcept;
    bool cancelled() const noexcept;
    // Made by call_soon_threadsafe: run() and a cancel() from another thread may race.
    void set_threadsafe() noexcept { m_threadsafe = true; }
    bool is_timer() const noexcept { return m_timer; }
    void describe(std::ostream& os) const;
    // Debug mode: the arguments as the description shows them (they outlive a cancel).
    void set_args_description(std::string args) { m_args = std::move(args); }

    void run() override;
    // Runs the callback as run() does, but keeps the handle for another run: a signal
    // handler's handle runs at every signal.
    void run_kept();
    void discard() noexcept override { dequeue(); }
    void describe_runnable(std::ostream& os) const override { describe(os); }
    bool is_cancelled() const noexcept override { return cancelled(); }
    void on_timer() override;
    void discard_timer() noexcept override { dequeue(); }

    virtual ~HandleImpl() = default;

protected:
    virtual void invoke() = 0;
    virtual void clear_callback() noexcept = 0;
    virtual const std::type_info& callback_type() const noexcept = 0;

private:
    // Leaves the loop's queue or heap: forgets the loop, drops the queue's reference.
    void dequeue() noexcept {
        clear_callback();
        m_loop.store(nullptr, std::memory_order_release);
        release();
    }

    // Waits while the callback runs on the loop's thread, when called from another thread.
    void wait_if_running_elsewhere() const noexcept;

    std::atomic<bool> m_cancelled{false};
    std::atomic<bool> m_running{false};
    bool m_threadsafe = false;
    std::atomic<LoopCore*> m_loop;
    bool m_timer;
    SourceLoc m_created; // set in debug mode only
    std::string m_args;  // likewise
    LazyContext m_context;
};

template <class F, class... Args>
class HandleFn final : public HandleImpl {
public:
    template <class G, class... A>
    HandleFn(LoopCore& loop, bool timer, SourceLoc created, ContextImpl* context, G&& fn,
             A&&... args)
        : HandleImpl(loop, timer, created, context),
          m_call(std::in_place, std::forward<G>(fn), std::forward<A>(args)...) {}

protected:
    void invoke() override {
        if (m_call)
            std::apply(std::get<0>(*m_call), tail(*m_call, std::index_sequence_for<Args...>{}));
    }
    void clear_callback() noexcept override { m_call.reset(); }
    const std::type_info& callback_type() const noexcept override { return typeid(F); }

private:
    template <std::size_t... I>
    static auto tail(std::tuple<F, Args...>& t, std::index_sequence<I...>) {
        return std::forward_as_tuple(std::get<I + 1>(t)...);
    }
    std::optional<std::tuple<F, Args...>> m_call;
};

} // namespace asyncio::detail
