// Internal: ServerCore, what asyncio.Server is: listening handles, the protocol factory, the
// connections it accepted, and the waits for its closing.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <uv.h>
#include <vector>

#include "asyncio/detail/runtime/io_resource.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/transports.hpp"
#include "io/io_wait.hpp"
#include "io/stream_transport.hpp"
#include "io/uv_io.hpp"

namespace asyncio::detail {

using ProtocolFactoryFn = std::function<std::unique_ptr<BaseProtocol>()>;

// Invariants (as asyncio's base_events.Server):
// - m_listeners is empty once closed (the "sockets is None" of asyncio): close() closes every
//   listening handle, and a closed server never listens again;
// - m_clients are the connections accepted and not yet lost; the closed waiters are woken when
//   the server is closed and m_clients is empty (then m_woken: later waits return at once);
// - each listener is its own I/O resource, freed by its handle's close callback; it points back
//   here only while open.
class ServerCore final : public ConnectionOwner, public std::enable_shared_from_this<ServerCore> {
public:
    ServerCore(LoopCore& loop, ProtocolFactoryFn factory, int backlog);
    ServerCore(const ServerCore&) = delete;
    ServerCore& operator=(const ServerCore&) = delete;
    ~ServerCore();

    // Binds a new listener; OSError on failure (nothing is left open).
    void bind_tcp(const sockaddr* addr, bool reuse_port);
    // With `cleanup_socket`, close() removes the socket file, unless another replaced it.
    void bind_unix(const std::string& path, bool cleanup_socket);

    void start_serving();
    bool is_serving() const noexcept { return m_serving; }
    bool is_closed() const noexcept { return m_closed; }
    void close();
    void close_clients();
    void abort_clients();
    std::vector<Address> sockets() const;
    LoopCore& loop() const noexcept { return m_loop; }

    // Accepted connections count themselves in and out.
    void attach(StreamTransport* t) override;
    void detach(StreamTransport* t) override;

    // Woken when closed with no connection left (m_woken: no need to wait).
    IoWaitList m_closed_waiters;
    bool m_woken = false;
    // serve_forever()'s wait: close() wakes it, and it then raises CancelledError.
    IoWaitList m_forever_waiters;
    bool m_serving_forever = false;

private:
    struct Listener;
    void on_connection(Listener& l, int status);
    void wake_closed();

    LoopCore& m_loop;
    ProtocolFactoryFn m_factory;
    int m_backlog;
    bool m_serving = false;
    bool m_closed = false;
    std::vector<Listener*> m_listeners;
    std::vector<StreamTransport*> m_clients;
};

} // namespace asyncio::detail
