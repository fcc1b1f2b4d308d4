// asyncio.transports: the stream transport's interface and socket addresses.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/base/address.hpp"

namespace asyncio {

class BaseProtocol;
class DatagramProtocol;

// A stream connection (TCP or Unix socket), as asyncio's Transport: write() sends what it can now
// and buffers the rest; the protocol's pause_writing() is called when the buffer passes the
// high-water mark (64 KiB by default) and resume_writing() when it falls to the low one.
// close() sends what is buffered first, then closes; abort() closes at once, dropping it.
// A transport lives until its protocol's connection_lost() has returned and nobody holds it.
class Transport {
public:
    // RuntimeError after close(), abort() or write_eof(); ignored once the connection was lost
    // (drain() reports that loss, as in asyncio).
    virtual void write(std::string_view data) = 0;
    template <class R>
    void writelines(const R& range) {
        for (const auto& piece : range)
            write(std::string_view(piece));
    }
    // Sends EOF once the buffer is flushed; reading goes on.
    virtual void write_eof() = 0;
    virtual bool can_write_eof() const noexcept = 0;
    virtual void close() = 0;
    virtual void abort() = 0;
    virtual bool is_closing() const noexcept = 0;
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    virtual bool is_reading() const noexcept = 0;
    virtual std::size_t get_write_buffer_size() const noexcept = 0;
    // asyncio's rule: without `low`, low = high / 4; without `high`, high = 4 * low (64 KiB
    // when neither is given). ValueError unless high >= low.
    virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                         std::optional<std::size_t> low = std::nullopt) = 0;
    virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept = 0;
    // Empty Address when the socket has no such name (or is closed).
    virtual Address peername() const = 0;
    virtual Address sockname() const = 0;
    virtual BaseProtocol& get_protocol() noexcept = 0;

protected:
    ~Transport() = default;
};

} // namespace asyncio

namespace asyncio {

// A datagram (UDP) endpoint, as asyncio's DatagramTransport: sendto() sends now when nothing is
// queued and queues the datagram otherwise; the protocol's pause_writing() is called when the
// queue passes the high-water mark (64 KiB) and resume_writing() when it falls to the low one
// (16 KiB). close() sends what is queued first; abort() drops it.
class DatagramTransport {
public:
    // To `addr`, or to the endpoint's remote_addr when it has one (then `addr` must be empty or
    // that address: ValueError otherwise; ValueError too with neither). RuntimeError after
    // close() or abort(). An OSError of the send goes to the protocol's error_received().
    // `addr` must be numeric (ValueError for a name): asyncio's sendto() resolves a name
    // synchronously, which would block the loop; resolve it first with loop.getaddrinfo().
    virtual void sendto(std::string_view data, std::optional<Address> addr = std::nullopt) = 0;
    virtual void close() = 0;
    virtual void abort() = 0;
    virtual bool is_closing() const noexcept = 0;
    virtual std::size_t get_write_buffer_size() const noexcept = 0;
    // Empty Address when the socket has no such name (not connected, or closed).
    virtual Address peername() const = 0;
    virtual Address sockname() const = 0;
    virtual DatagramProtocol& get_protocol() noexcept = 0;

protected:
    ~DatagramTransport() = default;
};

// One result of getaddrinfo() (Python's 5-tuple): `addr` is numeric.
struct AddrInfo {
    int family = 0;
    int type = 0;
    int proto = 0;
    std::string canonname;
    Address addr;
};

} // namespace asyncio
