// Internal: name resolution on libuv's thread pool (uv_getaddrinfo, uv_getnameinfo).
#pragma once

#include <string>
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

} // namespace asyncio::detail
