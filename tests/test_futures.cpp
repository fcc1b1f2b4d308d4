// Conformance cases FUT-*: Future methods (state, outcome, cancellation message, done callbacks).
#include <asyncio.hpp>

#include <coroutine>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::CallbackId;
using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Future;
using asyncio::InvalidStateError;
using asyncio::testing::cancelled_message;
using asyncio::testing::holds;

class FutureTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: a task left waiting forever makes run_until_complete fail instead of hanging.
    FutureTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }
};

Coro<Future<int>> make_future_in_loop() {
    co_return asyncio::get_running_loop().create_future<int>();
}

Coro<void> await_twice(Future<int> f, std::vector<std::string>* log) {
    log->push_back("A");
    int x = co_await f;
    log->push_back("B " + std::to_string(x));
    int y = co_await f;
    log->push_back("C " + std::to_string(y));
}

Coro<void> await_done_thrice(Future<int> f, std::vector<std::string>* log) {
    for (int i = 0; i < 3; ++i)
        log->push_back("t1 " + std::to_string(co_await f));
}

Coro<void> log_once(std::vector<std::string>* log) {
    log->push_back("t2");
    co_return;
}

Coro<std::tuple<int, int>> await_tuple(Future<std::tuple<int, int>> f) { co_return co_await f; }

Coro<std::string> await_cancelled(Future<int> f) {
    try {
        co_await f;
    } catch (const CancelledError& e) {
        co_return "caught " + e.message();
    }
    co_return "not cancelled";
}

// A future-like type of another library: already done, holding 7.
struct DuckFuture {
    int value = 7;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    int await_resume() const noexcept { return value; }
};

Coro<int> await_duck(DuckFuture d) { co_return co_await d; }

// _copy_future_state, written with the public Future API.
template <class T>
void copy_future_state(Future<T> src, Future<T> dst) {
    if (dst.cancelled())
        return;
    if (src.cancelled()) {
        dst.cancel();
        return;
    }
    if (std::exception_ptr e = src.exception()) {
        dst.set_exception(e);
        return;
    }
    dst.set_result(src.result());
}

// futures._set_result_unless_cancelled, written with the public Future API.
template <class T, class V>
void set_result_unless_cancelled(Future<T> f, V value) {
    if (f.cancelled())
        return;
    f.set_result(std::move(value));
}

// The address of the exception object `f()` throws as E (to compare identities).
template <class E, class F>
const void* thrown_address(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return &e;
    }
    return nullptr;
}

} // namespace

// A new future is neither cancelled nor done; cancel() makes it cancelled.
TEST_F(FutureTest, FUT_01) {
    auto f = loop->create_future<int>();
    EXPECT_FALSE(f.cancelled());
    EXPECT_FALSE(f.done());
    f.cancel();
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
}

// Without a running loop there is no loop to bind a future to (RuntimeError); made inside a
// running loop, or from a given loop, the future reports that loop through get_loop().
TEST_F(FutureTest, FUT_02) {
    try {
        (void)asyncio::get_running_loop().create_future<int>();
        ADD_FAILURE() << "no RuntimeError without a running loop";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "no running event loop");
    }

    Future<int> f = run(make_future_in_loop());
    EXPECT_EQ(&f.get_loop(), loop.get());
    EXPECT_FALSE(f.done());

    auto g = loop->create_future<int>();
    EXPECT_EQ(&g.get_loop(), loop.get());

    // A handle bound to no future has no loop.
    Future<int> empty;
    EXPECT_FALSE(empty);
    EXPECT_THROW((void)empty.get_loop(), InvalidStateError);
}

// cancel() on a pending future returns true, makes it cancelled and done; result()/exception()
// then raise CancelledError, set_result/set_exception raise InvalidStateError, and a second
// cancel() returns false.
TEST_F(FutureTest, FUT_03) {
    auto f = loop->create_future<int>();
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
    EXPECT_EQ(cancelled_message([&] { (void)f.result(); }), "");
    EXPECT_EQ(cancelled_message([&] { (void)f.exception(); }), "");
    EXPECT_THROW(f.set_result(1), InvalidStateError);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                 InvalidStateError);
    EXPECT_THROW(f.set_exception(nullptr), InvalidStateError);
    EXPECT_FALSE(f.cancel());
    EXPECT_TRUE(f.cancelled());
}

// exception() before completion raises InvalidStateError; after set_exception(e), result()
// re-raises e, exception() returns e itself, further sets raise InvalidStateError and cancel()
// returns false.
TEST_F(FutureTest, FUT_05) {
    auto e = std::make_exception_ptr(asyncio::RuntimeError("boom"));
    auto f = loop->create_future<int>();
    EXPECT_THROW((void)f.exception(), InvalidStateError);
    EXPECT_THROW((void)f.result(), InvalidStateError);

    f.set_exception(e);
    EXPECT_FALSE(f.cancelled());
    EXPECT_TRUE(f.done());
    try {
        (void)f.result();
        ADD_FAILURE() << "result() did not re-raise";
    } catch (const asyncio::RuntimeError& x) {
        EXPECT_STREQ(x.what(), "boom");
    }
    EXPECT_EQ(f.exception(), e);
    EXPECT_THROW(f.set_result(1), InvalidStateError);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("y"))),
                 InvalidStateError);
    EXPECT_FALSE(f.cancel());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.exception(), e);
}

// Awaiting a done future gives its value at once without suspending, every time (42 twice);
// a tuple result comes back whole.
TEST_F(FutureTest, FUT_06) {
    std::vector<std::string> log;
    auto f = loop->create_future<int>();
    auto t = loop->create_task(await_twice(f, &log));
    run_briefly(); // the task suspends on the pending future
    EXPECT_EQ(log, (std::vector<std::string>{"A"}));
    EXPECT_FALSE(t.done());

    f.set_result(42);
    run_briefly(); // one step: the first await resumes, the second does not suspend
    EXPECT_EQ(log, (std::vector<std::string>{"A", "B 42", "C 42"}));
    EXPECT_TRUE(t.done());

    // Awaiting the done future never gives the loop a turn: t1's three awaits all come
    // before t2 runs.
    log.clear();
    auto t1 = loop->create_task(await_done_thrice(f, &log));
    auto t2 = loop->create_task(log_once(&log));
    run_briefly();
    EXPECT_EQ(log, (std::vector<std::string>{"t1 42", "t1 42", "t1 42", "t2"}));
    EXPECT_TRUE(t1.done());
    EXPECT_TRUE(t2.done());

    auto ft = loop->create_future<std::tuple<int, int>>();
    ft.set_result(std::tuple<int, int>{1, 2});
    EXPECT_EQ(run(await_tuple(ft)), (std::tuple<int, int>{1, 2}));
    EXPECT_EQ(ft.result(), (std::tuple<int, int>{1, 2}));
}

// cancel("my message") keeps the message: awaiting the future (run_until_complete or from a
// task), result() and exception() raise CancelledError("my message"). The message cannot be
// replaced afterwards (Python's private _cancel_message setter has no C++ counterpart): a
// second cancel() with another message is refused and the first message stays.
TEST_F(FutureTest, FUT_07) {
    auto f = loop->create_future<int>();
    EXPECT_TRUE(f.cancel("my message"));
    EXPECT_EQ(cancelled_message([&] { loop->run_until_complete(f); }), "my message");
    EXPECT_EQ(cancelled_message([&] { (void)f.result(); }), "my message");
    EXPECT_EQ(cancelled_message([&] { (void)f.exception(); }), "my message");
    EXPECT_EQ(run(await_cancelled(f)), "caught my message");

    EXPECT_FALSE(f.cancel("my new message"));
    EXPECT_EQ(cancelled_message([&] { (void)f.result(); }), "my message");

    // The message is also delivered to a task already waiting when the future is cancelled.
    auto g = loop->create_future<int>();
    auto t = loop->create_task(await_cancelled(g));
    run_briefly();
    EXPECT_FALSE(t.done());
    EXPECT_TRUE(g.cancel("late message"));
    run_briefly();
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), "caught late message");
}

// Done callbacks do not run inside set_result(): they are scheduled (call_soon) at that moment
// and run in the next iteration, in registration order ([42, 17]), each given the future.
TEST_F(FutureTest, FUT_09) {
    std::vector<std::string> bag;
    auto f = loop->create_future<std::string>();
    f.add_done_callback([&](const Future<std::string>& fut) {
        EXPECT_TRUE(fut == f);
        bag.push_back("42");
    });
    f.add_done_callback([&](const Future<std::string>& fut) {
        EXPECT_TRUE(fut == f);
        bag.push_back("17");
    });
    loop->call_soon([&] { bag.push_back("before"); });

    EXPECT_TRUE(bag.empty());
    f.set_result("foo");
    EXPECT_TRUE(bag.empty());
    loop->call_soon([&] { bag.push_back("after"); });

    run_briefly();
    EXPECT_EQ(bag, (std::vector<std::string>{"before", "42", "17", "after"}));
    EXPECT_EQ(f.result(), "foo");
}

// Done callbacks are scheduled the same way when the future completes with set_exception().
TEST_F(FutureTest, FUT_10) {
    std::vector<std::string> bag;
    auto f = loop->create_future<int>();
    f.add_done_callback([&](const Future<int>& fut) {
        EXPECT_TRUE(fut == f);
        bag.push_back("100");
    });
    loop->call_soon([&] { bag.push_back("before"); });

    EXPECT_TRUE(bag.empty());
    auto exc = std::make_exception_ptr(asyncio::RuntimeError("x"));
    f.set_exception(exc);
    EXPECT_TRUE(bag.empty());
    loop->call_soon([&] { bag.push_back("after"); });

    run_briefly();
    EXPECT_EQ(bag, (std::vector<std::string>{"before", "100", "after"}));
    EXPECT_EQ(f.exception(), exc);
}

// Removing the first, the first two, or the last of three callbacks (removing one twice is
// harmless: 1 then 0) leaves the others to run in their original order.
TEST_F(FutureTest, FUT_11) {
    struct Setup {
        Future<std::string> f;
        CallbackId cb1, cb2, cb3;
    };
    std::vector<int> bag;
    auto make = [&] {
        Setup s{loop->create_future<std::string>(), {}, {}, {}};
        s.cb1 = s.f.add_done_callback([&bag] { bag.push_back(42); });
        s.cb2 = s.f.add_done_callback([&bag] { bag.push_back(17); });
        s.cb3 = s.f.add_done_callback([&bag] { bag.push_back(100); });
        return s;
    };

    { // remove the first
        bag.clear();
        Setup s = make();
        EXPECT_EQ(s.f.remove_done_callback(s.cb1), 1u);
        EXPECT_EQ(s.f.remove_done_callback(s.cb1), 0u);
        EXPECT_TRUE(bag.empty());
        s.f.set_result("foo");
        run_briefly();
        EXPECT_EQ(bag, (std::vector<int>{17, 100}));
        EXPECT_EQ(s.f.result(), "foo");
    }
    { // remove the first and the second
        bag.clear();
        Setup s = make();
        EXPECT_EQ(s.f.remove_done_callback(s.cb1), 1u);
        EXPECT_EQ(s.f.remove_done_callback(s.cb2), 1u);
        EXPECT_EQ(s.f.remove_done_callback(s.cb1), 0u);
        EXPECT_TRUE(bag.empty());
        s.f.set_result("foo");
        run_briefly();
        EXPECT_EQ(bag, (std::vector<int>{100}));
        EXPECT_EQ(s.f.result(), "foo");
    }
    { // remove the third
        bag.clear();
        Setup s = make();
        EXPECT_EQ(s.f.remove_done_callback(s.cb3), 1u);
        EXPECT_EQ(s.f.remove_done_callback(s.cb3), 0u);
        EXPECT_TRUE(bag.empty());
        s.f.set_result("foo");
        run_briefly();
        EXPECT_EQ(bag, (std::vector<int>{42, 17}));
        EXPECT_EQ(s.f.result(), "foo");
    }
}

// Removals from the middle, the end and the front, with additions in between: the callbacks left
// run in registration order (the list's last entry follows every change).
TEST_F(FutureTest, DoneListKeepsOrderThroughRemovals) {
    std::vector<int> bag;
    auto f = loop->create_future<int>();
    std::vector<CallbackId> ids;
    for (int i = 0; i < 5; ++i)
        ids.push_back(f.add_done_callback([&bag, i] { bag.push_back(i); }));
    EXPECT_EQ(f.remove_done_callback(ids[2]), 1u);
    EXPECT_EQ(f.remove_done_callback(ids[4]), 1u);
    f.add_done_callback([&bag] { bag.push_back(5); });
    EXPECT_EQ(f.remove_done_callback(ids[0]), 1u);
    f.add_done_callback([&bag] { bag.push_back(6); });
    f.set_result(1);
    run_briefly();
    EXPECT_EQ(bag, (std::vector<int>{1, 3, 5, 6}));
}

// A done callback that removes the other callbacks while they are being dispatched changes
// nothing: dispatch works on the snapshot taken at completion, each runs exactly once.
TEST_F(FutureTest, FUT_13) {
    std::vector<std::string> bag;
    std::vector<std::size_t> removed;
    CallbackId ids[3]{};
    auto f = loop->create_future<int>();
    ids[0] = f.add_done_callback([&](const Future<int>& fut) {
        bag.push_back("mut");
        Future<int> g = fut;
        removed.push_back(g.remove_done_callback(ids[1]));
        removed.push_back(g.remove_done_callback(ids[2]));
    });
    ids[1] = f.add_done_callback([&] { bag.push_back("str1"); });
    ids[2] = f.add_done_callback([&] { bag.push_back("str2"); });
    f.set_result(1);
    run_briefly();
    EXPECT_EQ(bag, (std::vector<std::string>{"mut", "str1", "str2"}));
    EXPECT_EQ(removed, (std::vector<std::size_t>{0, 0}));
    run_briefly();
    EXPECT_EQ(bag.size(), 3u);
}

// Nearest C++ form of the list-mutation cases (removal never runs user code here: it goes by
// registration id, and the loop's scheduling cannot be hooked): emptying a 64-entry list one
// removal at a time, removing already-dispatched registrations during dispatch, and adding up
// to 100 more callbacks while callbacks run are all memory-safe and end consistent.
TEST_F(FutureTest, FUT_14) {
    std::vector<std::string> bag;

    { // remove_done_callbacks_list_mutation / list_clear: the list emptied under removals
        auto f = loop->create_future<int>();
        CallbackId str_id = f.add_done_callback([&] { bag.push_back("str"); });
        std::vector<CallbackId> id_ids;
        for (int i = 0; i < 63; ++i)
            id_ids.push_back(f.add_done_callback([&] { bag.push_back("id"); }));
        for (CallbackId id : id_ids) {
            EXPECT_EQ(f.remove_done_callback(id), 1u);
            EXPECT_EQ(f.remove_done_callback(id), 0u);
        }
        EXPECT_EQ(f.remove_done_callback(str_id), 1u);
        EXPECT_EQ(f.remove_done_callback(str_id), 0u);
        f.set_result(1);
        run_briefly();
        EXPECT_TRUE(bag.empty());
        EXPECT_EQ(f.remove_done_callback(str_id), 0u);
    }

    { // schedule_callbacks_list_mutation_2: a callback adds up to 100 more
        bag.clear();
        auto f = loop->create_future<int>();
        int extra = 0;
        f.add_done_callback([&](const Future<int>& fut) {
            bag.push_back("str");
            Future<int> g = fut;
            while (++extra < 100)
                g.add_done_callback(
                    [&bag, n = extra] { bag.push_back("extra" + std::to_string(n)); });
        });
        for (int i = 0; i < 63; ++i)
            f.add_done_callback([&] { bag.push_back("id"); });
        f.set_result(1);
        run_briefly(); // the 64 registered at completion run; the added ones are scheduled
        ASSERT_EQ(bag.size(), 64u);
        EXPECT_EQ(bag.front(), "str");
        EXPECT_EQ(bag.back(), "id");
        run_briefly(); // the 99 added while the future was done run in the next iteration
        ASSERT_EQ(bag.size(), 64u + 99u);
        EXPECT_EQ(bag[64], "extra1");
        EXPECT_EQ(bag.back(), "extra99");
    }

    { // evil_call_soon_list_mutation: removals of already-scheduled registrations
        bag.clear();
        auto f = loop->create_future<std::string>();
        std::vector<CallbackId> ids;
        std::vector<std::size_t> removed;
        ids.push_back(f.add_done_callback([&](const Future<std::string>& fut) {
            bag.push_back("str");
            Future<std::string> g = fut;
            for (std::size_t i = 1; i < ids.size(); ++i)
                removed.push_back(g.remove_done_callback(ids[i]));
        }));
        ids.push_back(f.add_done_callback([&] { bag.push_back("int"); }));
        ids.push_back(f.add_done_callback([&] { bag.push_back("pad"); }));
        ids.push_back(f.add_done_callback([&] { bag.push_back("pad"); }));
        f.set_result("boom");
        // Completion empties the list: nothing is left to remove.
        for (CallbackId id : ids)
            EXPECT_EQ(f.remove_done_callback(id), 0u);
        run_briefly();
        EXPECT_EQ(bag, (std::vector<std::string>{"str", "int", "pad", "pad"}));
        EXPECT_EQ(removed, (std::vector<std::size_t>{0, 0, 0}));
    }
}

// Copying one future's outcome to another (result, the very same exception object, or the
// cancelled state) reproduces it, a destination already cancelled stays cancelled, and "set
// result unless cancelled" leaves a cancelled future cancelled (set_result itself would raise).
TEST_F(FutureTest, FUT_15) {
    auto f = loop->create_future<int>();
    f.set_result(10);
    auto newf = loop->create_future<int>();
    copy_future_state(f, newf);
    EXPECT_TRUE(newf.done());
    EXPECT_EQ(newf.result(), 10);

    auto f_exc = loop->create_future<int>();
    f_exc.set_exception(std::make_exception_ptr(asyncio::RuntimeError("copied")));
    auto newf_exc = loop->create_future<int>();
    copy_future_state(f_exc, newf_exc);
    EXPECT_TRUE(newf_exc.done());
    EXPECT_FALSE(newf_exc.cancelled());
    EXPECT_THROW((void)newf_exc.result(), asyncio::RuntimeError);
    // Not a copy of the exception: the same object.
    EXPECT_EQ(newf_exc.exception(), f_exc.exception());
    const void* a = thrown_address<asyncio::RuntimeError>([&] { (void)f_exc.result(); });
    const void* b = thrown_address<asyncio::RuntimeError>([&] { (void)newf_exc.result(); });
    EXPECT_NE(a, nullptr);
    EXPECT_EQ(a, b);

    auto f_cancelled = loop->create_future<int>();
    f_cancelled.cancel();
    auto newf_cancelled = loop->create_future<int>();
    copy_future_state(f_cancelled, newf_cancelled);
    EXPECT_TRUE(newf_cancelled.cancelled());

    auto precancelled = loop->create_future<int>();
    precancelled.cancel();
    copy_future_state(f, precancelled);
    EXPECT_TRUE(precancelled.cancelled());

    auto fut = loop->create_future<int>();
    fut.cancel();
    set_result_unless_cancelled(fut, 2);
    EXPECT_TRUE(fut.cancelled());
    EXPECT_THROW(fut.set_result(2), InvalidStateError);
    EXPECT_TRUE(fut.cancelled());

    auto pending = loop->create_future<int>();
    set_result_unless_cancelled(pending, 2);
    EXPECT_EQ(pending.result(), 2);
}

// Once every callback is removed the future has none left (later removals give 0, completion
// runs nothing); and a duck-typed future of another library is accepted by co_await unchanged
// (ensure_future's pass-through; Python's _callbacks copy has no C++ counterpart).
TEST_F(FutureTest, FUT_17) {
    std::vector<int> bag;
    auto fut = loop->create_future<int>();
    CallbackId f1 = fut.add_done_callback([&](const Future<int>&) { bag.push_back(1); });
    CallbackId f2 = fut.add_done_callback([&](const Future<int>&) { bag.push_back(2); });
    EXPECT_EQ(fut.remove_done_callback(f1), 1u);
    EXPECT_EQ(fut.remove_done_callback(f1), 0u);
    EXPECT_EQ(fut.remove_done_callback(f2), 1u);
    EXPECT_EQ(fut.remove_done_callback(f2), 0u);
    fut.set_result(0);
    run_briefly();
    EXPECT_TRUE(bag.empty());

    static_assert(asyncio::Awaitable<DuckFuture>);
    static_assert(asyncio::Awaitable<Future<int>&>);
    EXPECT_EQ(run(await_duck(DuckFuture{})), 7);
}
