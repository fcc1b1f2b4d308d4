// Conformance cases SHIELD-*: asyncio.shield (outer and inner outcomes, cancellation of either,
// the report of a shielded failure, shield with gather and wait_for).
#include <asyncio.hpp>

#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Future;
using asyncio::Task;
using asyncio::testing::holds;

class ShieldTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: a task left waiting forever makes run_until_complete fail instead of hanging.
    ShieldTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }

    template <class T>
    static std::string repr(const Future<T>& f) {
        std::ostringstream os;
        os << f;
        return os.str();
    }
};

template <class F>
Coro<std::invoke_result_t<F&>> in_task(F f) {
    co_return f();
}

Coro<int> forty_two() { co_return 42; }

Coro<void> await_then_count(Future<void> waiter, int* proof) {
    co_await waiter;
    *proof += 1;
}

Coro<void> shielded_then_count(Future<void> waiter, int* proof) {
    co_await asyncio::shield(await_then_count(waiter, proof));
    *proof += 100;
}

Coro<std::string> sleep_then_done(double delay) {
    co_await asyncio::sleep(delay);
    co_return "done";
}

Coro<std::string> wait_for_shielded(Task<std::string> task, std::optional<double> timeout) {
    co_return co_await asyncio::wait_for(asyncio::shield(task), timeout);
}

} // namespace

// Once the inner future's result is set to 42, the shield's future gives 42.
TEST_F(ShieldTest, SHIELD_01) {
    auto inner = loop->create_future<int>();
    auto outer = asyncio::shield(inner);
    inner.set_result(42);
    EXPECT_EQ(loop->run_until_complete(outer), 42);
}

// The inner future's exception passes to the outer future: the same exception object.
TEST_F(ShieldTest, SHIELD_02) {
    auto inner = loop->create_future<int>();
    auto outer = asyncio::shield(inner);
    run_briefly();
    auto exc = std::make_exception_ptr(std::runtime_error("expected"));
    inner.set_exception(exc);
    run_briefly();
    EXPECT_EQ(outer.exception(), exc);
}

// Cancelling the inner future cancels the outer too: shield protects only from the outside.
TEST_F(ShieldTest, SHIELD_03) {
    auto inner = loop->create_future<int>();
    auto outer = asyncio::shield(inner);
    run_briefly();
    inner.cancel();
    run_briefly();
    EXPECT_TRUE(outer.cancelled());
}

// Cancelling the outer future cancels only it; its callbacks are gone one iteration later, and
// when the inner then gets a result, nothing is reported.
TEST_F(ShieldTest, ShieldCancelOuter) {
    auto inner = loop->create_future<int>();
    auto outer = asyncio::shield(inner);
    run_briefly();
    EXPECT_TRUE(outer.cancel());
    run_briefly();
    EXPECT_TRUE(outer.cancelled());
    EXPECT_FALSE(inner.done());
    EXPECT_EQ(repr(outer).find("cb=["), std::string::npos) << repr(outer);
    inner.set_result(1);
    run_briefly();
    EXPECT_TRUE(reports.empty());
}

// When the outer future was cancelled and the inner later fails, the exception handler is called
// exactly once with that exception: nobody else can retrieve it.
TEST_F(ShieldTest, SHIELD_05) {
    auto inner = loop->create_future<int>();
    auto outer = asyncio::shield(inner);
    run_briefly();
    outer.cancel();
    run_briefly();
    auto exc = std::make_exception_ptr(std::runtime_error("foo"));
    inner.set_exception(exc);
    run_briefly();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "std::runtime_error exception in shielded future");
    EXPECT_EQ(reports[0].exception, exc);
    EXPECT_EQ(reports[0].future, asyncio::FutureRef(inner));
    inner = {};
    outer = {};
    EXPECT_EQ(reports.size(), 1u); // the report retrieved it: no "never retrieved" besides
}

// With two shields over one inner future, both cancelled, the inner's later exception is
// reported once.
TEST_F(ShieldTest, SHIELD_06) {
    auto inner = loop->create_future<int>();
    auto outer = asyncio::shield(inner);
    run_briefly();
    outer.cancel();
    run_briefly();
    outer = asyncio::shield(inner);
    run_briefly();
    outer.cancel();
    run_briefly();
    inner.set_exception(std::make_exception_ptr(std::runtime_error("foo")));
    run_briefly();
    EXPECT_EQ(reports.size(), 1u);
}

// Shielding a future already done gives that future itself, with its result.
TEST_F(ShieldTest, SHIELD_07) {
    auto fut = loop->create_future<int>();
    fut.set_result(42);
    auto outer = asyncio::shield(fut);
    EXPECT_EQ(outer, fut);
    EXPECT_EQ(loop->run_until_complete(outer), 42);
}

// Cancelling the awaiting task does not cancel the shielded work, which still finishes (asyncio's
// test_shield_effect).
TEST_F(ShieldTest, ShieldEffect) {
    int proof = 0;
    auto waiter = loop->create_future<void>();
    auto f = loop->create_task(shielded_then_count(waiter, &proof));
    run_briefly();
    f.cancel();
    EXPECT_THROW(loop->run_until_complete(f), CancelledError);
    waiter.set_result();
    run_briefly();
    EXPECT_EQ(proof, 1);
}

// Cancelling shield(gather(c1, c2)) cancels only the shield's future: the gather goes on and
// completes with (1, 2).
TEST_F(ShieldTest, SHIELD_09) {
    auto child1 = loop->create_future<int>();
    auto child2 = loop->create_future<int>();
    auto parent = asyncio::gather(child1, child2);
    auto outer = asyncio::shield(parent);
    run_briefly();
    outer.cancel();
    run_briefly();
    EXPECT_TRUE(outer.cancelled());
    child1.set_result(1);
    child2.set_result(2);
    run_briefly();
    run_briefly();
    EXPECT_EQ(parent.result(), std::make_tuple(1, 2));
}

// Cancelling gather(shield(c1), shield(c2)) gives the gather a CancelledError exception and
// cancels both shields' futures, but not c1 and c2, whose results can still be set.
TEST_F(ShieldTest, SHIELD_10) {
    auto child1 = loop->create_future<int>();
    auto child2 = loop->create_future<int>();
    auto inner1 = asyncio::shield(child1);
    auto inner2 = asyncio::shield(child2);
    auto parent = asyncio::gather(inner1, inner2);
    run_briefly();
    parent.cancel();
    run_briefly();
    EXPECT_TRUE(holds<CancelledError>(parent.exception()));
    EXPECT_TRUE(inner1.cancelled());
    EXPECT_TRUE(inner2.cancelled());
    EXPECT_FALSE(child1.done());
    EXPECT_FALSE(child2.done());
    child1.set_result(1);
    child2.set_result(2);
    run_briefly();
    EXPECT_TRUE(reports.empty());
}

// shield(coro) without a running loop is a RuntimeError; inside a running loop it wraps the
// coroutine in a task of that loop and resolves to its result (42).
TEST_F(ShieldTest, SHIELD_11) {
    EXPECT_THROW((void)asyncio::shield(forty_two()), asyncio::RuntimeError);
    auto outer = run(in_task([] { return asyncio::shield(forty_two()); }));
    EXPECT_EQ(&outer.get_loop(), loop.get());
    EXPECT_EQ(loop->run_until_complete(outer), 42);
}

// wait_for(shield(task), 0.01) on a 0.1 s task raises TimeoutError at t=0.01 without cancelling
// the task, which then completes with 'done'.
TEST_F(ShieldTest, SHIELD_13) {
    auto task = loop->create_task(sleep_then_done(0.1));
    EXPECT_THROW(run(wait_for_shielded(task, 0.01)), asyncio::TimeoutError);
    EXPECT_DOUBLE_EQ(loop->time(), 0.01);
    EXPECT_FALSE(task.done());
    EXPECT_EQ(loop->run_until_complete(task), "done");
    EXPECT_FALSE(task.cancelled());
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
}

// wait_for(shield(task), std::nullopt) simply waits for the task, which is then done with 'done'.
TEST_F(ShieldTest, SHIELD_14) {
    auto task = loop->create_task(sleep_then_done(0.1));
    EXPECT_EQ(run(wait_for_shielded(task, std::nullopt)), "done");
    EXPECT_TRUE(task.done());
    EXPECT_EQ(task.result(), "done");
}

// A shield nobody holds still completes with the inner; a pending inner future nobody holds is
// freed with the shield's registration (both checked by the leak sanitizer).
TEST_F(ShieldTest, ShieldLifetimes) {
    auto inner = loop->create_future<int>();
    bool called = false;
    asyncio::shield(inner).add_done_callback([&called] { called = true; });
    inner.set_result(3);
    run_until_idle();
    EXPECT_TRUE(called);
    auto outer = asyncio::shield(loop->create_future<int>());
    EXPECT_FALSE(outer.done());
    outer.cancel();
    run_until_idle();
    EXPECT_TRUE(outer.cancelled());
    EXPECT_TRUE(reports.empty());
}
