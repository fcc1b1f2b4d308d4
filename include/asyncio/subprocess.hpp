// asyncio.subprocess: create_subprocess_exec, create_subprocess_shell and Process, on libuv's
// process handles, with the child's pipes as the io layer's streams.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "coroutines.hpp"
#include "streams.hpp"

namespace asyncio {

namespace detail {
class ProcessCore;
}

// What a child's standard stream is connected to (Python's subprocess.PIPE, STDOUT, DEVNULL); any
// other value of SubprocessOptions::stdin_/stdout_/stderr_ is a file descriptor the child
// inherits, and an unset one is the parent's own stream.
inline constexpr int PIPE = -1;
inline constexpr int STDOUT = -2; // stderr_ only: where stdout_ goes
inline constexpr int DEVNULL = -3;

struct SubprocessOptions {
    std::optional<int> stdin_{};
    std::optional<int> stdout_{};
    std::optional<int> stderr_{};
    std::optional<std::string> cwd{};                        // unset: the parent's
    std::optional<std::map<std::string, std::string>> env{}; // unset: the parent's environment
    std::size_t limit = stream_default_limit;                // of the stdout_/stderr_ readers
};

// A child process (asyncio.subprocess.Process). A handle: copies share the process.
//
// Its exit is watched by the loop whether or not a handle is kept; closing the loop kills a child
// still running and reaps it, so none is left a zombie.
class Process {
public:
    explicit Process(std::shared_ptr<detail::ProcessCore> core) noexcept;

    int pid() const noexcept;
    // Set once the child has exited: its exit status, or -N when signal N ended it.
    std::optional<int> returncode() const noexcept;

    // Waits until the child has exited and its stdout_/stderr_ pipes have reached EOF (asyncio's
    // order), and gives returncode(). With stdout_ = PIPE, a child writing more than the pipe and
    // the reader's buffer hold waits for its output to be read: use communicate().
    // Cancellation: only the wait ends; the child runs on and the Process stays usable.
    [[nodiscard]] Coro<int> wait();
    // Writes `input` to stdin_ (when it is a pipe) and closes it, reads stdout_ and stderr_ to EOF
    // at the same time (so no pipe fills up), then waits for the exit. Gives (stdout, stderr);
    // "" for a stream that is not a pipe. A child that stops reading its input early is not an
    // error (BrokenPipeError and ConnectionResetError are ignored, as in asyncio).
    // Cancellation: the reads and the write end; what was read is lost (as in asyncio), the child
    // runs on and the Process stays usable.
    [[nodiscard]] Coro<std::pair<std::string, std::string>> communicate(std::string input = {});

    // Sends signal `sig`. ProcessLookupError once the child has exited (its pid may be reused);
    // OSError for an invalid signal number.
    void send_signal(int sig);
    void terminate(); // SIGTERM
    void kill();      // SIGKILL

    std::optional<StreamWriter> stdin_;
    std::optional<StreamReader> stdout_;
    std::optional<StreamReader> stderr_;

    // asyncio's repr: "<Process 1234>".
    friend std::ostream& operator<<(std::ostream& os, const Process& p);

private:
    std::shared_ptr<detail::ProcessCore> m_core;
};

namespace detail {

[[nodiscard]] Coro<Process> spawn_process(std::string program, std::vector<std::string> args,
                                          SubprocessOptions options);

template <class T>
inline constexpr bool is_subprocess_argument =
    std::is_convertible_v<const T&, std::string_view> && !std::is_same_v<T, std::nullptr_t>;

template <class A>
void add_subprocess_argument(std::vector<std::string>& args, SubprocessOptions& options, A&& arg) {
    using T = std::remove_cvref_t<A>;
    if constexpr (std::is_same_v<T, SubprocessOptions>)
        options = std::forward<A>(arg);
    else
        args.emplace_back(std::string_view(arg));
}

} // namespace detail

// Runs `program` (looked up in PATH when it has no '/') with the given arguments, each a string,
// and optionally SubprocessOptions last, as Python's create_subprocess_exec(program, *args, ...):
//     co_await asyncio::create_subprocess_exec("ls", "-l", dir, asyncio::SubprocessOptions{...});
// FileNotFoundError or PermissionError (kinds of OSError) when it cannot be started; ValueError
// for an empty program or an argument holding a NUL byte. The child's pipes are ready when the
// Process is given; nothing here suspends, so there is nothing to cancel.
template <class... A>
[[nodiscard]] Coro<Process> create_subprocess_exec(std::string program, A&&... args) {
    constexpr std::size_t count = sizeof...(A);
    constexpr std::size_t options_count =
        (std::size_t{0} + ... + std::is_same_v<std::remove_cvref_t<A>, SubprocessOptions>);
    static_assert(((detail::is_subprocess_argument<std::remove_cvref_t<A>> ||
                    std::is_same_v<std::remove_cvref_t<A>, SubprocessOptions>)&&...),
                  "create_subprocess_exec(program, args..., options): each argument must be a "
                  "string (const char*, std::string, std::string_view), and the options a "
                  "SubprocessOptions");
    static_assert(options_count <= 1, "create_subprocess_exec() takes one SubprocessOptions");
    if constexpr (options_count == 1) {
        using Last = std::remove_cvref_t<std::tuple_element_t<count - 1, std::tuple<A...>>>;
        static_assert(std::is_same_v<Last, SubprocessOptions>,
                      "create_subprocess_exec(): the SubprocessOptions come last");
    }
    std::vector<std::string> argv;
    argv.reserve(count);
    SubprocessOptions options;
    (detail::add_subprocess_argument(argv, options, std::forward<A>(args)), ...);
    return detail::spawn_process(std::move(program), std::move(argv), std::move(options));
}

// The same with the arguments as one range (a std::vector<std::string>, say).
[[nodiscard]] Coro<Process> create_subprocess_exec(std::string program,
                                                   std::vector<std::string> args,
                                                   SubprocessOptions options = {});

// Runs `cmd` through /bin/sh -c (Python's create_subprocess_shell). The shell reports a command
// it cannot find with exit status 127.
[[nodiscard]] Coro<Process> create_subprocess_shell(std::string cmd,
                                                    SubprocessOptions options = {});

} // namespace asyncio
