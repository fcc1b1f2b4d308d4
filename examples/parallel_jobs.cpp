// Run eight shell commands, at most four at a time, and print each one's result as it finishes:
// a semaphore bounds the children, as_completed reports them in the order they end.
#include <asyncio.hpp>
#include <iostream>
#include <string>
#include <vector>

struct Job {
    std::string cmd;
    int code;
    std::string output;
};

asyncio::Coro<Job> run_job(asyncio::Semaphore& slots, std::string cmd) {
    auto slot = co_await slots.scoped(); // async with slots:
    auto proc = co_await asyncio::create_subprocess_shell(
        cmd, asyncio::SubprocessOptions{.stdout_ = asyncio::PIPE, .stderr_ = asyncio::STDOUT});
    auto [out, err] = co_await proc.communicate();
    int code = co_await proc.wait();
    co_return Job{cmd, code, out};
}

asyncio::Coro<> amain() {
    asyncio::Semaphore slots(4);
    std::vector<asyncio::Coro<Job>> jobs;
    for (int i = 1; i <= 8; ++i) {
        // Job i takes i/10 of a second, so they finish in order; job 5 fails.
        std::string cmd = "sleep 0." + std::to_string(i) + "; echo job " + std::to_string(i) +
                          (i == 5 ? "; exit 3" : "");
        jobs.push_back(run_job(slots, cmd));
    }
    int failed = 0;
    for (auto next : asyncio::as_completed(std::move(jobs))) {
        Job job = co_await next;
        std::string line = job.output.substr(0, job.output.find('\n'));
        std::cout << line << ": exit " << job.code << std::endl;
        failed += job.code != 0;
    }
    std::cout << failed << " of 8 failed" << std::endl;
}

int main() { asyncio::run(amain()); }
