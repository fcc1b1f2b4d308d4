// loop.create_connection / create_unix_connection, getaddrinfo / getnameinfo: connecting a
// stream transport, the resolved addresses tried in turn (asyncio's default, no happy eyeballs).
#include <string>
#include <vector>

#include "asyncio/exceptions.hpp"
#include "asyncio/servers.hpp"
#include "io/resolver.hpp"
#include "io/start_transport.hpp"
#include "io/stream_transport.hpp"

namespace asyncio {

namespace detail {

BaseProtocol& protocol_of(Transport& t) noexcept { return t.get_protocol(); }

namespace {

// Waits for the transport's connect; 0 or libuv's error. Cancellation: the socket is closed.
Coro<int> await_connect(StreamTransport* t) {
    try {
        while (t->connect_status() == 1) {
            IoWait w(t->connect_waiters(), "connect");
            co_await w;
        }
    } catch (const CancelledError&) {
        t->discard();
        throw;
    }
    co_return t->connect_status();
}

// Python's create_connection: one error as it is, several as one OSError listing them.
[[noreturn]] void raise_connect_errors(const std::vector<std::exception_ptr>& errors) {
    if (errors.size() == 1)
        std::rethrow_exception(errors.front());
    std::string msg = "Multiple exceptions: ";
    bool all_same = true;
    std::string first;
    for (std::size_t i = 0; i < errors.size(); ++i) {
        try {
            std::rethrow_exception(errors[i]);
        } catch (const std::exception& e) {
            if (i == 0)
                first = e.what();
            else if (first != e.what())
                all_same = false;
            msg += (i ? ", " : "") + std::string(e.what());
        }
    }
    if (all_same)
        std::rethrow_exception(errors.front());
    throw OSError(ECONNREFUSED, msg);
}

} // namespace

} // namespace detail

Coro<Transport*> EventLoop::connect_erased(detail::ProtocolFactoryFn factory, std::string host,
                                           int port, bool unix_socket) {
    using detail::StreamTransport;
    detail::LoopCore& loop = *this;
    StreamTransport* t = nullptr;
    if (unix_socket) {
        if (host.empty())
            throw ValueError("no path was specified");
        t = new StreamTransport(loop, StreamTransport::Kind::pipe);
        t->connect(host);
        if (int rc = co_await detail::await_connect(t); rc < 0) {
            t->discard();
            detail::throw_uv(rc, "Connect call failed " + host);
        }
    } else {
        std::vector<sockaddr_storage> addrs =
            co_await detail::resolve_addresses(loop, host, port, SOCK_STREAM);
        std::vector<std::exception_ptr> errors;
        for (const sockaddr_storage& ss : addrs) {
            auto* sa = reinterpret_cast<const sockaddr*>(&ss);
            t = new StreamTransport(loop, StreamTransport::Kind::tcp);
            t->connect(sa);
            int rc = co_await detail::await_connect(t);
            if (rc == 0)
                break;
            t->discard();
            t = nullptr;
            errors.push_back(
                detail::uv_error(rc, "Connect call failed " + detail::address_of(sa).str()));
        }
        if (!t)
            detail::raise_connect_errors(errors);
    }
    co_await detail::start_transport(t, factory);
    co_return t;
}

Coro<std::vector<AddrInfo>> EventLoop::getaddrinfo(std::string host, int port, int family, int type,
                                                   int proto, int flags) {
    return detail::resolve(*this, std::move(host), port, family, type, proto, flags);
}

Coro<std::pair<std::string, std::string>> EventLoop::getnameinfo(Address addr, int flags) {
    return detail::resolve_name(*this, std::move(addr), flags);
}

} // namespace asyncio
