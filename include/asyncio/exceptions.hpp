// asyncio.exceptions: the error types of the library.
#pragma once

#include <stdexcept>
#include <string>

namespace asyncio {

// The operation was cancelled. Like Python's BaseException subclass, it does NOT derive from
// std::exception: `catch (const std::exception&)` lets a cancellation pass, so ordinary error
// handling cannot swallow it by accident. Catch it by name, clean up, and rethrow.
class CancelledError {
public:
    CancelledError() = default;
    explicit CancelledError(std::string msg) : m_message(std::move(msg)) {}
    // The message given to cancel(msg); empty when none was given.
    const std::string& message() const noexcept { return m_message; }
    const char* what() const noexcept { return m_message.c_str(); }

private:
    std::string m_message;
};

// The operation has exceeded the given deadline.
class TimeoutError : public std::runtime_error {
public:
    TimeoutError() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
};

// A Task or Future is not in the state the call needs (e.g. result() while pending).
class InvalidStateError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// Misuse of the loop or of a coroutine at run time (no running loop, reuse, ...).
class RuntimeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A context variable has no value and no default.
class LookupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An argument has the right type but an invalid value (Python's ValueError).
class ValueError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// Queue.get_nowait() on an empty queue (asyncio.QueueEmpty).
class QueueEmpty : public std::runtime_error {
public:
    QueueEmpty() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
};

// Queue.put_nowait() on a full queue (asyncio.QueueFull).
class QueueFull : public std::runtime_error {
public:
    QueueFull() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
};

// put() or get() on a queue that was shut down (and, for get(), drained) (asyncio.QueueShutDown,
// 3.13).
class QueueShutDown : public std::runtime_error {
public:
    QueueShutDown() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
};

// A Barrier was aborted or reset while a task waited on it (asyncio.BrokenBarrierError).
class BrokenBarrierError : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
};

} // namespace asyncio
