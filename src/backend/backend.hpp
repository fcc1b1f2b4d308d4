// Internal: the loop's way of waiting in the operating system, on libuv. The only place that
// knows about <uv.h> (with backend.cpp): public headers never include it.
#pragma once

#include <memory>

struct uv_loop_s;

namespace asyncio::detail {

class Backend {
public:
    Backend();
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
    ~Backend();

    // Blocks until I/O, a wake(), or `timeout` seconds (a negative or an unbounded timeout waits
    // forever).
    void wait(double timeout) {
        arm(timeout);
        poll();
    }
    // wait()'s two halves, apart so that a test can let the deadline pass in between.
    void arm(double timeout);
    void poll();
    // Thread-safe; wake-ups coalesce until the next wait() returns.
    void wake() noexcept;
    // Runs what is ready in the OS (signals, I/O) without blocking.
    void poll_nowait();

    // Watches `signum` through libuv's signal watcher (its handler only notes the signal; the
    // callback runs here, on the loop's thread, in wait() or poll_nowait()). The disposition the
    // signal had is restored by unwatch_signal(). RuntimeError (as std::runtime_error's message)
    // when the signal cannot be caught.
    using SignalCallback = void (*)(void* context, int signum);
    void watch_signal(int signum, SignalCallback callback, void* context);
    void unwatch_signal(int signum) noexcept;
    // The libuv loop, for the I/O layer's handles (src/io/ sees libuv too).
    uv_loop_s* uv_loop() noexcept;

private:
    struct Uv;
    struct Signal;
    std::unique_ptr<Uv> m_uv;
};

} // namespace asyncio::detail
