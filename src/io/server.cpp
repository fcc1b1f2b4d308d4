// asyncio.Server over ServerCore, and loop.create_server / create_unix_server.
#include <algorithm>

#include "asyncio/exceptions.hpp"
#include "asyncio/servers.hpp"
#include "io/resolver.hpp"
#include "io/server_core.hpp"

namespace asyncio {

Coro<Server> EventLoop::serve_erased(detail::ProtocolFactoryFn factory, std::string host, int port,
                                     ServerOptions options, bool unix_socket) {
    detail::LoopCore& loop = *this;
    check_closed();
    auto core = std::make_shared<detail::ServerCore>(loop, std::move(factory), options.backlog);
    if (unix_socket) {
        if (host.empty())
            throw ValueError("no path was specified");
        core->bind_unix(host, options.cleanup_socket);
    } else {
        detail::check_port(port);
        std::vector<sockaddr_storage> addrs;
        sockaddr_storage ss;
        if (host.empty()) { // every interface, as getaddrinfo(None, port, AI_PASSIVE) gives
            detail::parse_ip("0.0.0.0", port, ss);
            addrs.push_back(ss);
            if (detail::parse_ip("::", port, ss))
                addrs.push_back(ss);
        } else if (detail::parse_ip(host, port, ss)) {
            addrs.push_back(ss);
        } else {
            auto infos = co_await detail::resolve(loop, host, port, 0, SOCK_STREAM, 0, AI_PASSIVE);
            std::vector<Address> seen;
            for (const AddrInfo& info : infos) {
                if (std::find(seen.begin(), seen.end(), info.addr) != seen.end())
                    continue;
                seen.push_back(info.addr);
                if (detail::parse_ip(info.addr.host, info.addr.port, ss))
                    addrs.push_back(ss);
            }
        }
        for (const sockaddr_storage& a : addrs) {
            try {
                core->bind_tcp(reinterpret_cast<const sockaddr*>(&a), options.reuse_port);
            } catch (const OSError&) {
                // No IPv6 on this host: listening on IPv4 alone is what asyncio ends up with.
                if (host.empty() && a.ss_family == AF_INET6)
                    continue;
                throw;
            }
        }
    }
    if (options.start_serving)
        core->start_serving();
    co_return Server(std::move(core));
}

void Server::close() { m_core->close(); }

Coro<> Server::wait_closed() {
    auto core = m_core; // kept for the wait
    while (!core->m_woken) {
        detail::IoWait w(core->m_closed_waiters, "Server.wait_closed()");
        co_await w;
    }
}

Coro<> Server::serve_forever() {
    auto core = m_core;
    if (core->m_serving_forever)
        throw RuntimeError("server is already being awaited on serve_forever()");
    if (core->is_closed())
        throw RuntimeError("server is closed");
    core->start_serving();
    core->m_serving_forever = true;
    struct Reset {
        detail::ServerCore& c;
        ~Reset() { c.m_serving_forever = false; }
    } reset{*core};
    bool cancelled = false;
    try {
        while (!core->is_closed()) {
            detail::IoWait w(core->m_forever_waiters, "Server.serve_forever()");
            co_await w;
        }
    } catch (const CancelledError&) {
        cancelled = true;
    }
    // Cancelled or closed from elsewhere (asyncio cancels the future it waits on): close, let
    // the connections finish, and end with CancelledError.
    core->close();
    co_await Server(core).wait_closed();
    (void)cancelled;
    throw CancelledError();
}

Coro<> Server::start_serving() {
    m_core->start_serving();
    co_return;
}

bool Server::is_serving() const noexcept { return m_core->is_serving(); }
std::vector<Address> Server::sockets() const { return m_core->sockets(); }
void Server::close_clients() { m_core->close_clients(); }
void Server::abort_clients() { m_core->abort_clients(); }
EventLoop& Server::get_loop() const noexcept { return detail::face_of(m_core->loop()); }

} // namespace asyncio
