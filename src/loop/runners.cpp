// run(): the entry point's checks and its shutdown sequence.
#include "asyncio/runners.hpp"

namespace asyncio::detail {

void check_run_allowed() {
    if (running_core())
        throw RuntimeError("asyncio.run() cannot be called from a running event loop");
}

void finish_run(EventLoop& loop) noexcept {
    try {
        loop.cancel_all_tasks();
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "error while cancelling the remaining tasks at asyncio.run() shutdown";
        ctx.exception = std::current_exception();
        loop.call_exception_handler(ctx);
    }
    try {
        // asyncio's THREAD_JOIN_TIMEOUT
        loop.run_until_complete(loop.shutdown_default_executor(300));
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "error while shutting down the default executor at asyncio.run() shutdown";
        ctx.exception = std::current_exception();
        loop.call_exception_handler(ctx);
    }
    loop.close();
}

} // namespace asyncio::detail
