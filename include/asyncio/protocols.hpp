// asyncio.protocols: the callbacks a transport makes (BaseProtocol, Protocol, BufferedProtocol,
// DatagramProtocol).
#pragma once

#include <cstddef>
#include <exception>
#include <span>
#include <string_view>

namespace asyncio {

class Transport;
class DatagramTransport;
struct Address;

// What every protocol hears. Order, as in asyncio: connection_made() first, connection_lost()
// exactly once and last; pause_writing()/resume_writing() alternate, starting with a pause, when
// the transport's write buffer crosses its high-water mark and falls back to its low one.
// An exception thrown by any callback goes to the loop's exception handler and aborts the
// transport (connection_lost() then receives it).
class BaseProtocol {
public:
    virtual ~BaseProtocol() = default;
    // The transport stays valid until connection_lost() returns.
    virtual void connection_made(Transport&) {}
    // `exc` is null on a regular close or EOF, else the error that ended the connection.
    virtual void connection_lost(std::exception_ptr) {}
    virtual void pause_writing() {}
    virtual void resume_writing() {}
};

// A stream protocol: the transport hands it the bytes it received.
class Protocol : public BaseProtocol {
public:
    // The data is valid only during the call.
    virtual void data_received(std::string_view) {}
    // The peer sent EOF. Returning false (the default) closes the transport; true keeps it open
    // for writing (half-close), and the protocol closes it later.
    virtual bool eof_received() { return false; }
};

// A stream protocol that receives into its own memory, saving a copy (asyncio.BufferedProtocol).
class BufferedProtocol : public Protocol {
public:
    // A writable buffer for the next read (at least one byte); size_hint is a suggestion.
    virtual std::span<char> get_buffer(std::size_t size_hint) = 0;
    // `nbytes` bytes were written at the start of the last buffer given.
    virtual void buffer_updated(std::size_t nbytes) = 0;

private:
    // Not called: the data arrives through buffer_updated().
    void data_received(std::string_view) final {}
};

// What a datagram (UDP) endpoint hears, in asyncio's order: connection_made() first,
// connection_lost() exactly once and last. Unlike asyncio's, not a BaseProtocol: its
// connection_made() takes the DatagramTransport (C++ cannot narrow the parameter of an override).
// pause_writing()/resume_writing() follow the send buffer as a stream protocol's do. An
// exception thrown by a callback goes to the loop's exception handler and closes the endpoint.
class DatagramProtocol {
public:
    virtual ~DatagramProtocol() = default;
    // The transport stays valid until connection_lost() returns.
    virtual void connection_made(DatagramTransport&) {}
    // `exc` is null on close(), else the error that ended the endpoint.
    virtual void connection_lost(std::exception_ptr) {}
    virtual void pause_writing() {}
    virtual void resume_writing() {}
    // One datagram (possibly empty) from `addr`; the data is valid only during the call.
    virtual void datagram_received(std::string_view, const Address&) {}
    // A send or receive failed (an OSError, e.g. ConnectionRefusedError after an ICMP port
    // unreachable on a connected endpoint); the endpoint stays open.
    virtual void error_received(std::exception_ptr) {}
};

} // namespace asyncio
