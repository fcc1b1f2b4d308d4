// ServerCore: listening on libuv stream handles and accepting into stream transports.
#include "io/server_core.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <sys/socket.h>
#include <sys/stat.h>

#include "asyncio/exceptions.hpp"
#include "io/start_transport.hpp"
#include "io/stream_transport.hpp"

namespace asyncio::detail {

namespace {

std::optional<uv_stat_t> stat_path(const std::string& path) {
    uv_fs_t req;
    int rc = uv_fs_stat(nullptr, &req, path.c_str(), nullptr);
    std::optional<uv_stat_t> st;
    if (rc == 0)
        st = req.statbuf;
    uv_fs_req_cleanup(&req);
    return st;
}

void unlink_path(const std::string& path) noexcept {
    uv_fs_t req;
    uv_fs_unlink(nullptr, &req, path.c_str(), nullptr);
    uv_fs_req_cleanup(&req);
}

bool is_socket(const std::optional<uv_stat_t>& st) noexcept { return st && S_ISSOCK(st->st_mode); }

} // namespace

struct ServerCore::Listener final : IoResource {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    ServerCore* server;
    LoopCore& loop;
    std::string path;  // a Unix socket's, removed when the server closes (cleanup_socket)
    uv_stat_t bound{}; // what was at `path` once bound: only that file is removed
    bool listening = false;
    bool loop_gone = false;
    bool closing = false;

    Listener(ServerCore* s, LoopCore& l) : server(s), loop(l) { h.handle.data = this; }
    bool is_tcp() const noexcept { return h.handle.type == UV_TCP; }

    // Closes the handle; the close callback frees the listener.
    void close(bool loop_gone) noexcept {
        server = nullptr;
        this->loop_gone = this->loop_gone || loop_gone;
        if (closing)
            return;
        closing = true;
        // Only the socket file this server made: one that replaced it stays (asyncio 3.13).
        if (!path.empty()) {
            std::optional<uv_stat_t> now = stat_path(path);
            if (now && now->st_dev == bound.st_dev && now->st_ino == bound.st_ino)
                unlink_path(path);
        }
        uv_close(&h.handle, [](uv_handle_t* handle) {
            auto* self = static_cast<Listener*>(handle->data);
            if (!self->loop_gone)
                self->loop.remove_io(self);
            delete self;
        });
    }
    void close_for_loop() noexcept override {
        if (server) {
            auto& ls = server->m_listeners;
            ls.erase(std::remove(ls.begin(), ls.end(), this), ls.end());
        }
        close(true);
    }
};

ServerCore::ServerCore(LoopCore& loop, ProtocolFactoryFn factory, int backlog)
    : m_loop(loop), m_factory(std::move(factory)), m_backlog(backlog) {}

ServerCore::~ServerCore() {
    for (Listener* l : m_listeners)
        l->close(false);
}

void ServerCore::bind_tcp(const sockaddr* addr, bool reuse_port) {
    auto* l = new Listener(this, m_loop);
    // The socket is made now (not at bind), so that its options can be set before the bind.
    int rc = uv_tcp_init_ex(uv_loop_of(m_loop), &l->h.tcp, addr->sa_family);
    if (rc < 0) {
        delete l;
        throw_uv(rc, "socket");
    }
    m_loop.add_io(l);
    unsigned flags = addr->sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    if (reuse_port) {
#ifdef UV_TCP_REUSEPORT
        flags |= UV_TCP_REUSEPORT;
#else
        // libuv before 1.49 has no flag for it: the option is set on the socket itself.
        uv_os_fd_t fd;
        int one = 1;
        rc = uv_fileno(&l->h.handle, &fd);
        if (rc == 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
            rc = -errno;
        if (rc < 0) {
            l->close(false);
            throw_uv(rc, "setsockopt(SO_REUSEPORT)");
        }
#endif
    }
    rc = uv_tcp_bind(&l->h.tcp, addr, flags);
    if (rc == 0) {
        // libuv reports some bind errors only at listen: ask for the name to see them now.
        sockaddr_storage ss{};
        int len = sizeof ss;
        rc = uv_tcp_getsockname(&l->h.tcp, reinterpret_cast<sockaddr*>(&ss), &len);
    }
    if (rc < 0) {
        l->close(false);
        throw_uv(rc, "could not bind on address " + address_of(addr).str());
    }
    m_listeners.push_back(l);
}

void ServerCore::bind_unix(const std::string& path, bool cleanup_socket) {
    // A stale socket file of an earlier server is removed, as asyncio does.
    if (is_socket(stat_path(path)))
        unlink_path(path);
    auto* l = new Listener(this, m_loop);
    int rc = uv_pipe_init(uv_loop_of(m_loop), &l->h.pipe, 0);
    if (rc < 0) {
        delete l;
        throw_uv(rc, "socket");
    }
    m_loop.add_io(l);
    rc = uv_pipe_bind(&l->h.pipe, path.c_str());
    if (rc < 0) {
        l->close(false);
        throw_uv(rc, "could not bind on address " + path);
    }
    // libuv unlinks a bound pipe's path when the handle closes, whatever file is there by then;
    // asyncio removes only the file it made, and none with cleanup_socket = false. Taking the
    // name back from libuv (its strdup'ed copy, plain malloc: no allocator is replaced) leaves
    // that decision here.
    std::free(const_cast<char*>(l->h.pipe.pipe_fname));
    l->h.pipe.pipe_fname = nullptr;
    if (cleanup_socket) {
        std::optional<uv_stat_t> st = stat_path(path);
        if (is_socket(st)) {
            l->path = path;
            l->bound = *st;
        }
    }
    m_listeners.push_back(l);
}

void ServerCore::start_serving() {
    if (m_serving || m_closed)
        return;
    m_serving = true;
    for (Listener* l : m_listeners) {
        if (l->listening)
            continue;
        int rc = uv_listen(&l->h.stream, m_backlog, [](uv_stream_t* s, int status) {
            auto* listener = static_cast<Listener*>(s->data);
            if (listener && listener->server)
                listener->server->on_connection(*listener, status);
        });
        if (rc < 0)
            throw_uv(rc, "listen");
        l->listening = true;
    }
}

void ServerCore::on_connection(Listener& l, int status) {
    if (status < 0) {
        // Out of descriptors (libuv has dropped the pending connection meanwhile): the server
        // keeps listening, and accepts again once descriptors are free.
        m_loop.report(LoopReport{"socket.accept() out of system resource",
                                 uv_error(status, "accept"), nullptr, false, nullptr});
        return;
    }
    auto kind = l.is_tcp() ? StreamTransport::Kind::tcp : StreamTransport::Kind::pipe;
    StreamTransport* t;
    try {
        t = new StreamTransport(m_loop, kind);
    } catch (...) {
        m_loop.report(LoopReport{"Error on transport creation for incoming connection",
                                 std::current_exception(), nullptr, false, nullptr});
        return;
    }
    int rc = uv_accept(&l.h.stream, t->stream());
    if (rc < 0) {
        t->discard();
        m_loop.report(
            LoopReport{"socket.accept() failed", uv_error(rc, "accept"), nullptr, false, nullptr});
        return;
    }
    std::unique_ptr<BaseProtocol> protocol;
    try {
        protocol = make_protocol(m_factory);
    } catch (...) {
        t->discard();
        m_loop.report(LoopReport{"Error on transport creation for incoming connection",
                                 std::current_exception(), nullptr, false, nullptr});
        return;
    }
    t->start(std::move(protocol), shared_from_this());
}

void ServerCore::attach(StreamTransport* t) { m_clients.push_back(t); }

void ServerCore::detach(StreamTransport* t) {
    m_clients.erase(std::remove(m_clients.begin(), m_clients.end(), t), m_clients.end());
    if (m_clients.empty() && m_closed)
        wake_closed();
}

void ServerCore::close() {
    if (m_closed)
        return;
    m_closed = true;
    for (Listener* l : m_listeners)
        l->close(false);
    m_listeners.clear();
    m_serving = false;
    IoWait::wake_all(m_forever_waiters);
    if (m_clients.empty())
        wake_closed();
}

void ServerCore::wake_closed() {
    m_woken = true;
    IoWait::wake_all(m_closed_waiters);
}

void ServerCore::close_clients() {
    for (StreamTransport* t : std::vector<StreamTransport*>(m_clients))
        t->close();
}

void ServerCore::abort_clients() {
    for (StreamTransport* t : std::vector<StreamTransport*>(m_clients))
        t->abort();
}

std::vector<Address> ServerCore::sockets() const {
    std::vector<Address> out;
    for (Listener* l : m_listeners)
        out.push_back(stream_name(&l->h.stream, false));
    return out;
}

} // namespace asyncio::detail
