// The io layer's libuv helpers: errors, addresses.
#include "io/uv_io.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <netdb.h>
#include <sys/un.h>

#include "asyncio/exceptions.hpp"
#include "backend/backend.hpp"

namespace asyncio {

namespace {
class GaiCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "getaddrinfo"; }
    std::string message(int code) const override { return gai_strerror(code); }
};
} // namespace

const std::error_category& gai_category() noexcept {
    static const GaiCategory category;
    return category;
}

IncompleteReadError::IncompleteReadError(std::string partial, std::optional<std::size_t> expected)
    : std::runtime_error(std::to_string(partial.size()) + " bytes read on a total of " +
                         (expected ? std::to_string(*expected) : std::string("undefined")) +
                         " expected bytes"),
      m_partial(std::move(partial)), m_expected(expected) {}

} // namespace asyncio

namespace asyncio::detail {

uv_loop_t* uv_loop_of(LoopCore& loop) noexcept { return loop.backend().uv_loop(); }

std::exception_ptr uv_error(int rc, const std::string& what) {
    int err = -rc;
    std::string msg = what + ": " + uv_strerror(rc);
    switch (err) {
    case ECONNREFUSED:
        return std::make_exception_ptr(ConnectionRefusedError(err, msg));
    case ECONNRESET:
        return std::make_exception_ptr(ConnectionResetError(err, msg));
    case ECONNABORTED:
        return std::make_exception_ptr(ConnectionAbortedError(err, msg));
    case EPIPE:
    case ESHUTDOWN:
        return std::make_exception_ptr(BrokenPipeError(err, msg));
    case ENOENT:
        return std::make_exception_ptr(FileNotFoundError(err, msg));
    case EACCES:
    case EPERM:
        return std::make_exception_ptr(PermissionError(err, msg));
    case ESRCH:
        return std::make_exception_ptr(ProcessLookupError(err, msg));
    default:
        return std::make_exception_ptr(OSError(err, msg));
    }
}

void throw_uv(int rc, const std::string& what) { std::rethrow_exception(uv_error(rc, what)); }

void ignore_sigpipe() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction current {};
        if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL &&
            !(current.sa_flags & SA_SIGINFO)) {
            struct sigaction ignore {};
            ignore.sa_handler = SIG_IGN;
            sigemptyset(&ignore.sa_mask);
            sigaction(SIGPIPE, &ignore, nullptr);
        }
    });
}

void check_port(int port) {
    if (port < 0 || port > 65535)
        throw ValueError("port must be 0-65535, not " + std::to_string(port));
}

bool parse_ip(const std::string& host, int port, sockaddr_storage& out) {
    check_port(port);
    std::memset(&out, 0, sizeof out);
    if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0)
        return true;
    return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
}

Address address_of(const sockaddr* sa, std::size_t len) {
    Address a;
    char buf[INET6_ADDRSTRLEN + 1] = {};
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        uv_ip4_name(in, buf, sizeof buf);
        a.host = buf;
        a.port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        uv_ip6_name(in6, buf, sizeof buf);
        a.host = buf;
        a.port = ntohs(in6->sin6_port);
    } else if (sa->sa_family == AF_UNIX) {
        auto* un = reinterpret_cast<const sockaddr_un*>(sa);
        std::size_t max = len > offsetof(sockaddr_un, sun_path)
                              ? len - offsetof(sockaddr_un, sun_path)
                              : sizeof un->sun_path;
        a.path.assign(un->sun_path, strnlen(un->sun_path, max));
    }
    return a;
}

Address stream_name(uv_stream_t* s, bool peer) {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(s)))
        return {};
    if (s->type == UV_TCP) {
        sockaddr_storage ss{};
        int len = sizeof ss;
        auto* tcp = reinterpret_cast<uv_tcp_t*>(s);
        auto* sa = reinterpret_cast<sockaddr*>(&ss);
        int rc = peer ? uv_tcp_getpeername(tcp, sa, &len) : uv_tcp_getsockname(tcp, sa, &len);
        return rc == 0 ? address_of(sa, static_cast<std::size_t>(len)) : Address{};
    }
    char buf[256];
    std::size_t len = sizeof buf;
    auto* pipe = reinterpret_cast<uv_pipe_t*>(s);
    int rc = peer ? uv_pipe_getpeername(pipe, buf, &len) : uv_pipe_getsockname(pipe, buf, &len);
    Address a;
    if (rc == 0)
        a.path.assign(buf, strnlen(buf, len));
    return a;
}

} // namespace asyncio::detail
