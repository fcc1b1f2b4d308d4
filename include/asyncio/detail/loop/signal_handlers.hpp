// Internal: SignalHandlers, the loop's table of signal handlers (add_signal_handler).
#pragma once

#include <cstdint>
#include <map>

#include "../base/intrusive.hpp"
#include "../base/runnable.hpp"
#include "../runtime/loop_core.hpp"
#include "handle_impl.hpp"

namespace asyncio::detail {

// Invariants: a handler's signal is watched (LoopCore::watch_signal) exactly while the handler
// is in the table; a signal that arrives queues its handler's Delivery once (signals that
// arrive before it runs coalesce, as the OS coalesces them); a queued Delivery holds itself, so
// removing the handler meanwhile is safe (the delivery then runs nothing).
class SignalHandlers final : public SignalSink {
public:
    explicit SignalHandlers(LoopCore& loop) noexcept : m_loop(&loop) {}
    SignalHandlers(const SignalHandlers&) = delete;
    SignalHandlers& operator=(const SignalHandlers&) = delete;
    ~SignalHandlers() { clear(); }

    // Sets the handler of `signum` (replacing one there) and gives its serial number.
    // RuntimeError for SIGKILL and SIGSTOP, ValueError for a number that is no signal.
    std::uint64_t add(int signum, HandleImpl* handle);
    // Removes the handler of `signum` (only if its serial is `serial`, when given); true if one
    // was removed. The disposition the signal had before is restored.
    bool remove(int signum, std::uint64_t serial = 0) noexcept;
    void clear() noexcept;
    void on_signal(int signum) noexcept override;

private:
    struct Delivery final : Runnable, RefCounted<Delivery> {
        IntrusivePtr<HandleImpl> handle; // null once removed
        std::uint64_t serial = 0;
        bool queued = false;
        void run() override;
        void discard() noexcept override;
    };

    LoopCore* m_loop;
    std::map<int, IntrusivePtr<Delivery>> m_handlers;
    std::uint64_t m_next_serial = 0;
};

} // namespace asyncio::detail
