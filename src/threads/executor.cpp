// ThreadPoolExecutor: a lock-free intake of jobs, a FIFO the workers share, worker threads
// started on demand and woken one at a time.
#include "asyncio/executor.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <vector>

#include "base/util.hpp"

namespace asyncio {

namespace {
std::atomic<int> g_pool_counter{0};

int default_max_workers() {
    unsigned cores = std::thread::hardware_concurrency();
    return static_cast<int>(std::min(32u, (cores ? cores : 1u) + 4u));
}
} // namespace

// Invariants:
// - submitters never take the workers' mutex (except to start a thread): a job goes onto
//   `intake`, a lock-free stack, with one compare-and-swap; workers move the whole stack, in
//   submission order, to the FIFO `head..tail` under `mutex`, and take jobs from there one at a
//   time (so blocking jobs run side by side, never queued behind each other in one worker);
// - `queued` counts the jobs on the intake and in the FIFO;
// - `sleepers` counts workers asleep (or about to sleep) on the futex word `epoch`; a worker
//   increments it, then looks at the queue once more before it sleeps, and a submitter pushes,
//   then reads it (both sequentially consistent), so a job never waits with every worker asleep;
// - at most one wake-up is in flight (`waking`) and at most one worker busy-waits for work
//   (`spinning`): a submitter wakes a worker only when nobody is spinning or already on the way,
//   and a worker that takes a job while more are waiting passes the baton to one more worker.
//   A pool fed steadily by one thread thus runs on a worker or two without system calls, and a
//   burst of blocking jobs still fans out to as many workers as it needs;
// - a thread is started only when no worker is asleep, spinning or on the way, up to
//   max_workers (Python's rule: a new thread when none is idle);
// - after shutdown no job is accepted, workers leave once the queue is empty, and `exited`
//   counts those that left. Every worker holds the pool, so a worker that destroys the executor
//   from inside a job still finds it.
struct ThreadPoolExecutor::Pool : std::enable_shared_from_this<Pool> {
    std::atomic<detail::Job*> intake{nullptr};
    std::atomic<std::size_t> queued{0};
    std::atomic<int> sleepers{0};
    std::atomic<std::uint32_t> epoch{0};
    std::atomic<bool> waking{false};
    std::atomic<bool> spinning{false};
    std::atomic<bool> shut_down{false};
    std::atomic<int> thread_count{0};

    std::mutex mutex; // the FIFO, `threads`, `exited`
    std::condition_variable exit_cv;
    detail::Job* head = nullptr;
    detail::Job* tail = nullptr;
    std::vector<std::thread> threads;
    std::size_t exited = 0;
    int max_workers = 1;
    std::string prefix;

    void push(detail::Job* job) noexcept;
    detail::Job* take() noexcept;
    // Sends for one more worker unless one is on its way: wakes a sleeper, or starts a thread.
    void send_for_worker() noexcept;
    void start_thread(); // with `mutex` held
    bool try_start_thread() noexcept;
    void worker();
    bool has_work() const noexcept { return queued.load(std::memory_order_seq_cst) > 0; }
    bool is_worker() const; // with `mutex` held
};

void ThreadPoolExecutor::Pool::push(detail::Job* job) noexcept {
    queued.fetch_add(1, std::memory_order_seq_cst);
    detail::Job* top = intake.load(std::memory_order_relaxed);
    do
        job->m_job_next = top;
    while (!intake.compare_exchange_weak(top, job, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
}

detail::Job* ThreadPoolExecutor::Pool::take() noexcept {
    std::lock_guard lock(mutex);
    if (!head) {
        detail::Job* stack = intake.exchange(nullptr, std::memory_order_seq_cst);
        detail::Job* fifo = nullptr;
        while (stack) { // reverse: first submitted first
            detail::Job* next = stack->m_job_next;
            stack->m_job_next = fifo;
            if (!fifo)
                tail = stack;
            fifo = stack;
            stack = next;
        }
        head = fifo;
    }
    detail::Job* job = head;
    if (job) {
        head = job->m_job_next;
        if (!head)
            tail = nullptr;
        job->m_job_next = nullptr;
        queued.fetch_sub(1, std::memory_order_relaxed);
    }
    return job;
}

void ThreadPoolExecutor::Pool::send_for_worker() noexcept {
    if (waking.exchange(true, std::memory_order_seq_cst))
        return; // one is on its way already
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
        epoch.fetch_add(1, std::memory_order_release);
        epoch.notify_one();
    } else if (!try_start_thread()) {
        waking.store(false, std::memory_order_seq_cst); // at max_workers: a busy one takes it
    }
}

bool ThreadPoolExecutor::Pool::try_start_thread() noexcept {
    if (thread_count.load(std::memory_order_relaxed) >= max_workers)
        return false;
    try {
        std::lock_guard lock(mutex);
        if (shut_down.load(std::memory_order_relaxed) ||
            static_cast<int>(threads.size()) >= max_workers)
            return false;
        start_thread();
        return true;
    } catch (...) { // no thread to be had: the workers there are take the job in turn
        return false;
    }
}

void ThreadPoolExecutor::Pool::start_thread() {
    const std::size_t index = threads.size();
    threads.emplace_back([pool = shared_from_this()] { pool->worker(); });
    thread_count.store(static_cast<int>(threads.size()), std::memory_order_relaxed);
#ifdef __linux__
    std::string name = prefix + "_" + std::to_string(index);
    name.resize(std::min<std::size_t>(name.size(), 15)); // the kernel's limit
    pthread_setname_np(threads.back().native_handle(), name.c_str());
#endif
}

void ThreadPoolExecutor::Pool::worker() {
    for (;;) {
        if (detail::Job* job = take()) {
            waking.store(false, std::memory_order_seq_cst); // arrived
            // More waiting, and nobody coming for it: pass the baton before running this one,
            // which may block for long.
            if (has_work() && !spinning.load(std::memory_order_seq_cst))
                send_for_worker();
            job->work();
            continue;
        }
        if (shut_down.load(std::memory_order_acquire))
            break;
        // Busy-wait a little for the next job before sleeping (one worker at a time): a pool fed
        // steadily then takes its jobs without anyone waking anyone.
        if (!spinning.exchange(true, std::memory_order_seq_cst)) {
            bool found = detail::spin_until(
                [this] { return has_work() || shut_down.load(std::memory_order_relaxed); });
            spinning.store(false, std::memory_order_seq_cst);
            if (found)
                continue;
        }
        // Going to sleep: count as a sleeper, say that nobody is on the way (a submitter that
        // still sees the old "on the way" must be covered by the look at the queue that follows),
        // and look once more.
        const std::uint32_t seen = epoch.load(std::memory_order_acquire);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        waking.store(false, std::memory_order_seq_cst);
        if (!has_work() && !shut_down.load(std::memory_order_seq_cst))
            epoch.wait(seen, std::memory_order_acquire);
        sleepers.fetch_sub(1, std::memory_order_seq_cst);
    }
    std::lock_guard lock(mutex);
    ++exited;
    exit_cv.notify_all();
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
    if (p.shut_down.load(std::memory_order_acquire))
        throw RuntimeError("cannot schedule new futures after shutdown");
    if (p.thread_count.load(std::memory_order_relaxed) == 0) {
        // The first worker starts before the job is queued: if it cannot, the job is not taken.
        std::lock_guard lock(p.mutex);
        if (p.threads.empty()) {
            // On its way: said before it exists, so that its first look at the queue comes
            // after (see the invariants).
            p.waking.store(true, std::memory_order_seq_cst);
            try {
                p.start_thread();
            } catch (...) {
                p.waking.store(false, std::memory_order_seq_cst);
                throw;
            }
        }
    }
    p.push(job);
    if (p.spinning.load(std::memory_order_seq_cst) || p.waking.load(std::memory_order_seq_cst))
        return; // someone is on the way for it
    p.send_for_worker();
    // A shutdown that raced with this push still runs or abandons the job: workers drain the
    // queue before they leave, and shutdown() abandons what is left after them.
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
    Pool& p = *m_pool;
    p.shut_down.store(true, std::memory_order_seq_cst);
    if (cancel_futures) {
        std::vector<detail::Job*> cancelled;
        while (detail::Job* job = p.take())
            cancelled.push_back(job);
        for (detail::Job* job : cancelled)
            job->abandon();
    }
    p.epoch.fetch_add(1, std::memory_order_release);
    p.epoch.notify_all();
    std::unique_lock lock(p.mutex);
    if (p.threads.empty()) { // no worker ever started: nobody else will take what is queued
        lock.unlock();
        while (detail::Job* job = p.take())
            job->abandon();
        return;
    }
    if (!wait)
        return;
    // From one of its own jobs, a worker waits for the others (it cannot wait for itself).
    const std::size_t self = p.is_worker() ? 1 : 0;
    p.exit_cv.wait(lock, [&] { return p.exited + self >= p.threads.size(); });
    lock.unlock();
    // A job whose submission raced with the shutdown and came after the last worker left: it
    // will never run.
    if (!self)
        while (detail::Job* job = p.take())
            job->abandon();
}

} // namespace asyncio
