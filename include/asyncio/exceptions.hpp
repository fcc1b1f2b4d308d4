// asyncio.exceptions: the error types of the library.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

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

// Ctrl-C (SIGINT) ended asyncio::run() (Python's KeyboardInterrupt). Like CancelledError, it does
// NOT derive from std::exception, so `catch (const std::exception&)` lets it pass.
class KeyboardInterrupt {
public:
    const char* what() const noexcept { return "KeyboardInterrupt"; }
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

// An await chain deeper than debug mode allows (Python's RecursionError).
class RecursionError : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
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

namespace detail {
// Whether `e` holds an exception of type E (or derived from it).
template <class E>
bool holds(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}
} // namespace detail

// Several errors at once (Python's ExceptionGroup): what a TaskGroup raises when children or its
// body failed. exceptions() are in the order the errors happened; a child group's failure nests
// as an ExceptionGroup inside its parent's. C++ has no `except*`: subgroup<E>() and split<E>()
// select the leaves of type E (an ExceptionGroup E is matched whole), keeping the nesting.
class ExceptionGroup : public std::exception {
public:
    ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
    const std::string& message() const noexcept { return m_message; }
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return m_exceptions; }
    // "unhandled errors in a TaskGroup (2 sub-exceptions)"
    const char* what() const noexcept override { return m_what.c_str(); }

    // The leaves of type E, or nothing if none is.
    template <class E>
    std::optional<ExceptionGroup> subgroup() const {
        return split<E>().first;
    }
    // (the leaves of type E, the others), each nothing if empty.
    template <class E>
    std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split() const {
        std::vector<std::exception_ptr> match;
        std::vector<std::exception_ptr> rest;
        for (const std::exception_ptr& e : m_exceptions) {
            if (detail::holds<E>(e)) {
                match.push_back(e);
            } else if (const ExceptionGroup* g = group_of(e)) {
                auto [m, r] = g->split<E>();
                if (m)
                    match.push_back(std::make_exception_ptr(std::move(*m)));
                if (r)
                    rest.push_back(std::make_exception_ptr(std::move(*r)));
            } else {
                rest.push_back(e);
            }
        }
        return {part(std::move(match)), part(std::move(rest))};
    }

private:
    // The group `e` holds, or null; valid while `e` is.
    static const ExceptionGroup* group_of(const std::exception_ptr& e) noexcept;
    std::optional<ExceptionGroup> part(std::vector<std::exception_ptr> exceptions) const {
        if (exceptions.empty())
            return std::nullopt;
        return ExceptionGroup(m_message, std::move(exceptions));
    }

    std::string m_message;
    std::vector<std::exception_ptr> m_exceptions;
    std::string m_what;
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

// put() or get() on a queue that was shut down (and, for get(), drained)
// (asyncio.QueueShutDown, 3.13).
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

// ---- I/O errors (Python's OSError family, as asyncio raises them) ----

// An operating-system error: code().value() is the errno (Python's OSError.errno), in the
// generic category. Raised by the networking layer; its kinds below mirror Python's subclasses.
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

// A file or program that does not exist (ENOENT).
class FileNotFoundError : public OSError {
public:
    using OSError::OSError;
};
// Not allowed (EACCES, EPERM).
class PermissionError : public OSError {
public:
    using OSError::OSError;
};
// No such process (ESRCH): signalling a process that has exited.
class ProcessLookupError : public OSError {
public:
    using OSError::OSError;
};

// The category of getaddrinfo()'s EAI_* codes (its messages are gai_strerror()'s).
const std::error_category& gai_category() noexcept;

// Name resolution failed (Python's socket.gaierror): code() is the EAI_* code in
// gai_category(); what() names the host.
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

// readuntil() found no separator within the stream's limit: consumed() bytes are still
// buffered.
class LimitOverrunError : public std::runtime_error {
public:
    LimitOverrunError(const std::string& message, std::size_t consumed)
        : std::runtime_error(message), m_consumed(consumed) {}
    std::size_t consumed() const noexcept { return m_consumed; }

private:
    std::size_t m_consumed;
};

} // namespace asyncio
