// Internal: work in flight outside the loop that holds loop objects (a worker job's future, a
// wrapped concurrent future's loop future).
#pragma once

#include "../base/intrusive_list.hpp"

namespace asyncio::detail {

// The loop keeps such work on a list while it is in flight (loop-thread only): close() detaches
// each piece, so that the loop objects it holds are released on the loop's thread, never by the
// worker that finishes it later, and a thread waiting for it gets an answer. Work that happens
// outside the loop (m_outside) also makes virtual time run at the real rate while it is listed.
// Work leaves the list when its outcome is delivered, when nobody wants it any more, or at
// close().
class ExternalWork : public ListHook<ExternalWork> {
public:
    // Called by close(), after the work left the list: drop every loop object held.
    virtual void detach() noexcept = 0;
    // On the loop's list of external work.
    bool tracked() const noexcept { return linked(); }

    bool m_outside = true;

protected:
    ~ExternalWork() = default;
};

} // namespace asyncio::detail
