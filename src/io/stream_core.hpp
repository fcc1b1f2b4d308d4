// Internal: StreamCore, the state a StreamReader and its StreamWriter share (asyncio's
// StreamReader buffer and the flow control of StreamReaderProtocol).
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

#include "asyncio/detail/base/intrusive.hpp"
#include "asyncio/streams.hpp"
#include "io/io_wait.hpp"
#include "io/stream_transport.hpp"

namespace asyncio::detail {

// Invariants (as asyncio.StreamReader):
// - the unread bytes are m_buf[m_pos..]; reads take from the front and compact lazily;
// - at most one read waits at a time (m_read_waiters; another is a RuntimeError, as in asyncio);
// - while more than 2 * limit bytes are unread the transport's reading is paused (m_paused), and
//   it resumes once a read brings them to the limit or below;
// - once the connection is lost (m_conn_lost) drain() raises, and wait_closed() returns (or
//   raises m_lost_exc).
class StreamCore {
public:
    explicit StreamCore(std::size_t limit) : m_limit(limit) {}

    // ---- the reader's buffer ----
    std::size_t size() const noexcept { return m_buf.size() - m_pos; }
    std::string_view view() const noexcept { return std::string_view(m_buf).substr(m_pos); }
    std::string take(std::size_t n);
    void feed_data(std::string_view data);
    void feed_eof();
    void set_exception(std::exception_ptr exc);
    void maybe_resume_transport();
    // Waits for data or EOF (asyncio's _wait_for_data); rethrows the exception set meanwhile.
    Coro<> wait_for_data(const char* func);
    void check_exception() const {
        if (m_exc)
            std::rethrow_exception(m_exc);
    }

    std::string m_buf;
    std::size_t m_pos = 0;
    std::size_t m_limit;
    bool m_eof = false;
    bool m_paused = false;
    std::exception_ptr m_exc;
    IoWaitList m_read_waiters;

    // ---- the connection (absent for a reader fed by hand) ----
    IntrusivePtr<StreamTransport> m_transport;
    bool m_write_paused = false;
    bool m_conn_lost = false;
    std::exception_ptr m_lost_exc;
    IoWaitList m_drain_waiters;
    IoWaitList m_closed_waiters;
};

// The protocol between a stream transport and its StreamCore (asyncio.StreamReaderProtocol).
class StreamProtocol final : public Protocol {
public:
    StreamProtocol(std::shared_ptr<StreamCore> core, std::shared_ptr<ClientConnectedCb> cb)
        : m_core(std::move(core)), m_cb(std::move(cb)) {}
    void connection_made(Transport& t) override;
    void connection_lost(std::exception_ptr exc) override;
    void data_received(std::string_view data) override { m_core->feed_data(data); }
    bool eof_received() override;
    void pause_writing() override { m_core->m_write_paused = true; }
    void resume_writing() override;
    const std::shared_ptr<StreamCore>& core() const noexcept { return m_core; }

private:
    std::shared_ptr<StreamCore> m_core;
    std::shared_ptr<ClientConnectedCb> m_cb;
};

} // namespace asyncio::detail
