// asyncio.streams: StreamReader, StreamWriter, open_connection, start_server and their Unix-socket
// forms, on the transports and protocols of the io layer.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "coroutines.hpp"
#include "events.hpp"
#include "servers.hpp"
#include "transports.hpp"

namespace asyncio {

namespace detail {
class StreamCore;
}

// The streams' buffer limit (asyncio's _DEFAULT_LIMIT, 64 KiB).
inline constexpr std::size_t stream_default_limit = 64 * 1024;

struct StreamOptions {
    std::size_t limit = stream_default_limit;
};

// The reading side of a connection (asyncio.StreamReader). A handle: copies share the stream.
// Reading pauses the transport while more than 2 * limit bytes wait in the buffer.
// Cancellation of any read: CancelledError, and nothing is consumed (a cancelled readline()
// leaves its partial line in the buffer); the reader stays usable.
class StreamReader {
public:
    // A reader fed by hand (feed_data/feed_eof), as asyncio.StreamReader(limit=...).
    explicit StreamReader(std::size_t limit = stream_default_limit);
    explicit StreamReader(std::shared_ptr<detail::StreamCore> core) noexcept
        : m_core(std::move(core)) {}

    // Up to n bytes (n < 0: everything until EOF); "" at EOF, and for n == 0.
    [[nodiscard]] Coro<std::string> read(std::ptrdiff_t n = -1);
    // One line with its "\n", or what is left before EOF. ValueError when the line passes the
    // limit (the buffer then drops the line, or all of it when no separator was seen).
    [[nodiscard]] Coro<std::string> readline();
    // Exactly n bytes; IncompleteReadError (with what was read) when EOF comes first.
    [[nodiscard]] Coro<std::string> readexactly(std::size_t n);
    // Up to and including `separator`; IncompleteReadError at EOF, LimitOverrunError when the
    // limit is reached first (the data stays buffered).
    [[nodiscard]] Coro<std::string> readuntil(std::string_view separator = "\n");
    // EOF was fed and the buffer is empty.
    bool at_eof() const noexcept;
    std::exception_ptr exception() const noexcept;
    std::size_t limit() const noexcept;

    void feed_data(std::string_view data);
    void feed_eof();
    void set_exception(std::exception_ptr exc);

private:
    Coro<std::string> readuntil_owned(std::string separator);
    std::shared_ptr<detail::StreamCore> m_core;
};

// The writing side of a connection (asyncio.StreamWriter). A handle: copies share the stream.
class StreamWriter {
public:
    // A writer of no connection (every call raises RuntimeError), to be assigned later.
    StreamWriter() = default;
    // The last copy of a writer closes its transport, as asyncio's StreamWriter does when it is
    // collected.
    explicit StreamWriter(std::shared_ptr<detail::StreamCore> core);

    // Sends now what the socket takes, buffers the rest. RuntimeError after close() or
    // write_eof(); ignored once the connection was lost (drain() raises that loss).
    void write(std::string_view data);
    template <class R>
    void writelines(const R& range) {
        for (const auto& piece : range)
            write(std::string_view(piece));
    }
    void write_eof();
    bool can_write_eof() const noexcept;
    // Flushes the buffer, then closes.
    void close();
    bool is_closing() const noexcept;
    // Waits until the connection is lost; raises its error if it had one.
    // Cancellation: only the wait ends.
    [[nodiscard]] Coro<> wait_closed();
    // Waits while the write buffer is above its high-water mark; raises the reader's error, or
    // ConnectionResetError once the connection is lost.
    // Cancellation: only the wait ends; the writer stays usable and nothing written is lost.
    [[nodiscard]] Coro<> drain();
    Address peername() const;
    Address sockname() const;
    Transport& transport() const;

private:
    std::shared_ptr<detail::StreamCore> m_core;
    std::shared_ptr<void> m_last_copy; // its deleter closes the transport
};

// The callback of start_server(): takes the connection's reader and writer.
using ClientConnectedCb = std::function<Coro<>(StreamReader, StreamWriter)>;

// Connects to host:port (see loop.create_connection).
// Cancellation: the socket is closed.
[[nodiscard]] Coro<std::pair<StreamReader, StreamWriter>>
open_connection(std::string host, int port, StreamOptions options = {});
[[nodiscard]] Coro<std::pair<StreamReader, StreamWriter>>
open_unix_connection(std::string path, StreamOptions options = {});

// Listens on host:port (see loop.create_server); each connection runs `client_connected_cb` as a
// task. An exception from it goes to the loop's exception handler and closes that connection.
// Cancellation: nothing is left listening.
[[nodiscard]] Coro<Server> start_server(ClientConnectedCb client_connected_cb, std::string host,
                                        int port, ServerOptions options = {});
[[nodiscard]] Coro<Server> start_unix_server(ClientConnectedCb client_connected_cb,
                                             std::string path, ServerOptions options = {});

} // namespace asyncio
