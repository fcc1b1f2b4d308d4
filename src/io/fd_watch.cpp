// loop.add_reader/add_writer: file descriptors the program owns, on libuv's poll handles.
#include <map>
#include <string>
#include <uv.h>

#include "asyncio/detail/loop/handle_impl.hpp"
#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "io/uv_io.hpp"

namespace asyncio::detail {

// One libuv poll handle per descriptor (libuv allows no more), with its reader and its writer.
// Invariants:
// - the handle polls for the events of the callbacks set, and is closed once neither is (the
//   watch then leaves the table);
// - the open handle holds a reference, released by its close callback; a dispatch holds one
//   too, so a callback may remove its own watch;
// - as asyncio's selector loop: a cancelled handle is removed instead of run.
class FdWatch final : public IoResource, public RefCounted<FdWatch> {
public:
    FdWatch(LoopCore& loop, int fd) : m_loop(loop), m_fd(fd) {
        check_uv(uv_poll_init(uv_loop_of(loop), &m_poll, fd),
                 "add_reader/add_writer(" + std::to_string(fd) + ")");
        // From here the object is complete: the handle's reference and the loop's list.
        m_poll.data = this;
        add_ref(); // the open handle's
        loop.add_io(this);
    }

    IntrusivePtr<HandleImpl>& slot(bool writer) noexcept { return writer ? m_writer : m_reader; }

    // Polls for what the callbacks need: the handle is closed once there is nothing to watch.
    // libuv's error (a negative errno) when the poll cannot start; the watch is then unchanged.
    int update() noexcept {
        int events = (m_reader ? UV_READABLE : 0) | (m_writer ? UV_WRITABLE : 0);
        if (events == 0) {
            close();
            return 0;
        }
        return uv_poll_start(&m_poll, events, [](uv_poll_t* p, int status, int ready) {
            static_cast<FdWatch*>(p->data)->dispatch(status, ready);
        });
    }
    // update(), closing the watch when the poll cannot start.
    void update_or_close() noexcept {
        if (update() < 0) {
            m_reader.reset();
            m_writer.reset();
            close();
        }
    }

    void close_for_loop() noexcept override {
        m_reader.reset();
        m_writer.reset();
        m_loop_gone = true;
        close();
    }

    std::map<int, IntrusivePtr<FdWatch>>* table = nullptr; // the loop's, while in it

private:
    friend class RefCounted<FdWatch>;
    ~FdWatch() = default;

    void close() noexcept {
        if (m_closing)
            return;
        m_closing = true;
        if (table) {
            auto* t = std::exchange(table, nullptr);
            t->erase(m_fd); // may drop the table's reference: the handle's keeps this alive
        }
        if (!m_loop_gone && registered())
            m_loop.remove_io(this);
        uv_close(reinterpret_cast<uv_handle_t*>(&m_poll),
                 [](uv_handle_t* h) { static_cast<FdWatch*>(h->data)->release(); });
    }

    // An error (the descriptor went bad) wakes both callbacks, which see it when they use it.
    void dispatch(int status, int ready) {
        IntrusivePtr<FdWatch> hold(this);
        if (status < 0)
            ready = UV_READABLE | UV_WRITABLE;
        if (ready & UV_READABLE)
            run(false);
        if ((ready & UV_WRITABLE) && !m_closing)
            run(true);
    }

    void run(bool writer) {
        IntrusivePtr<HandleImpl> h = slot(writer);
        if (!h)
            return;
        if (h->cancelled()) {
            slot(writer).reset();
            update_or_close();
            return;
        }
        h->run_kept();
    }

    LoopCore& m_loop;
    int m_fd;
    uv_poll_t m_poll;
    IntrusivePtr<HandleImpl> m_reader;
    IntrusivePtr<HandleImpl> m_writer;
    bool m_closing = false;
    bool m_loop_gone = false;
};

// The loop's watches by descriptor. A watch still open when the table goes (the loop closes
// them first) no longer refers to it.
class FdWatches {
public:
    ~FdWatches() {
        for (auto& entry : table)
            entry.second->table = nullptr;
    }
    std::map<int, IntrusivePtr<FdWatch>> table;
};

} // namespace asyncio::detail

namespace asyncio {

using detail::IntrusivePtr;

void EventLoop::watch_fd(int fd, bool writer, detail::HandleImpl* handle) {
    IntrusivePtr<detail::HandleImpl> held(handle);
    if (fd < 0)
        throw ValueError("Invalid file descriptor: " + std::to_string(fd));
    if (!m_fd_watches)
        m_fd_watches = std::make_shared<detail::FdWatches>();
    auto& table = m_fd_watches->table;
    auto it = table.find(fd);
    bool made = it == table.end();
    if (made) {
        IntrusivePtr<detail::FdWatch> w(new detail::FdWatch(*this, fd));
        w->table = &table;
        it = table.emplace(fd, std::move(w)).first;
    }
    IntrusivePtr<detail::FdWatch> w = it->second;
    IntrusivePtr<detail::HandleImpl> previous = std::exchange(w->slot(writer), std::move(held));
    if (int rc = w->update(); rc < 0) {
        w->slot(writer) = std::move(previous);
        w->update_or_close(); // back to what it watched before; a new watch closes
        detail::throw_uv(rc, "add_" + std::string(writer ? "writer" : "reader") + "(" +
                                 std::to_string(fd) + ")");
    }
    if (previous)
        previous->cancel(); // asyncio cancels the handle it replaces
}

bool EventLoop::unwatch_fd(int fd, bool writer) {
    if (!m_fd_watches)
        return false;
    auto& table = m_fd_watches->table;
    auto it = table.find(fd);
    if (it == table.end() || !it->second->slot(writer))
        return false;
    IntrusivePtr<detail::FdWatch> w = it->second;
    IntrusivePtr<detail::HandleImpl> h =
        std::exchange(w->slot(writer), IntrusivePtr<detail::HandleImpl>());
    h->cancel();
    w->update_or_close();
    return true;
}

} // namespace asyncio
