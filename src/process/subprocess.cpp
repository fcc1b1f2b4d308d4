// asyncio.subprocess: create_subprocess_exec/shell (the child's standard streams as libuv stdio
// containers, the pipes as stream transports) and Process.
#include "asyncio/subprocess.hpp"

#include <array>
#include <csignal>
#include <fcntl.h>
#include <sys/socket.h>

#include "asyncio/gather.hpp"
#include "asyncio/tasks.hpp"
#include "io/stream_transport.hpp"
#include "io/uv_io.hpp"
#include "process/process_core.hpp"

namespace asyncio {

namespace detail {

namespace {

void check_no_nul(std::string_view s) {
    if (s.find('\0') != std::string_view::npos)
        throw ValueError("embedded null byte");
}

void close_fd(int fd) noexcept {
    uv_fs_t req;
    uv_fs_close(nullptr, &req, fd, nullptr);
    uv_fs_req_cleanup(&req);
}

// The child's stdin, stdout and stderr as libuv stdio containers. A pipe is a socket pair (as
// libuv's own UV_CREATE_PIPE, so write_eof() can shut the writing side down): the parent's end
// becomes a stream transport, the child's end is inherited and closed here once the child has
// it. What was set up is undone on destruction unless the child started.
class ChildStdio {
public:
    ChildStdio(LoopCore& loop, const SubprocessOptions& options) {
        for (int i = 0; i < 3; ++i)
            set_up(loop, i, i == 0 ? options.stdin_ : i == 1 ? options.stdout_ : options.stderr_);
    }
    ChildStdio(const ChildStdio&) = delete;
    ChildStdio& operator=(const ChildStdio&) = delete;
    ~ChildStdio() {
        for (int fd : m_child_ends)
            close_fd(fd);
        for (auto& pipe : m_pipes)
            if (pipe)
                pipe->discard();
    }

    uv_stdio_container_t* containers() noexcept { return m_containers.data(); }
    // The parent's end of stream i, once the child started (null when i is not a pipe).
    IntrusivePtr<StreamTransport> take_pipe(int i) noexcept { return std::move(m_pipes[i]); }

private:
    void inherit(int i, int fd) noexcept {
        m_containers[i].flags = UV_INHERIT_FD;
        m_containers[i].data.fd = fd;
    }
    void set_up(LoopCore& loop, int i, std::optional<int> how) {
        static constexpr std::array<const char*, 3> names{"stdin_", "stdout_", "stderr_"};
        if (!how) {
            inherit(i, i);
        } else if (*how == STDOUT) {
            if (i != 2)
                throw ValueError(std::string("STDOUT is only valid for stderr_, not for ") +
                                 names[i]);
            m_containers[2] = m_containers[1];
        } else if (*how == PIPE) {
            uv_os_sock_t fds[2];
            check_uv(uv_socketpair(SOCK_STREAM, 0, fds, 0, 0), "socketpair");
            m_child_ends.push_back(fds[1]);
            IntrusivePtr<StreamTransport> t(new StreamTransport(loop, StreamTransport::Kind::pipe));
            m_pipes[i] = t;
            int rc = uv_pipe_open(reinterpret_cast<uv_pipe_t*>(t->stream()), fds[0]);
            if (rc < 0) {
                close_fd(fds[0]);
                throw_uv(rc, "pipe");
            }
            inherit(i, fds[1]);
        } else if (*how == DEVNULL) {
            uv_fs_t req;
            int fd = uv_fs_open(nullptr, &req, "/dev/null", O_RDWR | O_CLOEXEC, 0, nullptr);
            uv_fs_req_cleanup(&req);
            check_uv(fd, "/dev/null");
            m_child_ends.push_back(fd);
            inherit(i, fd);
        } else if (*how >= 0) {
            inherit(i, *how);
        } else {
            throw ValueError(std::string("invalid ") + names[i] + ": " + std::to_string(*how) +
                             " (PIPE, STDOUT, DEVNULL or a file descriptor)");
        }
    }

    std::array<uv_stdio_container_t, 3> m_containers{};
    std::array<IntrusivePtr<StreamTransport>, 3> m_pipes;
    std::vector<int> m_child_ends;
};

Process start_process(const std::string& program, std::vector<std::string> args,
                      const SubprocessOptions& options) {
    LoopCore& loop = running_core_or_raise();
    if (options.limit == 0)
        throw ValueError("Limit cannot be <= 0");
    check_no_nul(program);
    std::vector<char*> argv;
    args.insert(args.begin(), program);
    for (std::string& a : args) {
        check_no_nul(a);
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    std::vector<char*> envp;
    if (options.env) {
        for (const auto& [name, value] : *options.env) {
            check_no_nul(name);
            check_no_nul(value);
            if (name.empty() || name.find('=') != std::string::npos)
                throw ValueError("illegal environment variable name: '" + name + "'");
            env_strings.push_back(name + "=" + value);
        }
        for (std::string& e : env_strings)
            envp.push_back(e.data());
        envp.push_back(nullptr);
    }
    if (options.cwd)
        check_no_nul(*options.cwd);

    ChildStdio stdio(loop, options);
    uv_process_options_t uv_options{};
    uv_options.file = program.c_str();
    uv_options.args = argv.data();
    uv_options.env = options.env ? envp.data() : nullptr;
    uv_options.cwd = options.cwd ? options.cwd->c_str() : nullptr;
    uv_options.stdio_count = 3;
    uv_options.stdio = stdio.containers();
    auto core = std::make_shared<ProcessCore>(loop);
    core->spawn(uv_options, program);

    Process process(core);
    for (int i = 0; i < 3; ++i) {
        IntrusivePtr<StreamTransport> t = stdio.take_pipe(i);
        if (!t)
            continue;
        auto stream = std::make_shared<StreamCore>(options.limit);
        stream->m_transport = t; // usable at once, before connection_made() confirms it
        core->pipe_opened();
        t->start(std::make_unique<PipeProtocol>(stream, core, i != 0));
        if (i == 0)
            process.stdin_.emplace(stream);
        else if (i == 1)
            process.stdout_.emplace(stream);
        else
            process.stderr_.emplace(stream);
    }
    return process;
}

Coro<std::string> read_to_eof(std::optional<StreamReader> reader) {
    if (!reader)
        co_return std::string();
    co_return co_await reader->read();
}

Coro<> feed_stdin(std::optional<StreamWriter> writer, std::string input) {
    if (!writer)
        co_return;
    try {
        if (!input.empty() && !writer->is_closing()) {
            writer->write(input);
            co_await writer->drain();
        }
    } catch (const BrokenPipeError&) { // the child stopped reading: not an error (asyncio)
    } catch (const ConnectionResetError&) {
    }
    if (!writer->is_closing())
        writer->close();
}

Coro<int> wait_for_exit(std::shared_ptr<ProcessCore> core) {
    while (!core->finished()) {
        IoWait w(core->exit_waiters(), "Process.wait");
        co_await w;
    }
    co_return *core->returncode();
}

// asyncio's Process.communicate(): the three streams at once, then the exit.
Coro<std::pair<std::string, std::string>>
communicate(std::shared_ptr<ProcessCore> core, std::optional<StreamWriter> in,
            std::optional<StreamReader> out, std::optional<StreamReader> err, std::string input) {
    auto [fed, out_data, err_data] =
        co_await gather(feed_stdin(std::move(in), std::move(input)), read_to_eof(std::move(out)),
                        read_to_eof(std::move(err)));
    (void)fed;
    co_await wait_for_exit(core);
    co_return std::pair<std::string, std::string>(std::move(out_data), std::move(err_data));
}

} // namespace

Coro<Process> spawn_process(std::string program, std::vector<std::string> args,
                            SubprocessOptions options) {
    co_return start_process(program, std::move(args), options);
}

} // namespace detail

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                     SubprocessOptions options) {
    return detail::spawn_process(std::move(program), std::move(args), std::move(options));
}

Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options) {
    std::vector<std::string> args;
    args.push_back("-c");
    args.push_back(std::move(cmd));
    return detail::spawn_process("/bin/sh", std::move(args), std::move(options));
}

// ---- Process ----

Process::Process(std::shared_ptr<detail::ProcessCore> core) noexcept : m_core(std::move(core)) {}

int Process::pid() const noexcept { return m_core->pid(); }

std::optional<int> Process::returncode() const noexcept { return m_core->returncode(); }

std::ostream& operator<<(std::ostream& os, const Process& p) {
    return os << "<Process " << p.pid() << ">";
}

void Process::send_signal(int sig) { m_core->send_signal(sig); }
void Process::terminate() { m_core->send_signal(SIGTERM); }
void Process::kill() { m_core->send_signal(SIGKILL); }

// Both take what they need by value: a Process handle may go before its task runs.
Coro<int> Process::wait() { return detail::wait_for_exit(m_core); }

Coro<std::pair<std::string, std::string>> Process::communicate(std::string input) {
    return detail::communicate(m_core, stdin_, stdout_, stderr_, std::move(input));
}

} // namespace asyncio
