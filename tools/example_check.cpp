// example_check: runs one example program and checks what it prints, how it exits and how long
// it takes against the example's .expect file.
//
//     example_check <stem.expect> <example-binary> [args...]
//
// The .expect format: one directive per line; blank lines and lines starting with '#' are
// ignored. The value is the text after "<directive>:" and one optional space, taken verbatim
// (trailing spaces included).
//
//     line: <regex>          The example's stdout, split into lines, must match the line:
//                            directives one-to-one and in order: the same number of lines, each
//                            fully matched by its regex (ECMAScript syntax, std::regex_match).
//                            No line: directive at all means stdout must be empty.
//     stderr: <regex>        Some line of stderr must fully match the regex. Other stderr lines
//                            are allowed.
//     seconds: <min> <max>   The wall time from start to exit must lie in [min, max] seconds.
//                            Without it the duration is not checked.
//     exit: <code>           The expected exit status (default 0).
//     env: NAME=VALUE        Set NAME in the example's environment (repeatable).
//     signal: <SIG> <regex>  Send the signal (INT, TERM, HUP, USR1 or USR2) to the example once,
//                            as soon as a line of its stdout fully matches the regex
//                            (repeatable; each is sent at most once). The example starts with
//                            those signals at their default disposition.
//     arg: <arg>             An argument of the example (repeatable; before the server's).
//     server: <stem> <regex> Before the example, start the example <stem> (a binary next to it)
//                            with the server-arg: arguments, and wait (at most 10 s) for a line
//                            of its stdout fully matching the regex; the regex's first capture
//                            group (a port, say) is passed to the example as its last argument.
//                            Once the example has exited the server gets SIGINT; its stdout must
//                            then match the server-line: directives one-to-one and in order
//                            (the ready line included), and its exit status server-exit:
//                            (default 0).
//     server-arg: <arg>      An argument of the server (repeatable).
//     server-line: <regex>   A line of the server's stdout, as line: is for the example's.
//     server-exit: <code>    The server's expected exit status after SIGINT.
//     labels: <label>...     Extra ctest labels for the check (read by examples/CMakeLists.txt,
//                            ignored here).
//
// Example, for a program that prints "hello", sleeps one second and prints "world":
//
//     line: hello
//     line: world
//     seconds: 0.95 1.15
//
// The example runs with stdin from /dev/null; stdout and stderr are captured separately. It is
// With EXAMPLE_CHECK_SLACK=<s> in the environment, <max> is raised by s seconds (sanitizer
// builds). It is killed if it runs 10 s past <max> (60 s without a seconds: directive). Exit
// status: 0 when everything matches, 1 on a mismatch (expected and actual are printed), 2 on bad
// usage or a malformed .expect file.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace {

struct BadExpect : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Pattern {
    std::string text;
    std::regex regex;
};

struct SignalAfter {
    int signum;
    Pattern after;
};

struct Server {
    std::string stem;
    Pattern ready;
    std::vector<std::string> args;
    std::vector<Pattern> lines;
    int exit_code = 0;
};

struct Expectation {
    std::optional<Server> server;
    std::vector<SignalAfter> signals;
    std::vector<Pattern> stdout_lines;
    std::vector<Pattern> stderr_lines;
    std::optional<std::pair<double, double>> seconds;
    int exit_code = 0;
    std::vector<std::string> env;
    std::vector<std::string> args;
};

struct Outcome {
    std::string out;
    std::string err;
    int status = 0;
    double seconds = 0;
    bool timed_out = false;
};

Pattern make_pattern(const std::string& text, const std::string& where) {
    try {
        return {text, std::regex(text, std::regex::ECMAScript)};
    } catch (const std::regex_error& e) {
        throw BadExpect(where + ": bad regex /" + text + "/: " + e.what());
    }
}

Expectation parse_expect(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw BadExpect("cannot read " + path);
    }
    Expectation expect;
    std::string raw;
    for (int number = 1; std::getline(in, raw); ++number) {
        if (!raw.empty() && raw.back() == '\r') {
            raw.pop_back();
        }
        const auto first = raw.find_first_not_of(" \t");
        if (first == std::string::npos || raw[first] == '#') {
            continue;
        }
        const std::string where = path + ":" + std::to_string(number);
        const auto colon = raw.find(':');
        if (colon == std::string::npos) {
            throw BadExpect(where + ": expected '<directive>: <value>', got: " + raw);
        }
        const std::string directive = raw.substr(0, colon);
        std::string value = raw.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') {
            value.erase(0, 1);
        }

        if (directive == "line") {
            expect.stdout_lines.push_back(make_pattern(value, where));
        } else if (directive == "stderr") {
            expect.stderr_lines.push_back(make_pattern(value, where));
        } else if (directive == "seconds") {
            std::istringstream numbers(value);
            double low = 0;
            double high = 0;
            std::string rest;
            if (!(numbers >> low >> high) || (numbers >> rest) || low < 0 || high < low) {
                throw BadExpect(where + ": expected 'seconds: <min> <max>', got: " + raw);
            }
            expect.seconds = std::pair{low, high};
        } else if (directive == "exit") {
            std::istringstream number_in(value);
            std::string rest;
            if (!(number_in >> expect.exit_code) || (number_in >> rest)) {
                throw BadExpect(where + ": expected 'exit: <code>', got: " + raw);
            }
        } else if (directive == "env") {
            const auto equals = value.find('=');
            if (equals == std::string::npos || equals == 0) {
                throw BadExpect(where + ": expected 'env: NAME=VALUE', got: " + raw);
            }
            expect.env.push_back(value);
        } else if (directive == "signal") {
            const auto space = value.find(' ');
            const std::string name = value.substr(0, space);
            const std::pair<const char*, int> known[] = {{"INT", SIGINT},
                                                         {"TERM", SIGTERM},
                                                         {"HUP", SIGHUP},
                                                         {"USR1", SIGUSR1},
                                                         {"USR2", SIGUSR2}};
            int signum = 0;
            for (const auto& [n, number] : known)
                if (name == n)
                    signum = number;
            if (signum == 0 || space == std::string::npos)
                throw BadExpect(where + ": expected 'signal: <INT|TERM|HUP|USR1|USR2> <regex>'");
            expect.signals.push_back({signum, make_pattern(value.substr(space + 1), where)});
        } else if (directive == "arg") {
            expect.args.push_back(value);
        } else if (directive == "server") {
            const auto space = value.find(' ');
            if (space == std::string::npos || space == 0)
                throw BadExpect(where + ": expected 'server: <stem> <regex>'");
            expect.server = Server{
                value.substr(0, space), make_pattern(value.substr(space + 1), where), {}, {}, 0};
        } else if (directive == "server-arg" || directive == "server-line" ||
                   directive == "server-exit") {
            if (!expect.server)
                throw BadExpect(where + ": " + directive + " before server:");
            if (directive == "server-arg") {
                expect.server->args.push_back(value);
            } else if (directive == "server-line") {
                expect.server->lines.push_back(make_pattern(value, where));
            } else {
                std::istringstream number_in(value);
                std::string rest;
                if (!(number_in >> expect.server->exit_code) || (number_in >> rest))
                    throw BadExpect(where + ": expected 'server-exit: <code>', got: " + raw);
            }
        } else if (directive != "labels") {
            throw BadExpect(where + ": unknown directive '" + directive + "'");
        }
    }
    return expect;
}

// The current environment with the NAME=VALUE overrides applied.
std::vector<std::string> child_environment(const std::vector<std::string>& overrides) {
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        env.emplace_back(*entry);
    }
    for (const auto& assignment : overrides) {
        const auto prefix = assignment.substr(0, assignment.find('=') + 1);
        std::erase_if(env, [&](const std::string& e) { return e.starts_with(prefix); });
        env.push_back(assignment);
    }
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (auto& s : strings) {
        pointers.push_back(s.data());
    }
    pointers.push_back(nullptr);
    return pointers;
}

[[noreturn]] void fail_system(const char* what, int error) {
    std::fprintf(stderr, "example_check: %s: %s\n", what, std::strerror(error));
    std::exit(2);
}

// Runs argv with the given environment, capturing stdout and stderr (read together through poll,
// so neither pipe can fill up and stall the child), and kills it once limit_seconds have passed.
Outcome run(std::vector<std::string> argv, std::vector<std::string> env, double limit_seconds,
            const std::vector<SignalAfter>& signals) {
    int out_pipe[2];
    int err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        fail_system("pipe2", errno);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

    // The signals the checks send start at their default disposition, whatever ours are.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (const auto& s : signals)
        sigaddset(&defaults, s.signum);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

    auto argv_c = c_strings(argv);
    auto env_c = c_strings(env);
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(limit_seconds));
    pid_t pid = 0;
    const int spawn_error =
        posix_spawnp(&pid, argv_c[0], &actions, &attr, argv_c.data(), env_c.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawn_error != 0) {
        std::fprintf(stderr, "example_check: cannot run %s: %s\n", argv[0].c_str(),
                     std::strerror(spawn_error));
        std::exit(1);
    }

    Outcome outcome;
    auto remaining_ms = [&] {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        return left.count() > 0 ? static_cast<int>(left.count()) : 0;
    };
    auto kill_child = [&] {
        if (!outcome.timed_out) {
            kill(pid, SIGKILL);
            outcome.timed_out = true;
        }
    };

    // Sends each signal once, when a complete stdout line matches its regex.
    std::vector<bool> sent(signals.size(), false);
    std::size_t scanned = 0;
    auto send_signals = [&] {
        for (std::size_t end; (end = outcome.out.find('\n', scanned)) != std::string::npos;
             scanned = end + 1) {
            const std::string line = outcome.out.substr(scanned, end - scanned);
            for (std::size_t k = 0; k < signals.size(); ++k) {
                if (!sent[k] && std::regex_match(line, signals[k].after.regex)) {
                    sent[k] = true;
                    kill(pid, signals[k].signum);
                }
            }
        }
    };

    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&outcome.out, &outcome.err};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const int ready = poll(fds, 2, outcome.timed_out ? -1 : remaining_ms());
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail_system("poll", errno);
        }
        if (ready == 0) {
            kill_child(); // the pipes close once it is gone
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char buffer[4096];
            const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
                if (i == 0)
                    send_signals();
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
            }
        }
    }

    // The pipes are closed; the child has exited or is about to (or closed them and went on).
    for (;;) {
        const pid_t done = waitpid(pid, &outcome.status, WNOHANG);
        if (done == pid) {
            break;
        }
        if (done < 0 && errno != EINTR) {
            fail_system("waitpid", errno);
        }
        if (Clock::now() >= deadline) {
            kill_child();
        }
        const timespec pause{0, 500'000};
        nanosleep(&pause, nullptr);
    }
    outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return outcome;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string::npos) {
            end = text.size();
        }
        std::string line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        lines.push_back(std::move(line));
        pos = end + 1;
    }
    return lines;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) {
        return "exit status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    }
    return "unknown wait status " + std::to_string(status);
}

void print_block(std::ostream& os, const char* title, const std::string& text) {
    os << "---- " << title << " ----\n" << text;
    if (!text.empty() && text.back() != '\n') {
        os << "\n(no newline at end)\n";
    }
}

// A server started for the example: its pid, the read end of its stdout, what it printed.
struct RunningServer {
    pid_t pid = 0;
    int out = -1;
    std::string printed;
    int status = 0;
    bool killed = false;
};

// Reads what the server prints until `done` says so or `seconds` pass; false on a timeout.
template <class Done>
bool read_server(RunningServer& server, double seconds, Done done) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(seconds));
    while (server.out >= 0 && !done()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return false;
        pollfd fd{server.out, POLLIN, 0};
        const int ready = poll(&fd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR)
            fail_system("poll", errno);
        if (ready <= 0)
            continue;
        char buffer[4096];
        const ssize_t n = read(server.out, buffer, sizeof buffer);
        if (n > 0) {
            server.printed.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            close(server.out);
            server.out = -1;
        }
    }
    return done() || server.out < 0;
}

// Starts the server and waits for its ready line; gives the ready line's first capture group.
std::string start_server(const Server& spec, const std::string& example, RunningServer& server,
                         std::vector<std::string> env) {
    const auto slash = example.rfind('/');
    std::vector<std::string> argv{
        (slash == std::string::npos ? std::string() : example.substr(0, slash + 1)) + spec.stem};
    argv.insert(argv.end(), spec.args.begin(), spec.args.end());
    int out_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0)
        fail_system("pipe2", errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    auto argv_c = c_strings(argv);
    auto env_c = c_strings(env);
    const int error =
        posix_spawn(&server.pid, argv_c[0], &actions, &attr, argv_c.data(), env_c.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out_pipe[1]);
    if (error != 0) {
        std::fprintf(stderr, "example_check: cannot run %s: %s\n", argv[0].c_str(),
                     std::strerror(error));
        std::exit(1);
    }
    server.out = out_pipe[0];
    std::smatch match;
    std::string ready_line;
    auto ready = [&] {
        std::size_t pos = 0;
        for (std::size_t end; (end = server.printed.find('\n', pos)) != std::string::npos;
             pos = end + 1) {
            ready_line = server.printed.substr(pos, end - pos);
            if (std::regex_match(ready_line, match, spec.ready.regex))
                return true;
        }
        return false;
    };
    if (!read_server(server, 10, ready) || !ready()) {
        kill(server.pid, SIGKILL);
        waitpid(server.pid, &server.status, 0);
        std::cout << "FAILED: the server " << argv[0] << " printed no line matching /"
                  << spec.ready.text << "/ within 10 s\n";
        print_block(std::cout, "server stdout", server.printed);
        std::exit(1);
    }
    return match.size() > 1 ? match[1].str() : std::string();
}

// Interrupts the server and collects the rest of its output and its exit status.
void stop_server(RunningServer& server) {
    kill(server.pid, SIGINT);
    if (!read_server(server, 10, [] { return false; })) {
        kill(server.pid, SIGKILL);
        server.killed = true;
        read_server(server, 10, [] { return false; });
    }
    while (waitpid(server.pid, &server.status, 0) < 0 && errno == EINTR) {
    }
}

// Compares the outcome with the expectation; prints every difference and returns whether there
// were none.
bool check(const Expectation& expect, const Outcome& outcome, std::ostream& os) {
    bool ok = true;

    if (outcome.timed_out) {
        ok = false;
        os << "timeout: killed after " << outcome.seconds << " s\n";
    } else if (!WIFEXITED(outcome.status) || WEXITSTATUS(outcome.status) != expect.exit_code) {
        ok = false;
        os << "exit: expected exit status " << expect.exit_code << ", got "
           << describe_status(outcome.status) << "\n";
    }

    if (expect.seconds && !outcome.timed_out &&
        (outcome.seconds < expect.seconds->first || outcome.seconds > expect.seconds->second)) {
        ok = false;
        os << "seconds: expected within [" << expect.seconds->first << ", "
           << expect.seconds->second << "], took " << outcome.seconds << "\n";
    }

    const auto actual = split_lines(outcome.out);
    const auto& wanted = expect.stdout_lines;
    bool lines_ok = actual.size() == wanted.size();
    for (std::size_t i = 0; i < actual.size() && i < wanted.size(); ++i) {
        lines_ok = lines_ok && std::regex_match(actual[i], wanted[i].regex);
    }
    if (!lines_ok) {
        ok = false;
        os << "stdout: expected " << wanted.size() << " line(s), got " << actual.size() << ":\n";
        for (std::size_t i = 0; i < std::max(actual.size(), wanted.size()); ++i) {
            const char* verdict = "ok";
            if (i >= wanted.size()) {
                verdict = "EXTRA";
            } else if (i >= actual.size()) {
                verdict = "MISSING";
            } else if (!std::regex_match(actual[i], wanted[i].regex)) {
                verdict = "DIFFERS";
            }
            os << "  line " << (i + 1) << ": " << verdict << "\n    expected  "
               << (i < wanted.size() ? "/" + wanted[i].text + "/" : "nothing") << "\n    actual    "
               << (i < actual.size() ? "\"" + actual[i] + "\"" : "nothing") << "\n";
        }
    }

    const auto errors = split_lines(outcome.err);
    for (const auto& pattern : expect.stderr_lines) {
        bool found = false;
        for (const auto& line : errors) {
            found = found || std::regex_match(line, pattern.regex);
        }
        if (!found) {
            ok = false;
            os << "stderr: no line matches /" << pattern.text << "/\n";
        }
    }
    return ok;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: example_check <file.expect> <example-binary> [args...]\n";
        return 2;
    }
    Expectation expect;
    try {
        expect = parse_expect(argv[1]);
    } catch (const BadExpect& e) {
        std::cerr << "example_check: " << e.what() << "\n";
        return 2;
    }

    // EXAMPLE_CHECK_SLACK (seconds) widens the upper bound: sanitizer builds start and run
    // slower, which says nothing about the example's timing.
    if (const char* slack = std::getenv("EXAMPLE_CHECK_SLACK"); slack && expect.seconds)
        expect.seconds->second += std::atof(slack);
    const double limit = expect.seconds ? expect.seconds->second + 10 : 60;
    std::vector<std::string> example_argv(argv + 2, argv + argc);
    example_argv.insert(example_argv.end(), expect.args.begin(), expect.args.end());
    RunningServer server;
    if (expect.server && access(argv[2], X_OK) != 0) { // never leave a server running alone
        std::fprintf(stderr, "example_check: cannot run %s: %s\n", argv[2], std::strerror(errno));
        return 1;
    }
    if (expect.server)
        example_argv.push_back(
            start_server(*expect.server, argv[2], server, child_environment(expect.env)));
    const Outcome outcome = run(example_argv, child_environment(expect.env), limit, expect.signals);

    std::ostringstream report;
    report.setf(std::ios::fixed);
    report.precision(3);
    bool ok = check(expect, outcome, report);
    if (expect.server) {
        stop_server(server);
        const auto lines = split_lines(server.printed);
        const auto& wanted = expect.server->lines;
        bool lines_ok = lines.size() == wanted.size();
        for (std::size_t i = 0; i < lines.size() && i < wanted.size(); ++i)
            lines_ok = lines_ok && std::regex_match(lines[i], wanted[i].regex);
        if (!lines_ok) {
            ok = false;
            report << "server stdout: expected " << wanted.size() << " line(s), got "
                   << lines.size() << ":\n";
            for (std::size_t i = 0; i < std::max(lines.size(), wanted.size()); ++i)
                report << "  line " << (i + 1) << ": expected "
                       << (i < wanted.size() ? "/" + wanted[i].text + "/" : "nothing")
                       << ", actual " << (i < lines.size() ? "\"" + lines[i] + "\"" : "nothing")
                       << "\n";
        }
        if (server.killed || !WIFEXITED(server.status) ||
            WEXITSTATUS(server.status) != expect.server->exit_code) {
            ok = false;
            report << "server: expected exit status " << expect.server->exit_code
                   << " after SIGINT, got "
                   << (server.killed ? std::string("no exit within 10 s")
                                     : describe_status(server.status))
                   << "\n";
        }
    }
    if (ok) {
        std::cout << "ok: " << argv[2] << " (" << std::fixed << std::setprecision(3)
                  << outcome.seconds << " s, " << split_lines(outcome.out).size() << " line(s))\n";
        return 0;
    }
    std::cout << "FAILED: " << argv[2] << " against " << argv[1] << "\n"
              << report.str() << "took " << std::fixed << std::setprecision(3) << outcome.seconds
              << " s, " << describe_status(outcome.status) << "\n";
    print_block(std::cout, "stdout", outcome.out);
    print_block(std::cout, "stderr", outcome.err);
    if (expect.server)
        print_block(std::cout, "server stdout", server.printed);
    return 1;
}
