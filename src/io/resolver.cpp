// Name resolution: uv_getaddrinfo and uv_getnameinfo behind an IoWait.
#include "io/resolver.hpp"

#include <cstring>
#include <netdb.h>

#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "io/io_wait.hpp"
#include "io/uv_io.hpp"

namespace asyncio::detail {

namespace {

// libuv's UV_EAI_* as the system's EAI_* (Python's gaierror.errno).
int eai_of(int uv) {
    switch (uv) {
    case UV_EAI_AGAIN:
        return EAI_AGAIN;
    case UV_EAI_BADFLAGS:
        return EAI_BADFLAGS;
    case UV_EAI_FAMILY:
        return EAI_FAMILY;
    case UV_EAI_MEMORY:
        return EAI_MEMORY;
    case UV_EAI_NONAME:
        return EAI_NONAME;
    case UV_EAI_SERVICE:
        return EAI_SERVICE;
    case UV_EAI_SOCKTYPE:
        return EAI_SOCKTYPE;
#ifdef EAI_NODATA
    case UV_EAI_NODATA:
        return EAI_NODATA;
#endif
    default:
        return EAI_FAIL;
    }
}

// A request in flight. It outlives the awaiting coroutine when that one is cancelled or dropped
// (libuv still calls back, with UV_EAI_CANCELED): whoever comes last frees it.
template <class Req>
struct Request final : IoResource {
    Req req;
    LoopCore& loop;
    IoWaitList waiters;
    int status = 1;
    bool abandoned = false;
    bool loop_gone = false;
    explicit Request(LoopCore& l) : loop(l) {
        req.data = this;
        loop.add_io(this);
    }
    // The libuv callback: false when nobody waits any more (the caller frees then).
    bool done(int st) {
        status = st;
        if (!loop_gone)
            loop.remove_io(this);
        if (abandoned)
            return false;
        IoWait::wake_all(waiters);
        return true;
    }
    void close_for_loop() noexcept override {
        loop_gone = true;
        uv_cancel(reinterpret_cast<uv_req_t*>(&req));
    }
};

// Frees the request when the awaiting frame ends, or hands that to the callback.
template <class Req, class Free>
struct RequestGuard {
    Request<Req>* r;
    Free free_result;
    ~RequestGuard() {
        if (r->status == 1) {
            r->abandoned = true;
            uv_cancel(reinterpret_cast<uv_req_t*>(&r->req));
        } else {
            free_result(r);
            delete r;
        }
    }
};

} // namespace

Coro<std::vector<AddrInfo>> resolve(LoopCore& loop, std::string host, int port, int family,
                                    int type, int proto, int flags) {
    check_port(port);
    using R = Request<uv_getaddrinfo_t>;
    auto* r = new R(loop);
    r->req.addrinfo = nullptr;
    auto free_result = [](R* q) {
        if (q->req.addrinfo)
            uv_freeaddrinfo(q->req.addrinfo);
    };
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = type;
    hints.ai_protocol = proto;
    hints.ai_flags = flags;
    std::string service = std::to_string(port);
    int rc = uv_getaddrinfo(
        uv_loop_of(loop), &r->req,
        [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
            auto* q = static_cast<R*>(req->data);
            req->addrinfo = res;
            if (!q->done(status)) {
                if (res)
                    uv_freeaddrinfo(res);
                delete q;
            }
        },
        host.empty() ? nullptr : host.c_str(), service.c_str(), &hints);
    if (rc < 0) {
        r->status = rc;
        loop.remove_io(r);
    }
    RequestGuard<uv_getaddrinfo_t, decltype(free_result)> guard{r, free_result};
    while (r->status == 1) {
        IoWait w(r->waiters, "getaddrinfo");
        co_await w;
    }
    if (r->status < 0)
        throw GaiError(eai_of(r->status), "getaddrinfo(" + host + ", " + std::to_string(port) +
                                              "): " + uv_strerror(r->status));
    std::vector<AddrInfo> out;
    for (addrinfo* ai = r->req.addrinfo; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        AddrInfo info;
        info.family = ai->ai_family;
        info.type = ai->ai_socktype;
        info.proto = ai->ai_protocol;
        if (ai->ai_canonname)
            info.canonname = ai->ai_canonname;
        info.addr = address_of(ai->ai_addr, ai->ai_addrlen);
        out.push_back(std::move(info));
    }
    co_return out;
}

Coro<std::pair<std::string, std::string>> resolve_name(LoopCore& loop, Address addr, int flags) {
    sockaddr_storage ss;
    if (!parse_ip(addr.host, addr.port, ss))
        throw ValueError("getnameinfo() needs a numeric address, not '" + addr.host + "'");
    using R = Request<uv_getnameinfo_t>;
    auto* r = new R(loop);
    auto free_result = [](R*) {};
    int rc = uv_getnameinfo(
        uv_loop_of(loop), &r->req,
        [](uv_getnameinfo_t* req, int status, const char*, const char*) {
            auto* q = static_cast<R*>(req->data);
            if (!q->done(status))
                delete q;
        },
        reinterpret_cast<const sockaddr*>(&ss), flags);
    if (rc < 0) {
        r->status = rc;
        loop.remove_io(r);
    }
    RequestGuard<uv_getnameinfo_t, decltype(free_result)> guard{r, free_result};
    while (r->status == 1) {
        IoWait w(r->waiters, "getnameinfo");
        co_await w;
    }
    if (r->status < 0)
        throw GaiError(eai_of(r->status),
                       "getnameinfo(" + addr.str() + "): " + uv_strerror(r->status));
    co_return std::pair<std::string, std::string>(r->req.host, r->req.service);
}

Coro<std::vector<sockaddr_storage>> resolve_addresses(LoopCore& loop, const std::string& host,
                                                      int port, int socktype) {
    std::vector<sockaddr_storage> out(1);
    if (parse_ip(host, port, out[0]))
        co_return out;
    out.clear();
    if (host.empty())
        throw ValueError("host and port were not specified and no sock specified");
    std::vector<AddrInfo> infos = co_await resolve(loop, host, port, 0, socktype, 0, 0);
    for (const AddrInfo& info : infos) {
        sockaddr_storage ss;
        if (parse_ip(info.addr.host, info.addr.port, ss))
            out.push_back(ss);
    }
    if (out.empty())
        throw OSError(EADDRNOTAVAIL, "getaddrinfo() returned empty list");
    co_return out;
}

} // namespace asyncio::detail
