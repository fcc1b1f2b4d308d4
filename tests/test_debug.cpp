// Debug mode and diagnostics: never-retrieved exceptions, tasks destroyed while pending, the
// exception handler, slow callbacks, creation locations (conformance group DIAG).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using namespace asyncio;
using asyncio::testing::holds;
using asyncio::testing::LoopTest;

using Log = std::vector<std::string>;

class DebugTest : public LoopTest {};

// Python's TypeError and ZeroDivisionError, for the cases that raise them.
struct TypeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct ZeroDivisionError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t pos = text.find(part); pos != std::string::npos;
         pos = text.find(part, pos + part.size()))
        ++n;
    return n;
}

std::string what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "?";
    }
}

template <class H>
std::string describe(const H& h) {
    std::ostringstream os;
    os << h;
    return os.str();
}

std::exception_ptr boom() { return std::make_exception_ptr(std::runtime_error("boom")); }

// Destroying a pending future, or a future whose result was set (read or not), reports nothing.
TEST_F(DebugTest, DIAG_01) {
    for (bool debug : {false, true}) {
        loop->set_debug(debug);
        { Future<int> pending = loop->create_future<int>(); }
        {
            Future<int> unread = loop->create_future<int>();
            unread.set_result(42);
        }
        {
            Future<int> read = loop->create_future<int>();
            read.set_result(42);
            EXPECT_EQ(read.result(), 42);
        }
        run_briefly();
    }
    EXPECT_TRUE(reports.empty());
}

// Destroying a future whose exception was never retrieved reports exactly one error, "Future
// exception was never retrieved", carrying that exception, with or without debug mode; the
// default handler prints it with the exception.
TEST_F(DebugTest, DIAG_02) {
    for (bool debug : {false, true}) {
        loop->set_debug(debug);
        reports.clear();
        {
            Future<int> f = loop->create_future<int>();
            f.set_exception(boom());
        }
        ASSERT_EQ(reports.size(), 1u) << "debug=" << debug;
        EXPECT_TRUE(starts_with(reports[0].message, "Future exception was never retrieved"))
            << reports[0].message;
        EXPECT_TRUE(holds<std::runtime_error>(reports[0].exception));
        EXPECT_EQ(what_of(reports[0].exception), "boom");
        EXPECT_TRUE(reports[0].future);
        EXPECT_FALSE(reports[0].task);
        run_briefly();
        EXPECT_EQ(reports.size(), 1u);
    }
    reports.clear();

    loop->set_exception_handler(nullptr);
    ::testing::internal::CaptureStderr();
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(boom());
    }
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(starts_with(err, "Future exception was never retrieved")) << err;
    EXPECT_EQ(count(err, "exception was never retrieved"), 1u) << err;
    EXPECT_TRUE(contains(err, "std::runtime_error: boom")) << err;
}

Coro<void> await_failed(Future<int> f) {
    try {
        co_await f;
    } catch (const std::runtime_error&) {
    }
}

// Reading the failed future's exception(), calling result() and letting it raise, or awaiting it,
// marks the exception retrieved: destroying the future then reports nothing.
TEST_F(DebugTest, DIAG_03) {
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(boom());
        EXPECT_TRUE(holds<std::runtime_error>(f.exception()));
    }
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(boom());
        EXPECT_THROW(f.result(), std::runtime_error);
    }
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(boom());
        run(await_failed(f));
    }
    run_briefly();
    EXPECT_TRUE(reports.empty());
}

Coro<void> raise_type_error() {
    throw TypeError("bad type");
    co_return;
}

// A task that raised, then had cancel() called on it (a no-op, it is done) and was dropped,
// reports nothing.
TEST_F(DebugTest, DIAG_05) {
    {
        Task<void> t = loop->create_task(raise_type_error());
        run_briefly();
        ASSERT_TRUE(t.done());
        EXPECT_FALSE(t.cancel());
        EXPECT_FALSE(t.cancelled());
    }
    run_briefly();
    EXPECT_TRUE(reports.empty());
}

Coro<void> zero_error_coro() {
    throw ZeroDivisionError("division by zero");
    co_return;
}

// A task that fails and is dropped after completion, its exception never read, makes the handler
// get "Task exception was never retrieved" with that exception; the default handler prints it.
TEST_F(DebugTest, DIAG_06) {
    loop->create_task(zero_error_coro());
    run_briefly();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Task exception was never retrieved");
    EXPECT_TRUE(holds<ZeroDivisionError>(reports[0].exception));
    ASSERT_TRUE(reports[0].task);
    EXPECT_TRUE(reports[0].task.done());
    EXPECT_FALSE(reports[0].future);
    reports.clear();

    loop->set_exception_handler(nullptr);
    ::testing::internal::CaptureStderr();
    loop->create_task(zero_error_coro());
    run_briefly();
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(starts_with(err, "Task exception was never retrieved")) << err;
    EXPECT_TRUE(contains(err, "ZeroDivisionError: division by zero")) << err;
    EXPECT_TRUE(contains(err, "zero_error_coro")) << err;
}

Coro<void> wait_forever(Future<void> never) { co_await never; }

// A task destroyed while still pending (with its loop; debug mode) makes the handler get
// "Task was destroyed but it is pending!" with the task and no exception.
TEST_F(DebugTest, DIAG_07) {
    loop->set_debug(true);
    Future<void> never = loop->create_future<void>();
    TaskRef t = loop->create_task(wait_forever(never), "forever");
    run_briefly();
    ASSERT_FALSE(t.done());
    loop.reset();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Task was destroyed but it is pending!");
    EXPECT_TRUE(reports[0].task == t);
    EXPECT_EQ(reports[0].task.get_name(), "forever");
    EXPECT_FALSE(reports[0].exception);
    EXPECT_FALSE(reports[0].future);
    EXPECT_FALSE(reports[0].handle);
}

// An exception raised in a call_soon or call_later callback is printed by the default handler as
// "Exception in callback <...>" with the exception, and the loop keeps running.
TEST_F(DebugTest, DIAG_09) {
    loop->set_exception_handler(nullptr);
    Log log;
    loop->call_soon([] { throw std::runtime_error("boom-soon"); });
    loop->call_later(0.5, [] { throw std::runtime_error("boom-later"); });
    loop->call_later(1.0, [this, &log] {
        log.push_back("still running");
        loop->stop();
    });
    ::testing::internal::CaptureStderr();
    loop->run_forever();
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(log, (Log{"still running"}));
    EXPECT_NEAR(loop->time(), 1.0, 1e-9);
    EXPECT_TRUE(starts_with(err, "Exception in callback <Handle ")) << err;
    EXPECT_TRUE(contains(err, "std::runtime_error: boom-soon")) << err;
    EXPECT_TRUE(contains(err, "Exception in callback <TimerHandle when=0.5 ")) << err;
    EXPECT_TRUE(contains(err, "std::runtime_error: boom-later")) << err;
    EXPECT_LT(err.find("boom-soon"), err.find("boom-later"));
}

struct RecordingHandler {
    std::vector<ExceptionContext>* seen;
    std::vector<EventLoop*>* loops;
    void operator()(EventLoop& loop, const ExceptionContext& ctx) const {
        seen->push_back(ctx);
        loops->push_back(&loop);
    }
};

// A custom handler set with set_exception_handler gets (loop, context) for a failing callback:
// the message "Exception in callback ...", the exception and the handle; get_exception_handler()
// returns it; setting a null handler restores the default one, which prints.
TEST_F(DebugTest, DIAG_10) {
    std::vector<ExceptionContext> seen;
    std::vector<EventLoop*> loops;
    loop->set_exception_handler(RecordingHandler{&seen, &loops});
    const ExceptionHandler& current = loop->get_exception_handler();
    ASSERT_TRUE(current);
    ASSERT_NE(current.target<RecordingHandler>(), nullptr);
    EXPECT_EQ(current.target<RecordingHandler>()->seen, &seen);

    Handle h = loop->call_soon([] { throw ZeroDivisionError("division by zero"); });
    run_briefly();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(loops, (std::vector<EventLoop*>{loop.get()}));
    EXPECT_TRUE(starts_with(seen[0].message, "Exception in callback <Handle ")) << seen[0].message;
    EXPECT_TRUE(holds<ZeroDivisionError>(seen[0].exception));
    EXPECT_TRUE(seen[0].handle == h);
    EXPECT_FALSE(seen[0].task);
    EXPECT_FALSE(seen[0].future);

    loop->set_exception_handler(nullptr);
    EXPECT_FALSE(loop->get_exception_handler());
    loop->call_soon([] { throw ZeroDivisionError("again"); });
    ::testing::internal::CaptureStderr();
    run_briefly();
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(seen.size(), 1u);
    EXPECT_TRUE(starts_with(err, "Exception in callback <Handle ")) << err;
    EXPECT_TRUE(contains(err, "ZeroDivisionError: again")) << err;
}

// A custom handler that raises: the default handler prints "Unhandled error in exception handler"
// with the handler's exception, then the original report, and the loop goes on.
TEST_F(DebugTest, DIAG_13) {
    loop->set_exception_handler(
        [](EventLoop&, const ExceptionContext&) { throw std::runtime_error("handler broke"); });
    Log log;
    loop->call_soon([] { throw ZeroDivisionError("callback failed"); });
    loop->call_soon([&log] { log.push_back("next callback"); });
    ::testing::internal::CaptureStderr();
    run_briefly();
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(log, (Log{"next callback"}));
    EXPECT_TRUE(starts_with(err, "Unhandled error in exception handler")) << err;
    const std::size_t handler_error = err.find("std::runtime_error: handler broke");
    const std::size_t original = err.find("Exception in callback <Handle ");
    const std::size_t original_error = err.find("ZeroDivisionError: callback failed");
    ASSERT_NE(handler_error, std::string::npos) << err;
    ASSERT_NE(original, std::string::npos) << err;
    ASSERT_NE(original_error, std::string::npos) << err;
    EXPECT_LT(handler_error, original);
    EXPECT_LT(original, original_error);
}

Coro<void> raise_interrupt() {
    throw std::runtime_error("interrupt");
    co_return;
}

// An exception from the coroutine given to run_until_complete is consumed by the loop's wrapper
// task: once it has come out of run_until_complete, closing and destroying the loop reports
// nothing.
TEST_F(DebugTest, DIAG_14) {
    try {
        run(raise_interrupt());
        ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "interrupt");
    }
    loop->close();
    loop.reset();
    EXPECT_TRUE(reports.empty());
}

struct stop_loop_cb {
    EventLoop* loop;
    void operator()() const { loop->stop(); }
};

Coro<void> stop_loop_coro(EventLoop* loop) {
    loop->stop();
    co_return;
}

bool any_matches(const std::vector<std::string>& messages, const std::string& pattern) {
    const std::regex re(pattern);
    for (const std::string& m : messages)
        if (std::regex_match(m, re))
            return true;
    return false;
}

// In debug mode with slow_callback_duration = 0 the loop reports "Executing <Handle ...> took N
// seconds" for a callback and "Executing <Task ...> took N seconds" for a task step; outside
// debug mode it reports nothing.
TEST_F(DebugTest, DIAG_15) {
    loop->slow_callback_duration = 0;
    loop->call_soon(stop_loop_cb{loop.get()});
    loop->run_forever();
    loop->create_task(stop_loop_coro(loop.get()), "slow-task");
    loop->run_forever();
    EXPECT_TRUE(reports.empty());

    loop->set_debug(true);
    loop->call_soon(stop_loop_cb{loop.get()});
    loop->run_forever();
    loop->create_task(stop_loop_coro(loop.get()), "slow-task");
    loop->run_forever();
    const std::vector<std::string> m = messages();
    ASSERT_EQ(m.size(), 2u);
    EXPECT_TRUE(any_matches(m, "^Executing <Handle .*stop_loop_cb.*> took [0-9.e+-]+ seconds$"))
        << m[0];
    EXPECT_TRUE(any_matches(
        m, "^Executing <Task .*name='slow-task'.*stop_loop_coro.*> took [0-9.e+-]+ seconds$"))
        << m[1];
}

Coro<void> afunc() { co_await sleep(0.1); }

Coro<void> double_await(TaskRef* started, std::string* error) {
    Coro<void> coro = afunc();
    Task<void> t = create_task(std::move(coro));
    *started = t;
    try {
        co_await sleep(0);
        co_await coro; // NOLINT(bugprone-use-after-move): the point of the test
    } catch (const RuntimeError& e) {
        *error = e.what();
        t.cancel();
        throw;
    }
    t.cancel();
}

// In debug mode, awaiting a coroutine object that a task is already running raises RuntimeError
// (in C++ the task took the coroutine: "cannot reuse already awaited coroutine").
TEST_F(DebugTest, DIAG_17) {
    loop->set_debug(true);
    TaskRef started;
    std::string error;
    EXPECT_THROW(run(double_await(&started, &error)), RuntimeError);
    EXPECT_EQ(error, "cannot reuse already awaited coroutine");
    ASSERT_TRUE(started);
    run_briefly();
    EXPECT_TRUE(started.cancelled());
    EXPECT_TRUE(reports.empty());
}

std::string here(int line) { return std::string(__FILE__) + ":" + std::to_string(line); }

void noop() {}

Future<int> make_failed_future(EventLoop& loop, int* line) {
    *line = __LINE__ + 1;
    Future<int> f = loop.create_future<int>();
    f.set_exception(boom());
    return f;
}

Task<void> start_failing_task(EventLoop& loop, int* line) {
    *line = __LINE__ + 1;
    return loop.create_task(zero_error_coro());
}

// In debug mode, handles (call_soon, call_soon_threadsafe, call_later, call_at), futures and tasks
// record where they were created, and the reports about them show it (file, line, function).
TEST_F(DebugTest, DIAG_18) {
    loop->set_debug(true);
    const int l1 = __LINE__ + 1;
    Handle h1 = loop->call_soon(noop);
    const int l2 = __LINE__ + 1;
    Handle h2 = loop->call_soon_threadsafe(noop);
    const int l3 = __LINE__ + 1;
    TimerHandle h3 = loop->call_later(1.0, noop);
    const int l4 = __LINE__ + 1;
    TimerHandle h4 = loop->call_at(2.0, noop);
    EXPECT_TRUE(contains(describe(h1), "created at " + here(l1))) << describe(h1);
    EXPECT_TRUE(contains(describe(h2), "created at " + here(l2))) << describe(h2);
    EXPECT_TRUE(contains(describe(h3), "created at " + here(l3))) << describe(h3);
    EXPECT_TRUE(contains(describe(h4), "created at " + here(l4))) << describe(h4);
    h1.cancel();
    h2.cancel();
    h3.cancel();
    h4.cancel();

    loop->set_exception_handler(nullptr);
    ::testing::internal::CaptureStderr();
    const int l5 = __LINE__ + 1;
    loop->call_soon([] { throw std::runtime_error("in callback"); });
    run_briefly();
    int future_line = 0;
    make_failed_future(*loop, &future_line);
    int task_line = 0;
    start_failing_task(*loop, &task_line);
    run_briefly();
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(err, "created at " + here(l5))) << err;
    EXPECT_TRUE(contains(err, "created at " + here(future_line) + " in make_failed_future")) << err;
    EXPECT_TRUE(contains(err, "created at " + here(task_line) + " in start_failing_task")) << err;
}

class EnvGuard {
public:
    EnvGuard() {
        if (const char* v = std::getenv("ASYNCIO_DEBUG"))
            m_saved = v;
    }
    ~EnvGuard() {
        if (m_saved)
            ::setenv("ASYNCIO_DEBUG", m_saved->c_str(), 1);
        else
            ::unsetenv("ASYNCIO_DEBUG");
    }

private:
    std::optional<std::string> m_saved;
};

Coro<bool> running_debug() { co_return get_running_loop().get_debug(); }

// Debug mode is on by default when the environment variable ASYNCIO_DEBUG is non-empty, off when
// it is empty or unset; an explicit option wins.
TEST(Debug, DIAG_19) {
    EnvGuard guard;
    ::setenv("ASYNCIO_DEBUG", "1", 1);
    EXPECT_TRUE(new_event_loop()->get_debug());
    EXPECT_TRUE(asyncio::run(running_debug(), {.debug = std::nullopt, .virtual_time = true}));
    EXPECT_FALSE(new_event_loop({.debug = false})->get_debug());
    EXPECT_FALSE(asyncio::run(running_debug(), {.debug = false, .virtual_time = true}));

    ::setenv("ASYNCIO_DEBUG", "", 1);
    EXPECT_FALSE(new_event_loop()->get_debug());
    EXPECT_FALSE(asyncio::run(running_debug(), {.debug = std::nullopt, .virtual_time = true}));
    EXPECT_TRUE(new_event_loop({.debug = true})->get_debug());

    ::unsetenv("ASYNCIO_DEBUG");
    EXPECT_FALSE(new_event_loop()->get_debug());
    EXPECT_TRUE(asyncio::run(running_debug(), {.debug = true, .virtual_time = true}));
}

} // namespace
