// Internal: ProcessCore, a child process on a libuv process handle (asyncio's
// BaseSubprocessTransport), and PipeProtocol, the protocol of the pipes to it.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <uv.h>

#include "asyncio/detail/runtime/io_resource.hpp"
#include "asyncio/detail/runtime/loop_core.hpp"
#include "io/io_wait.hpp"
#include "io/stream_core.hpp"

namespace asyncio::detail {

// Invariants:
// - the libuv handle is open from spawn() until the exit is reported (or the loop closes); while
//   it is open the process is one of the loop's I/O resources (the loop polls, so the exit is
//   seen at once) and m_self keeps the core alive, whether or not a Process handle is held;
// - returncode is set once, when libuv reports the exit (libuv has reaped the child then);
// - finished() (exited, and every pipe to the child lost) is when wait() returns: asyncio wakes
//   its exit waiters after the pipes' connection_lost, so the output is complete by then;
// - the loop closing with the child still running kills it and reaps it: no zombie is left.
class ProcessCore final : public IoResource, public std::enable_shared_from_this<ProcessCore> {
public:
    explicit ProcessCore(LoopCore& loop) noexcept : m_loop(loop) {}
    ProcessCore(const ProcessCore&) = delete;
    ProcessCore& operator=(const ProcessCore&) = delete;
    ~ProcessCore() = default;

    // Starts the child (`options` without exit_cb: it is set here). Throws the OSError kind of
    // libuv's error (FileNotFoundError, PermissionError, ...) naming `program`.
    void spawn(uv_process_options_t options, const std::string& program);

    int pid() const noexcept { return m_pid; }
    const std::optional<int>& returncode() const noexcept { return m_returncode; }
    bool finished() const noexcept { return m_returncode && m_open_pipes == 0; }
    IoWaitList& exit_waiters() noexcept { return m_exit_waiters; }

    // The pipes count: one more open, one lost.
    void pipe_opened() noexcept { ++m_open_pipes; }
    void pipe_lost() noexcept;

    // ProcessLookupError once the child has exited; OSError for an invalid signal.
    void send_signal(int sig);

    void close_for_loop() noexcept override;

private:
    void on_exit(std::int64_t status, int term_signal) noexcept;
    void close_handle() noexcept;
    void maybe_finish() noexcept;

    LoopCore& m_loop;
    uv_process_t m_handle{};
    std::shared_ptr<ProcessCore> m_self; // while the handle is open
    bool m_handle_open = false;
    int m_pid = 0;
    std::optional<int> m_returncode;
    int m_open_pipes = 0;
    IoWaitList m_exit_waiters;
};

// The protocol of one pipe to the child (asyncio's Read/WriteSubprocessPipeProto joined with the
// stream protocol under it): it feeds the pipe's StreamCore, closes the pipe when the child closes
// its end (EOF: a pipe is one-way, there is nothing left to do on it), and tells the process when
// the pipe is lost. Bytes arriving on the child's stdin pipe are dropped.
class PipeProtocol final : public Protocol {
public:
    PipeProtocol(std::shared_ptr<StreamCore> stream, std::shared_ptr<ProcessCore> process,
                 bool readable)
        : m_stream(std::move(stream), nullptr), m_process(std::move(process)),
          m_readable(readable) {}

    void connection_made(Transport& t) override { m_stream.connection_made(t); }
    void data_received(std::string_view data) override {
        if (m_readable)
            m_stream.data_received(data);
    }
    bool eof_received() override {
        if (m_readable)
            m_stream.eof_received();
        return false;
    }
    void connection_lost(std::exception_ptr exc) override;
    void pause_writing() override { m_stream.pause_writing(); }
    void resume_writing() override { m_stream.resume_writing(); }

private:
    StreamProtocol m_stream;
    std::shared_ptr<ProcessCore> m_process;
    bool m_readable;
};

} // namespace asyncio::detail
