// Internal: name resolution on libuv's thread pool (uv_getaddrinfo, uv_getnameinfo).
#pragma once

#include <string>
#include <sys/socket.h>
#include <vector>

#include "asyncio/coroutines.hpp"
#include "asyncio/detail/runtime/loop_core.hpp"
#include "asyncio/transports.hpp"

namespace asyncio::detail {

// GaiError naming the host when nothing resolves. Cancellation: the request is cancelled (libuv
// frees it later), CancelledError is thrown.
Coro<std::vector<AddrInfo>> resolve(LoopCore& loop, std::string host, int port, int family,
                                    int type, int proto, int flags);
Coro<std::pair<std::string, std::string>> resolve_name(LoopCore& loop, Address addr, int flags);
// The addresses to try for host:port with sockets of `socktype`: a numeric address as it is, a
// name through resolve(). ValueError for an empty host or a port outside 0..65535.
Coro<std::vector<sockaddr_storage>> resolve_addresses(LoopCore& loop, const std::string& host,
                                                      int port, int socktype);

} // namespace asyncio::detail
