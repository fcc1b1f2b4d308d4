// Workload "echo": a TCP echo server on 127.0.0.1 (streams: a task per connection) driven by the
// shared load client of BENCH.md ($ECHO_CLIENT: 32 connections, 1 KiB messages, N seconds),
// which this process starts as its child. The RESULT line gives the client's requests/s, and
// server_cpu_us: this process's user+sys CPU per request while the client ran (the client's own
// CPU, client_cpu_us, is apart: it is a child).
//
//     bench_echo [SECONDS=5] [CONNECTIONS=32]
//
// BENCH.md's workload is the default; more connections give the scale curve of
// docs/performance.md (the RESULT line then says conns=).
#include <asyncio.hpp>
#include <cstdlib>
#include <sstream>
#include <string>
#include <sys/resource.h>

#include "echo_handler.hpp"
#include "result.hpp"

namespace {

double cpu_seconds(int who) {
    rusage usage{};
    getrusage(who, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

asyncio::Coro<> amain(long long seconds, int conns, std::string client) {
    auto server = co_await asyncio::start_server(bench::echo_handler, "127.0.0.1", 0);
    std::string port = std::to_string(server.sockets().at(0).port);
    asyncio::SubprocessOptions options;
    options.stdout_ = asyncio::PIPE;
    double cpu_before = cpu_seconds(RUSAGE_SELF);
    auto proc = co_await asyncio::create_subprocess_exec(client, port, std::to_string(conns),
                                                         "1024", std::to_string(seconds), options);
    auto [out, err] = co_await proc.communicate();
    double server_cpu = cpu_seconds(RUSAGE_SELF) - cpu_before;
    double client_cpu = cpu_seconds(RUSAGE_CHILDREN);
    server.close();
    co_await server.wait_closed();
    if (proc.returncode() != 0)
        bench::fail("echo", "the echo client failed");
    // "ECHO_CLIENT requests=<n> seconds=<s> req_per_s=<r> ..."
    std::istringstream words(out);
    long long requests = 0;
    double measured = 0, rate = 0;
    for (std::string word; words >> word;) {
        auto eq = word.find('=');
        if (eq == std::string::npos)
            continue;
        std::string key = word.substr(0, eq), value = word.substr(eq + 1);
        if (key == "requests")
            requests = std::atoll(value.c_str());
        else if (key == "seconds")
            measured = std::atof(value.c_str());
        else if (key == "req_per_s")
            rate = std::atof(value.c_str());
    }
    if (requests <= 0)
        bench::fail("echo", "the echo client reported no requests");
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::string scale;
    if (conns != 32)
        scale = " conns=" + std::to_string(conns);
    std::printf("RESULT impl=asyncio workload=echo n=%lld seconds=%.6f req_per_s=%.1f rss_kb=%ld "
                "server_cpu_us=%.3f client_cpu_us=%.3f%s\n",
                requests, measured, rate, usage.ru_maxrss,
                server_cpu * 1e6 / static_cast<double>(requests),
                client_cpu * 1e6 / static_cast<double>(requests), scale.c_str());
}

} // namespace

int main(int argc, char** argv) {
    const char* client = std::getenv("ECHO_CLIENT");
    if (!client || !*client)
        bench::fail("echo",
                    "set ECHO_CLIENT to the load client (../shared/bench/peers/echo_client)");
    int conns = argc > 2 ? std::atoi(argv[2]) : 32;
    if (conns < 1)
        bench::fail("echo", "CONNECTIONS must be positive");
    asyncio::run(amain(bench::count_arg(argc, argv, 5), conns, client));
}
