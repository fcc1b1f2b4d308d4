// asyncio.base_events.Server and the loop's connection methods (create_server, create_connection
// and their Unix-socket forms, create_datagram_endpoint).
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "coroutines.hpp"
#include "events.hpp"
#include "protocols.hpp"
#include "transports.hpp"

namespace asyncio {

namespace detail {
class ServerCore;
}

// A listening server (asyncio.Server). A handle: copies share the server, and the server closes
// when the last handle and the last of its connections are gone.
class Server {
public:
    explicit Server(std::shared_ptr<detail::ServerCore> core) noexcept : m_core(std::move(core)) {}

    // Stops listening (the connections go on); wakes serve_forever().
    void close();
    // Waits until the server is closed and every connection it accepted is lost.
    // Cancellation: only the wait ends.
    [[nodiscard]] Coro<> wait_closed();
    // Starts listening if it does not yet, then waits until close(); RuntimeError if already
    // awaited or closed.
    // Cancellation: the server is closed, its connections awaited (wait_closed()), then
    // CancelledError goes on. close() from elsewhere ends it the same way.
    [[nodiscard]] Coro<> serve_forever();
    // Starts listening (when created with start_serving = false). Completes at once.
    [[nodiscard]] Coro<> start_serving();
    bool is_serving() const noexcept;
    // The listening addresses; empty once closed.
    std::vector<Address> sockets() const;
    void close_clients();
    void abort_clients();
    EventLoop& get_loop() const noexcept;

private:
    std::shared_ptr<detail::ServerCore> m_core;
};

// ---- the loop's templates (declared in events.hpp) ----

namespace detail {
BaseProtocol& protocol_of(Transport& t) noexcept;
DatagramProtocol& protocol_of(DatagramTransport& t) noexcept;
} // namespace detail

template <class F>
Coro<std::pair<Transport&, detail::protocol_t<F>&>>
EventLoop::create_connection(F factory, std::string host, int port) {
    Transport* t = co_await connect_erased(detail::ProtocolFactoryFn(std::move(factory)),
                                           std::move(host), port, false);
    co_return {*t, static_cast<detail::protocol_t<F>&>(detail::protocol_of(*t))};
}

template <class F>
Coro<std::pair<Transport&, detail::protocol_t<F>&>>
EventLoop::create_unix_connection(F factory, std::string path) {
    Transport* t = co_await connect_erased(detail::ProtocolFactoryFn(std::move(factory)),
                                           std::move(path), 0, true);
    co_return {*t, static_cast<detail::protocol_t<F>&>(detail::protocol_of(*t))};
}

template <class F>
Coro<std::pair<DatagramTransport&, detail::protocol_t<F>&>>
EventLoop::create_datagram_endpoint(F factory, std::optional<Address> local_addr,
                                    std::optional<Address> remote_addr) {
    static_assert(std::is_base_of_v<DatagramProtocol, detail::protocol_t<F>>,
                  "create_datagram_endpoint: the factory must return a "
                  "std::unique_ptr to a DatagramProtocol");
    DatagramTransport* t = co_await datagram_erased(detail::DatagramFactoryFn(std::move(factory)),
                                                    std::move(local_addr), std::move(remote_addr));
    co_return {*t, static_cast<detail::protocol_t<F>&>(detail::protocol_of(*t))};
}

template <class F>
Coro<Server> EventLoop::create_server(F factory, std::string host, int port,
                                      ServerOptions options) {
    return serve_erased(detail::ProtocolFactoryFn(std::move(factory)), std::move(host), port,
                        options, false);
}

template <class F>
Coro<Server> EventLoop::create_unix_server(F factory, std::string path, ServerOptions options) {
    return serve_erased(detail::ProtocolFactoryFn(std::move(factory)), std::move(path), 0, options,
                        true);
}

} // namespace asyncio
