// Internal: a new connection's protocol, from the factory the program gave.
#pragma once

#include "asyncio/exceptions.hpp"

namespace asyncio::detail {

// The factory's protocol; RuntimeError when it returns none. What the factory throws goes on.
template <class F>
auto make_protocol(F& factory) {
    auto protocol = factory();
    if (!protocol)
        throw RuntimeError("the protocol factory returned no protocol");
    return protocol;
}

} // namespace asyncio::detail
