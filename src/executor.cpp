// ThreadPoolExecutor: a FIFO of jobs and worker threads started on demand.
#include "asyncio/executor.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <vector>

#include "util.hpp"

namespace asyncio {

namespace {
std::atomic<int> g_pool_counter{0};

int default_max_workers() {
    unsigned cores = std::thread::hardware_concurrency();
    return static_cast<int>(std::min(32u, (cores ? cores : 1u) + 4u));
}
} // namespace

// Invariants: the queue (head..tail, linked by m_job_next) holds the jobs not yet taken, in
// submission order, `queued` of them; `idle` counts workers blocked on `cv`, `signalled` how many
// of them were notified and have not woken yet, and `spinner` tells whether a worker is
// busy-waiting for a job (at most one does, for a few microseconds, before it blocks). A
// submission wakes or starts a worker only when the queue holds more jobs than the spinner and
// the signalled workers will take, so a pool fed steadily runs without system calls, while
// blocking jobs still run side by side (up to max_workers threads, started only when no worker
// is free, as Python's pool does). After shutdown no job enters the queue, workers leave once it
// is empty, and `exited` counts those that left. Every worker holds the pool, so a worker that
// destroys the executor from inside a job still finds it.
struct ThreadPoolExecutor::Pool : std::enable_shared_from_this<Pool> {
    std::mutex mutex;
    std::condition_variable cv;
    std::condition_variable exit_cv;
    detail::Job* head = nullptr;
    detail::Job* tail = nullptr;
    int idle = 0;
    int signalled = 0;
    bool spinner = false;
    std::atomic<std::size_t> queued{0}; // written under `mutex`; the spinner reads it without
    std::size_t exited = 0;
    bool shut_down = false;
    int max_workers = 1;
    std::string prefix;
    std::vector<std::thread> threads;

    void worker();
    void start_thread();    // with `mutex` held
    bool is_worker() const; // with `mutex` held
    detail::Job* pop() noexcept {
        detail::Job* job = head;
        head = job->m_job_next;
        if (!head)
            tail = nullptr;
        job->m_job_next = nullptr;
        queued.store(queued.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
        return job;
    }
};

void ThreadPoolExecutor::Pool::worker() {
    std::unique_lock lock(mutex);
    for (;;) {
        if (!head && !shut_down && !spinner) {
            // Busy-wait a little for the next job before sleeping: a pool fed steadily then
            // takes its jobs without anyone waking anyone.
            spinner = true;
            lock.unlock();
            detail::spin_until([this] { return queued.load(std::memory_order_relaxed) > 0; });
            lock.lock();
            spinner = false;
        }
        while (!head && !shut_down) {
            ++idle;
            cv.wait(lock);
            --idle;
            if (signalled > 0)
                --signalled;
        }
        if (!head)
            break; // shut down and nothing left
        detail::Job* job = pop();
        lock.unlock();
        job->work();
        lock.lock();
    }
    ++exited;
    exit_cv.notify_all();
}

void ThreadPoolExecutor::Pool::start_thread() {
    const std::size_t index = threads.size();
    threads.emplace_back([pool = shared_from_this()] { pool->worker(); });
#ifdef __linux__
    std::string name = prefix + "_" + std::to_string(index);
    name.resize(std::min<std::size_t>(name.size(), 15)); // the kernel's limit
    pthread_setname_np(threads.back().native_handle(), name.c_str());
#endif
}

bool ThreadPoolExecutor::Pool::is_worker() const {
    const auto self = std::this_thread::get_id();
    return std::any_of(threads.begin(), threads.end(),
                       [&](const std::thread& t) { return t.get_id() == self; });
}

ThreadPoolExecutor::ThreadPoolExecutor(std::optional<int> max_workers,
                                       std::string thread_name_prefix)
    : m_pool(std::make_shared<Pool>()) {
    if (max_workers && *max_workers <= 0)
        throw ValueError("max_workers must be greater than 0");
    m_pool->max_workers = max_workers ? *max_workers : default_max_workers();
    m_pool->prefix = thread_name_prefix.empty()
                         ? "ThreadPoolExecutor-" + std::to_string(g_pool_counter.fetch_add(1))
                         : std::move(thread_name_prefix);
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
    shutdown(true);
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(m_pool->mutex);
        threads.swap(m_pool->threads);
    }
    for (std::thread& t : threads) {
        if (t.get_id() == std::this_thread::get_id())
            t.detach(); // destroyed from one of its own jobs: the worker ends by itself
        else
            t.join(); // it has left the pool already: this only reclaims the thread
    }
}

int ThreadPoolExecutor::max_workers() const noexcept { return m_pool->max_workers; }

int ThreadPoolExecutor::threads() const {
    std::lock_guard lock(m_pool->mutex);
    return static_cast<int>(m_pool->threads.size());
}

void ThreadPoolExecutor::submit_job(detail::Job* job) {
    Pool& p = *m_pool;
    bool notify = false;
    {
        std::lock_guard lock(p.mutex);
        if (p.shut_down)
            throw RuntimeError("cannot schedule new futures after shutdown");
        const std::size_t queued = p.queued.load(std::memory_order_relaxed) + 1;
        const std::size_t coming = (p.spinner ? 1u : 0u) + static_cast<std::size_t>(p.signalled);
        if (queued > coming) { // this job needs a worker of its own
            if (p.idle > p.signalled) {
                ++p.signalled;
                notify = true;
            } else if (static_cast<int>(p.threads.size()) < p.max_workers) {
                p.start_thread(); // before queueing: if it throws, the job is not taken
            }
        }
        job->m_job_next = nullptr;
        (p.tail ? p.tail->m_job_next : p.head) = job;
        p.tail = job;
        p.queued.store(queued, std::memory_order_relaxed);
    }
    if (notify)
        p.cv.notify_one();
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
    Pool& p = *m_pool;
    detail::Job* cancelled = nullptr;
    {
        std::lock_guard lock(p.mutex);
        p.shut_down = true;
        if (cancel_futures) {
            cancelled = p.head;
            p.head = p.tail = nullptr;
        }
    }
    p.cv.notify_all();
    while (cancelled) {
        detail::Job* next = cancelled->m_job_next;
        cancelled->abandon();
        cancelled = next;
    }
    if (!wait)
        return;
    std::unique_lock lock(p.mutex);
    // From one of its own jobs, a worker waits for the others (it cannot wait for itself).
    const std::size_t self = p.is_worker() ? 1 : 0;
    p.exit_cv.wait(lock, [&] { return p.exited + self >= p.threads.size(); });
}

} // namespace asyncio
