// Internal: an open I/O resource of the loop (a socket, a server, a resolver request), as the
// loop's engine sees it.
#pragma once

#include "../base/intrusive_list.hpp"

namespace asyncio::detail {

// While at least one resource is open the loop polls the OS, without blocking, in every iteration
// (so a busy loop never starves I/O) and virtual time runs at the real rate (so timeouts around
// network awaits stay real). Loop-thread only. close() of the loop calls close_for_loop() on
// each resource still open, after taking it off the list: it must release its OS handle without
// calling back into the loop.
class IoResource : public ListHook<IoResource> {
public:
    virtual void close_for_loop() noexcept = 0;
    bool registered() const noexcept { return linked(); }

protected:
    ~IoResource() = default;
};

} // namespace asyncio::detail
