// concurrent.futures executors: Executor and ThreadPoolExecutor, the thread pool behind
// to_thread() and run_in_executor().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "concurrent.hpp"
#include "coroutines.hpp"
#include "exceptions.hpp"

namespace asyncio {

namespace detail {

// A unit of work for an executor's workers. The executor calls exactly one of work() (on a
// worker thread) or abandon() (it will never run it: shut down with cancel_futures), and forgets
// the job; the job disposes of itself.
class Job {
public:
    Job* m_job_next = nullptr;
    virtual void work() noexcept = 0;
    virtual void abandon() noexcept = 0;

protected:
    ~Job() = default;
};

// f(args...) called once, with the stored arguments moved in (a copy is made at submission, so
// the call gets them as rvalues); a std::stop_token may be passed in front of them.
template <class F, class... A>
class BoundCall {
public:
    template <class G, class... B>
    explicit BoundCall(G&& f, B&&... args)
        : m_f(std::forward<G>(f)), m_args(std::forward<B>(args)...) {}
    template <class... Pre>
    decltype(auto) operator()(Pre&&... pre) {
        return std::apply(
            [&](auto&&... x) -> decltype(auto) {
                return std::invoke(std::move(m_f), std::forward<Pre>(pre)..., std::move(x)...);
            },
            std::move(m_args));
    }

private:
    std::decay_t<F> m_f;
    std::tuple<std::decay_t<A>...> m_args;
};

template <class F, class... A>
using call_result_t = std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>;

template <class F, class... A>
constexpr void check_executor_call() {
    static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<A>...>,
                  "the function cannot be called with the given arguments");
    static_assert(!iscoroutinefunction_v<std::decay_t<F>, std::decay_t<A>...>,
                  "an executor runs plain functions, not coroutine functions: the coroutine would "
                  "never be awaited (asyncio's TypeError); await it in a task instead");
}

// submit()'s job: runs the call and completes the concurrent future.
template <class R, class Call>
class FutureJob final : public Job {
public:
    FutureJob(ConcurrentState<R>* future, Call call) : m_future(future), m_call(std::move(call)) {}
    void work() noexcept override {
        std::unique_ptr<FutureJob> self(this);
        ConcurrentFuture<R> future(m_future.get());
        if (!future.set_running_or_notify_cancel())
            return;
        try {
            if constexpr (std::is_void_v<R>) {
                m_call();
                future.set_result();
            } else {
                future.set_result(m_call());
            }
        } catch (...) {
            future.set_exception(std::current_exception());
        }
    }
    void abandon() noexcept override {
        m_future->cancel();
        delete this;
    }

private:
    IntrusivePtr<ConcurrentState<R>> m_future;
    Call m_call;
};

} // namespace detail

// An executor (Python's concurrent.futures.Executor): something that runs functions on other
// threads.
class Executor {
public:
    Executor() = default;
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;
    virtual ~Executor() = default;

    // Schedules f(args...) and gives a future of its result. RuntimeError after shutdown().
    template <class F, class... A>
    auto submit(F&& f, A&&... args) {
        detail::check_executor_call<F, A...>();
        using Call = detail::BoundCall<F, A...>;
        using R = detail::call_result_t<F, A...>;
        ConcurrentFuture<R> future;
        auto* job = new detail::FutureJob<R, Call>(
            future.raw(), Call(std::forward<F>(f), std::forward<A>(args)...));
        try {
            submit_job(job);
        } catch (...) {
            delete job;
            throw;
        }
        return future;
    }

    // Stops accepting work. With `wait`, returns once every submitted job has run; with
    // `cancel_futures`, jobs not started yet are cancelled instead of run.
    virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;

    // Internal: hands a job to the executor, which then owns it. RuntimeError after shutdown()
    // (the job is not taken).
    virtual void submit_job(detail::Job* job) = 0;
};

// A pool of worker threads (Python's concurrent.futures.ThreadPoolExecutor); the loop's default
// executor is one. Workers start lazily: a submission starts a new one only when no worker is
// idle, up to max_workers (default min(32, cores + 4), as Python's). The destructor shuts the pool
// down and waits for the jobs already submitted.
class ThreadPoolExecutor final : public Executor {
public:
    // ValueError if max_workers <= 0. Worker threads are named prefix_0, prefix_1, ...
    explicit ThreadPoolExecutor(std::optional<int> max_workers = std::nullopt,
                                std::string thread_name_prefix = "");
    ~ThreadPoolExecutor() override;

    void shutdown(bool wait = true, bool cancel_futures = false) override;
    void submit_job(detail::Job* job) override;

    int max_workers() const noexcept;
    // The number of worker threads started so far.
    int threads() const;

private:
    struct Pool;
    std::shared_ptr<Pool> m_pool; // workers hold it too, so one may outlive the executor
};

} // namespace asyncio
