// Internal: what the io layer shares about libuv: errors as asyncio's exceptions, socket
// addresses, the loop's uv_loop_t.
#pragma once

#include <exception>
#include <string>
#include <uv.h>

#include "asyncio/detail/runtime/loop_core.hpp"
#include "asyncio/transports.hpp"

namespace asyncio::detail {

uv_loop_t* uv_loop_of(LoopCore& loop) noexcept;

// libuv's error `rc` (a negative errno) as the OSError kind Python would raise: ECONNREFUSED is a
// ConnectionRefusedError, and so on. `what` names the operation.
std::exception_ptr uv_error(int rc, const std::string& what);
[[noreturn]] void throw_uv(int rc, const std::string& what);
inline void check_uv(int rc, const std::string& what) {
    if (rc < 0)
        throw_uv(rc, what);
}

// A numeric IPv4 or IPv6 address (no name lookup) and a port, into `out`; false when `host` is
// not such an address. ValueError for a port outside 0..65535.
bool parse_ip(const std::string& host, int port, sockaddr_storage& out);
void check_port(int port);
// The address of a sockaddr (AF_INET, AF_INET6 or AF_UNIX of `len` bytes).
Address address_of(const sockaddr* sa, std::size_t len = 0);

// Makes SIGPIPE ignored, once per process, unless the program gave it a handler or ignores it
// already (as Python does at start-up): a write to a connection or pipe whose peer is gone then
// fails with EPIPE (BrokenPipeError) instead of killing the process. Children get the default
// disposition back (uv_spawn resets every signal in the child).
void ignore_sigpipe() noexcept;

// The socket's own name, or the peer's, for TCP and Unix stream handles.
Address stream_name(uv_stream_t* s, bool peer);

} // namespace asyncio::detail
