// asyncio.queues: CPython's Lib/test/test_asyncio/test_queues.py, ported case by case (each test
// is named after its CPython class and method; the mixin classes run for the three queue kinds),
// plus move-only items, the fast path, and a producer/consumer stress with random cancellations.
#include <asyncio.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::LifoQueue;
using asyncio::PriorityQueue;
using asyncio::Queue;
using asyncio::QueueEmpty;
using asyncio::QueueFull;
using asyncio::QueueShutDown;
using asyncio::sleep;
using asyncio::Task;
using Ints = std::vector<int>;

class QueueTest : public asyncio::testing::LoopTest {
protected:
    // Watchdog: a task left waiting forever makes run_until_complete fail instead of hanging.
    QueueTest() {
        loop->call_later(1e6, [this] { loop->stop(); });
    }
};

template <class Q>
std::string str(const Q& q) {
    std::ostringstream os;
    os << q;
    return os.str();
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

template <class Q>
Coro<typename Q::value_type> get_of(Q* q) {
    co_return co_await q->get();
}

template <class Q, class T>
Coro<void> put_of(Q* q, T item) {
    co_await q->put(std::move(item));
}

// ---------------------------------------------------------------------------------------------
// QueueBasicTests

TEST_F(QueueTest, QueueBasicTests_test_str) {
    // CPython's test_repr differs only by the id in repr(); operator<< gives str().
    Queue<int> q;
    EXPECT_EQ(str(q).rfind("<Queue", 0), 0u);
    run([](Queue<int>* q) -> Coro<void> {
        auto getter = asyncio::create_task(get_of(q));
        co_await sleep(0);
        EXPECT_TRUE(contains(str(*q), "_getters[1]")) << str(*q);
        q->put_nowait(0);
        EXPECT_EQ(co_await getter, 0);
    }(&q));
    Queue<int> q2(1);
    run([](Queue<int>* q) -> Coro<void> {
        q->put_nowait(1);
        auto putter = asyncio::create_task(put_of(q, 2));
        co_await sleep(0);
        EXPECT_TRUE(contains(str(*q), "_putters[1]")) << str(*q);
        q->get_nowait();
        co_await putter;
        EXPECT_TRUE(putter.done());
    }(&q2));
    Queue<int> q3;
    q3.put_nowait(1);
    EXPECT_TRUE(contains(str(q3), "_queue=[1]")) << str(q3);
}

TEST_F(QueueTest, QueueBasicTests_test_empty) {
    Queue<int> q;
    run([](Queue<int>* q) -> Coro<void> {
        EXPECT_TRUE(q->empty());
        co_await q->put(1);
        EXPECT_FALSE(q->empty());
        EXPECT_EQ(co_await q->get(), 1);
        EXPECT_TRUE(q->empty());
    }(&q));
}

TEST_F(QueueTest, QueueBasicTests_test_full) {
    Queue<int> q;
    EXPECT_FALSE(q.full());
    Queue<int> q1(1);
    run([](Queue<int>* q) -> Coro<void> { co_await q->put(1); }(&q1));
    EXPECT_TRUE(q1.full());
}

template <class Q>
Ints put_then_get_all(Q& q, asyncio::EventLoop& loop) {
    return loop.run_until_complete([](Q* q) -> Coro<Ints> {
        co_await q->put(1);
        co_await q->put(3);
        co_await q->put(2);
        Ints items;
        for (int i = 0; i < 3; ++i)
            items.push_back(co_await q->get());
        co_return items;
    }(&q));
}

TEST_F(QueueTest, QueueBasicTests_test_order) {
    Queue<int> q;
    EXPECT_EQ(put_then_get_all(q, *loop), Ints({1, 3, 2}));
}

TEST_F(QueueTest, QueueBasicTests_test_maxsize) {
    Queue<int> q(2);
    EXPECT_EQ(q.maxsize(), 2);
    Ints have_been_put;
    run([](Queue<int>* q, Ints* have_been_put) -> Coro<void> {
        auto t = asyncio::create_task([](Queue<int>* q, Ints* have_been_put) -> Coro<bool> {
            for (int i = 0; i < 3; ++i) {
                co_await q->put(i);
                have_been_put->push_back(i);
            }
            co_return true;
        }(q, have_been_put));
        for (int i = 0; i < 2; ++i)
            co_await sleep(0);
        // The putter is blocked after putting two items.
        EXPECT_EQ(*have_been_put, Ints({0, 1}));
        EXPECT_EQ(co_await q->get(), 0);
        // Let the putter resume and put the last item.
        co_await sleep(0);
        EXPECT_EQ(*have_been_put, Ints({0, 1, 2}));
        EXPECT_EQ(co_await q->get(), 1);
        EXPECT_EQ(co_await q->get(), 2);
        EXPECT_TRUE(t.done());
        EXPECT_TRUE(t.result());
    }(&q, &have_been_put));
}

// ---------------------------------------------------------------------------------------------
// QueueGetTests

TEST_F(QueueTest, QueueGetTests_test_blocking_get) {
    Queue<int> q;
    q.put_nowait(1);
    EXPECT_EQ(run(get_of(&q)), 1);
}

TEST_F(QueueTest, QueueGetTests_test_get_with_putters) {
    // CPython appends a bare future to _putters; here a putter waits, and get() wakes it.
    Queue<int> q(1);
    run([](Queue<int>* q) -> Coro<void> {
        co_await q->put(1);
        auto putter = asyncio::create_task(put_of(q, 2));
        co_await sleep(0);
        EXPECT_TRUE(contains(str(*q), "_putters[1]"));
        EXPECT_EQ(co_await q->get(), 1);
        EXPECT_FALSE(contains(str(*q), "_putters"));
        co_await putter;
        EXPECT_EQ(q->get_nowait(), 2);
    }(&q));
}

TEST_F(QueueTest, QueueGetTests_test_blocking_get_wait) {
    Queue<int> q;
    run([](Queue<int>* q, asyncio::EventLoop* loop) -> Coro<void> {
        asyncio::Event started;
        bool finished = false;
        auto task = asyncio::create_task(
            [](Queue<int>* q, asyncio::Event* started, bool* finished) -> Coro<int> {
                started->set();
                int res = co_await q->get();
                *finished = true;
                co_return res;
            }(q, &started, &finished));
        co_await started.wait();
        EXPECT_FALSE(finished);
        loop->call_later(0.01, [q] { q->put_nowait(1); });
        int res = co_await task;
        EXPECT_TRUE(finished);
        EXPECT_EQ(res, 1);
        EXPECT_DOUBLE_EQ(loop->time(), 0.01);
    }(&q, loop.get()));
}

TEST_F(QueueTest, QueueGetTests_test_nonblocking_get) {
    Queue<int> q;
    q.put_nowait(1);
    EXPECT_EQ(q.get_nowait(), 1);
}

TEST_F(QueueTest, QueueGetTests_test_nonblocking_get_exception) {
    Queue<int> q;
    EXPECT_THROW(q.get_nowait(), QueueEmpty);
}

TEST_F(QueueTest, QueueGetTests_test_get_cancelled_race) {
    Queue<std::string> q;
    run([](Queue<std::string>* q) -> Coro<void> {
        auto t1 = asyncio::create_task(get_of(q));
        auto t2 = asyncio::create_task(get_of(q));
        co_await sleep(0);
        t1.cancel();
        co_await sleep(0);
        EXPECT_TRUE(t1.done());
        co_await q->put("a");
        co_await sleep(0);
        EXPECT_EQ(co_await t2, "a");
    }(&q));
}

TEST_F(QueueTest, QueueGetTests_test_get_with_waiting_putters) {
    Queue<std::string> q(1);
    run([](Queue<std::string>* q) -> Coro<void> {
        auto pa = asyncio::create_task(put_of(q, std::string("a")));
        auto pb = asyncio::create_task(put_of(q, std::string("b")));
        EXPECT_EQ(co_await q->get(), "a");
        EXPECT_EQ(co_await q->get(), "b");
        co_await asyncio::gather(pa, pb);
    }(&q));
}

Coro<void> consume_n(Queue<int>* q, int n) {
    for (int i = 0; i < n; ++i)
        co_await q->get();
}

Coro<void> produce_n(Queue<int>* q, int n) {
    for (int i = 0; i < n; ++i)
        co_await q->put(i);
}

TEST_F(QueueTest, QueueGetTests_test_why_are_getters_waiting) {
    Queue<int> q(1);
    run([](Queue<int>* q) -> Coro<void> {
        co_await asyncio::gather(produce_n(q, 5), consume_n(q, 5));
    }(&q));
    EXPECT_TRUE(q.empty());
}

TEST_F(QueueTest, QueueGetTests_test_cancelled_getters_not_being_held_in_self_getters) {
    Queue<int> q(5);
    run([](Queue<int>* q) -> Coro<void> {
        EXPECT_THROW(co_await asyncio::wait_for(q->get(), 0.1), asyncio::TimeoutError);
        EXPECT_FALSE(contains(str(*q), "_getters"));
    }(&q));
}

// ---------------------------------------------------------------------------------------------
// QueuePutTests

TEST_F(QueueTest, QueuePutTests_test_blocking_put) {
    Queue<int> q;
    run([](Queue<int>* q) -> Coro<void> {
        co_await q->put(1); // no maxsize: does not block
        EXPECT_EQ(co_await q->get(), 1);
    }(&q));
}

TEST_F(QueueTest, QueuePutTests_test_blocking_put_wait) {
    Queue<int> q(1);
    run([](Queue<int>* q, asyncio::EventLoop* loop) -> Coro<void> {
        asyncio::Event started;
        bool finished = false;
        loop->call_later(0.01, [q] { q->get_nowait(); });
        auto task = asyncio::create_task(
            [](Queue<int>* q, asyncio::Event* started, bool* finished) -> Coro<void> {
                started->set();
                co_await q->put(1);
                co_await q->put(2);
                *finished = true;
            }(q, &started, &finished));
        co_await started.wait();
        EXPECT_FALSE(finished);
        co_await task;
        EXPECT_TRUE(finished);
    }(&q, loop.get()));
}

TEST_F(QueueTest, QueuePutTests_test_nonblocking_put) {
    Queue<int> q;
    q.put_nowait(1);
    EXPECT_EQ(q.get_nowait(), 1);
}

TEST_F(QueueTest, QueuePutTests_test_get_cancel_drop_one_pending_reader) {
    Queue<int> q;
    EXPECT_EQ(run([](Queue<int>* q) -> Coro<int> {
                  auto reader = asyncio::create_task(get_of(q));
                  co_await sleep(0);
                  q->put_nowait(1);
                  q->put_nowait(2);
                  reader.cancel();
                  bool cancelled = false;
                  try {
                      co_await reader;
                  } catch (const CancelledError&) {
                      cancelled = true;
                  }
                  if (cancelled) { // try again
                      reader = asyncio::create_task(get_of(q));
                      co_await reader;
                  }
                  co_return reader.result(); // 2 would mean 1 was dropped
              }(&q)),
              1);
}

TEST_F(QueueTest, QueuePutTests_test_get_cancel_drop_many_pending_readers) {
    Queue<int> q;
    run([](Queue<int>* q) -> Coro<void> {
        auto reader1 = asyncio::create_task(get_of(q));
        auto reader2 = asyncio::create_task(get_of(q));
        auto reader3 = asyncio::create_task(get_of(q));
        co_await sleep(0);
        q->put_nowait(1);
        q->put_nowait(2);
        reader1.cancel();
        EXPECT_THROW(co_await reader1, CancelledError);
        co_await reader3;
        co_await reader2;
        // Which concurrent reader receives which item is undefined.
        std::set<int> got{reader2.result(), reader3.result()};
        EXPECT_EQ(got, std::set<int>({1, 2}));
    }(&q));
}

TEST_F(QueueTest, QueuePutTests_test_put_cancel_drop) {
    Queue<int> q(1);
    run([](Queue<int>* q) -> Coro<void> {
        q->put_nowait(1);
        // A second item has to wait (maxsize 1).
        auto writer = asyncio::create_task(put_of(q, 2));
        co_await sleep(0);
        EXPECT_EQ(q->get_nowait(), 1);
        writer.cancel();
        bool cancelled = false;
        try {
            co_await writer;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        if (cancelled) { // try again
            writer = asyncio::create_task(put_of(q, 2));
            co_await writer;
        }
        EXPECT_EQ(q->get_nowait(), 2);
        EXPECT_EQ(q->qsize(), 0u);
    }(&q));
}

TEST_F(QueueTest, QueuePutTests_test_nonblocking_put_exception) {
    Queue<int> q(1);
    q.put_nowait(1);
    EXPECT_THROW(q.put_nowait(2), QueueFull);
}

TEST_F(QueueTest, QueuePutTests_test_put_cancelled) {
    Queue<int> q;
    run([](Queue<int>* q) -> Coro<void> {
        auto t = asyncio::create_task([](Queue<int>* q) -> Coro<bool> {
            co_await q->put(1);
            co_return true;
        }(q));
        EXPECT_EQ(co_await q->get(), 1);
        EXPECT_TRUE(t.done());
        EXPECT_TRUE(t.result());
    }(&q));
}

TEST_F(QueueTest, QueuePutTests_test_put_cancelled_race) {
    Queue<std::string> q(1);
    run([](Queue<std::string>* q) -> Coro<void> {
        auto put_a = asyncio::create_task(put_of(q, std::string("a")));
        auto put_b = asyncio::create_task(put_of(q, std::string("b")));
        auto put_c = asyncio::create_task(put_of(q, std::string("X")));
        co_await sleep(0);
        EXPECT_TRUE(put_a.done());
        EXPECT_FALSE(put_b.done());
        put_c.cancel();
        co_await sleep(0);
        EXPECT_TRUE(put_c.done());
        EXPECT_EQ(q->get_nowait(), "a");
        co_await sleep(0);
        EXPECT_EQ(q->get_nowait(), "b");
        co_await put_b;
    }(&q));
}

TEST_F(QueueTest, QueuePutTests_test_put_with_waiting_getters) {
    Queue<std::string> q;
    run([](Queue<std::string>* q) -> Coro<void> {
        auto t = asyncio::create_task(get_of(q));
        co_await sleep(0);
        co_await q->put("a");
        EXPECT_EQ(co_await t, "a");
    }(&q));
}

TEST_F(QueueTest, QueuePutTests_test_why_are_putters_waiting) {
    Queue<int> q(2);
    run([](Queue<int>* q) -> Coro<void> {
        auto getter = [](Queue<int>* q) -> Coro<void> {
            co_await sleep(0);
            std::size_t num = q->qsize();
            for (std::size_t i = 0; i < num; ++i)
                q->get_nowait();
        };
        co_await asyncio::gather(getter(q), put_of(q, 0), put_of(q, 1), put_of(q, 2), put_of(q, 3));
    }(&q));
    EXPECT_EQ(q.qsize(), 2u);
}

TEST_F(QueueTest, QueuePutTests_test_cancelled_puts_not_being_held_in_self_putters) {
    Queue<int> q(1);
    run([](Queue<int>* q) -> Coro<void> {
        q->put_nowait(1);
        auto put_task = asyncio::create_task(put_of(q, 1));
        co_await sleep(0);
        EXPECT_TRUE(contains(str(*q), "_putters[1]"));
        put_task.cancel();
        EXPECT_THROW(co_await put_task, CancelledError);
        EXPECT_FALSE(contains(str(*q), "_putters"));
    }(&q));
}

TEST_F(QueueTest, QueuePutTests_test_cancelled_put_silence_value_error_exception) {
    Queue<int> q(1);
    run([](Queue<int>* q) -> Coro<void> {
        q->put_nowait(1);
        auto put_task = asyncio::create_task(put_of(q, 1));
        co_await sleep(0);
        // get_nowait() wakes the putter; then it is cancelled before it ran.
        q->get_nowait();
        put_task.cancel();
        EXPECT_THROW(co_await put_task, CancelledError);
        EXPECT_TRUE(q->empty()); // the cancelled put inserted nothing
    }(&q));
}

// ---------------------------------------------------------------------------------------------
// LifoQueueTests, PriorityQueueTests

TEST_F(QueueTest, LifoQueueTests_test_order) {
    LifoQueue<int> q;
    EXPECT_EQ(put_then_get_all(q, *loop), Ints({2, 3, 1}));
}

TEST_F(QueueTest, PriorityQueueTests_test_order) {
    PriorityQueue<int> q;
    EXPECT_EQ(put_then_get_all(q, *loop), Ints({1, 2, 3}));
}

// ---------------------------------------------------------------------------------------------
// _QueueJoinTestMixin and _QueueShutdownTestMixin, for Queue, LifoQueue and PriorityQueue

template <class Q>
class QueueKinds : public QueueTest {};

using Kinds =
    ::testing::Types<Queue<std::string>, LifoQueue<std::string>, PriorityQueue<std::string>>;

struct KindName {
    template <class Q>
    static std::string GetName(int i) {
        static const char* const names[] = {"Queue", "LifoQueue", "PriorityQueue"};
        return names[i];
    }
};

TYPED_TEST_SUITE(QueueKinds, Kinds, KindName);

TYPED_TEST(QueueKinds, QueueJoinTests_test_task_done_underflow) {
    TypeParam q;
    EXPECT_THROW(q.task_done(), asyncio::ValueError);
    try {
        q.task_done();
    } catch (const asyncio::ValueError& e) {
        EXPECT_STREQ(e.what(), "task_done() called too many times");
    }
}

// The same kind of queue with int items.
template <class Q>
struct WithInts;
template <>
struct WithInts<Queue<std::string>> {
    using type = Queue<int>;
};
template <>
struct WithInts<LifoQueue<std::string>> {
    using type = LifoQueue<int>;
};
template <>
struct WithInts<PriorityQueue<std::string>> {
    using type = PriorityQueue<int>;
};

template <class Q>
Coro<void> task_done_worker(Q* q, int* accumulator, bool* running) {
    while (*running) {
        int item = co_await q->get();
        *accumulator += item;
        q->task_done();
    }
}

TYPED_TEST(QueueKinds, QueueJoinTests_test_task_done) {
    using Q = typename WithInts<TypeParam>::type;
    Q q;
    this->run([](Q* q) -> Coro<void> {
        for (int i = 0; i < 100; ++i)
            q->put_nowait(i);
        int accumulator = 0;
        bool running = true;
        // Two workers get items and call task_done after each; join, then check.
        auto w1 = asyncio::create_task(task_done_worker(q, &accumulator, &running));
        auto w2 = asyncio::create_task(task_done_worker(q, &accumulator, &running));
        co_await q->join();
        EXPECT_EQ(accumulator, 99 * 100 / 2);
        // Close the workers.
        running = false;
        q->put_nowait(0);
        q->put_nowait(0);
        co_await asyncio::gather(w1, w2);
    }(&q));
}

TYPED_TEST(QueueKinds, QueueJoinTests_test_join_empty_queue) {
    TypeParam q;
    // join() succeeds at once on an empty queue (twice, for insurance).
    this->run([](TypeParam* q) -> Coro<void> {
        co_await q->join();
        co_await q->join();
    }(&q));
}

TYPED_TEST(QueueKinds, QueueJoinTests_test_format) {
    TypeParam q;
    EXPECT_TRUE(contains(str(q), " maxsize=0>")) << str(q);
    q.put_nowait("a");
    q.put_nowait("b");
    q.get_nowait();
    q.get_nowait();
    EXPECT_TRUE(contains(str(q), " maxsize=0 tasks=2>")) << str(q);
}

TYPED_TEST(QueueKinds, QueueShutdownTests_test_format) {
    TypeParam q;
    q.shutdown();
    EXPECT_TRUE(contains(str(q), " maxsize=0 shutdown>")) << str(q);
}

TYPED_TEST(QueueKinds, QueueShutdownTests_test_shutdown_empty) {
    TypeParam q;
    this->run([](TypeParam* q) -> Coro<void> {
        auto get_task = asyncio::create_task(get_of(q));
        co_await sleep(0); // the get is pending before the shutdown
        q->shutdown(false);
        EXPECT_EQ(q->qsize(), 0u);
        co_await q->join();
        co_await sleep(0);
        EXPECT_TRUE(get_task.done());
        EXPECT_THROW(co_await get_task, QueueShutDown);
        EXPECT_THROW(co_await q->put("data"), QueueShutDown);
        EXPECT_THROW(q->put_nowait("data"), QueueShutDown);
        EXPECT_THROW(co_await q->get(), QueueShutDown);
        EXPECT_THROW(q->get_nowait(), QueueShutDown);
    }(&q));
}

TYPED_TEST(QueueKinds, QueueShutdownTests_test_shutdown_nonempty) {
    TypeParam q(1);
    this->run([](TypeParam* q) -> Coro<void> {
        q->put_nowait("data");
        auto join_task =
            asyncio::create_task([](TypeParam* q) -> Coro<void> { co_await q->join(); }(q));
        auto put_task = asyncio::create_task(put_of(q, std::string("data2")));
        co_await sleep(0);
        EXPECT_FALSE(put_task.done());
        q->shutdown(false);
        EXPECT_EQ(q->qsize(), 1u);
        co_await sleep(0);
        EXPECT_TRUE(put_task.done());
        EXPECT_THROW(co_await put_task, QueueShutDown);
        EXPECT_EQ(co_await q->get(), "data"); // the item left is still got
        co_await sleep(0);
        EXPECT_FALSE(join_task.done());
        EXPECT_THROW(co_await q->put("data"), QueueShutDown);
        EXPECT_THROW(q->put_nowait("data"), QueueShutDown);
        EXPECT_THROW(co_await q->get(), QueueShutDown);
        EXPECT_THROW(q->get_nowait(), QueueShutDown);
        q->task_done(); // the one unfinished item
        co_await sleep(0);
        EXPECT_TRUE(join_task.done());
        co_await join_task;
        EXPECT_THROW(q->task_done(), asyncio::ValueError);
    }(&q));
}

TYPED_TEST(QueueKinds, QueueShutdownTests_test_shutdown_immediate) {
    TypeParam q;
    this->run([](TypeParam* q) -> Coro<void> {
        q->put_nowait("data");
        auto join_task =
            asyncio::create_task([](TypeParam* q) -> Coro<void> { co_await q->join(); }(q));
        q->shutdown(true); // unfinished tasks: 1 -> 0
        EXPECT_EQ(q->qsize(), 0u);
        co_await sleep(0);
        EXPECT_TRUE(join_task.done());
        co_await join_task;
        EXPECT_THROW(co_await q->put("data"), QueueShutDown);
        EXPECT_THROW(q->put_nowait("data"), QueueShutDown);
        EXPECT_THROW(co_await q->get(), QueueShutDown);
        EXPECT_THROW(q->get_nowait(), QueueShutDown);
        EXPECT_THROW(q->task_done(), asyncio::ValueError);
    }(&q));
}

TYPED_TEST(QueueKinds, QueueShutdownTests_test_shutdown_immediate_with_unfinished) {
    TypeParam q;
    this->run([](TypeParam* q) -> Coro<void> {
        q->put_nowait("data");
        q->put_nowait("data");
        auto join_task =
            asyncio::create_task([](TypeParam* q) -> Coro<void> { co_await q->join(); }(q));
        EXPECT_EQ(co_await q->get(), "data");
        q->shutdown(true); // unfinished tasks: 2 -> 1
        EXPECT_EQ(q->qsize(), 0u);
        co_await sleep(0);
        EXPECT_FALSE(join_task.done());
        EXPECT_THROW(co_await q->put("data"), QueueShutDown);
        EXPECT_THROW(q->put_nowait("data"), QueueShutDown);
        EXPECT_THROW(co_await q->get(), QueueShutDown);
        EXPECT_THROW(q->get_nowait(), QueueShutDown);
        q->task_done(); // one was unfinished
        EXPECT_THROW(q->task_done(), asyncio::ValueError);
        co_await sleep(0);
        EXPECT_TRUE(join_task.done());
        co_await join_task;
    }(&q));
}

// ---------------------------------------------------------------------------------------------
// Not in CPython

// A shutdown wakes every waiting putter and getter; immediate drops the items.
TEST_F(QueueTest, Shutdown_wakes_waiting_putters_and_getters) {
    Queue<int> full(1);
    Queue<int> empty;
    run([](Queue<int>* full, Queue<int>* empty) -> Coro<void> {
        full->put_nowait(0);
        auto p1 = asyncio::create_task(put_of(full, 1));
        auto p2 = asyncio::create_task(put_of(full, 2));
        auto g1 = asyncio::create_task(get_of(empty));
        auto g2 = asyncio::create_task(get_of(empty));
        co_await sleep(0);
        full->shutdown(true);
        empty->shutdown();
        auto results = co_await asyncio::gather(asyncio::return_exceptions, p1, p2, g1, g2);
        EXPECT_TRUE(asyncio::testing::holds<QueueShutDown>(std::get<0>(results).error()));
        EXPECT_TRUE(asyncio::testing::holds<QueueShutDown>(std::get<1>(results).error()));
        EXPECT_TRUE(asyncio::testing::holds<QueueShutDown>(std::get<2>(results).error()));
        EXPECT_TRUE(asyncio::testing::holds<QueueShutDown>(std::get<3>(results).error()));
        EXPECT_TRUE(full->empty());
    }(&full, &empty));
}

// Move-only items go through put, get, the slow paths and every kind.
TEST_F(QueueTest, MoveOnly_items) {
    using P = std::unique_ptr<int>;
    Queue<P> q(1);
    LifoQueue<P> lq;
    auto by_value = [](const P& a, const P& b) { return *a < *b; };
    PriorityQueue<P, decltype(by_value)> pq(0, by_value);
    run([](Queue<P>* q, LifoQueue<P>* lq, auto* pq) -> Coro<void> {
        co_await q->put(std::make_unique<int>(1));
        auto putter = asyncio::create_task(put_of(q, std::make_unique<int>(2))); // waits
        auto getter = [](Queue<P>* q) -> Coro<int> { co_return *co_await q->get(); };
        EXPECT_EQ(co_await getter(q), 1);
        co_await putter;
        P two = q->get_nowait();
        EXPECT_EQ(*two, 2);
        lq->put_nowait(std::make_unique<int>(3));
        lq->put_nowait(std::make_unique<int>(4));
        EXPECT_EQ(*lq->get_nowait(), 4);
        pq->put_nowait(std::make_unique<int>(9));
        pq->put_nowait(std::make_unique<int>(5));
        pq->put_nowait(std::make_unique<int>(7));
        P first = co_await pq->get();
        EXPECT_EQ(*first, 5);
        EXPECT_EQ(*pq->get_nowait(), 7);
    }(&q, &lq, &pq));
}

// A PriorityQueue orders by its Compare (here largest first).
TEST_F(QueueTest, PriorityQueue_custom_compare) {
    PriorityQueue<int, std::greater<int>> q;
    EXPECT_EQ(put_then_get_all(q, *loop), Ints({3, 2, 1}));
}

// get() of an available item and put() into a queue with room do not suspend: no other task
// runs in between.
TEST_F(QueueTest, FastPaths_do_not_suspend) {
    Queue<int> q(2);
    run([](Queue<int>* q) -> Coro<void> {
        int ticks = 0;
        auto ticker = asyncio::create_task([](int* ticks) -> Coro<void> {
            for (;;) {
                ++*ticks;
                co_await sleep(0);
            }
        }(&ticks));
        co_await sleep(0);
        int before = ticks;
        co_await q->put(1);
        co_await q->put(2);
        EXPECT_EQ(co_await q->get(), 1);
        EXPECT_EQ(co_await q->get(), 2);
        EXPECT_EQ(ticks, before);
        ticker.cancel();
        EXPECT_THROW(co_await ticker, CancelledError);
    }(&q));
}

// Outside a task, a get() that would wait raises RuntimeError; a queue waited on from a second
// loop raises RuntimeError too.
TEST_F(QueueTest, Bound_to_one_loop) {
    Queue<int> q;
    run([](Queue<int>* q) -> Coro<void> {
        auto getter = asyncio::create_task(get_of(q)); // waits: binds the queue to this loop
        co_await sleep(0);
        q->put_nowait(1);
        co_await getter;
    }(&q));
    auto other = asyncio::new_event_loop({.virtual_time = true});
    std::string message;
    other->run_until_complete([](Queue<int>* q, std::string* message) -> Coro<void> {
        q->put_nowait(2);
        EXPECT_EQ(co_await q->get(), 2); // the fast path checks nothing
        try {
            co_await q->get();
        } catch (const asyncio::RuntimeError& e) {
            *message = e.what();
        }
    }(&q, &message));
    EXPECT_EQ(message, "Queue is bound to a different event loop");
}

// The stress of the issue: producers and consumers on a bounded queue, cancelled at random
// points (seeded): every item whose put() completed is got exactly once or is still in the
// queue; no item of a cancelled put() appears.
TEST_F(QueueTest, Stress_producers_consumers_random_cancellations) {
    constexpr static int producers = 20, items_each = 50, consumers = 8;
    struct State {
        Queue<int> q{5};
        std::set<int> put_done;
        std::multiset<int> got;
    } st;
    run([](State* st) -> Coro<void> {
        std::mt19937 rng(4242);
        auto pause = [&rng] { return std::uniform_int_distribution<int>(0, 4)(rng) * 0.001; };
        std::vector<Task<void>> prods, cons;
        for (int p = 0; p < producers; ++p) {
            std::vector<double> pauses;
            for (int i = 0; i < items_each; ++i)
                pauses.push_back(pause());
            prods.push_back(asyncio::create_task(
                [](State* st, int p, std::vector<double> pauses) -> Coro<void> {
                    for (int i = 0; i < items_each; ++i) {
                        int item = p * 1000 + i;
                        co_await st->q.put(item);
                        st->put_done.insert(item);
                        co_await sleep(pauses[i]);
                    }
                }(st, p, std::move(pauses))));
        }
        for (int c = 0; c < consumers; ++c) {
            std::vector<double> pauses;
            for (int i = 0; i < 200; ++i)
                pauses.push_back(pause());
            cons.push_back(
                asyncio::create_task([](State* st, std::vector<double> pauses) -> Coro<void> {
                    for (std::size_t i = 0;; ++i) {
                        int item = co_await st->q.get();
                        st->got.insert(item);
                        co_await sleep(pauses[i % pauses.size()]);
                    }
                }(st, std::move(pauses))));
        }
        // Cancel random producers and consumers at random moments, keeping two consumers.
        auto& loop = asyncio::get_running_loop();
        for (int k = 0; k < 12; ++k) {
            double when = std::uniform_int_distribution<int>(1, 200)(rng) * 0.001;
            int which = std::uniform_int_distribution<int>(0, producers + consumers - 3)(rng);
            Task<void> t = which < producers ? prods[which] : cons[which - producers];
            loop.call_later(when, [t]() mutable { t.cancel(); });
        }
        co_await asyncio::gather(asyncio::return_exceptions, prods);
        co_await sleep(1); // the last consumers drain what they can
        for (auto& c : cons)
            c.cancel();
        co_await asyncio::gather(asyncio::return_exceptions, cons);
        int cancelled = 0;
        for (auto& t : prods)
            cancelled += t.cancelled();
        for (auto& t : cons)
            cancelled += t.cancelled();
        EXPECT_GT(cancelled, consumers); // some producers were cancelled on the way
    }(&st));
    std::multiset<int> seen = st.got;
    while (!st.q.empty())
        seen.insert(st.q.get_nowait());
    std::multiset<int> expected(st.put_done.begin(), st.put_done.end());
    EXPECT_EQ(seen, expected);
    EXPECT_GT(st.got.size(), 100u);
}

} // namespace
