// The loop's waiting on libuv: a uv_async_t for cross-thread wake-ups and a uv_timer_t for the
// next deadline. The scheduling itself (ready queue, timers, tasks) never goes through libuv.
#include "backend/backend.hpp"

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <uv.h>

#include "base/util.hpp"

namespace asyncio::detail {

struct Backend::Signal {
    uv_signal_t handle;
    SignalCallback callback;
    void* context;
    struct sigaction previous; // restored when the watch ends
};

struct Backend::Uv {
    uv_loop_t loop;
    uv_async_t async;
    uv_timer_t timer;
    std::map<int, Signal*> signals; // closed by unwatch_signal() or the destructor
};

namespace {
void check(int rc, const char* what) {
    if (rc != 0)
        throw std::runtime_error(std::string(what) + ": " + uv_strerror(rc));
}
} // namespace

Backend::Backend() : m_uv(std::make_unique<Uv>()) {
    check(uv_loop_init(&m_uv->loop), "uv_loop_init");
    check(uv_async_init(&m_uv->loop, &m_uv->async, [](uv_async_t*) {}), "uv_async_init");
    check(uv_timer_init(&m_uv->loop, &m_uv->timer), "uv_timer_init");
}

Backend::~Backend() {
    while (!m_uv->signals.empty())
        unwatch_signal(m_uv->signals.begin()->first);
    uv_close(reinterpret_cast<uv_handle_t*>(&m_uv->async), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&m_uv->timer), nullptr);
    // The io layer closed its handles when the loop closed; this runs their close callbacks.
    uv_run(&m_uv->loop, UV_RUN_DEFAULT);
    uv_loop_close(&m_uv->loop);
}

void Backend::arm(double timeout) {
    // An unbounded timeout (sleep(inf), say) arms nothing: in libuv's milliseconds it would
    // overflow, which gave a zero timeout and a busy loop.
    if (timeout < 0 || !(timeout <= longest_timeout))
        return;
    // Round up: waking before the deadline would only spin through another wait.
    auto ms = static_cast<std::uint64_t>(std::ceil(timeout * 1000.0));
    uv_update_time(&m_uv->loop);
    // The callback stops the wait: the timer may fire before uv_run polls (libuv's clock can
    // tick past the deadline in between), and the poll would then block with no timer left.
    uv_timer_start(
        &m_uv->timer, [](uv_timer_t* t) { uv_stop(t->loop); }, ms, 0);
}

void Backend::poll() {
    uv_run(&m_uv->loop, UV_RUN_ONCE);
    uv_timer_stop(&m_uv->timer);
}

void Backend::poll_nowait() { uv_run(&m_uv->loop, UV_RUN_NOWAIT); }

uv_loop_t* Backend::uv_loop() noexcept { return &m_uv->loop; }

void Backend::wake() noexcept { uv_async_send(&m_uv->async); }

void Backend::watch_signal(int signum, SignalCallback callback, void* context) {
    if (m_uv->signals.count(signum))
        unwatch_signal(signum);
    auto sig = std::make_unique<Signal>();
    sig->callback = callback;
    sig->context = context;
    if (sigaction(signum, nullptr, &sig->previous) != 0)
        throw std::system_error(errno, std::generic_category(), "sigaction");
    check(uv_signal_init(&m_uv->loop, &sig->handle), "uv_signal_init");
    sig->handle.data = sig.get();
    int rc = uv_signal_start(
        &sig->handle,
        [](uv_signal_t* h, int n) {
            auto* s = static_cast<Signal*>(h->data);
            s->callback(s->context, n);
        },
        signum);
    if (rc != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(&sig->handle),
                 [](uv_handle_t* h) { delete static_cast<Signal*>(h->data); });
        sig.release(); // freed by the close callback
        uv_run(&m_uv->loop, UV_RUN_NOWAIT);
        throw std::system_error(-rc, std::generic_category(), "uv_signal_start");
    }
    m_uv->signals[signum] = sig.release();
}

void Backend::unwatch_signal(int signum) noexcept {
    auto it = m_uv->signals.find(signum);
    if (it == m_uv->signals.end())
        return;
    Signal* sig = it->second;
    m_uv->signals.erase(it);
    uv_signal_stop(&sig->handle); // libuv leaves SIG_DFL: the disposition before goes back
    sigaction(signum, &sig->previous, nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sig->handle),
             [](uv_handle_t* h) { delete static_cast<Signal*>(h->data); });
}

} // namespace asyncio::detail
