// ProcessCore: a child process on a libuv process handle; PipeProtocol.
#include "process/process_core.hpp"

#include <cerrno>
#include <csignal>
#include <sys/wait.h>

#include "asyncio/exceptions.hpp"
#include "io/uv_io.hpp"

namespace asyncio::detail {

void ProcessCore::spawn(uv_process_options_t options, const std::string& program) {
    options.exit_cb = [](uv_process_t* h, std::int64_t status, int term_signal) {
        static_cast<ProcessCore*>(h->data)->on_exit(status, term_signal);
    };
    m_handle.data = this;
    int rc = uv_spawn(uv_loop_of(m_loop), &m_handle, &options);
    // The handle is initialised either way and must be closed (libuv's rule); its close callback
    // releases m_self.
    m_self = shared_from_this();
    m_handle_open = true;
    if (rc < 0) {
        close_handle();
        throw_uv(rc, "cannot run '" + program + "'");
    }
    m_pid = m_handle.pid;
    m_loop.add_io(this);
}

void ProcessCore::on_exit(std::int64_t status, int term_signal) noexcept {
    m_returncode = term_signal != 0 ? -term_signal : static_cast<int>(status);
    close_handle();
    maybe_finish();
}

void ProcessCore::pipe_lost() noexcept {
    --m_open_pipes;
    maybe_finish();
}

void ProcessCore::maybe_finish() noexcept {
    if (finished())
        IoWait::wake_all(m_exit_waiters);
}

void ProcessCore::send_signal(int sig) {
    if (m_returncode || !m_handle_open)
        throw ProcessLookupError(ESRCH, "process " + std::to_string(m_pid) + " has exited");
    check_uv(uv_process_kill(&m_handle, sig), "send_signal(" + std::to_string(sig) + ")");
}

void ProcessCore::close_handle() noexcept {
    if (!m_handle_open)
        return;
    m_handle_open = false;
    if (registered())
        m_loop.remove_io(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&m_handle), [](uv_handle_t* h) {
        // The last reference may go with m_self: move it out first.
        std::shared_ptr<ProcessCore> self = std::move(static_cast<ProcessCore*>(h->data)->m_self);
    });
}

void ProcessCore::close_for_loop() noexcept {
    // The loop is closing with the child still running: asyncio's transport close() kills it.
    // Once the handle is closed libuv no longer reaps it, so it is reaped here; SIGKILL makes
    // the blocking waitpid() short. (libuv has no call that reaps one process synchronously.)
    if (m_handle_open && !m_returncode) {
        uv_process_kill(&m_handle, SIGKILL);
        int status = 0;
        while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    close_handle();
}

void PipeProtocol::connection_lost(std::exception_ptr exc) {
    m_stream.connection_lost(exc);
    std::shared_ptr<ProcessCore> process = std::move(m_process);
    process->pipe_lost();
}

} // namespace asyncio::detail
