// Run a shell command and collect its output (the asyncio docs' subprocess example):
// create_subprocess_shell with both outputs piped, then communicate().
#include <asyncio.hpp>
#include <iostream>
#include <string>

asyncio::Coro<> run(std::string cmd) {
    auto proc = co_await asyncio::create_subprocess_shell(
        cmd, asyncio::SubprocessOptions{.stdout_ = asyncio::PIPE, .stderr_ = asyncio::PIPE});
    auto [out, err] = co_await proc.communicate();
    std::cout << "['" << cmd << "' exited with " << *proc.returncode() << "]\n";
    if (!out.empty())
        std::cout << "[stdout]\n" << out;
    if (!err.empty())
        std::cout << "[stderr]\n" << err;
}

int main() { asyncio::run(run("ls /zzz")); }
