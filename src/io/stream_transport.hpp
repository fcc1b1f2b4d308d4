// Internal: StreamTransport, asyncio's socket transport directly on a libuv stream handle (TCP or
// Unix socket), shared by connections, servers' connections and streams.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <uv.h>

#include "asyncio/detail/base/intrusive.hpp"
#include "asyncio/detail/runtime/io_resource.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/transports.hpp"
#include "io/io_wait.hpp"
#include "io/uv_io.hpp"

namespace asyncio::detail {

class StreamTransport;

// The server that accepted a connection (ServerCore), as its transport sees it: the transport
// counts itself in at start() and out once its connection_lost() has run.
class ConnectionOwner {
public:
    virtual void attach(StreamTransport* t) = 0;
    virtual void detach(StreamTransport* t) = 0;

protected:
    ~ConnectionOwner() = default;
};

// Invariants (as asyncio's _SelectorSocketTransport):
// - the protocol hears connection_made() first (scheduled by start()), connection_lost() exactly
//   once and last (scheduled when the transport closes: at once on abort() or an error, after the
//   buffer is flushed on close());
// - write(): with nothing buffered, it writes what the socket takes now (uv_try_write) and buffers
//   the rest; m_pending collects what waits while m_inflight is with libuv (one uv_write at a
//   time), so bytes leave in the order they were written;
// - the buffer size is m_pending + m_inflight; crossing m_high calls pause_writing(), falling to
//   m_low calls resume_writing(), in alternation;
// - references: one is held by the open libuv handle (released by its close callback), others by
//   whoever keeps the transport (a stream, a scheduled callback). The protocol lives as long as
//   the transport.
class StreamTransport final : public Transport,
                              public IoResource,
                              public RefCounted<StreamTransport> {
public:
    enum class Kind : unsigned char { tcp, pipe };
    // Initialises the handle on the loop (the transport is then an open I/O resource).
    StreamTransport(LoopCore& loop, Kind kind);
    StreamTransport(const StreamTransport&) = delete;
    StreamTransport& operator=(const StreamTransport&) = delete;

    uv_stream_t* stream() noexcept { return &m_handle.stream; }
    uv_handle_t* handle() noexcept { return &m_handle.handle; }
    // The socket is connected: the protocol takes over. connection_made() comes in the next
    // iteration, then reading starts. `server`, when given, counts the connection as its own.
    void start(std::unique_ptr<BaseProtocol> protocol,
               std::shared_ptr<ConnectionOwner> server = {});
    // Closes the handle of a transport that never started (a failed connect or accept).
    void discard() noexcept;
    bool connection_lost_called() const noexcept { return m_lost_called; }

    // Connecting (before start()): begins the connect; connect_status() is 1 while it is in
    // flight, then libuv's status; the waiters on connect_waiters() are woken when it ends.
    void connect(const sockaddr* addr);
    void connect(const std::string& path);
    void connect_done(int status);
    int connect_status() const noexcept { return m_connect_status; }
    IoWaitList& connect_waiters() noexcept { return m_connect_waiters; }

    // Transport
    void write(std::string_view data) override;
    void write_eof() override;
    bool can_write_eof() const noexcept override { return true; }
    void close() override;
    void abort() override;
    bool is_closing() const noexcept override { return m_closing; }
    void pause_reading() override;
    void resume_reading() override;
    bool is_reading() const noexcept override { return m_reading_wanted && !m_closing; }
    std::size_t get_write_buffer_size() const noexcept override {
        return m_pending.size() + m_inflight.size();
    }
    void set_write_buffer_limits(std::optional<std::size_t> high,
                                 std::optional<std::size_t> low) override;
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
        return {m_low, m_high};
    }
    Address peername() const override;
    Address sockname() const override;
    BaseProtocol& get_protocol() noexcept override { return *m_protocol; }

    // IoResource
    void close_for_loop() noexcept override;

private:
    friend class RefCounted<StreamTransport>;
    ~StreamTransport();

    void begin_close();
    void start_reading();
    void stop_reading() noexcept;
    void start_write();
    void write_done(int status);
    void shutdown_now();
    void maybe_pause_protocol();
    void maybe_resume_protocol();
    // The connection is over: drop the buffer, stop reading, schedule connection_lost(exc).
    void force_close(std::exception_ptr exc);
    // An error of the socket or of a protocol callback: report what is not an OSError (as
    // asyncio's _fatal_error), then force_close().
    void fatal_error(std::exception_ptr exc, const char* message);
    void schedule_connection_lost(std::exception_ptr exc);
    void call_connection_lost(std::exception_ptr exc) noexcept;
    void close_handle() noexcept;
    void on_read(ssize_t nread, const uv_buf_t* buf);
    void on_eof();
    void report(const char* message, std::exception_ptr exc) noexcept;

    LoopCore& m_loop;
    union Handle {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } m_handle;
    uv_write_t m_write_req;
    uv_shutdown_t m_shutdown_req;
    uv_connect_t m_connect_req;
    int m_connect_status = 1;
    IoWaitList m_connect_waiters;
    std::unique_ptr<BaseProtocol> m_protocol;
    BufferedProtocol* m_buffered = nullptr;
    Protocol* m_stream_protocol = nullptr;
    std::shared_ptr<ConnectionOwner> m_server;
    std::string m_pending;
    std::string m_inflight;
    std::size_t m_high = 64 * 1024;
    std::size_t m_low = 16 * 1024;
    bool m_started = false;
    bool m_made = false;        // connection_made() was called
    bool m_user_closed = false; // close() or abort() was called: write() is an error
    bool m_eof_received = false;
    bool m_closing = false;     // close(), abort() or an error: no more writes
    bool m_conn_lost = false;   // connection_lost() is scheduled
    bool m_lost_called = false; // connection_lost() was called (or the loop went first)
    bool m_eof = false;         // write_eof() was called
    bool m_shutdown_sent = false;
    bool m_reading_wanted = true; // not paused by the protocol
    bool m_reading = false;       // uv_read_start is in effect
    bool m_protocol_paused = false;
    bool m_handle_closing = false;
    bool m_loop_gone = false;
};

} // namespace asyncio::detail
