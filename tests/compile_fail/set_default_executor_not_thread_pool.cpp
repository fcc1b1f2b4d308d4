// expect: set_default_executor\(\) takes a ThreadPoolExecutor
// THREAD-09: only a ThreadPoolExecutor can be the loop's default executor.
#include <asyncio.hpp>
#include <memory>

class Inline final : public asyncio::Executor {
public:
    void submit_job(asyncio::detail::Job* job) override { job->work(); }
    void shutdown(bool, bool) override {}
};

void misuse(asyncio::EventLoop& loop) { loop.set_default_executor(std::make_shared<Inline>()); }
