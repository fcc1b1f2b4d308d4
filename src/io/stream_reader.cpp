// asyncio.StreamReader: the buffer and its reads.
#include <algorithm>

#include "asyncio/exceptions.hpp"
#include "io/stream_core.hpp"

namespace asyncio {

namespace detail {

std::string StreamCore::take(std::size_t n) {
    n = std::min(n, size());
    if (m_pos == 0 && n == m_buf.size()) {
        // The whole buffer: handed over, not copied. The next feed_data() allocates afresh, so
        // an idle connection keeps no buffer.
        std::string out = std::move(m_buf);
        m_buf = std::string();
        return out;
    }
    std::string out = m_buf.substr(m_pos, n);
    m_pos += n;
    if (m_pos == m_buf.size()) {
        m_buf.clear();
        m_pos = 0;
    } else if (m_pos > 4096 && m_pos * 2 > m_buf.size()) {
        m_buf.erase(0, m_pos);
        m_pos = 0;
    }
    return out;
}

void StreamCore::feed_data(std::string_view data) {
    if (m_eof)
        throw RuntimeError("feed_data after feed_eof");
    if (data.empty())
        return;
    m_buf.append(data);
    if (IoWait* w = m_read_waiters.front())
        w->wake();
    if (m_transport && !m_paused && size() > 2 * m_limit) {
        m_transport->pause_reading();
        m_paused = true;
    }
}

void StreamCore::feed_eof() {
    m_eof = true;
    IoWait::wake_all(m_read_waiters);
}

void StreamCore::set_exception(std::exception_ptr exc) {
    m_exc = std::move(exc);
    IoWait::wake_all(m_read_waiters);
}

void StreamCore::maybe_resume_transport() {
    if (m_paused && size() <= m_limit) {
        m_paused = false;
        if (m_transport)
            m_transport->resume_reading();
    }
}

Coro<> StreamCore::wait_for_data(const char* func) {
    if (!m_read_waiters.empty())
        throw RuntimeError(std::string(func) +
                           "() called while another coroutine is already waiting for incoming "
                           "data");
    if (m_paused) { // the buffer was drained below the limit meanwhile: read again
        m_paused = false;
        if (m_transport)
            m_transport->resume_reading();
    }
    IoWait w(m_read_waiters, func);
    co_await w;
    check_exception();
}

} // namespace detail

StreamReader::StreamReader(std::size_t limit)
    : m_core(std::make_shared<detail::StreamCore>(limit)) {
    if (limit == 0)
        throw ValueError("Limit cannot be <= 0");
}

bool StreamReader::at_eof() const noexcept { return m_core->m_eof && m_core->size() == 0; }
std::exception_ptr StreamReader::exception() const noexcept { return m_core->m_exc; }
std::size_t StreamReader::limit() const noexcept { return m_core->m_limit; }
void StreamReader::feed_data(std::string_view data) { m_core->feed_data(data); }
void StreamReader::feed_eof() { m_core->feed_eof(); }
void StreamReader::set_exception(std::exception_ptr exc) { m_core->set_exception(std::move(exc)); }

Coro<std::string> StreamReader::read(std::ptrdiff_t n) {
    auto core = m_core;
    core->check_exception();
    if (n == 0)
        co_return std::string();
    if (n < 0) { // everything until EOF
        while (!core->m_eof)
            co_await core->wait_for_data("read");
        std::string all = core->take(core->size());
        core->maybe_resume_transport();
        co_return all;
    }
    if (core->size() == 0 && !core->m_eof)
        co_await core->wait_for_data("read");
    std::string data = core->take(static_cast<std::size_t>(n));
    core->maybe_resume_transport();
    co_return data;
}

Coro<std::string> StreamReader::readline() {
    auto core = m_core;
    std::string line;
    try {
        line = co_await readuntil_owned("\n");
    } catch (const IncompleteReadError& e) {
        co_return e.partial();
    } catch (const LimitOverrunError& e) {
        if (core->view().substr(e.consumed(), 1) == "\n")
            core->take(e.consumed() + 1);
        else
            core->take(core->size());
        core->maybe_resume_transport();
        throw ValueError(e.what());
    }
    co_return line;
}

Coro<std::string> StreamReader::readuntil(std::string_view separator) {
    return readuntil_owned(std::string(separator));
}

Coro<std::string> StreamReader::readuntil_owned(std::string separator) {
    auto core = m_core;
    std::size_t seplen = separator.size();
    if (seplen == 0)
        throw ValueError("Separator should be at least one-byte string");
    core->check_exception();
    // `offset` is where the separator may start: what came before was searched already.
    std::size_t offset = 0;
    std::size_t isep;
    for (;;) {
        std::size_t buflen = core->size();
        if (buflen - offset >= seplen) {
            isep = core->view().find(separator, offset);
            if (isep != std::string_view::npos)
                break;
            offset = buflen + 1 - seplen;
            if (offset > core->m_limit)
                throw LimitOverrunError("Separator is not found, and chunk exceed the limit",
                                        offset);
        }
        if (core->m_eof) {
            std::string chunk = core->take(core->size());
            throw IncompleteReadError(std::move(chunk), std::nullopt);
        }
        co_await core->wait_for_data("readuntil");
    }
    if (isep > core->m_limit)
        throw LimitOverrunError("Separator is found, but chunk is longer than limit", isep);
    std::string chunk = core->take(isep + seplen);
    core->maybe_resume_transport();
    co_return chunk;
}

Coro<std::string> StreamReader::readexactly(std::size_t n) {
    auto core = m_core;
    core->check_exception();
    if (n == 0)
        co_return std::string();
    while (core->size() < n) {
        if (core->m_eof) {
            std::string partial = core->take(core->size());
            throw IncompleteReadError(std::move(partial), n);
        }
        co_await core->wait_for_data("readexactly");
    }
    std::string data = core->take(n);
    core->maybe_resume_transport();
    co_return data;
}

} // namespace asyncio
