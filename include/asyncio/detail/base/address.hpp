// asyncio::Address, a socket address (transports.hpp is its public header). Here, in the base
// layer, so that the loop's declarations can take it by value.
#pragma once

#include <string>
#include <utility>

namespace asyncio {

// A socket address (Python's address tuple): `host` (numeric) and `port` for TCP/UDP, `path` for
// a Unix socket.
struct Address {
    Address() = default;
    // Address{"127.0.0.1", 8888}; Address{"", 0, "/tmp/app.sock"}. Constructors, not an
    // aggregate: g++ 12 miscompiles an aggregate temporary passed to a coroutine's by-value
    // parameter (`co_await loop.getnameinfo(Address{...})` frees memory it does not own).
    Address(std::string host_, int port_, std::string path_ = {})
        : host(std::move(host_)), port(port_), path(std::move(path_)) {}

    std::string host;
    int port = 0;
    std::string path;

    // "127.0.0.1:8888", "[::1]:8888" or the path.
    std::string str() const {
        if (!path.empty() || host.empty())
            return path;
        if (host.find(':') != std::string::npos)
            return "[" + host + "]:" + std::to_string(port);
        return host + ":" + std::to_string(port);
    }
    friend bool operator==(const Address&, const Address&) = default;
};

} // namespace asyncio
