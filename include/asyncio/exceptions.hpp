// asyncio.exceptions: the error types of the library.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

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

// ---- I/O errors (Python's OSError family, as asyncio raises them) ----

// An operating-system error: code().value() is the errno (Python's OSError.errno), in the generic
// category. Raised by the networking layer; its kinds below mirror Python's subclasses.
class OSError : public std::system_error {
public:
    OSError(int err, const std::string& what)
        : std::system_error(err, std::generic_category(), what) {}
    OSError(std::error_code code, const std::string& what) : std::system_error(code, what) {}
};
class ConnectionError : public OSError {
public:
    using OSError::OSError;
};
class ConnectionRefusedError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
class ConnectionResetError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
class ConnectionAbortedError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
class BrokenPipeError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};

// The category of getaddrinfo()'s EAI_* codes (its messages are gai_strerror()'s).
const std::error_category& gai_category() noexcept;

// Name resolution failed (Python's socket.gaierror): code() is the EAI_* code in gai_category();
// what() names the host.
class GaiError : public OSError {
public:
    GaiError(int eai, const std::string& what)
        : OSError(std::error_code(eai, gai_category()), what) {}
};

// readexactly() met EOF first: partial() holds what was read, expected() what was asked for.
class IncompleteReadError : public std::runtime_error {
public:
    IncompleteReadError(std::string partial, std::optional<std::size_t> expected);
    const std::string& partial() const noexcept { return m_partial; }
    std::optional<std::size_t> expected() const noexcept { return m_expected; }

private:
    std::string m_partial;
    std::optional<std::size_t> m_expected;
};

// readuntil() found no separator within the stream's limit: consumed() bytes are still buffered.
class LimitOverrunError : public std::runtime_error {
public:
    LimitOverrunError(const std::string& message, std::size_t consumed)
        : std::runtime_error(message), m_consumed(consumed) {}
    std::size_t consumed() const noexcept { return m_consumed; }

private:
    std::size_t m_consumed;
};

} // namespace asyncio
