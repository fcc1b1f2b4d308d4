// SignalHandlers: add_signal_handler's table, on libuv's signal watcher through LoopCore.
#include "asyncio/detail/loop/signal_handlers.hpp"

#include <csignal>
#include <string>
#include <system_error>

#include "asyncio/exceptions.hpp"

namespace asyncio::detail {

std::uint64_t SignalHandlers::add(int signum, HandleImpl* handle) {
    IntrusivePtr<HandleImpl> held(handle);
    if (signum < 1 || signum >= NSIG)
        throw ValueError("invalid signal number " + std::to_string(signum));
    if (signum == SIGKILL || signum == SIGSTOP)
        throw RuntimeError("sig " + std::to_string(signum) + " cannot be caught");
    IntrusivePtr<Delivery> d(new Delivery);
    d->handle = std::move(held);
    d->serial = ++m_next_serial;
    auto it = m_handlers.find(signum);
    if (it != m_handlers.end()) {
        it->second->handle.reset();
        it->second = d; // the watch stays; only the handler changes
        return d->serial;
    }
    try {
        m_loop->watch_signal(signum, this);
    } catch (const std::system_error& e) {
        throw RuntimeError("sig " + std::to_string(signum) + " cannot be caught: " + e.what());
    }
    m_handlers.emplace(signum, d);
    return d->serial;
}

bool SignalHandlers::remove(int signum, std::uint64_t serial) noexcept {
    auto it = m_handlers.find(signum);
    if (it == m_handlers.end() || (serial != 0 && it->second->serial != serial))
        return false;
    it->second->handle.reset();
    m_handlers.erase(it);
    m_loop->unwatch_signal(signum);
    return true;
}

void SignalHandlers::clear() noexcept {
    while (!m_handlers.empty())
        remove(m_handlers.begin()->first);
}

void SignalHandlers::on_signal(int signum) noexcept {
    auto it = m_handlers.find(signum);
    if (it == m_handlers.end())
        return;
    Delivery* d = it->second.get();
    if (!d->handle || d->queued)
        return;
    if (d->handle->cancelled()) { // asyncio removes a handler whose handle was cancelled
        remove(signum);
        return;
    }
    d->queued = true;
    d->add_ref(); // the ready queue's
    m_loop->push_ready(d);
}

void SignalHandlers::Delivery::run() {
    queued = false;
    IntrusivePtr<HandleImpl> h = handle; // the handler may remove itself
    if (h)
        h->run_kept();
    release();
}

void SignalHandlers::Delivery::discard() noexcept {
    queued = false;
    release();
}

} // namespace asyncio::detail
