// Conformance cases GATHER-*: asyncio.gather (results, failures, cancellation, loops), and races
// of our own (cancel and completion in one iteration, gathers of gathers, 100,000 children).
#include <asyncio.hpp>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Future;
using asyncio::Result;
using asyncio::Task;
using asyncio::detail::Empty;
using asyncio::testing::cancelled_message;
using asyncio::testing::holds;

Coro<int> await_value(Future<int> f) { co_return co_await f; }

Coro<int> value_after(double delay, int value) {
    co_await asyncio::sleep(delay);
    co_return value;
}

// Calls f() inside a task (where coroutines can become tasks) and gives what it returns.
template <class F>
Coro<std::invoke_result_t<F&>> in_task(F f) {
    co_return f();
}

class GatherTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: a task left waiting forever makes run_until_complete fail instead of hanging.
    GatherTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }

    // CPython's GatherTestsBase._check_success, for one way `make` of building the gather.
    template <class Make>
    void check_success(Make make) {
        auto a = loop->create_future<int>();
        auto b = loop->create_future<int>();
        auto c = loop->create_future<int>();
        auto fut = make(a, b, c);
        int calls = 0;
        fut.add_done_callback([&calls] { ++calls; });
        b.set_result(1);
        a.set_result(2);
        run_until_idle();
        EXPECT_EQ(calls, 0);
        EXPECT_FALSE(fut.done());
        c.set_result(3);
        run_until_idle();
        EXPECT_EQ(calls, 1);
        ASSERT_TRUE(fut.done());
        check_213(fut.result());
    }

    static void check_213(const std::tuple<int, int, int>& r) {
        EXPECT_EQ(r, std::make_tuple(2, 1, 3));
    }
    static void check_213(const std::vector<int>& r) { EXPECT_EQ(r, (std::vector<int>{2, 1, 3})); }
    static void check_213(const std::tuple<Result<int>, Result<int>, Result<int>>& r) {
        EXPECT_EQ(std::get<0>(r).value(), 2);
        EXPECT_EQ(std::get<1>(r).value(), 1);
        EXPECT_EQ(std::get<2>(r).value(), 3);
        EXPECT_TRUE(std::get<0>(r).has_value() && !std::get<0>(r).error());
    }
};

Coro<void> await_then_count(Future<void> waiter, int* proof) {
    co_await waiter;
    *proof += 1;
}

Coro<void> gather_children(Task<void> c1, Task<void> c2, Future<std::tuple<Empty, Empty>>* out,
                           int* proof) {
    *out = asyncio::gather(c1, c2);
    co_await *out;
    *proof += 100;
}

Coro<void> gather_sleeps_forever_until(double end) {
    double time = 0;
    for (;;) {
        time += 0.05;
        co_await asyncio::gather(asyncio::return_exceptions, asyncio::sleep(0.05));
        if (time > end)
            co_return;
    }
}

Coro<void> cancel_after(Task<void> t, double delay, std::string msg) {
    co_await asyncio::sleep(delay);
    t.cancel(msg);
    co_await t;
}

Coro<std::string> echo(std::string s, int* runs) {
    ++*runs;
    co_return s;
}

Coro<void> fail_after(Future<void> f, std::string what) {
    co_await f;
    throw std::runtime_error(what);
}

Coro<void> gather_two_failures(Future<void> a, Future<void> b) {
    co_await asyncio::gather(fail_after(a, "a"), fail_after(b, "b"));
}

Coro<int> index_value(int i) { co_return i; }

Coro<std::unique_ptr<int>> boxed(int v) {
    co_await asyncio::sleep(0);
    co_return std::make_unique<int>(v);
}

Coro<void> sleep_forever() { co_await asyncio::sleep(1e5); }

} // namespace

// Results come in argument order (2, 1, 3), not completion order, and the gather's done callback
// runs once, only after the last child completes: with futures, with coroutines (each awaiting a
// future, made tasks inside the loop) and with the range overload.
TEST_F(GatherTest, GATHER_01) {
    check_success(
        [](Future<int> a, Future<int> b, Future<int> c) { return asyncio::gather(a, b, c); });
    check_success([this](Future<int> a, Future<int> b, Future<int> c) {
        return run(in_task(
            [=] { return asyncio::gather(await_value(a), await_value(b), await_value(c)); }));
    });
    check_success([](Future<int> a, Future<int> b, Future<int> c) {
        return asyncio::gather(std::vector<Future<int>>{a, b, c});
    });
}

// With return_exceptions and every child succeeding, each Result holds the value the plain
// gather would give.
TEST_F(GatherTest, GATHER_02) {
    check_success([](Future<int> a, Future<int> b, Future<int> c) {
        return asyncio::gather(asyncio::return_exceptions, a, b, c);
    });
}

// Without return_exceptions, the first failure completes the gather at once with that very
// exception while other children are pending; what the others do later leaves it unchanged,
// and their later failures are marked retrieved (nothing is reported twice).
TEST_F(GatherTest, GATHER_03) {
    std::vector<Future<int>> f;
    for (int i = 0; i < 5; ++i)
        f.push_back(loop->create_future<int>());
    auto fut = asyncio::gather(f[0], f[1], f[2], f[3], f[4]);
    int calls = 0;
    fut.add_done_callback([&calls] { ++calls; });
    auto exc = std::make_exception_ptr(std::domain_error("zero division"));
    f[0].set_result(1);
    f[1].set_exception(exc);
    run_until_idle();
    ASSERT_TRUE(fut.done());
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(fut.exception(), exc);
    f[2].set_result(3);
    f[3].cancel();
    f[4].set_exception(std::make_exception_ptr(std::runtime_error("later")));
    run_until_idle();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(fut.exception(), exc);
    f.clear();
    fut = {};
    EXPECT_TRUE(reports.empty()); // f[4]'s failure was marked retrieved by the gather
}

// With return_exceptions, failures take their argument positions ([3, 1, exc, exc2]) and the
// gather completes only after every child is done.
TEST_F(GatherTest, GATHER_05) {
    std::vector<Future<int>> f;
    for (int i = 0; i < 4; ++i)
        f.push_back(loop->create_future<int>());
    auto fut = asyncio::gather(asyncio::return_exceptions, f[0], f[1], f[2], f[3]);
    int calls = 0;
    fut.add_done_callback([&calls] { ++calls; });
    auto exc = std::make_exception_ptr(std::domain_error("zero division"));
    auto exc2 = std::make_exception_ptr(std::runtime_error("runtime"));
    f[1].set_result(1);
    f[2].set_exception(exc);
    f[0].set_result(3);
    run_until_idle();
    EXPECT_FALSE(fut.done());
    f[3].set_exception(exc2);
    run_until_idle();
    ASSERT_TRUE(fut.done());
    EXPECT_EQ(calls, 1);
    const auto& [r0, r1, r2, r3] = fut.result();
    EXPECT_EQ(r0.value(), 3);
    EXPECT_EQ(r1.value(), 1);
    EXPECT_FALSE(r2.has_value());
    EXPECT_EQ(r2.error(), exc);
    EXPECT_EQ(r3.error(), exc2);
    EXPECT_THROW(r3.value(), std::runtime_error);
}

// gather() of nothing is a future of the running loop already done with the empty result (an
// empty tuple, or an empty vector for the range overload); without a running loop it is a
// RuntimeError.
TEST_F(GatherTest, GATHER_06) {
    EXPECT_THROW((void)asyncio::gather(), asyncio::RuntimeError);
    EXPECT_THROW((void)asyncio::gather(std::vector<Task<int>>{}), asyncio::RuntimeError);
    auto fut = run(in_task([] { return asyncio::gather(); }));
    EXPECT_EQ(&fut.get_loop(), loop.get());
    run_until_idle();
    ASSERT_TRUE(fut.done());
    EXPECT_EQ(fut.result(), std::tuple<>());
    auto vec = run(in_task([] { return asyncio::gather(std::vector<Task<int>>{}); }));
    ASSERT_TRUE(vec.done());
    EXPECT_TRUE(vec.result().empty());
}

// Futures of different loops are a ValueError; futures all of another, non-running loop bind
// the gather to that loop.
TEST_F(GatherTest, GATHER_07) {
    auto other = asyncio::new_event_loop({.debug = false, .virtual_time = true});
    auto fut1 = loop->create_future<int>();
    auto fut2 = other->create_future<int>();
    EXPECT_THROW((void)asyncio::gather(fut1, fut2), asyncio::ValueError);
    EXPECT_THROW((void)asyncio::gather(std::vector<Future<int>>{fut1, fut2}),
                 std::invalid_argument);
    std::vector<Future<int>> children;
    for (int i = 0; i < 3; ++i)
        children.push_back(other->create_future<int>());
    for (int round = 0; round < 2; ++round) {
        auto fut = asyncio::gather(children[0], children[1], children[2]);
        EXPECT_EQ(&fut.get_loop(), other.get());
        other->call_soon([&] { other->stop(); });
        other->run_forever();
        EXPECT_FALSE(fut.done());
    }
}

// With return_exceptions, cancelled children give CancelledError at their positions, among
// values and failures, and the gather waits for every child.
TEST_F(GatherTest, GATHER_09) {
    std::vector<Future<int>> f;
    for (int i = 0; i < 6; ++i)
        f.push_back(loop->create_future<int>());
    auto fut = asyncio::gather(asyncio::return_exceptions, f[0], f[1], f[2], f[3], f[4], f[5]);
    int calls = 0;
    fut.add_done_callback([&calls] { ++calls; });
    f[0].set_result(1);
    auto zde = std::make_exception_ptr(std::domain_error("zero division"));
    f[1].set_exception(zde);
    f[2].cancel();
    run_until_idle();
    EXPECT_FALSE(fut.done());
    f[3].set_result(3);
    f[4].cancel();
    auto rte = std::make_exception_ptr(std::runtime_error("runtime"));
    f[5].set_exception(rte);
    const auto& res = loop->run_until_complete(fut);
    EXPECT_EQ(std::get<0>(res).value(), 1);
    EXPECT_EQ(std::get<1>(res).error(), zde);
    EXPECT_TRUE(holds<CancelledError>(std::get<2>(res).error()));
    EXPECT_EQ(std::get<3>(res).value(), 3);
    EXPECT_TRUE(holds<CancelledError>(std::get<4>(res).error()));
    EXPECT_EQ(std::get<5>(res).error(), rte);
    EXPECT_EQ(calls, 1);
}

// A coroutine passed several times runs once in asyncio. A C++ coroutine object cannot be passed
// twice (it is moved in), so the nearest equivalent: the same task passed three times runs once,
// and its result is repeated at each position (abc, abc, def, abc).
TEST_F(GatherTest, GATHER_10) {
    int runs = 0;
    auto fut = run(in_task([&runs] {
        Task<std::string> c = asyncio::create_task(echo("abc", &runs));
        return asyncio::gather(c, c, echo("def", &runs), c);
    }));
    run_until_idle();
    ASSERT_TRUE(fut.done());
    EXPECT_EQ(fut.result(), std::make_tuple(std::string("abc"), std::string("abc"),
                                            std::string("def"), std::string("abc")));
    EXPECT_EQ(runs, 2);
}

// Cancelling a task suspended on gather(child1, child2) cancels both children and the future
// they wait on; the task ends with CancelledError, a later cancel() of the gather is false, and
// the children never resume.
TEST_F(GatherTest, GATHER_11) {
    int proof = 0;
    auto waiter = loop->create_future<void>();
    auto child1 = loop->create_task(await_then_count(waiter, &proof));
    auto child2 = loop->create_task(await_then_count(waiter, &proof));
    Future<std::tuple<Empty, Empty>> gatherer;
    auto f = loop->create_task(gather_children(child1, child2, &gatherer, &proof));
    run_briefly();
    EXPECT_TRUE(f.cancel());
    EXPECT_THROW(loop->run_until_complete(f), CancelledError);
    EXPECT_FALSE(gatherer.cancel());
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(child1.cancelled());
    EXPECT_TRUE(child2.cancelled());
    run_briefly();
    EXPECT_EQ(proof, 0);
}

// A task awaiting gather(sleep(0.05), return_exceptions) in a loop and cancelled with a message
// ends with CancelledError carrying that message: return_exceptions does not swallow the
// awaiting task's cancellation.
TEST_F(GatherTest, GATHER_13) {
    for (std::string msg : {"", "my message"}) {
        auto qwe = loop->create_task(gather_sleeps_forever_until(1.0));
        auto main = loop->create_task(cancel_after(qwe, 0.2, msg));
        EXPECT_EQ(cancelled_message([&] { loop->run_until_complete(main); }), msg);
        EXPECT_TRUE(qwe.cancelled());
    }
}

// Gathering coroutines without a running loop is a RuntimeError (no task is made); inside a
// running loop the gather is bound to that loop and completes.
TEST_F(GatherTest, GATHER_15) {
    int runs = 0;
    EXPECT_THROW((void)asyncio::gather(echo("abc", &runs), echo("abc", &runs)),
                 asyncio::RuntimeError);
    auto fut =
        run(in_task([&runs] { return asyncio::gather(echo("abc", &runs), echo("d", &runs)); }));
    EXPECT_EQ(&fut.get_loop(), loop.get());
    EXPECT_EQ(loop->run_until_complete(fut), std::make_tuple(std::string("abc"), std::string("d")));
    EXPECT_EQ(runs, 2);
}

// asyncio's test_exception_marking: the second child's failure, arriving after the gather
// already failed with the first, is marked retrieved: only the awaiting task holds a failure.
TEST_F(GatherTest, GatherMarksLaterFailuresRetrieved) {
    auto a = loop->create_future<void>();
    auto b = loop->create_future<void>();
    auto f = loop->create_task(gather_two_failures(a, b));
    run_briefly();
    a.set_result();
    run_briefly();
    b.set_result();
    run_briefly();
    run_until_idle();
    ASSERT_TRUE(f.done());
    EXPECT_TRUE(holds<std::runtime_error>(f.exception()));
    f = {};
    a = {};
    b = {};
    run_until_idle();
    EXPECT_TRUE(reports.empty());
}

// asyncio's test_cancel_gather_1 (issue 26923): once every child is done, cancelling the gather
// (here from a done callback of the child's future, before the gather's own callback ran) does
// nothing: the gather completes with its result.
TEST_F(GatherTest, GatherRefusesCancelOnceChildrenAreDone) {
    auto fut = loop->create_future<int>();
    auto gather_fut = run(in_task([fut] { return asyncio::gather(await_value(fut)); }));
    bool cancel_result = true;
    fut.add_done_callback([&] { cancel_result = gather_fut.cancel(); });
    fut.set_result(42);
    EXPECT_EQ(loop->run_until_complete(gather_fut), std::make_tuple(42));
    EXPECT_FALSE(cancel_result);
    EXPECT_FALSE(gather_fut.cancelled());
}

// Race: the gather completes (its callback runs) in the iteration in which the task awaiting it
// is cancelled. The cancellation is not lost: the task ends cancelled, and the gather keeps its
// result.
TEST_F(GatherTest, CancelInTheIterationTheGatherCompletes) {
    auto fut = loop->create_future<int>();
    auto g = asyncio::gather(fut);
    auto awaiting = loop->create_task(
        [](Future<std::tuple<int>> g) -> Coro<int> { co_return std::get<0>(co_await g); }(g));
    run_briefly(); // `awaiting` waits on the gather
    fut.set_result(5);
    run_briefly(); // the gather's callback runs: the gather completes, `awaiting` is woken
    ASSERT_TRUE(g.done());
    EXPECT_TRUE(awaiting.cancel());
    EXPECT_THROW(loop->run_until_complete(awaiting), CancelledError);
    EXPECT_TRUE(awaiting.cancelled());
    EXPECT_EQ(g.result(), std::make_tuple(5));
}

// Race: the gather is cancelled in the iteration in which its last child completes, before the
// gather's callback ran: that child can no longer be cancelled, the others were, and with
// return_exceptions the gather still ends with CancelledError since a cancel was requested.
TEST_F(GatherTest, CancelInTheIterationTheLastChildCompletes) {
    auto a = loop->create_future<int>();
    auto b = loop->create_future<int>();
    auto g = asyncio::gather(asyncio::return_exceptions, a, b);
    b.set_result(2);
    EXPECT_TRUE(g.cancel("stop"));
    EXPECT_TRUE(a.cancelled());
    run_until_idle();
    ASSERT_TRUE(g.done());
    EXPECT_FALSE(g.cancelled());
    EXPECT_TRUE(holds<CancelledError>(g.exception()));
    EXPECT_EQ(cancelled_message([&] { (void)g.result(); }), "");
    EXPECT_EQ(b.result(), 2);
}

// A gather of gathers cancelled from outside: the cancellation reaches every leaf task, the inner
// gathers fail with CancelledError, and so does the outer one; the task awaiting it ends
// cancelled.
TEST_F(GatherTest, GatherOfGathersCancelledFromOutside) {
    std::vector<Task<void>> leaves;
    auto outer = run(in_task([&] {
        for (int i = 0; i < 3; ++i)
            leaves.push_back(asyncio::create_task(sleep_forever()));
        return asyncio::gather(asyncio::gather(leaves[0], leaves[1]), asyncio::gather(leaves[2]));
    }));
    auto awaiting = loop->create_task([](auto g) -> Coro<void> { co_await g; }(outer));
    run_briefly();
    EXPECT_TRUE(awaiting.cancel("outside"));
    EXPECT_EQ(cancelled_message([&] { loop->run_until_complete(awaiting); }), "outside");
    EXPECT_TRUE(awaiting.cancelled());
    for (auto& t : leaves)
        EXPECT_TRUE(t.cancelled());
    ASSERT_TRUE(outer.done());
    EXPECT_FALSE(outer.cancelled());
    EXPECT_TRUE(holds<CancelledError>(outer.exception()));
}

// 100,000 children in one gather, through the range overload of tasks and of coroutines: every
// result in argument order.
TEST_F(GatherTest, HundredThousandChildren) {
    constexpr int n = 100'000;
    auto sum = run(in_task([] {
        std::vector<Coro<int>> coros;
        coros.reserve(n);
        for (int i = 0; i < n; ++i)
            coros.push_back(index_value(i));
        return asyncio::gather(std::move(coros));
    }));
    const std::vector<int>& values = loop->run_until_complete(sum);
    ASSERT_EQ(values.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(values[i], i);

    std::vector<Task<int>> tasks;
    auto fut = run(in_task([&tasks] {
        for (int i = 0; i < n; ++i)
            tasks.push_back(asyncio::create_task(index_value(n - i)));
        return asyncio::gather(asyncio::return_exceptions, tasks);
    }));
    const auto& results = loop->run_until_complete(fut);
    ASSERT_EQ(results.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(results[i].value(), n - i);
}

// Children of every kind mix in one call (a task, a future, a coroutine, a bare awaitable, a
// void coroutine): the tuple has each one's result, Empty for void; move-only results move.
TEST_F(GatherTest, MixedChildren) {
    auto fut = loop->create_future<int>();
    loop->call_later(0.1, [fut]() mutable { fut.set_result(2); });
    auto all = run(in_task([fut] {
        Task<int> t = asyncio::create_task(value_after(0.2, 1));
        return asyncio::gather(t, fut, value_after(0.05, 3), asyncio::sleep(0.3, std::string("s")),
                               asyncio::sleep(0.01), boxed(9));
    }));
    auto [t, f, c, s, v, box] = run([](auto g) -> Coro<typename decltype(g)::value_type> {
        co_return co_await std::move(g);
    }(std::move(all)));
    EXPECT_EQ(t, 1);
    EXPECT_EQ(f, 2);
    EXPECT_EQ(c, 3);
    EXPECT_EQ(s, "s");
    EXPECT_EQ(v, Empty{});
    ASSERT_TRUE(box);
    EXPECT_EQ(*box, 9);
    EXPECT_DOUBLE_EQ(loop->time(), 0.3);
}

// Children already done when gather() is called are handled at once (asyncio 3.12+): a gather of
// done futures is done on return.
TEST_F(GatherTest, ChildrenAlreadyDone) {
    auto a = loop->create_future<int>();
    auto b = loop->create_future<int>();
    a.set_result(1);
    b.set_result(2);
    auto g = asyncio::gather(a, b);
    ASSERT_TRUE(g.done());
    EXPECT_EQ(g.result(), std::make_tuple(1, 2));
    auto c = loop->create_future<int>();
    c.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    auto h = asyncio::gather(a, c);
    ASSERT_TRUE(h.done());
    EXPECT_TRUE(holds<std::runtime_error>(h.exception()));
}

// A gather nobody holds still completes and runs its done callbacks; a failed one nobody
// retrieves is reported once ("_GatheringFuture exception was never retrieved"), and the
// child's own failure is not reported besides.
TEST_F(GatherTest, GatherNobodyHolds) {
    auto a = loop->create_future<int>();
    bool called = false;
    asyncio::gather(a).add_done_callback([&called] { called = true; });
    auto b = loop->create_future<int>();
    (void)asyncio::gather(b);
    a.set_result(1);
    b.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
    run_until_idle();
    EXPECT_TRUE(called);
    a = {};
    b = {};
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "_GatheringFuture exception was never retrieved");
    EXPECT_TRUE(holds<std::runtime_error>(reports[0].exception));
}

// A pending child future that nobody else holds can never complete; dropping it (and the
// gather) frees both (checked by the leak sanitizer), and cancelling the gather meanwhile
// skips it. With return_exceptions the gather waits for every child, so it never completes.
TEST_F(GatherTest, DroppedPendingChild) {
    auto kept = loop->create_future<int>();
    auto g = asyncio::gather(asyncio::return_exceptions, kept, loop->create_future<int>());
    EXPECT_TRUE(g.cancel());
    EXPECT_TRUE(kept.cancelled());
    run_until_idle();
    EXPECT_FALSE(g.done()); // the dropped child never completes
}
