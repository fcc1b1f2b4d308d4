// The public surface: every name of the core API, reached through <asyncio.hpp> alone and used
// the way a user writes it.
// ctest-labels: thread
#include <asyncio.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stop_token>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

asyncio::Coro<int> nested() { co_return 42; }

asyncio::Coro<int> surface(std::ostringstream* out) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    EXPECT_TRUE(loop.is_running());
    EXPECT_FALSE(loop.is_closed());
    EXPECT_EQ(loop.time(), 0.0);

    // Sleeping: numbers of seconds or chrono durations; sleep(delay, result).
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0.25);
    co_await asyncio::sleep(250ms);
    EXPECT_EQ(co_await asyncio::sleep(1, std::string("yeah")), "yeah");
    EXPECT_DOUBLE_EQ(loop.time(), 1.5);

    // Tasks.
    asyncio::Task<int> task = asyncio::create_task(nested(), "nested");
    asyncio::Task<int> other = loop.create_task(nested());
    asyncio::TaskRef ref = task;
    std::unordered_set<asyncio::TaskRef> set{ref, other};
    EXPECT_EQ(set.size(), 2u);
    EXPECT_EQ(task.get_name(), "nested");
    task.set_name("renamed");
    EXPECT_EQ(ref.get_name(), "renamed");
    EXPECT_EQ(&task.get_loop(), &loop);
    EXPECT_FALSE(task.done());
    EXPECT_TRUE(task.get_coro());
    asyncio::CallbackId id = task.add_done_callback([](const asyncio::Task<int>&) {});
    EXPECT_EQ(task.remove_done_callback(id), 1u);
    EXPECT_EQ(co_await task, 42);
    EXPECT_EQ(task.result(), 42);
    EXPECT_EQ(task.exception(), nullptr);
    EXPECT_FALSE(task.cancelled());
    EXPECT_FALSE(task.cancel());
    EXPECT_EQ(task.cancelling(), 0);
    EXPECT_EQ(task.uncancel(), 0);
    EXPECT_TRUE(task.get_stack().empty());
    task.print_stack(std::nullopt, *out);
    *out << task << ref;
    EXPECT_TRUE(asyncio::current_task());
    EXPECT_TRUE(other.done()); // it ran while this task awaited `task`
    EXPECT_EQ(asyncio::all_tasks().size(), 1u);

    // Futures.
    asyncio::Future<int> fut = loop.create_future<int>();
    asyncio::FutureRef fref = fut;
    loop.call_soon([fut]() mutable { fut.set_result(7); });
    EXPECT_EQ(co_await fut, 7);
    EXPECT_TRUE(fref.done());
    asyncio::Future<> failed = loop.create_future();
    failed.set_exception(std::make_exception_ptr(asyncio::TimeoutError("late")));
    EXPECT_NE(failed.exception(), nullptr);
    asyncio::Future<int> as_future = task; // a Task is usable as a Future
    EXPECT_EQ(as_future.result(), 42);
    *out << fut << fref;

    // Callbacks and handles.
    asyncio::Handle h = loop.call_soon([] {});
    asyncio::TimerHandle th = loop.call_later(10, [] {});
    asyncio::TimerHandle at = loop.call_at(
        loop.time() + 1, [](int) {}, 5);
    asyncio::Handle ts = loop.call_soon_threadsafe([] {});
    EXPECT_DOUBLE_EQ(th.when(), loop.time() + 10);
    th.cancel();
    EXPECT_TRUE(th.cancelled());
    EXPECT_FALSE(h.cancelled() || at.cancelled() || ts.cancelled());
    *out << h;

    // Debug and the exception handler.
    loop.set_debug(false);
    EXPECT_FALSE(loop.get_debug());
    EXPECT_DOUBLE_EQ(loop.slow_callback_duration, 0.1);
    EXPECT_FALSE(loop.get_exception_handler());
    loop.set_exception_handler([out](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        *out << c.message << (c.exception ? "+exception" : "") << (c.task ? "+task" : "")
             << (c.future ? "+future" : "") << (c.handle ? "+handle" : "");
    });
    loop.call_exception_handler({"custom", nullptr, ref, fref, h});
    loop.set_exception_handler(nullptr);
    co_return 1;
}

TEST(PublicApi, EveryCoreNameThroughTheUmbrellaHeader) {
    std::ostringstream out;
    EXPECT_EQ(
        asyncio::run(surface(&out), asyncio::RunOptions{.debug = false, .virtual_time = true}), 1);
    EXPECT_NE(out.str().find("custom+task+future+handle"), std::string::npos);

    auto loop = asyncio::new_event_loop(asyncio::LoopOptions{.virtual_time = true});
    EXPECT_EQ(loop->run_until_complete(nested()), 42);
    loop->close();
    EXPECT_TRUE(loop->is_closed());
    EXPECT_THROW(asyncio::get_running_loop(), asyncio::RuntimeError);
    EXPECT_THROW(asyncio::current_task(), asyncio::RuntimeError);

    asyncio::TaskRef empty;
    EXPECT_FALSE(empty);
    EXPECT_THROW(empty.done(), asyncio::InvalidStateError);
    asyncio::Frame frame{"f", "file.cpp", 3};
    EXPECT_EQ(frame.lineno, 3);
    asyncio::CancelledError c("why");
    EXPECT_EQ(c.message(), "why");
    EXPECT_THROW(throw asyncio::LookupError("x"), std::exception);
}

asyncio::Coro<int> value_after(double delay, int value) {
    co_await asyncio::sleep(delay);
    co_return value;
}

asyncio::Coro<int> combinators() {
    // gather: a tuple in argument order; a range gives a vector; return_exceptions gives Results.
    auto [a, b] = co_await asyncio::gather(value_after(0.2, 1), value_after(0.1, 2));
    EXPECT_EQ(a + b, 3);
    std::vector<asyncio::Coro<int>> coros;
    coros.push_back(value_after(0.1, 3));
    std::vector<int> values = co_await asyncio::gather(std::move(coros));
    EXPECT_EQ(values, std::vector<int>{3});
    auto [r] = co_await asyncio::gather(asyncio::return_exceptions, value_after(0, 4));
    asyncio::Result<int> result = r;
    EXPECT_TRUE(result.has_value() && !result.error());
    EXPECT_EQ(result.value(), 4);

    // shield and wait_for (seconds, a chrono duration, std::nullopt).
    asyncio::Task<int> task = asyncio::create_task(value_after(0.5, 5));
    asyncio::Future<int> outer = asyncio::shield(task);
    EXPECT_THROW(co_await asyncio::wait_for(outer, 100ms), asyncio::TimeoutError);
    EXPECT_EQ(co_await asyncio::wait_for(task, 1.0), 5);
    EXPECT_EQ(co_await asyncio::wait_for(value_after(0, 6), std::nullopt), 6);

    // wait: {done, pending}; as_completed: both ways of iterating.
    std::vector<asyncio::Task<int>> tasks{asyncio::create_task(value_after(0.1, 7)),
                                          asyncio::create_task(value_after(1, 8))};
    asyncio::WaitOptions options{.timeout = 0.5, .return_when = asyncio::FIRST_COMPLETED};
    asyncio::WaitResult<asyncio::Task<int>> split = co_await asyncio::wait(tasks, options);
    EXPECT_EQ(split.done.size(), 1u);
    EXPECT_EQ(split.pending.size(), 1u);
    (void)asyncio::FIRST_EXCEPTION;
    (void)asyncio::ALL_COMPLETED;
    int sum = 0;
    for (auto next : asyncio::as_completed(tasks, 10))
        sum += co_await next;
    asyncio::AsCompleted<asyncio::Task<int>> it = asyncio::as_completed(tasks);
    while (std::optional<asyncio::Task<int>> t = co_await it.anext())
        sum += t->result();
    co_return sum;
}

TEST(PublicApi, CombinatorsThroughTheUmbrellaHeader) {
    EXPECT_EQ(asyncio::run(combinators(), asyncio::RunOptions{.virtual_time = true}), 30);
}

asyncio::Coro<int> sync_and_queues() {
    // Synchronization primitives: acquire/release/locked, scoped() guards, Event, Condition,
    // Semaphore, BoundedSemaphore, Barrier.
    asyncio::Lock lock;
    EXPECT_TRUE(co_await lock.acquire());
    EXPECT_TRUE(lock.locked());
    lock.release();
    {
        asyncio::Held<asyncio::Lock> held = co_await lock.scoped();
        EXPECT_TRUE(held.owns());
    }
    asyncio::Event ev;
    ev.set();
    EXPECT_TRUE(co_await ev.wait());
    EXPECT_TRUE(ev.is_set());
    ev.clear();
    asyncio::Condition cond;
    asyncio::Condition shared(lock);
    {
        auto held = co_await cond.scoped();
        cond.notify();
        cond.notify(2);
        cond.notify_all();
        EXPECT_EQ(co_await cond.wait_for([] { return 7; }), 7);
    }
    EXPECT_TRUE(co_await shared.acquire());
    EXPECT_TRUE(lock.locked());
    shared.release();
    asyncio::Semaphore sem(2);
    asyncio::BoundedSemaphore bounded;
    EXPECT_TRUE(co_await sem.acquire());
    sem.release();
    {
        auto held = co_await bounded.scoped();
        EXPECT_TRUE(bounded.locked());
    }
    EXPECT_THROW(bounded.release(), asyncio::ValueError);
    asyncio::Barrier barrier(1);
    EXPECT_EQ(co_await barrier.wait(), 0);
    EXPECT_EQ(barrier.parties(), 1);
    EXPECT_EQ(barrier.n_waiting(), 0);
    barrier.reset();
    barrier.abort();
    EXPECT_TRUE(barrier.broken());
    EXPECT_THROW(co_await barrier.wait(), asyncio::BrokenBarrierError);

    // Queues.
    asyncio::Queue<int> q(2);
    co_await q.put(1);
    q.put_nowait(2);
    EXPECT_TRUE(q.full());
    EXPECT_THROW(q.put_nowait(3), asyncio::QueueFull);
    EXPECT_EQ(q.qsize(), 2u);
    EXPECT_EQ(q.maxsize(), 2);
    int sum = co_await q.get();
    sum += q.get_nowait();
    EXPECT_TRUE(q.empty());
    EXPECT_THROW(q.get_nowait(), asyncio::QueueEmpty);
    q.task_done();
    q.task_done();
    co_await q.join();
    q.shutdown();
    EXPECT_THROW(co_await q.put(4), asyncio::QueueShutDown);
    asyncio::PriorityQueue<int> pq;
    asyncio::PriorityQueue<int, std::greater<int>> max_first;
    asyncio::LifoQueue<std::unique_ptr<int>> lifo;
    lifo.put_nowait(std::make_unique<int>(4));
    sum += *co_await lifo.get();
    pq.shutdown(true);
    max_first.put_nowait(0);
    co_return sum;
}

TEST(PublicApi, LocksAndQueuesThroughTheUmbrellaHeader) {
    EXPECT_EQ(asyncio::run(sync_and_queues(), asyncio::RunOptions{.virtual_time = true}), 7);
}

asyncio::ContextVar<std::string> request_id("request_id", "none");

asyncio::Coro<std::string> threads_and_contexts() {
    asyncio::EventLoop& loop = asyncio::get_running_loop();

    // Context variables.
    asyncio::Token<std::string> token = request_id.set("r1");
    EXPECT_EQ(request_id.get(), "r1");
    EXPECT_EQ(request_id.get("fallback"), "r1");
    asyncio::Context ctx = asyncio::copy_context();
    EXPECT_EQ(ctx.run([] { return request_id.get(); }), "r1");
    loop.call_soon([] { request_id.set("callback"); }, ctx);
    asyncio::Task<std::string> in_ctx = asyncio::create_task(
        []() -> asyncio::Coro<std::string> { co_return request_id.get(); }(), "in_ctx", ctx);
    EXPECT_TRUE(in_ctx.get_context() == ctx);
    EXPECT_EQ(co_await in_ctx, "callback");
    request_id.reset(token);
    EXPECT_EQ(request_id.get(), "none");

    // Threads.
    EXPECT_EQ(co_await asyncio::to_thread([](int x) { return x * 2; }, 21), 42);
    EXPECT_EQ(co_await asyncio::to_thread([](std::stop_token, int x) { return x; }, 1), 1);
    asyncio::Future<int> from_pool = loop.run_in_executor(nullptr, [] { return 5; });
    EXPECT_EQ(co_await from_pool, 5);
    asyncio::ConcurrentFuture<int> cf = co_await asyncio::to_thread([&loop] {
        asyncio::ConcurrentFuture<int> f =
            asyncio::run_coroutine_threadsafe([]() -> asyncio::Coro<int> { co_return 9; }(), loop);
        EXPECT_EQ(f.result(), 9);
        EXPECT_EQ(f.result(1.0), 9);
        EXPECT_EQ(f.exception(), nullptr);
        EXPECT_TRUE(f.done());
        EXPECT_FALSE(f.cancelled());
        EXPECT_FALSE(f.cancel());
        f.add_done_callback([](const asyncio::ConcurrentFuture<int>&) {});
        return f;
    });
    asyncio::Future<int> wrapped = asyncio::wrap_future(cf);
    EXPECT_EQ(co_await wrapped, 9);
    asyncio::ThreadPoolExecutor pool(1);
    EXPECT_EQ(pool.submit([] { return 3; }).result(), 3);
    pool.shutdown();
    loop.set_default_executor(std::make_shared<asyncio::ThreadPoolExecutor>(2));
    co_await loop.shutdown_default_executor();
    co_return request_id.get();
}

TEST(PublicApi, ThreadsAndContextsThroughTheUmbrellaHeader) {
    EXPECT_EQ(asyncio::run(threads_and_contexts(), asyncio::RunOptions{.virtual_time = true}),
              "none");
}

} // namespace
