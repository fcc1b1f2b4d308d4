// asyncio.StreamWriter, StreamReaderProtocol, open_connection and start_server.
#include "asyncio/sleep.hpp"
#include "asyncio/tasks.hpp"
#include "io/stream_core.hpp"

namespace asyncio {

namespace detail {

namespace {

// The per-connection task of start_server(): runs the callback (kept alive by this frame) and,
// when it fails or is cancelled, closes the connection; a failure is reported, as asyncio does.
Coro<> run_client(std::shared_ptr<ClientConnectedCb> cb, std::shared_ptr<StreamCore> core) {
    IntrusivePtr<StreamTransport> transport = core->m_transport;
    try {
        co_await (*cb)(StreamReader(core), StreamWriter(core));
    } catch (const CancelledError&) {
        transport->close();
        throw;
    } catch (...) {
        LoopCore& loop = *running_core();
        loop.report(LoopReport{"Unhandled exception in client_connected_cb",
                               std::current_exception(), nullptr, false, nullptr});
        transport->close();
    }
}

} // namespace

void StreamProtocol::connection_made(Transport& t) {
    m_core->m_transport = IntrusivePtr<StreamTransport>(static_cast<StreamTransport*>(&t));
    if (m_cb) {
        LoopCore& loop = *running_core();
        face_of(loop).create_task(run_client(m_cb, m_core));
    }
}

void StreamProtocol::connection_lost(std::exception_ptr exc) {
    StreamCore& c = *m_core;
    if (exc)
        c.set_exception(exc);
    else
        c.feed_eof();
    c.m_conn_lost = true;
    c.m_lost_exc = exc;
    IoWait::wake_all(c.m_drain_waiters);
    IoWait::wake_all(c.m_closed_waiters);
    // The stream no longer needs the transport's protocol, nor the protocol the stream: this
    // breaks the cycle transport -> protocol -> stream -> transport.
    m_core.reset();
    m_cb.reset();
}

bool StreamProtocol::eof_received() {
    m_core->feed_eof();
    return true; // keep writing: the application closes
}

void StreamProtocol::resume_writing() {
    m_core->m_write_paused = false;
    IoWait::wake_all(m_core->m_drain_waiters);
}

} // namespace detail

// ---- StreamWriter ----

namespace {
detail::StreamTransport& transport_of(const std::shared_ptr<detail::StreamCore>& core) {
    if (!core || !core->m_transport)
        throw RuntimeError("the stream has no transport");
    return *core->m_transport;
}
} // namespace

StreamWriter::StreamWriter(std::shared_ptr<detail::StreamCore> core)
    : m_core(std::move(core)), m_last_copy(static_cast<void*>(nullptr), [c = m_core](void*) {
          try {
              if (c && c->m_transport && !c->m_transport->is_closing())
                  c->m_transport->close();
          } catch (...) { // the loop is going: its close() closes the socket
          }
      }) {}

void StreamWriter::write(std::string_view data) { transport_of(m_core).write(data); }
void StreamWriter::write_eof() { transport_of(m_core).write_eof(); }
bool StreamWriter::can_write_eof() const noexcept { return true; }
void StreamWriter::close() { transport_of(m_core).close(); }
bool StreamWriter::is_closing() const noexcept {
    return !m_core || !m_core->m_transport || m_core->m_transport->is_closing();
}
Address StreamWriter::peername() const { return transport_of(m_core).peername(); }
Address StreamWriter::sockname() const { return transport_of(m_core).sockname(); }
Transport& StreamWriter::transport() const { return transport_of(m_core); }

Coro<> StreamWriter::drain() {
    auto core = m_core;
    core->check_exception();
    if (transport_of(core).is_closing() && !core->m_conn_lost) {
        // Let connection_lost() run first (asyncio yields here too): a closed connection then
        // raises below rather than hanging.
        co_await sleep(0);
    }
    if (core->m_conn_lost)
        throw ConnectionResetError(ECONNRESET, "Connection lost");
    while (core->m_write_paused && !core->m_conn_lost) {
        detail::IoWait w(core->m_drain_waiters, "drain");
        co_await w;
    }
    if (core->m_conn_lost && core->m_lost_exc)
        std::rethrow_exception(core->m_lost_exc);
}

Coro<> StreamWriter::wait_closed() {
    auto core = m_core;
    while (!core->m_conn_lost) {
        detail::IoWait w(core->m_closed_waiters, "wait_closed");
        co_await w;
    }
    if (core->m_lost_exc)
        std::rethrow_exception(core->m_lost_exc);
}

// ---- connecting and serving ----

namespace {

detail::ProtocolFactoryFn stream_factory(std::size_t limit,
                                         std::shared_ptr<ClientConnectedCb> cb = {}) {
    if (limit == 0)
        throw ValueError("Limit cannot be <= 0");
    return [limit, cb] {
        return std::make_unique<detail::StreamProtocol>(std::make_shared<detail::StreamCore>(limit),
                                                        cb);
    };
}

std::pair<StreamReader, StreamWriter> streams_of(Transport& t) {
    auto& p = static_cast<detail::StreamProtocol&>(t.get_protocol());
    auto core = p.core();
    if (!core) // lost before the caller resumed: a stream at EOF, its writer closed
        throw ConnectionResetError(ECONNRESET, "Connection lost");
    return {StreamReader(core), StreamWriter(core)};
}

} // namespace

Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port,
                                                            StreamOptions options) {
    auto [t, p] = co_await get_running_loop().create_connection(stream_factory(options.limit),
                                                                std::move(host), port);
    (void)p;
    co_return streams_of(t);
}

Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path,
                                                                 StreamOptions options) {
    auto [t, p] = co_await get_running_loop().create_unix_connection(stream_factory(options.limit),
                                                                     std::move(path));
    (void)p;
    co_return streams_of(t);
}

Coro<Server> start_server(ClientConnectedCb client_connected_cb, std::string host, int port,
                          ServerOptions options) {
    auto cb = std::make_shared<ClientConnectedCb>(std::move(client_connected_cb));
    co_return co_await get_running_loop().create_server(
        stream_factory(options.limit, std::move(cb)), std::move(host), port, options);
}

Coro<Server> start_unix_server(ClientConnectedCb client_connected_cb, std::string path,
                               ServerOptions options) {
    auto cb = std::make_shared<ClientConnectedCb>(std::move(client_connected_cb));
    co_return co_await get_running_loop().create_unix_server(
        stream_factory(options.limit, std::move(cb)), std::move(path), options);
}

} // namespace asyncio
