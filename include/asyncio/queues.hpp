// asyncio.queues: Queue, PriorityQueue and LifoQueue for producer/consumer tasks.
//
// As asyncio's, the queues are NOT thread-safe: use them only from the tasks and callbacks of one
// loop. A queue is bound to the loop of the first task that has to wait on it; waiting on it from
// a task of another loop raises RuntimeError. To hand items in from another thread, let the
// loop do the put: `loop.call_soon_threadsafe([&q, item] { q.put_nowait(item); })`.
//
// Waiters are served in FIFO order; a get() or put() cancelled while it waits takes or inserts
// nothing, and a waiter woken and then cancelled before it ran passes the wake-up on. get() of an
// available item, and put() into a queue with room, neither suspend nor allocate.
#pragma once

#include <algorithm>
#include <coroutine>
#include <deque>
#include <functional>
#include <ostream>
#include <utility>
#include <vector>

#include "coroutines.hpp"
#include "detail/sync/queue_core.hpp"
#include "detail/sync/slow_path.hpp"
#include "exceptions.hpp"

namespace asyncio {

namespace detail {

// The item stores: what asyncio's _init, _put and _get choose per queue kind.
template <class T>
struct FifoStore {
    static constexpr QueueNames names{"Queue", "Queue.get()", "Queue.put()"};
    std::deque<T> items;
    void push(T&& v) { items.push_back(std::move(v)); }
    T pop() {
        T v = std::move(items.front());
        items.pop_front();
        return v;
    }
};

template <class T>
struct LifoStore {
    static constexpr QueueNames names{"LifoQueue", "LifoQueue.get()", "LifoQueue.put()"};
    std::vector<T> items;
    void push(T&& v) { items.push_back(std::move(v)); }
    T pop() {
        T v = std::move(items.back());
        items.pop_back();
        return v;
    }
};

// A binary heap, smallest (by Compare) first, as heapq.
template <class T, class Compare>
struct HeapStore {
    static constexpr QueueNames names{"PriorityQueue", "PriorityQueue.get()",
                                      "PriorityQueue.put()"};
    std::vector<T> items;
    [[no_unique_address]] Compare less;
    auto greater() {
        return [this](const T& a, const T& b) { return less(b, a); };
    }
    void push(T&& v) {
        items.push_back(std::move(v));
        std::push_heap(items.begin(), items.end(), greater());
    }
    T pop() {
        std::pop_heap(items.begin(), items.end(), greater());
        T v = std::move(items.back());
        items.pop_back();
        return v;
    }
};

template <class T>
concept Printable = requires(std::ostream& os, const T& v) {
    os << v;
};

// The queue over an item store; Queue, LifoQueue and PriorityQueue are its three kinds.
template <class T, class Store>
class BasicQueue : public QueueCore {
public:
    using value_type = T;

    // The awaiter of get().
    class [[nodiscard("the operation does nothing until it is awaited: co_await it")]] Get {
    public:
        explicit Get(BasicQueue & q) noexcept : m_q(&q) {}
        bool await_ready() const noexcept { return !m_q->empty() || m_q->is_shut_down(); }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
            return m_slow.start(m_q->get_slow(), h);
        }
        T await_resume() { return m_slow.started() ? m_slow.result() : m_q->get_nowait(); }

    private:
        BasicQueue* m_q;
        SlowPath<T> m_slow;
    };

    // The awaiter of put(), holding the item until it is in the queue.
    class [[nodiscard("the operation does nothing until it is awaited: co_await it")]] Put {
    public:
        Put(BasicQueue & q, T item) : m_q(&q), m_item(std::move(item)) {}
        bool await_ready() const noexcept { return !m_q->full() || m_q->is_shut_down(); }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
            return m_slow.start(m_q->put_slow(m_item), h);
        }
        void await_resume() {
            if (m_slow.started())
                m_slow.result();
            else
                m_q->put_nowait(std::move(m_item));
        }

    private:
        BasicQueue* m_q;
        T m_item;
        SlowPath<void> m_slow;
    };

    // `T item = co_await q.get()`: removes and gives the next item, waiting while the queue is
    // empty; QueueShutDown once the queue is shut down and empty.
    //
    // Cancellation: a cancelled get() takes no item (none is lost); if it had been woken for
    // one, the next waiting getter is woken instead.
    Get get() noexcept { return Get(*this); }
    // `co_await q.put(item)`: adds the item, waiting while the queue is full; QueueShutDown
    // once the queue is shut down (the item is then dropped).
    //
    // Cancellation: a cancelled put() inserts nothing; if it had been woken for a free slot,
    // the next waiting putter is woken instead.
    Put put(T item) { return Put(*this, std::move(item)); }
    // Adds the item now: QueueFull when full, QueueShutDown after shutdown().
    void put_nowait(T item) {
        check_put();
        m_store.push(std::move(item));
        item_put();
    }
    // Removes and gives the next item now: QueueEmpty when empty, QueueShutDown when shut down
    // and empty.
    T get_nowait() {
        check_get();
        T v = m_store.pop();
        item_taken();
        return v;
    }
    // asyncio 3.13's shutdown: put() raises QueueShutDown from now on; get() drains the items
    // left, then raises it. With immediate = true the items are dropped now (their unfinished
    // counts too, which may release join()). Every waiting get() and put() wakes up.
    void shutdown(bool immediate = false) {
        std::size_t dropped = 0;
        if (immediate) {
            dropped = m_store.items.size();
            m_store.items.clear();
        }
        shut_down(immediate, dropped);
    }

    // asyncio's str(): <Queue maxsize=0 _queue=[1, 2] _getters[1] tasks=2>, the items shown
    // when T can be printed.
    friend std::ostream& operator<<(std::ostream& os, const BasicQueue& q) {
        q.describe_head(os);
        if constexpr (Printable<T>) {
            if (!q.m_store.items.empty()) {
                os << " _queue=[";
                const char* sep = "";
                for (const T& v : q.m_store.items)
                    os << std::exchange(sep, ", ") << v;
                os << "]";
            }
        }
        q.describe_tail(os);
        return os;
    }

protected:
    explicit BasicQueue(long maxsize, Store store = Store())
        : QueueCore(maxsize, Store::names), m_store(std::move(store)) {}

private:
    // asyncio's get() and put() loops, for when the fast path cannot act.
    Coro<T> get_slow() {
        while (empty()) {
            if (is_shut_down())
                throw_shut_down();
            co_await park_getter();
        }
        co_return get_nowait();
    }
    Coro<void> put_slow(T& item) {
        while (full()) {
            if (is_shut_down())
                throw_shut_down();
            co_await park_putter();
        }
        put_nowait(std::move(item));
    }

    Store m_store;
};

} // namespace detail

// asyncio.Queue: first in, first out. `maxsize` <= 0 means unbounded. T may be move-only.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStore<T>> {
public:
    explicit Queue(long maxsize = 0) : detail::BasicQueue<T, detail::FifoStore<T>>(maxsize) {}
};

// asyncio.LifoQueue: last in, first out.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStore<T>> {
public:
    explicit LifoQueue(long maxsize = 0) : detail::BasicQueue<T, detail::LifoStore<T>>(maxsize) {}
};

// asyncio.PriorityQueue: the smallest item by Compare first (heapq's order).
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::HeapStore<T, Compare>> {
public:
    explicit PriorityQueue(long maxsize = 0, Compare compare = Compare())
        : detail::BasicQueue<T, detail::HeapStore<T, Compare>>(
              maxsize, detail::HeapStore<T, Compare>{{}, std::move(compare)}) {}
};

} // namespace asyncio
