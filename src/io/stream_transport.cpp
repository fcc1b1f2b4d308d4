// StreamTransport: the stream transport on a uv_tcp_t or uv_pipe_t.
#include "io/stream_transport.hpp"

#include <array>
#include <cerrno>

#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio::detail {

namespace {
StreamTransport* self_of(uv_handle_t* h) noexcept { return static_cast<StreamTransport*>(h->data); }
StreamTransport* self_of(uv_stream_t* s) noexcept { return static_cast<StreamTransport*>(s->data); }

// What data_received() sees: one buffer per thread, as uvloop does (the data is valid only during
// the call, so connections can share it).
constexpr std::size_t read_buffer_size = 256 * 1024;
char* shared_read_buffer() {
    thread_local std::array<char, read_buffer_size> buffer;
    return buffer.data();
}

bool is_os_error(const std::exception_ptr& e) { return holds<OSError>(e); }
} // namespace

StreamTransport::StreamTransport(LoopCore& loop, Kind kind) : m_loop(loop) {
    ignore_sigpipe();
    uv_loop_t* uv = uv_loop_of(loop);
    int rc =
        kind == Kind::tcp ? uv_tcp_init(uv, &m_handle.tcp) : uv_pipe_init(uv, &m_handle.pipe, 0);
    check_uv(rc, "socket");
    m_handle.handle.data = this;
    add_ref(); // the open handle's
    loop.add_io(this);
}

StreamTransport::~StreamTransport() = default;

void StreamTransport::start(std::unique_ptr<BaseProtocol> protocol,
                            std::shared_ptr<ConnectionOwner> server) {
    m_protocol = std::move(protocol);
    m_buffered = dynamic_cast<BufferedProtocol*>(m_protocol.get());
    m_stream_protocol = dynamic_cast<Protocol*>(m_protocol.get());
    m_server = std::move(server);
    if (m_server)
        m_server->attach(this);
    m_started = true;
    if (m_handle.handle.type == UV_TCP)
        uv_tcp_nodelay(&m_handle.tcp, 1);
    face_of(m_loop).call_soon([self = IntrusivePtr<StreamTransport>(this)] {
        if (self->m_lost_called)
            return;
        try {
            self->m_protocol->connection_made(*self);
        } catch (...) {
            self->fatal_error(std::current_exception(),
                              "Fatal error: protocol.connection_made() call failed.");
            return;
        }
        self->m_made = true;
        if (!self->m_closing && self->m_reading_wanted)
            self->start_reading();
    });
}

void StreamTransport::discard() noexcept {
    m_closing = true;
    m_conn_lost = true;
    m_lost_called = true;
    close_handle();
}

// ---- connecting ----

namespace {
void connected(uv_connect_t* req, int status) {
    StreamTransport* self = self_of(req->handle);
    self->connect_done(status);
}
} // namespace

void StreamTransport::connect(const sockaddr* addr) {
    m_connect_status = 1;
    int rc = uv_tcp_connect(&m_connect_req, &m_handle.tcp, addr, connected);
    if (rc < 0)
        m_connect_status = rc;
}

void StreamTransport::connect(const std::string& path) {
    m_connect_status = 1;
    uv_pipe_connect(&m_connect_req, &m_handle.pipe, path.c_str(), connected);
}

void StreamTransport::connect_done(int status) {
    m_connect_status = status;
    IoWait::wake_all(m_connect_waiters);
}

// ---- reading ----

void StreamTransport::start_reading() {
    if (m_reading || m_handle_closing)
        return;
    auto alloc = [](uv_handle_t* h, std::size_t hint, uv_buf_t* buf) {
        StreamTransport* self = self_of(h);
        if (!self->m_buffered) {
            *buf = uv_buf_init(shared_read_buffer(), read_buffer_size);
            return;
        }
        *buf = uv_buf_init(nullptr, 0); // libuv then reports UV_ENOBUFS
        try {
            std::span<char> span = self->m_buffered->get_buffer(hint);
            if (span.empty())
                throw RuntimeError("get_buffer() returned an empty buffer");
            *buf = uv_buf_init(span.data(), static_cast<unsigned>(span.size()));
        } catch (...) {
            self->fatal_error(std::current_exception(),
                              "Fatal error: protocol.get_buffer() call failed.");
        }
    };
    auto read = [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        self_of(s)->on_read(nread, buf);
    };
    int rc = uv_read_start(stream(), alloc, read);
    if (rc < 0) {
        fatal_error(uv_error(rc, "read"), "Fatal read error on socket transport");
        return;
    }
    m_reading = true;
}

void StreamTransport::stop_reading() noexcept {
    if (!m_reading)
        return;
    m_reading = false;
    uv_read_stop(stream());
}

void StreamTransport::on_read(ssize_t nread, const uv_buf_t* buf) {
    if (nread == 0 || m_conn_lost)
        return;
    if (nread == UV_EOF) {
        on_eof();
        return;
    }
    if (nread < 0) {
        if (nread == UV_ENOBUFS) // get_buffer() failed: already handled
            return;
        fatal_error(uv_error(static_cast<int>(nread), "read"),
                    "Fatal read error on socket transport");
        return;
    }
    try {
        if (m_buffered)
            m_buffered->buffer_updated(static_cast<std::size_t>(nread));
        else
            m_stream_protocol->data_received(
                std::string_view(buf->base, static_cast<std::size_t>(nread)));
    } catch (...) {
        fatal_error(std::current_exception(),
                    m_buffered ? "Fatal error: protocol.buffer_updated() call failed."
                               : "Fatal error: protocol.data_received() call failed.");
    }
}

void StreamTransport::on_eof() {
    m_eof_received = true;
    stop_reading();
    bool keep_open = false;
    try {
        keep_open = m_stream_protocol && m_stream_protocol->eof_received();
    } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
        return;
    }
    if (!keep_open)
        begin_close();
}

void StreamTransport::pause_reading() {
    if (m_closing || !m_reading_wanted)
        return;
    m_reading_wanted = false;
    stop_reading();
}

void StreamTransport::resume_reading() {
    if (m_closing || m_reading_wanted)
        return;
    m_reading_wanted = true;
    if (m_made && !m_eof_received)
        start_reading();
}

// ---- writing ----

void StreamTransport::write(std::string_view data) {
    if (m_eof)
        throw RuntimeError("Cannot call write() after write_eof()");
    if (m_user_closed)
        throw RuntimeError("Cannot call write() after close() or abort()");
    if (data.empty() || m_conn_lost)
        return; // the loss is reported by drain(), as in asyncio
    if (m_pending.empty() && m_inflight.empty()) {
        uv_buf_t buf =
            uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
        int n = uv_try_write(stream(), &buf, 1);
        if (n >= 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            if (data.empty())
                return;
        } else if (n != UV_EAGAIN && n != UV_ENOSYS) {
            fatal_error(uv_error(n, "write"), "Fatal write error on socket transport");
            return;
        }
    }
    m_pending.append(data);
    start_write();
    maybe_pause_protocol();
}

void StreamTransport::start_write() {
    if (!m_inflight.empty() || m_pending.empty() || m_handle_closing)
        return;
    m_inflight.swap(m_pending);
    uv_buf_t buf = uv_buf_init(m_inflight.data(), static_cast<unsigned>(m_inflight.size()));
    int rc = uv_write(&m_write_req, stream(), &buf, 1, [](uv_write_t* req, int status) {
        self_of(req->handle)->write_done(status);
    });
    if (rc < 0) {
        m_inflight.clear();
        fatal_error(uv_error(rc, "write"), "Fatal write error on socket transport");
    }
}

void StreamTransport::write_done(int status) {
    m_inflight.clear();
    if (m_loop_gone || status == UV_ECANCELED)
        return;
    if (status < 0) {
        fatal_error(uv_error(status, "write"), "Fatal write error on socket transport");
        return;
    }
    if (m_conn_lost)
        return;
    start_write();
    maybe_resume_protocol();
    if (get_write_buffer_size() > 0)
        return;
    if (m_closing)
        schedule_connection_lost(nullptr);
    else if (m_eof)
        shutdown_now();
}

void StreamTransport::write_eof() {
    if (m_closing || m_eof)
        return;
    m_eof = true;
    if (get_write_buffer_size() == 0)
        shutdown_now();
}

void StreamTransport::shutdown_now() {
    if (m_shutdown_sent)
        return;
    m_shutdown_sent = true;
    uv_shutdown(&m_shutdown_req, stream(), [](uv_shutdown_t*, int) {});
}

void StreamTransport::set_write_buffer_limits(std::optional<std::size_t> high,
                                              std::optional<std::size_t> low) {
    std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
    std::size_t l = low ? *low : h / 4;
    if (h < l)
        throw ValueError("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) +
                         ") must be >= 0");
    m_high = h;
    m_low = l;
    maybe_pause_protocol();
    maybe_resume_protocol();
}

void StreamTransport::maybe_pause_protocol() {
    if (m_protocol_paused || get_write_buffer_size() <= m_high)
        return;
    m_protocol_paused = true;
    try {
        m_protocol->pause_writing();
    } catch (...) {
        report("protocol.pause_writing() failed", std::current_exception());
    }
}

void StreamTransport::maybe_resume_protocol() {
    if (!m_protocol_paused || get_write_buffer_size() > m_low)
        return;
    m_protocol_paused = false;
    try {
        m_protocol->resume_writing();
    } catch (...) {
        report("protocol.resume_writing() failed", std::current_exception());
    }
}

// ---- closing ----

void StreamTransport::close() {
    m_user_closed = true;
    begin_close();
}

void StreamTransport::begin_close() {
    if (m_closing)
        return;
    m_closing = true;
    stop_reading();
    if (get_write_buffer_size() == 0)
        schedule_connection_lost(nullptr);
}

void StreamTransport::abort() {
    m_user_closed = true;
    force_close(nullptr);
}

void StreamTransport::force_close(std::exception_ptr exc) {
    if (m_conn_lost)
        return;
    m_pending.clear(); // m_inflight stays with libuv until its callback
    if (m_protocol_paused && get_write_buffer_size() <= m_low)
        m_protocol_paused = false;
    m_closing = true;
    stop_reading();
    schedule_connection_lost(std::move(exc));
}

void StreamTransport::fatal_error(std::exception_ptr exc, const char* message) {
    if (!is_os_error(exc))
        report(message, exc);
    force_close(std::move(exc));
}

void StreamTransport::report(const char* message, std::exception_ptr exc) noexcept {
    m_loop.report(LoopReport{message, std::move(exc), nullptr, false, nullptr});
}

void StreamTransport::schedule_connection_lost(std::exception_ptr exc) {
    if (m_conn_lost)
        return;
    m_conn_lost = true;
    if (!m_started || m_loop_gone || m_loop.is_closed()) {
        m_lost_called = true;
        close_handle();
        return;
    }
    face_of(m_loop).call_soon(
        [self = IntrusivePtr<StreamTransport>(this), exc] { self->call_connection_lost(exc); });
}

void StreamTransport::call_connection_lost(std::exception_ptr exc) noexcept {
    if (m_lost_called)
        return;
    m_lost_called = true;
    try {
        m_protocol->connection_lost(exc);
    } catch (...) {
        report("Exception in protocol.connection_lost()", std::current_exception());
    }
    close_handle();
    if (m_server) {
        m_server->detach(this);
        m_server.reset();
    }
    // As asyncio's transport forgets its protocol once connection_lost() has run: what the
    // protocol holds (a stream's writer holds this transport) is released with it. The caller
    // holds a reference on this transport meanwhile.
    m_stream_protocol = nullptr;
    m_buffered = nullptr;
    std::unique_ptr<BaseProtocol> dropped = std::move(m_protocol);
}

void StreamTransport::close_handle() noexcept {
    if (m_handle_closing)
        return;
    m_handle_closing = true;
    m_reading = false;
    uv_close(handle(), [](uv_handle_t* h) {
        StreamTransport* self = self_of(h);
        if (!self->m_loop_gone)
            self->m_loop.remove_io(self);
        self->release(); // the open handle's reference
    });
}

void StreamTransport::close_for_loop() noexcept {
    IntrusivePtr<StreamTransport> hold(this); // dropping the protocol may drop a reference
    m_loop_gone = true;
    m_closing = true;
    m_conn_lost = true;
    m_lost_called = true;
    m_server.reset();
    close_handle();
    // The loop is gone: the protocol is never called again, and what it holds (a stream's
    // writer holds this transport) must not keep the transport alive past the handle's close.
    m_stream_protocol = nullptr;
    m_buffered = nullptr;
    std::unique_ptr<BaseProtocol> dropped = std::move(m_protocol);
}

Address StreamTransport::peername() const {
    return stream_name(const_cast<uv_stream_t*>(&m_handle.stream), true);
}

Address StreamTransport::sockname() const {
    return stream_name(const_cast<uv_stream_t*>(&m_handle.stream), false);
}

} // namespace asyncio::detail
