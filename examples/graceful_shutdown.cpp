// A service that shuts down gracefully on SIGTERM (what a supervisor, systemd or Kubernetes
// sends): it stops taking new work, lets the jobs in flight finish, and exits with status 0.
#include <asyncio.hpp>
#include <csignal>
#include <iostream>

asyncio::Coro<> handle_job(int id, double seconds) {
    co_await asyncio::sleep(seconds);
    std::cout << "job " << id << " done" << std::endl;
}

asyncio::Coro<> serve() {
    asyncio::Event stopping;
    auto& loop = asyncio::get_running_loop();
    loop.add_signal_handler(SIGTERM, [&stopping] { stopping.set(); });
    int accepted = 0;
    co_await asyncio::task_group([&](asyncio::TaskGroup& jobs) -> asyncio::Coro<> {
        while (!stopping.is_set()) {
            // Three requests come at once, then one every ten seconds.
            for (int burst = accepted == 0 ? 3 : 1; burst > 0; --burst) {
                ++accepted;
                std::cout << "accepted job " << accepted << std::endl;
                jobs.create_task(handle_job(accepted, 0.9 + 0.1 * accepted));
            }
            if (accepted == 3)
                std::cout << "serving; send SIGTERM to stop" << std::endl;
            try {
                co_await asyncio::wait_for(stopping.wait(), 10);
            } catch (const asyncio::TimeoutError&) {
            }
        }
        std::cout << "SIGTERM: no new jobs; finishing the jobs in flight" << std::endl;
    }); // the group's exit waits for every job
    loop.remove_signal_handler(SIGTERM);
    std::cout << "stopped cleanly after " << accepted << " job(s)" << std::endl;
}

int main() { asyncio::run(serve()); }
