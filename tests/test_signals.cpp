// ctest-labels: thread
// loop.add_signal_handler / remove_signal_handler: the signal-handler cases of CPython's
// test_unix_events.py that apply (SignalTest.CPython_*), and a signal arriving while the loop is
// busy (delivered once, on the loop). Real signals to this process, every wait bounded.
#include <asyncio.hpp>

#include <csignal>
#include <string>
#include <thread>

#include "asyncio_test.hpp"

namespace {

using asyncio::Coro;

void (*disposition(int signum))(int) {
    struct sigaction sa {};
    sigaction(signum, nullptr, &sa);
    return sa.sa_handler;
}

TEST(SignalTest, CPython_add_signal_handler_RunsTheCallbackOnTheLoopWithItsArguments) {
    asyncio::run([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<int> got = loop.create_future<int>();
        const auto loop_thread = std::this_thread::get_id();
        loop.add_signal_handler(
            SIGUSR1,
            [&](int a, int b) {
                EXPECT_EQ(std::this_thread::get_id(), loop_thread);
                if (!got.done())
                    got.set_result(a + b);
            },
            40, 2);
        std::raise(SIGUSR1);
        EXPECT_EQ(co_await asyncio::wait_for(got, 5), 42);
        EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
        EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
    }());
}

TEST(SignalTest, CPython_add_signal_handler_InvalidSignals) {
    asyncio::run([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), asyncio::RuntimeError);
        EXPECT_THROW(loop.add_signal_handler(SIGSTOP, [] {}), asyncio::RuntimeError);
        EXPECT_THROW(loop.add_signal_handler(0, [] {}), asyncio::ValueError);
        EXPECT_THROW(loop.add_signal_handler(-1, [] {}), asyncio::ValueError);
        EXPECT_THROW(loop.add_signal_handler(NSIG + 5, [] {}), asyncio::ValueError);
        EXPECT_FALSE(loop.remove_signal_handler(SIGUSR2));
        co_return;
    }());
}

TEST(SignalTest, CPython_remove_signal_handler_RestoresTheDispositionBefore) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction before {};
    sigaction(SIGUSR2, &ignore, &before);
    asyncio::run([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        loop.add_signal_handler(SIGUSR2, [] {});
        EXPECT_NE(disposition(SIGUSR2), SIG_IGN);
        EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
        EXPECT_EQ(disposition(SIGUSR2), SIG_IGN);
        loop.add_signal_handler(SIGUSR2, [] {}); // left for close() to remove
        co_return;
    }());
    EXPECT_EQ(disposition(SIGUSR2), SIG_IGN); // restored when the loop closed
    sigaction(SIGUSR2, &before, nullptr);
}

TEST(SignalTest, CPython_add_signal_handler_ReplacesTheHandler) {
    asyncio::run([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<std::string> got = loop.create_future<std::string>();
        loop.add_signal_handler(SIGUSR1, [&] { got.set_result("first"); });
        loop.add_signal_handler(SIGUSR1, [&] { got.set_result("second"); });
        std::raise(SIGUSR1);
        EXPECT_EQ(co_await asyncio::wait_for(got, 5), "second");
        loop.remove_signal_handler(SIGUSR1);
    }());
}

TEST(SignalTest, SignalWhileTheLoopIsBusyIsDeliveredOnceOnTheLoop) {
    asyncio::run([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        int handled = 0;
        long at = -1;
        long i = 0;
        loop.add_signal_handler(SIGUSR1, [&] {
            ++handled;
            at = i;
        });
        std::raise(SIGUSR1);
        std::raise(SIGUSR1); // before the loop looked: the two coalesce
        // A busy loop: callbacks ready at every iteration, never a wait in the OS.
        for (; i < 100'000 && handled == 0; ++i)
            co_await asyncio::sleep(0);
        for (int j = 0; j < 5'000; ++j)
            co_await asyncio::sleep(0);
        EXPECT_EQ(handled, 1);
        EXPECT_GE(at, 0);
        EXPECT_LE(at, static_cast<long>(asyncio::detail::LoopCore::k_signal_poll_interval) + 2);
        loop.remove_signal_handler(SIGUSR1);
    }());
}

TEST(SignalTest, ExceptionInHandlerGoesToTheExceptionHandler) {
    std::string message;
    asyncio::run([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<void> reported = loop.create_future<void>();
        loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
            message = c.message;
            if (!reported.done())
                reported.set_result();
        });
        loop.add_signal_handler(SIGUSR1, [] { throw std::runtime_error("boom"); });
        std::raise(SIGUSR1);
        co_await asyncio::wait_for(reported, 5);
        loop.remove_signal_handler(SIGUSR1);
    }());
    EXPECT_EQ(message.rfind("Exception in callback", 0), 0u) << message;
}

} // namespace
