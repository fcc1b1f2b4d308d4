// loop.create_datagram_endpoint: asyncio's datagram transport directly on a libuv UDP handle.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <uv.h>

#include "asyncio/exceptions.hpp"
#include "asyncio/servers.hpp"
#include "io/resolver.hpp"
#include "io/start_transport.hpp"
#include "io/uv_io.hpp"

namespace asyncio::detail {

namespace {

// What datagram_received() sees: one buffer per thread, as for the streams (the data is valid
// only during the call). A UDP datagram is at most 65,507 bytes.
constexpr std::size_t datagram_buffer_size = 64 * 1024;
char* shared_datagram_buffer() {
    thread_local std::array<char, datagram_buffer_size> buffer;
    return buffer.data();
}

} // namespace

// Invariants (as asyncio's _SelectorDatagramTransport):
// - the protocol hears connection_made() first (scheduled by start(); receiving starts after
//   it), connection_lost() exactly once and last;
// - sendto() sends at once when nothing is queued (uv_udp_try_send) and queues the datagram
//   otherwise; the queue's bytes cross m_high → pause_writing(), fall to m_low →
//   resume_writing(), in alternation;
// - close() waits for the queue to empty before connection_lost(); abort() closes the handle
//   at once (libuv cancels what is queued);
// - references: one is held by the open handle (released by its close callback), others by
//   scheduled callbacks and by whoever keeps the transport. The protocol lives as long as the
//   transport, or until connection_lost() has returned.
class UdpTransport final : public DatagramTransport,
                           public IoResource,
                           public RefCounted<UdpTransport> {
public:
    UdpTransport(LoopCore& loop, int family) : m_loop(loop) {
        check_uv(uv_udp_init_ex(uv_loop_of(loop), &m_udp, static_cast<unsigned>(family)), "socket");
        m_udp.data = this;
        add_ref(); // the open handle's
        loop.add_io(this);
    }

    int bind(const sockaddr* addr) noexcept { return uv_udp_bind(&m_udp, addr, 0); }
    int connect(const sockaddr* addr) noexcept {
        int rc = uv_udp_connect(&m_udp, addr);
        if (rc == 0)
            m_remote = address_of(addr);
        return rc;
    }

    void start(std::unique_ptr<DatagramProtocol> protocol) {
        m_protocol = std::move(protocol);
        m_started = true;
        face_of(m_loop).call_soon([self = IntrusivePtr<UdpTransport>(this)] {
            if (self->m_lost_called)
                return;
            if (!self->call_protocol("Fatal error: protocol.connection_made() call failed.",
                                     [&] { self->m_protocol->connection_made(*self); }))
                return;
            if (!self->m_closing)
                self->start_receiving();
        });
    }

    // Closes the handle of a transport that never started (a failed bind or connect).
    void discard() noexcept {
        m_closing = true;
        m_conn_lost = true;
        m_lost_called = true;
        close_handle();
    }

    // ---- DatagramTransport ----

    void sendto(std::string_view data, std::optional<Address> addr) override {
        if (m_user_closed)
            throw RuntimeError("sendto() on a closed datagram transport");
        sockaddr_storage ss{};
        const sockaddr* to = nullptr;
        if (m_remote) {
            if (addr && *addr != *m_remote)
                throw ValueError("Invalid address: must be None or " + m_remote->str());
        } else {
            if (!addr)
                throw ValueError("sendto() needs an address: the endpoint has no remote_addr");
            if (!parse_ip(addr->host, addr->port, ss))
                throw ValueError("sendto(): not a numeric IP address: '" + addr->host + "'");
            to = reinterpret_cast<const sockaddr*>(&ss);
        }
        if (m_conn_lost)
            return; // the endpoint was lost to an error: as asyncio, the datagram is dropped
        uv_buf_t buf =
            uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
        if (m_queued == 0) {
            int rc = uv_udp_try_send(&m_udp, &buf, 1, to);
            if (rc >= 0)
                return;
            if (rc != UV_EAGAIN) {
                error_received(rc);
                return;
            }
        }
        auto* req = new SendReq{{}, std::string(data)};
        buf = uv_buf_init(req->data.data(), static_cast<unsigned>(req->data.size()));
        int rc = uv_udp_send(&req->req, &m_udp, &buf, 1, to, [](uv_udp_send_t* r, int status) {
            std::unique_ptr<SendReq> done(reinterpret_cast<SendReq*>(r));
            static_cast<UdpTransport*>(r->handle->data)->sent(done->data.size(), status);
        });
        if (rc < 0) {
            delete req;
            error_received(rc);
            return;
        }
        m_queued += data.size();
        if (!m_protocol_paused && m_queued > m_high) {
            m_protocol_paused = true;
            call_protocol("protocol.pause_writing() failed", [&] { m_protocol->pause_writing(); });
        }
    }

    void close() override {
        m_user_closed = true;
        if (m_closing)
            return;
        m_closing = true;
        stop_receiving();
        if (m_queued == 0)
            schedule_connection_lost(nullptr);
    }

    void abort() override {
        m_user_closed = true;
        force_close(nullptr);
        close_handle(); // drops what is queued
    }

    bool is_closing() const noexcept override { return m_closing; }
    std::size_t get_write_buffer_size() const noexcept override { return m_queued; }

    Address peername() const override { return name(true); }
    Address sockname() const override { return name(false); }
    DatagramProtocol& get_protocol() noexcept override { return *m_protocol; }

    // ---- IoResource ----

    void close_for_loop() noexcept override {
        IntrusivePtr<UdpTransport> hold(this);
        m_loop_gone = true;
        m_closing = true;
        m_conn_lost = true;
        m_lost_called = true;
        close_handle();
        // The protocol is never called again; what it holds goes now.
        std::unique_ptr<DatagramProtocol> dropped = std::move(m_protocol);
    }

private:
    friend class RefCounted<UdpTransport>;
    ~UdpTransport() = default;

    struct SendReq {
        uv_udp_send_t req; // first: the callback gets its address
        std::string data;
    };

    Address name(bool peer) const {
        auto* udp = const_cast<uv_udp_t*>(&m_udp);
        if (uv_is_closing(reinterpret_cast<uv_handle_t*>(udp)))
            return {};
        sockaddr_storage ss{};
        int len = sizeof ss;
        auto* sa = reinterpret_cast<sockaddr*>(&ss);
        int rc = peer ? uv_udp_getpeername(udp, sa, &len) : uv_udp_getsockname(udp, sa, &len);
        return rc == 0 ? address_of(sa, static_cast<std::size_t>(len)) : Address{};
    }

    // Calls the protocol; an exception goes to the exception handler and closes the endpoint
    // (false then).
    template <class Fn>
    bool call_protocol(const char* what, Fn fn) noexcept {
        try {
            fn();
            return true;
        } catch (...) {
            std::exception_ptr exc = std::current_exception();
            m_loop.report(LoopReport{what, exc, nullptr, false, nullptr});
            force_close(exc);
            return false;
        }
    }

    void error_received(int rc) {
        std::exception_ptr exc = uv_error(rc, "datagram");
        call_protocol("protocol.error_received() failed", [&] { m_protocol->error_received(exc); });
    }

    void start_receiving() {
        auto alloc = [](uv_handle_t*, std::size_t, uv_buf_t* buf) {
            *buf = uv_buf_init(shared_datagram_buffer(), datagram_buffer_size);
        };
        auto received = [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from,
                           unsigned) {
            auto* self = static_cast<UdpTransport*>(h->data);
            if (self->m_closing)
                return;
            if (n < 0) {
                self->error_received(static_cast<int>(n));
                return;
            }
            if (!from)
                return;                            // libuv: nothing more to read for now
            IntrusivePtr<UdpTransport> hold(self); // the protocol may drop its last reference
            self->call_protocol("Fatal error: protocol.datagram_received() call failed.", [&] {
                self->m_protocol->datagram_received(
                    std::string_view(buf->base, static_cast<std::size_t>(n)), address_of(from));
            });
        };
        if (int rc = uv_udp_recv_start(&m_udp, alloc, received); rc < 0)
            error_received(rc);
        else
            m_receiving = true;
    }

    void stop_receiving() noexcept {
        if (m_receiving && !m_handle_closing)
            uv_udp_recv_stop(&m_udp);
        m_receiving = false;
    }

    void sent(std::size_t size, int status) {
        m_queued -= size;
        if (status < 0 && status != UV_ECANCELED && !m_conn_lost)
            error_received(status);
        if (m_protocol_paused && m_queued <= m_low) {
            m_protocol_paused = false;
            if (!m_conn_lost)
                call_protocol("protocol.resume_writing() failed",
                              [&] { m_protocol->resume_writing(); });
        }
        if (m_closing && m_queued == 0)
            schedule_connection_lost(nullptr);
    }

    void force_close(std::exception_ptr exc) {
        m_closing = true;
        stop_receiving();
        schedule_connection_lost(std::move(exc));
    }

    void schedule_connection_lost(std::exception_ptr exc) {
        if (m_conn_lost)
            return;
        m_conn_lost = true;
        if (!m_started || m_loop_gone || m_loop.is_closed()) {
            m_lost_called = true;
            close_handle();
            return;
        }
        face_of(m_loop).call_soon([self = IntrusivePtr<UdpTransport>(this), exc] {
            if (self->m_lost_called)
                return;
            self->m_lost_called = true;
            try {
                self->m_protocol->connection_lost(exc);
            } catch (...) {
                self->m_loop.report(LoopReport{"Exception in protocol.connection_lost()",
                                               std::current_exception(), nullptr, false, nullptr});
            }
            self->close_handle();
            std::unique_ptr<DatagramProtocol> dropped = std::move(self->m_protocol);
        });
    }

    void close_handle() noexcept {
        if (m_handle_closing)
            return;
        stop_receiving();
        m_handle_closing = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&m_udp), [](uv_handle_t* h) {
            auto* self = static_cast<UdpTransport*>(h->data);
            if (!self->m_loop_gone)
                self->m_loop.remove_io(self);
            self->release(); // the open handle's reference
        });
    }

    LoopCore& m_loop;
    uv_udp_t m_udp;
    std::unique_ptr<DatagramProtocol> m_protocol;
    std::optional<Address> m_remote;
    std::size_t m_queued = 0; // bytes of the datagrams queued with libuv
    std::size_t m_high = 64 * 1024;
    std::size_t m_low = 16 * 1024;
    bool m_started = false;
    bool m_user_closed = false; // close() or abort() was called: sendto() is an error
    bool m_closing = false;     // no more datagrams are received
    bool m_conn_lost = false;   // connection_lost() is scheduled
    bool m_lost_called = false; // connection_lost() was called (or the loop went first)
    bool m_receiving = false;
    bool m_protocol_paused = false;
    bool m_handle_closing = false;
    bool m_loop_gone = false;
};

DatagramProtocol& protocol_of(DatagramTransport& t) noexcept { return t.get_protocol(); }

namespace {

// The first resolved address of `a` of the family `family` (any family when 0). An empty host
// is the wildcard address of that family (IPv4 when any).
Coro<sockaddr_storage> endpoint_address(LoopCore& loop, const Address& a, int family) {
    std::string host = a.host;
    if (host.empty())
        host = family == AF_INET6 ? "::" : "0.0.0.0";
    std::vector<sockaddr_storage> all = co_await resolve_addresses(loop, host, a.port, SOCK_DGRAM);
    for (const sockaddr_storage& ss : all)
        if (family == 0 || ss.ss_family == family)
            co_return ss;
    throw ValueError("no address of the remote address's family for " + a.str());
}

} // namespace

} // namespace asyncio::detail

namespace asyncio {

Coro<DatagramTransport*> EventLoop::datagram_erased(detail::DatagramFactoryFn factory,
                                                    std::optional<Address> local,
                                                    std::optional<Address> remote) {
    using detail::UdpTransport;
    if (!local && !remote)
        throw ValueError("unexpected address family");
    detail::LoopCore& loop = *this;
    std::optional<sockaddr_storage> remote_ss, local_ss;
    if (remote)
        remote_ss = co_await detail::endpoint_address(loop, *remote, 0);
    if (local)
        local_ss =
            co_await detail::endpoint_address(loop, *local, remote_ss ? remote_ss->ss_family : 0);
    int family = (local_ss ? *local_ss : *remote_ss).ss_family;

    auto* t = new UdpTransport(loop, family);
    auto fail = [&](int rc, const std::string& what) {
        t->discard();
        detail::throw_uv(rc, what);
    };
    if (local_ss) {
        auto* sa = reinterpret_cast<const sockaddr*>(&*local_ss);
        if (int rc = t->bind(sa); rc < 0)
            fail(rc, "error while attempting to bind on address " + detail::address_of(sa).str());
    }
    if (remote_ss) {
        auto* sa = reinterpret_cast<const sockaddr*>(&*remote_ss);
        if (int rc = t->connect(sa); rc < 0)
            fail(rc, "Connect call failed " + detail::address_of(sa).str());
    }
    co_await detail::start_transport(t, factory);
    co_return t;
}

} // namespace asyncio
