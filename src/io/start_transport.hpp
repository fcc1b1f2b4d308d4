// Internal: a new connection's protocol, from the factory the program gave, and the start of a
// transport that the program is about to get (create_connection, create_datagram_endpoint).
#pragma once

#include <utility>

#include "asyncio/detail/base/intrusive.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/sleep.hpp"

namespace asyncio::detail {

// The factory's protocol; RuntimeError when it returns none. What the factory throws goes on.
template <class F>
auto make_protocol(F& factory) {
    auto protocol = factory();
    if (!protocol)
        throw RuntimeError("the protocol factory returned no protocol");
    return protocol;
}

// Gives the connected transport `t` (a StreamTransport or a UdpTransport) its protocol and
// waits one iteration, in which connection_made() runs: the caller then returns a transport
// whose protocol is made. A factory that fails discards the transport.
// Cancellation: the transport is closed (its protocol still hears connection_made() first).
template <class T, class F>
Coro<> start_transport(T* t, F& factory) {
    decltype(make_protocol(factory)) protocol;
    try {
        protocol = make_protocol(factory);
    } catch (...) {
        t->discard();
        throw;
    }
    t->start(std::move(protocol));
    IntrusivePtr<T> keep(t);
    try {
        co_await sleep(0);
    } catch (const CancelledError&) {
        t->close();
        throw;
    }
}

} // namespace asyncio::detail
