// Bad input and misuse found by probing: NaN deadlines, awaiting empty handles, futures and
// tasks that outlive their loop. Each case failed (hang, crash or silence) before its fix.
#include <asyncio.hpp>

#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::Future;
using asyncio::FutureRef;
using asyncio::InvalidStateError;
using asyncio::Task;
using asyncio::TaskRef;

class MisuseTest : public asyncio::testing::LoopTest {};

TEST_F(MisuseTest, NaNDeadlinesAreValueErrorAndBlockNoTimer) {
    EXPECT_THROW(loop->call_later(std::nan(""), [] {}), asyncio::ValueError);
    EXPECT_THROW(loop->call_at(std::nan(""), [] {}), asyncio::ValueError);
    try {
        loop->call_later(NAN, [] {});
    } catch (const asyncio::ValueError& e) {
        EXPECT_STREQ(e.what(), "Invalid delay: NaN (not a number)");
    }
    bool fired = false;
    loop->call_later(1, [&] { fired = true; });
    loop->call_later(2, [this] { loop->stop(); });
    loop->run_forever();
    EXPECT_TRUE(fired);
}

template <class H>
Coro<bool> await_empty() {
    H empty;
    try {
        co_await empty;
    } catch (const InvalidStateError& e) {
        co_return std::string(e.what()) == "operation on an empty handle";
    }
    co_return false;
}

TEST_F(MisuseTest, AwaitingAnEmptyHandleIsInvalidStateError) {
    EXPECT_TRUE(run(await_empty<Task<int>>()));
    EXPECT_TRUE(run(await_empty<Task<void>>()));
    EXPECT_TRUE(run(await_empty<Future<int>>()));
    EXPECT_TRUE(run(await_empty<TaskRef>()));
    EXPECT_TRUE(run(await_empty<FutureRef>()));
}

TEST(MisuseLoopGoneTest, SetResultWithCallbacksOnAClosedLoopRaises) {
    auto loop = asyncio::new_event_loop({.virtual_time = true});
    Future<int> f = loop->create_future<int>();
    Future<int> plain = loop->create_future<int>();
    bool ran = false;
    f.add_done_callback([&] { ran = true; });
    loop->close();
    try {
        f.set_result(1);
        ADD_FAILURE() << "no RuntimeError";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop is closed");
    }
    EXPECT_TRUE(f.done()); // done all the same, as in asyncio
    EXPECT_FALSE(ran);
    plain.set_result(2); // no callback to schedule: nothing to refuse
    EXPECT_EQ(plain.result(), 2);
    loop.reset();
    Future<int> g = [] {
        auto l = asyncio::new_event_loop();
        Future<int> fut = l->create_future<int>();
        fut.add_done_callback([] {});
        return fut;
    }(); // the loop is destroyed here
    EXPECT_THROW(g.set_result(3), asyncio::RuntimeError);
}

TEST(MisuseLoopGoneTest, FailedTaskDroppedAfterItsLoopIsReported) {
    std::unique_ptr<Task<void>> kept;
    {
        auto loop = asyncio::new_event_loop({.virtual_time = true});
        loop->set_exception_handler([](asyncio::EventLoop&, const asyncio::ExceptionContext&) {});
        kept = std::make_unique<Task<void>>(loop->create_task([]() -> Coro<> {
            throw std::runtime_error("lost");
            co_return;
        }));
        // Run until it is done without looking at its exception.
        std::vector<TaskRef> tasks(1, *kept);
        loop->run_until_complete(
            [](std::vector<TaskRef> ts) -> Coro<> { (void)co_await asyncio::wait(ts); }(tasks));
    }
    testing::internal::CaptureStderr();
    kept.reset(); // the last reference, with the loop gone
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("Task exception was never retrieved"), std::string::npos) << err;
    EXPECT_NE(err.find("std::runtime_error: lost"), std::string::npos) << err;
}

TEST_F(MisuseTest, DescriptionsShowWhereAFutureWasMadeAndWhatATaskWaitsOn) {
    loop->set_debug(true);
    const int line = __LINE__ + 1;
    Future<int> fut = loop->create_future<int>();
    std::ostringstream f;
    f << fut;
    EXPECT_NE(f.str().find("created at " + std::string(__FILE__) + ":" + std::to_string(line)),
              std::string::npos)
        << f.str();
    auto task = loop->create_task([](Future<int> x) -> Coro<int> { co_return co_await x; }(fut));
    run_briefly();
    std::ostringstream t;
    t << task;
    // The awaited future exactly as it describes itself: its callbacks and where it was made.
    std::ostringstream again;
    again << fut;
    EXPECT_NE(t.str().find("wait_for=" + again.str()), std::string::npos) << t.str();
    EXPECT_NE(t.str().find("cb=[Task.task_wakeup()]"), std::string::npos) << t.str();
    fut.set_result(1);
    EXPECT_EQ(loop->run_until_complete(task), 1);
}

Coro<int> depth(int n) {
    if (n == 0)
        co_return 0;
    co_return 1 + co_await depth(n - 1);
}

TEST_F(MisuseTest, DebugModeRaisesRecursionErrorForAnAwaitChainTooDeep) {
    loop->set_debug(true);
    EXPECT_EQ(run(depth(900)), 900); // within the limit
    try {
        run(depth(1500));
        FAIL() << "no RecursionError";
    } catch (const asyncio::RecursionError& e) {
        EXPECT_NE(std::string(e.what()).find("maximum await depth exceeded"), std::string::npos);
    }
    EXPECT_EQ(run(depth(900)), 900); // the count came back down
    for (const auto& m : messages())
        EXPECT_EQ(m.find("never awaited"), std::string::npos) << m;
    loop->set_debug(false);
    EXPECT_EQ(run(depth(1500)), 1500); // no limit outside debug mode
}

} // namespace
