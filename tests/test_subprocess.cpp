// asyncio.subprocess: create_subprocess_exec/shell and Process (ports of CPython's
// test_subprocess.py, and fault cases: many children, large outputs, kills while reading, no
// zombies).
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "asyncio_test.hpp"
#include "net_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::DEVNULL;
using asyncio::PIPE;
using asyncio::Process;
using asyncio::SubprocessOptions;
using asyncio::testing::bounded;

class SubprocessTest : public asyncio::testing::LoopTest {};

// The processes whose parent is this one; with `zombies_only`, those that exited unreaped.
std::vector<int> children_of_this_process(bool zombies_only) {
    std::vector<int> found;
    DIR* proc = ::opendir("/proc");
    if (!proc)
        return found;
    while (dirent* entry = ::readdir(proc)) {
        int pid = std::atoi(entry->d_name);
        if (pid <= 0)
            continue;
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line))
            continue;
        auto close = line.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream rest(line.substr(close + 1));
        char state = 0;
        int ppid = 0;
        rest >> state >> ppid;
        if (ppid == ::getpid() && (!zombies_only || state == 'Z'))
            found.push_back(pid);
    }
    ::closedir(proc);
    return found;
}

int open_descriptors() {
    int n = 0;
    DIR* fds = ::opendir("/proc/self/fd");
    while (::readdir(fds))
        ++n;
    ::closedir(fds);
    return n;
}

SubprocessOptions pipes(bool in, bool out, bool err = false) {
    SubprocessOptions o;
    if (in)
        o.stdin_ = PIPE;
    if (out)
        o.stdout_ = PIPE;
    if (err)
        o.stderr_ = PIPE;
    return o;
}

// test_stdin_stdout
TEST_F(SubprocessTest, CPython_stdin_stdout) {
    auto [out, code] = run(bounded([]() -> Coro<std::pair<std::string, int>> {
        Process proc = co_await asyncio::create_subprocess_exec("cat", pipes(true, true));
        EXPECT_GT(proc.pid(), 0);
        std::ostringstream repr;
        repr << proc;
        EXPECT_EQ(repr.str(), "<Process " + std::to_string(proc.pid()) + ">");
        proc.stdin_->write("some data\n");
        co_await proc.stdin_->drain();
        proc.stdin_->close();
        std::string out = co_await proc.stdout_->read();
        int code = co_await proc.wait();
        co_return std::pair<std::string, int>(out, code);
    }()));
    EXPECT_EQ(out, "some data\n");
    EXPECT_EQ(code, 0);
}

// test_communicate
TEST_F(SubprocessTest, CPython_communicate) {
    auto [out, err] = run(bounded([]() -> Coro<std::pair<std::string, std::string>> {
        Process proc = co_await asyncio::create_subprocess_exec("cat", pipes(true, true));
        auto result = co_await proc.communicate("some data");
        EXPECT_EQ(proc.returncode(), 0);
        co_return result;
    }()));
    EXPECT_EQ(out, "some data");
    EXPECT_EQ(err, "");
}

// test_communicate_none_input, and arguments given as std::string and std::string_view
TEST_F(SubprocessTest, CPython_communicate_none_input) {
    auto out = run(bounded([]() -> Coro<std::string> {
        std::string word = "hello";
        std::string_view other = "world";
        Process proc =
            co_await asyncio::create_subprocess_exec("echo", word, other, pipes(false, true));
        auto [out, err] = co_await proc.communicate();
        EXPECT_EQ(err, "");
        co_return out;
    }()));
    EXPECT_EQ(out, "hello world\n");
}

// The arguments as one range.
TEST_F(SubprocessTest, ArgumentsAsAVector) {
    auto out = run(bounded([]() -> Coro<std::string> {
        std::vector<std::string> args;
        args.push_back("-n");
        args.push_back("a b");
        Process proc = co_await asyncio::create_subprocess_exec("echo", args, pipes(false, true));
        auto [out, err] = co_await proc.communicate();
        co_return out;
    }()));
    EXPECT_EQ(out, "a b");
}

// test_shell
TEST_F(SubprocessTest, CPython_shell) {
    int code = run(bounded([]() -> Coro<int> {
        Process proc = co_await asyncio::create_subprocess_shell("exit 7");
        co_return co_await proc.wait();
    }()));
    EXPECT_EQ(code, 7);
}

TEST_F(SubprocessTest, ShellCommandNotFoundIs127) {
    auto [code, err] = run(bounded([]() -> Coro<std::pair<int, std::string>> {
        Process proc = co_await asyncio::create_subprocess_shell("no-such-command-zzz",
                                                                 pipes(false, false, true));
        auto [out, err] = co_await proc.communicate();
        co_return std::pair<int, std::string>(co_await proc.wait(), err);
    }()));
    EXPECT_EQ(code, 127);
    EXPECT_NE(err.find("no-such-command-zzz"), std::string::npos) << err;
}

// test_kill, test_terminate, test_send_signal: a signal's exit status is its negative number.
TEST_F(SubprocessTest, CPython_kill_terminate_send_signal) {
    for (int sig : {SIGKILL, SIGTERM, SIGHUP}) {
        int code = run(bounded([](int sig) -> Coro<int> {
            Process proc = co_await asyncio::create_subprocess_exec("sleep", "30");
            EXPECT_FALSE(proc.returncode().has_value());
            if (sig == SIGKILL)
                proc.kill();
            else if (sig == SIGTERM)
                proc.terminate();
            else
                proc.send_signal(sig);
            int code = co_await proc.wait();
            EXPECT_EQ(proc.returncode(), code);
            co_return code;
        }(sig)));
        EXPECT_EQ(code, -sig);
    }
}

TEST_F(SubprocessTest, SignalAfterExitIsProcessLookupError) {
    run(bounded([]() -> Coro<> {
        Process proc = co_await asyncio::create_subprocess_exec("true");
        EXPECT_EQ(co_await proc.wait(), 0);
        EXPECT_THROW(proc.kill(), asyncio::ProcessLookupError);
        EXPECT_THROW(proc.send_signal(SIGTERM), asyncio::ProcessLookupError);
    }()));
}

TEST_F(SubprocessTest, InvalidSignalIsOSError) {
    run(bounded([]() -> Coro<> {
        Process proc = co_await asyncio::create_subprocess_exec("sleep", "30");
        try {
            proc.send_signal(12345);
            ADD_FAILURE() << "no error";
        } catch (const asyncio::OSError& e) {
            EXPECT_EQ(e.code().value(), EINVAL);
        }
        proc.kill();
        EXPECT_EQ(co_await proc.wait(), -SIGKILL);
    }()));
}

// test_stdin_broken_pipe: the child is gone; writing to it raises at drain(), and SIGPIPE does
// not end this process.
TEST_F(SubprocessTest, CPython_stdin_broken_pipe) {
    run(bounded([]() -> Coro<> {
        Process proc = co_await asyncio::create_subprocess_shell("exit 0", pipes(true, false));
        std::string big(4 * 1024 * 1024, 'x');
        bool raised = false;
        try {
            proc.stdin_->write(big);
            co_await proc.stdin_->drain();
            co_await proc.wait();
            proc.stdin_->write(big);
            co_await proc.stdin_->drain();
        } catch (const asyncio::BrokenPipeError&) {
            raised = true;
        } catch (const asyncio::ConnectionResetError&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        EXPECT_EQ(co_await proc.wait(), 0);
    }()));
}

// test_communicate_ignore_broken_pipe
TEST_F(SubprocessTest, CPython_communicate_ignore_broken_pipe) {
    int code = run(bounded([]() -> Coro<int> {
        Process proc = co_await asyncio::create_subprocess_shell("exit 3", pipes(true, true));
        auto [out, err] = co_await proc.communicate(std::string(4 * 1024 * 1024, 'x'));
        EXPECT_EQ(out, "");
        co_return co_await proc.wait();
    }()));
    EXPECT_EQ(code, 3);
}

// test_empty_input: an empty input closes the child's stdin at once.
TEST_F(SubprocessTest, CPython_empty_input) {
    auto out = run(bounded([]() -> Coro<std::string> {
        Process proc = co_await asyncio::create_subprocess_exec("wc", "-c", pipes(true, true));
        auto [out, err] = co_await proc.communicate("");
        EXPECT_EQ(co_await proc.wait(), 0);
        co_return out;
    }()));
    EXPECT_EQ(out, "0\n");
}

// test_stdin_not_inheritable: the parent's end of one child's stdin does not leak into another
// child, which would keep the first from ever seeing EOF.
TEST_F(SubprocessTest, CPython_stdin_not_inheritable) {
    auto [a, b] = run(bounded([]() -> Coro<std::tuple<std::string, std::string>> {
        Process first = co_await asyncio::create_subprocess_exec("cat", pipes(true, true, true));
        Process second = co_await asyncio::create_subprocess_exec("cat", pipes(true, true, true));
        auto [one, two] =
            co_await asyncio::gather(first.communicate("abc"), second.communicate("defg"));
        co_return std::tuple<std::string, std::string>(one.first, two.first);
    }()));
    EXPECT_EQ(a, "abc");
    EXPECT_EQ(b, "defg");
}

// test_kill_issue43884: the killed shell's own child still holds the stdout pipe; wait() gives
// the shell's status once that pipe closes too.
TEST_F(SubprocessTest, CPython_kill_issue43884) {
    int code = run(bounded([]() -> Coro<int> {
        Process proc =
            co_await asyncio::create_subprocess_shell("sleep 1; sleep 1", pipes(false, true));
        proc.kill();
        co_return co_await proc.wait();
    }()));
    EXPECT_EQ(code, -SIGKILL);
}

// test_pause_reading: a small limit pauses the pipe while its buffer is full; all arrives.
TEST_F(SubprocessTest, CPython_pause_reading) {
    auto size = run(bounded([]() -> Coro<std::size_t> {
        SubprocessOptions o = pipes(false, true);
        o.limit = 1024;
        Process proc =
            co_await asyncio::create_subprocess_exec("head", "-c", "1048576", "/dev/zero", o);
        std::size_t total = 0;
        for (;;) {
            std::string chunk = co_await proc.stdout_->read(4096);
            if (chunk.empty())
                break;
            EXPECT_LE(chunk.size(), 4096u);
            total += chunk.size();
        }
        EXPECT_EQ(co_await proc.wait(), 0);
        co_return total;
    }()));
    EXPECT_EQ(size, 1048576u);
}

// test_devnull_input, test_devnull_output, test_devnull_error
TEST_F(SubprocessTest, CPython_devnull) {
    run(bounded([]() -> Coro<> {
        SubprocessOptions in = pipes(false, true);
        in.stdin_ = DEVNULL;
        Process cat = co_await asyncio::create_subprocess_exec("cat", in);
        auto [out, err] = co_await cat.communicate();
        EXPECT_EQ(out, "");
        EXPECT_EQ(co_await cat.wait(), 0);

        SubprocessOptions quiet;
        quiet.stdout_ = DEVNULL;
        quiet.stderr_ = DEVNULL;
        Process noisy =
            co_await asyncio::create_subprocess_shell("echo out; echo err >&2; exit 4", quiet);
        auto [out2, err2] = co_await noisy.communicate();
        EXPECT_EQ(out2, "");
        EXPECT_EQ(err2, "");
        EXPECT_EQ(co_await noisy.wait(), 4);
    }()));
}

// stderr_ = STDOUT: both streams in one pipe, in the order written.
TEST_F(SubprocessTest, StderrToStdout) {
    auto [out, err] = run(bounded([]() -> Coro<std::pair<std::string, std::string>> {
        SubprocessOptions o = pipes(false, true);
        o.stderr_ = asyncio::STDOUT;
        Process proc = co_await asyncio::create_subprocess_shell("echo out; echo err >&2", o);
        EXPECT_FALSE(proc.stderr_.has_value());
        co_return co_await proc.communicate();
    }()));
    EXPECT_EQ(out, "out\nerr\n");
    EXPECT_EQ(err, "");
}

// A descriptor the program owns as the child's stdout.
TEST_F(SubprocessTest, DescriptorAsStdout) {
    char path[] = "/tmp/asyncio-subprocess-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    int code = run(bounded([](int fd) -> Coro<int> {
        SubprocessOptions o;
        o.stdout_ = fd;
        Process proc = co_await asyncio::create_subprocess_exec("echo", "to a file", o);
        co_return co_await proc.wait();
    }(fd)));
    EXPECT_EQ(code, 0);
    ::close(fd);
    std::ifstream file(path);
    std::string line;
    std::getline(file, line);
    EXPECT_EQ(line, "to a file");
    ::unlink(path);
}

// test_cancel_process_wait: the wait ends, the child runs on, the Process stays usable.
TEST_F(SubprocessTest, CPython_cancel_process_wait) {
    run(bounded([]() -> Coro<> {
        Process proc = co_await asyncio::create_subprocess_exec("sleep", "30");
        auto waiter = asyncio::create_task(proc.wait());
        co_await asyncio::sleep(0);
        waiter.cancel();
        EXPECT_THROW(co_await waiter, asyncio::CancelledError);
        EXPECT_FALSE(proc.returncode().has_value());
        proc.kill();
        EXPECT_EQ(co_await proc.wait(), -SIGKILL);
    }()));
}

// A cancelled communicate() leaves the child running and the Process usable.
TEST_F(SubprocessTest, CancelledCommunicateLeavesTheProcessUsable) {
    run(bounded([]() -> Coro<> {
        Process proc = co_await asyncio::create_subprocess_shell("echo started; exec sleep 30",
                                                                 pipes(false, true));
        std::string first = co_await proc.stdout_->readline();
        EXPECT_EQ(first, "started\n");
        auto talk = asyncio::create_task(proc.communicate());
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        talk.cancel();
        EXPECT_THROW(co_await talk, asyncio::CancelledError);
        EXPECT_FALSE(proc.returncode().has_value());
        proc.terminate();
        auto [out, err] = co_await proc.communicate();
        EXPECT_EQ(out, "");
        EXPECT_EQ(co_await proc.wait(), -SIGTERM);
    }()));
}

// test_read_stdout_after_process_exit
TEST_F(SubprocessTest, CPython_read_stdout_after_process_exit) {
    auto out = run(bounded([]() -> Coro<std::string> {
        Process proc =
            co_await asyncio::create_subprocess_exec("echo", "hello", pipes(false, true));
        EXPECT_EQ(co_await proc.wait(), 0);
        co_return co_await proc.stdout_->read();
    }()));
    EXPECT_EQ(out, "hello\n");
}

// Two tasks waiting for one child both see its exit.
TEST_F(SubprocessTest, ConcurrentWaits) {
    auto [a, b] = run(bounded([]() -> Coro<std::tuple<int, int>> {
        Process proc = co_await asyncio::create_subprocess_shell("exit 5");
        co_return co_await asyncio::gather(proc.wait(), proc.wait());
    }()));
    EXPECT_EQ(a, 5);
    EXPECT_EQ(b, 5);
}

// test_create_subprocess_env_shell, test_create_subprocess_env_exec
TEST_F(SubprocessTest, CPython_create_subprocess_env) {
    auto out = run(bounded([]() -> Coro<std::string> {
        SubprocessOptions o = pipes(false, true);
        o.env = std::map<std::string, std::string>{{"FOO", "bar"}};
        Process shell = co_await asyncio::create_subprocess_shell("echo $FOO", o);
        auto [out, err] = co_await shell.communicate();
        Process exec = co_await asyncio::create_subprocess_exec("/usr/bin/env", o);
        auto [env_out, env_err] = co_await exec.communicate();
        EXPECT_EQ(env_out, "FOO=bar\n");
        co_return out;
    }()));
    EXPECT_EQ(out, "bar\n");
}

TEST_F(SubprocessTest, Cwd) {
    auto out = run(bounded([]() -> Coro<std::string> {
        SubprocessOptions o = pipes(false, true);
        o.cwd = "/";
        Process proc = co_await asyncio::create_subprocess_exec("pwd", o);
        auto [out, err] = co_await proc.communicate();
        co_return out;
    }()));
    EXPECT_EQ(out, "/\n");
}

// test_popen_error, test_popen_error_with_stdin_pipe: nothing is left open.
TEST_F(SubprocessTest, CPython_popen_error_ProgramNotFound) {
    int before = 0;
    run(bounded([](int& before) -> Coro<> {
        // The loop's first child and first pipe open descriptors the loop keeps (libuv's SIGCHLD
        // watch, its spare descriptor for streams): count after them.
        Process first = co_await asyncio::create_subprocess_exec("true", pipes(false, true));
        co_await first.communicate();
        before = open_descriptors();
        try {
            Process p = co_await asyncio::create_subprocess_exec("no-such-program-zzz",
                                                                 pipes(true, true, true));
            ADD_FAILURE() << "started " << p.pid();
        } catch (const asyncio::FileNotFoundError& e) {
            EXPECT_EQ(e.code().value(), ENOENT);
            EXPECT_NE(std::string(e.what()).find("no-such-program-zzz"), std::string::npos)
                << e.what();
        }
        SubprocessOptions o;
        o.cwd = "/no/such/dir-zzz";
        EXPECT_THROW(co_await asyncio::create_subprocess_exec("true", o),
                     asyncio::FileNotFoundError);
    }(before)));
    run_until_idle();
    EXPECT_EQ(open_descriptors(), before);
    EXPECT_TRUE(children_of_this_process(false).empty());
}

TEST_F(SubprocessTest, NotExecutableIsPermissionError) {
    char path[] = "/tmp/asyncio-not-executable-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ::chmod(path, 0600);
    run(bounded([](std::string path) -> Coro<> {
        EXPECT_THROW(co_await asyncio::create_subprocess_exec(path), asyncio::PermissionError);
    }(path)));
    ::unlink(path);
}

TEST_F(SubprocessTest, BadArgumentsAreValueErrors) {
    run(bounded([]() -> Coro<> {
        using asyncio::ValueError;
        std::string nul("a\0b", 3);
        EXPECT_THROW(co_await asyncio::create_subprocess_exec("echo", nul), ValueError);
        SubprocessOptions in_to_stdout;
        in_to_stdout.stdin_ = asyncio::STDOUT;
        EXPECT_THROW(co_await asyncio::create_subprocess_exec("true", in_to_stdout), ValueError);
        SubprocessOptions bad_fd;
        bad_fd.stdout_ = -7;
        EXPECT_THROW(co_await asyncio::create_subprocess_exec("true", bad_fd), ValueError);
        SubprocessOptions no_limit = pipes(false, true);
        no_limit.limit = 0;
        EXPECT_THROW(co_await asyncio::create_subprocess_exec("true", no_limit), ValueError);
        SubprocessOptions bad_env;
        bad_env.env = std::map<std::string, std::string>{{"A=B", "c"}};
        EXPECT_THROW(co_await asyncio::create_subprocess_exec("true", bad_env), ValueError);
    }()));
    EXPECT_TRUE(children_of_this_process(false).empty());
}

// 200 children at once: every exit status right, every child reaped.
TEST_F(SubprocessTest, TwoHundredChildrenAllReaped) {
    auto codes = run(bounded(
        []() -> Coro<std::vector<int>> {
            std::vector<Coro<int>> waits;
            for (int i = 0; i < 200; ++i) {
                Process p = co_await asyncio::create_subprocess_shell("exit " + std::to_string(i));
                waits.push_back(p.wait());
            }
            co_return co_await asyncio::gather(std::move(waits));
        }(),
        60));
    ASSERT_EQ(codes.size(), 200u);
    for (int i = 0; i < 200; ++i)
        EXPECT_EQ(codes[static_cast<std::size_t>(i)], i);
    EXPECT_TRUE(children_of_this_process(true).empty());
    EXPECT_TRUE(children_of_this_process(false).empty());
}

// 10 MiB each way through communicate(): no deadlock on outputs larger than the pipes.
TEST_F(SubprocessTest, TenMebibytesThroughCommunicate) {
    std::string input(10 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < input.size(); ++i)
        input[i] = static_cast<char>('a' + i % 26);
    auto out = run(bounded(
        [](std::string input) -> Coro<std::string> {
            Process proc = co_await asyncio::create_subprocess_exec("cat", pipes(true, true));
            auto [out, err] = co_await proc.communicate(std::move(input));
            EXPECT_EQ(co_await proc.wait(), 0);
            co_return out;
        }(input),
        60));
    EXPECT_TRUE(out == input) << out.size() << " bytes back";
}

// A child killed while its output is being read: the reader sees EOF, wait() the signal.
TEST_F(SubprocessTest, KilledWhileItsOutputIsRead) {
    int code = run(bounded([]() -> Coro<int> {
        Process proc = co_await asyncio::create_subprocess_exec("yes", pipes(false, true));
        std::string head = co_await proc.stdout_->readexactly(4096);
        EXPECT_EQ(head.substr(0, 4), "y\ny\n");
        auto reader = asyncio::create_task(proc.stdout_->read());
        co_await asyncio::sleep(0);
        proc.kill();
        std::string rest = co_await reader;
        EXPECT_EQ(rest.find_first_not_of("y\n"), std::string::npos);
        co_return co_await proc.wait();
    }()));
    EXPECT_EQ(code, -SIGKILL);
}

// test_close_kill_running: closing the loop kills a child still running and reaps it.
TEST(SubprocessLoopTest, CPython_close_kill_running) {
    auto loop = std::make_unique<asyncio::EventLoop>();
    int pid = loop->run_until_complete([]() -> Coro<int> {
        Process proc = co_await asyncio::create_subprocess_exec("sleep", "30", pipes(true, true));
        co_return proc.pid();
    }());
    EXPECT_EQ(children_of_this_process(false), std::vector<int>{pid});
    loop->close();
    EXPECT_TRUE(children_of_this_process(false).empty());
}

} // namespace

namespace {

// asyncio::run() ending with children still running leaves no zombie (it closes the loop).
TEST(SubprocessLoopTest, RunEndingWithChildrenRunningLeavesNoZombie) {
    int pid = asyncio::run([]() -> Coro<int> {
        Process a = co_await asyncio::create_subprocess_exec("sleep", "30");
        Process b = co_await asyncio::create_subprocess_shell("exec sleep 30", pipes(false, true));
        co_return b.pid();
    }());
    EXPECT_GT(pid, 0);
    EXPECT_TRUE(children_of_this_process(false).empty());
}

} // namespace
