// asyncio.events: EventLoop, callback handles, the exception handler, get_running_loop.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "contextvars.hpp"
#include "coroutines.hpp"
#include "detail/base/address.hpp"
#include "detail/base/intrusive.hpp"
#include "detail/base/seconds.hpp"
#include "detail/loop/handle_impl.hpp"
#include "detail/loop/signal_handlers.hpp"
#include "detail/runtime/external_work.hpp"
#include "detail/runtime/inbox.hpp"
#include "detail/runtime/loop_core.hpp"
#include "detail/runtime/ready_queue.hpp"
#include "detail/runtime/timer_heap.hpp"
#include "detail/threads/loop_job.hpp"
#include "exceptions.hpp"
#include "executor.hpp"
#include "futures.hpp"
#include "tasks.hpp"

namespace asyncio {

namespace detail {
struct LoopTestAccess;
LoopCore& core_of(EventLoop& loop) noexcept;
EventLoop& face_of(LoopCore& core) noexcept;

template <class F, class... Args>
constexpr void check_callback() {
    static_assert(!iscoroutine_v<F>,
                  "a Coro is not a callback: the loop would never await it (asyncio's "
                  "TypeError); schedule it with create_task() instead");
    static_assert(!iscoroutinefunction_v<std::decay_t<F>&, std::decay_t<Args>&...>,
                  "callbacks must be plain callables, not coroutine functions: the coroutine "
                  "would never be awaited (asyncio's TypeError); use create_task(f()) instead");
    static_assert(std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&...>,
                  "the callback cannot be called with the given arguments");
}

template <class... Args>
class CallbackAt;

template <class... A>
struct LastIsContext : std::false_type {};
template <class A>
struct LastIsContext<A> : std::is_same<std::remove_cvref_t<A>, Context> {};
template <class A, class B, class... R>
struct LastIsContext<A, B, R...> : LastIsContext<B, R...> {};
} // namespace detail

// What call_soon() and friends return. cancel() keeps the callback from running (from any
// thread for call_soon_threadsafe's handles); cancelled() tells if it was called.
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(detail::HandleImpl* impl) noexcept : m_impl(impl) {}
    explicit operator bool() const noexcept { return static_cast<bool>(m_impl); }
    void cancel();
    bool cancelled() const;
    friend bool operator==(const Handle& a, const Handle& b) noexcept {
        return a.m_impl == b.m_impl;
    }
    friend std::ostream& operator<<(std::ostream& os, const Handle& h);

protected:
    detail::HandleImpl& impl() const;
    detail::IntrusivePtr<detail::HandleImpl> m_impl;
};

// What call_later() and call_at() return: a Handle with its due time.
class TimerHandle : public Handle {
public:
    using Handle::Handle;
    // The loop time (loop.time()) the callback is due at.
    double when() const;
    friend bool operator<(const TimerHandle& a, const TimerHandle& b) {
        return a.when() < b.when();
    }
};

// What the loop's exception handler receives. `exception` may be null; `task`, `future` and
// `handle` are set where they apply.
struct ExceptionContext {
    std::string message;
    std::exception_ptr exception;
    TaskRef task;
    FutureRef future;
    Handle handle;
};

class EventLoop;
class Runner;
class BaseProtocol;
class Transport;
class DatagramProtocol;
class DatagramTransport;
class Server;
struct AddrInfo;

namespace detail {
class FdWatches;
using ProtocolFactoryFn = std::function<std::unique_ptr<BaseProtocol>()>;
using DatagramFactoryFn = std::function<std::unique_ptr<DatagramProtocol>()>;
// The protocol type a factory makes (it returns std::unique_ptr<P>).
template <class F>
using protocol_t = typename std::invoke_result_t<F&>::element_type;
} // namespace detail

// Options of loop.create_server() and start_server() (`limit` is the streams' buffer limit, which
// create_server() does not use). As in asyncio, SO_REUSEADDR is always set on TCP listeners.
struct ServerOptions {
    std::size_t limit = 64 * 1024;
    int backlog = 100;
    bool reuse_address = true;
    bool reuse_port = false;
    bool start_serving = true;
    // A Unix server removes its socket file when it closes (unless another file replaced it).
    bool cleanup_socket = true;
};

using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

struct LoopOptions {
    // Unset: on when the environment variable ASYNCIO_DEBUG is non-empty.
    std::optional<bool> debug = std::nullopt;
    // loop.time() starts at 0 and jumps to the next timer whenever nothing is ready and
    // nothing is in flight outside the loop; it runs at the real rate while something is.
    bool virtual_time = false;
};

// The event loop: a FIFO ready queue and a timer heap of our own; libuv only to wait (I/O, the
// next deadline, cross-thread wake-ups). While callbacks are ready the loop makes no system
// call. Not thread-safe, except call_soon_threadsafe() and the handles it returns.
//
// The public face of the loop's engine (detail::LoopCore, which tasks, futures and awaitables
// talk to): what this class adds is asyncio's API over it.
class EventLoop : private detail::LoopCore {
public:
    explicit EventLoop(LoopOptions options = {});
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    // Tasks still pending are destroyed with their frames and reported ("Task was destroyed
    // but it is pending!") in every mode, as asyncio reports a collected pending task.
    ~EventLoop();

    // Runs until stop() is called. RuntimeError if closed, or if a loop already runs here.
    void run_forever() { run_until_stopped(); }
    // Runs until the awaitable is done and gives its result (a coroutine is wrapped in a
    // task). RuntimeError("Event loop stopped before Future completed.") if stop() came first.
    template <class T>
    T run_until_complete(Coro<T> coro);
    template <class T>
    detail::ValueOf<T> run_until_complete(const Task<T>& task);
    template <class T>
    detail::ValueOf<T> run_until_complete(const Future<T>& future);
    // Stops after the current iteration (before it runs, for a loop that is not running).
    using LoopCore::stop;
    void close();
    using LoopCore::is_closed;
    using LoopCore::is_running;
    // The loop's monotonic clock, in seconds (virtual time: starts at 0).
    using LoopCore::time;

    // The callback is any callable; its parameter type only records the caller's location
    // (shown in debug mode) on the way in. A trailing asyncio::Context argument is not passed to
    // the callback: it is the context the callback runs in (asyncio's `context=`); without one,
    // the callback runs in a copy of the context current here.
    template <class... Args>
    Handle call_soon(std::type_identity_t<detail::CallbackAt<Args...>> fn, Args&&... args);
    template <detail::Seconds D, class... Args>
    TimerHandle call_later(D delay, std::type_identity_t<detail::CallbackAt<Args...>> fn,
                           Args&&... args);
    template <detail::Seconds D, class... Args>
    TimerHandle call_at(D when, std::type_identity_t<detail::CallbackAt<Args...>> fn,
                        Args&&... args);
    // Thread-safe: schedules the callback and wakes the loop if it waits in the OS.
    template <class... Args>
    Handle call_soon_threadsafe(std::type_identity_t<detail::CallbackAt<Args...>> fn,
                                Args&&... args);

    // Runs `fn(args...)` on the loop (never inside the signal handler) each time `signum`
    // arrives; signals that arrive before it ran coalesce. Replaces the handler the signal had
    // on this loop. RuntimeError for SIGKILL and SIGSTOP (which cannot be caught), ValueError
    // for a number that is no signal. The signal's disposition before the first handler is
    // restored when the handler is removed and when the loop closes. A handler for SIGINT takes
    // precedence over run()'s Ctrl-C handling.
    template <class... Args>
    void add_signal_handler(int signum, std::type_identity_t<detail::CallbackAt<Args...>> fn,
                            Args&&... args) {
        check_closed();
        m_signals.add(signum, fn.make_handle(*this, false, std::forward<Args>(args)...));
    }
    // Removes the handler of `signum`; false if there was none.
    bool remove_signal_handler(int signum) { return m_signals.remove(signum); }

    // Debug mode records where these are called, for the reports about the future or task.
    template <class T = void>
    Future<T> create_future(detail::SourceLoc where = detail::SourceLoc::current());
    // The task runs in `context`, or in a copy of the current context when none is given.
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name = {},
                        std::optional<Context> context = std::nullopt,
                        detail::SourceLoc where = detail::SourceLoc::current()) {
        return detail::start_task(*this, coro, name, context, false, where);
    }
    template <class T>
    Task<T> create_task(Coro<T> coro, TaskOptions options,
                        detail::SourceLoc where = detail::SourceLoc::current()) {
        return detail::start_task(*this, coro, options, where);
    }
    // With the coroutine function itself, kept alive until the task is done (see
    // asyncio::create_task).
    template <detail::CoroutineFunction F>
    auto create_task(F&& fn, TaskOptions options = {},
                     detail::SourceLoc where = detail::SourceLoc::current()) {
        return create_task(detail::owned_call(std::decay_t<F>(std::forward<F>(fn))),
                           std::move(options), where);
    }
    // asyncio's task factory: called with the options of every task created on this loop,
    // which it may change (eager_task_factory makes every task eager); a null one removes it.
    // Task<T> stays the task's type.
    void set_task_factory(TaskFactory factory) { task_factory = std::move(factory); }
    // The factory set, false in a boolean context when none is.
    const TaskFactory& get_task_factory() const noexcept { return task_factory; }

    // Runs f(args...) on `executor` (a null one means the loop's default executor, a
    // ThreadPoolExecutor made on first use) and gives a future of its result, completed in this
    // loop; the job keeps the future alive until then, as asyncio does. The function runs in the
    // worker's own context (to_thread() passes the caller's). RuntimeError after
    // shutdown_default_executor() (for the default executor) or on a closed loop.
    //
    // Cancellation: cancelling the future (or the task awaiting it) keeps a job that has not
    // started from running; a running one runs to its end and its outcome is dropped.
    template <class F, class... A>
    Future<detail::call_result_t<F, A...>> run_in_executor(Executor* executor, F&& f, A&&... args);
    // Replaces the default executor (the loop shares it; only a ThreadPoolExecutor will do, as in
    // asyncio).
    void set_default_executor(std::shared_ptr<ThreadPoolExecutor> executor);
    template <class E>
    requires(!std::is_convertible_v<E*, ThreadPoolExecutor*>) void set_default_executor(
        std::shared_ptr<E>) {
        static_assert(std::is_convertible_v<E*, ThreadPoolExecutor*>,
                      "set_default_executor() takes a ThreadPoolExecutor, as asyncio's does "
                      "(TypeError); pass other executors to run_in_executor() instead");
    }
    // The default executor, made on first use; RuntimeError once shutdown_default_executor() was
    // called.
    Executor& default_executor();
    // Shuts the default executor down and waits (in a helper thread, so the loop keeps running)
    // until its jobs have run; afterwards run_in_executor(nullptr, ...) and to_thread() raise
    // RuntimeError. With a timeout, gives up waiting after it, reports "The executor did not
    // finishing joining its threads within <timeout> seconds." through the exception handler and
    // returns. run() calls it with a timeout of 300 seconds.
    //
    // Cancellation: the wait ends with CancelledError; the executor still shuts down.
    Coro<> shutdown_default_executor() { return shutdown_default_executor_for(std::nullopt); }
    template <detail::Seconds D>
    Coro<> shutdown_default_executor(D timeout) {
        return shutdown_default_executor_for(detail::to_seconds(timeout));
    }

    using LoopCore::get_debug;
    using LoopCore::set_debug;
    // Debug mode reports callbacks and task steps slower than this many seconds.
    using LoopCore::slow_callback_duration;

    // A null handler restores the default one.
    void set_exception_handler(ExceptionHandler handler) { m_handler = std::move(handler); }
    const ExceptionHandler& get_exception_handler() const noexcept { return m_handler; }
    void call_exception_handler(const ExceptionContext& context) noexcept;
    void default_exception_handler(const ExceptionContext& context) noexcept;

    // ---- networking (the io layer: <asyncio/servers.hpp>, <asyncio/transports.hpp>) ----
    // Connects to host:port (a name is resolved with getaddrinfo(), its addresses tried in
    // turn) and gives the transport with the protocol `factory()` made, once connection_made()
    // has run. The transport owns the protocol.
    // Cancellation: the socket is closed; no protocol is made.
    template <class F>
    Coro<std::pair<Transport&, detail::protocol_t<F>&>>
    create_connection(F factory, std::string host, int port);
    template <class F>
    Coro<std::pair<Transport&, detail::protocol_t<F>&>> create_unix_connection(F factory,
                                                                               std::string path);
    // Listens on host:port (empty host: every interface; port 0: a free port); each connection
    // gets a protocol from `factory`.
    // Cancellation: nothing is left listening.
    template <class F>
    Coro<Server> create_server(F factory, std::string host, int port, ServerOptions options = {});
    template <class F>
    Coro<Server> create_unix_server(F factory, std::string path, ServerOptions options = {});
    // A UDP endpoint bound to `local_addr` (port 0: a free one) and/or connected to
    // `remote_addr` (then it only exchanges datagrams with that address); names are resolved.
    // ValueError with neither. Cancellation: the socket is closed.
    template <class F>
    Coro<std::pair<DatagramTransport&, detail::protocol_t<F>&>>
    create_datagram_endpoint(F factory, std::optional<Address> local_addr,
                             std::optional<Address> remote_addr = std::nullopt);
    // libuv's resolver (its thread pool); GaiError naming the host when nothing resolves.
    // Cancellation: the request is cancelled.
    Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, int port, int family = 0,
                                            int type = 0, int proto = 0, int flags = 0);
    // (host, service) of a numeric address.
    Coro<std::pair<std::string, std::string>> getnameinfo(Address addr, int flags = 0);

    // Watches a file descriptor the program owns (asyncio's add_reader/add_writer): `fn(args...)`
    // runs on the loop in every iteration in which `fd` is readable (writable), until removed.
    // A new reader (writer) replaces the fd's previous one. ValueError for a negative fd;
    // OSError for one the OS cannot poll (a regular file, a closed descriptor). The program
    // removes the watch before it closes the descriptor. On libuv's poll handles, which make
    // the descriptor non-blocking (asyncio's callers make it so themselves).
    template <class... Args>
    void add_reader(int fd, std::type_identity_t<detail::CallbackAt<Args...>> fn, Args&&... args) {
        check_closed();
        watch_fd(fd, false, fn.make_handle(*this, false, std::forward<Args>(args)...));
    }
    template <class... Args>
    void add_writer(int fd, std::type_identity_t<detail::CallbackAt<Args...>> fn, Args&&... args) {
        check_closed();
        watch_fd(fd, true, fn.make_handle(*this, false, std::forward<Args>(args)...));
    }
    // Stops watching; false if `fd` had no reader (writer).
    bool remove_reader(int fd) { return unwatch_fd(fd, false); }
    bool remove_writer(int fd) { return unwatch_fd(fd, true); }

    // Cancels every pending task and runs until they are done, reporting their failures
    // ("unhandled exception during asyncio.run() shutdown"). Used by run().
    void cancel_all_tasks();
    std::vector<TaskRef> all_tasks() const;

private:
    friend struct detail::LoopTestAccess;
    friend class Runner;
    friend detail::LoopCore& detail::core_of(EventLoop& loop) noexcept;
    friend EventLoop& detail::face_of(detail::LoopCore& core) noexcept;

    void report(const detail::LoopReport& report) noexcept override;
    void run_until_done(detail::FutureCore& f);
    Handle schedule(detail::HandleImpl* h);
    TimerHandle schedule_at(detail::HandleImpl* h, double when);
    Handle schedule_threadsafe(detail::HandleImpl* h);
    Coro<> shutdown_default_executor_for(std::optional<double> timeout);
    Coro<Transport*> connect_erased(detail::ProtocolFactoryFn factory, std::string host, int port,
                                    bool unix_socket);
    Coro<Server> serve_erased(detail::ProtocolFactoryFn factory, std::string host, int port,
                              ServerOptions options, bool unix_socket);
    Coro<DatagramTransport*> datagram_erased(detail::DatagramFactoryFn factory,
                                             std::optional<Address> local,
                                             std::optional<Address> remote);
    void watch_fd(int fd, bool writer, detail::HandleImpl* handle);
    bool unwatch_fd(int fd, bool writer);
    std::shared_ptr<detail::FdWatches> m_fd_watches; // made at the first watch (io layer)

    ExceptionHandler m_handler;
    detail::SignalHandlers m_signals{*this};

    // The default executor and its shutdown: the thread that waits for its workers posts
    // m_joiner_done when they are gone.
    struct JoinerDone;
    std::shared_ptr<ThreadPoolExecutor> m_default_executor;
    bool m_executor_shutdown_called = false;
    std::unique_ptr<JoinerDone> m_joiner_done;
    std::thread m_executor_joiner;
};

// Posted by the thread that waits for the default executor's workers, once they are gone. Owned
// by the loop, which joins that thread before it goes.
struct EventLoop::JoinerDone final : detail::InboxItem {
    bool finished = false;
    std::vector<Future<void>> waiters;
    void run() override;
};

// The loop running in this thread; RuntimeError("no running event loop") if none.
EventLoop& get_running_loop();
std::unique_ptr<EventLoop> new_event_loop(LoopOptions options = {});

namespace detail {
// `seconds`, or ValueError("Invalid <what>: NaN (not a number)"): a NaN deadline would never be
// due and would block every timer behind it.
double checked_seconds(double seconds, const char* what);

// The engine under the public loop, and the public loop over an engine.
inline LoopCore& core_of(EventLoop& loop) noexcept { return loop; }
inline EventLoop& face_of(LoopCore& core) noexcept { return static_cast<EventLoop&>(core); }

template <class A>
void describe_arg(std::ostream& os, const A& a) {
    if constexpr (requires { os << a; })
        os << a;
    else
        os << "...";
}

// The arguments as debug mode shows them: "1, 2".
inline std::string describe_args() { return {}; }
template <class A0, class... A>
std::string describe_args(const A0& a0, const A&... a) {
    std::ostringstream os;
    describe_arg(os, a0);
    ((os << ", ", describe_arg(os, a)), ...);
    return os.str();
}

// The callback parameter of call_soon() and friends. The conversion from the callable happens at
// the caller, so the default argument records the caller's location: the only way to get it for
// a variadic function. It refers to the callable until make_handle() moves or copies it into the
// handle, within the same call.
template <class... Args>
class CallbackAt {
public:
    template <class F>
    CallbackAt(F&& fn, SourceLoc where = SourceLoc::current()) noexcept
        : m_make(&make<F>), m_where(where) {
        if constexpr (std::is_function_v<std::remove_reference_t<F>>)
            m_function = reinterpret_cast<void (*)()>(&fn);
        else
            m_object = const_cast<void*>(static_cast<const volatile void*>(std::addressof(fn)));
    }

    HandleImpl* make_handle(EventLoop& loop, bool timer, Args&&... args) const {
        return m_make(*this, loop, timer, std::forward<Args>(args)...);
    }

private:
    // A trailing Context argument is the context the callback runs in (asyncio's `context=`),
    // not an argument of the callback.
    template <class F>
    static HandleImpl* make(const CallbackAt& self, EventLoop& loop, bool timer, Args&&... args) {
        if constexpr (LastIsContext<Args...>::value)
            return make_in_context<F>(self, loop, timer,
                                      std::forward_as_tuple(std::forward<Args>(args)...),
                                      std::make_index_sequence<sizeof...(Args) - 1>{});
        else
            return build<F>(self, loop, timer, nullptr, std::forward<Args>(args)...);
    }

    template <class F, class Tuple, std::size_t... I>
    static HandleImpl* make_in_context(const CallbackAt& self, EventLoop& loop, bool timer,
                                       Tuple&& all, std::index_sequence<I...>) {
        const Context& context = std::get<sizeof...(I)>(all);
        return build<F>(self, loop, timer, context.impl(),
                        std::get<I>(std::forward<Tuple>(all))...);
    }

    template <class F, class... A>
    static HandleImpl* build(const CallbackAt& self, EventLoop& loop, bool timer,
                             ContextImpl* context, A&&... args) {
        check_callback<F, A...>();
        using Fn = std::remove_reference_t<F>;
        // Debug mode keeps where the handle was made and what it was given, for its description.
        const bool debug = loop.get_debug();
        std::string shown = debug ? describe_args(args...) : std::string();
        const SourceLoc created = debug ? self.m_where : SourceLoc{};
        HandleImpl* h;
        if constexpr (std::is_function_v<Fn>)
            h = new HandleFn<Fn*, std::decay_t<A>...>(core_of(loop), timer, created, context,
                                                      reinterpret_cast<Fn*>(self.m_function),
                                                      std::forward<A>(args)...);
        else
            h = new HandleFn<std::decay_t<F>, std::decay_t<A>...>(
                core_of(loop), timer, created, context,
                std::forward<F>(*static_cast<Fn*>(self.m_object)), std::forward<A>(args)...);
        if (debug)
            h->set_args_description(std::move(shown));
        return h;
    }

    union {
        void* m_object;
        void (*m_function)();
    };
    HandleImpl* (*m_make)(const CallbackAt&, EventLoop&, bool, Args&&...);
    SourceLoc m_where;
};
} // namespace detail

// ---- templates ----

template <class... Args>
Handle EventLoop::call_soon(std::type_identity_t<detail::CallbackAt<Args...>> fn, Args&&... args) {
    check_callable_state("call_soon");
    return schedule(fn.make_handle(*this, false, std::forward<Args>(args)...));
}

template <detail::Seconds D, class... Args>
TimerHandle EventLoop::call_later(D delay, std::type_identity_t<detail::CallbackAt<Args...>> fn,
                                  Args&&... args) {
    check_callable_state("call_at");
    const double when = time() + detail::checked_seconds(detail::to_seconds(delay), "delay");
    return schedule_at(fn.make_handle(*this, true, std::forward<Args>(args)...), when);
}

template <detail::Seconds D, class... Args>
TimerHandle EventLoop::call_at(D when, std::type_identity_t<detail::CallbackAt<Args...>> fn,
                               Args&&... args) {
    check_callable_state("call_at");
    const double at = detail::checked_seconds(detail::to_seconds(when), "time");
    return schedule_at(fn.make_handle(*this, true, std::forward<Args>(args)...), at);
}

template <class... Args>
Handle EventLoop::call_soon_threadsafe(std::type_identity_t<detail::CallbackAt<Args...>> fn,
                                       Args&&... args) {
    return schedule_threadsafe(fn.make_handle(*this, false, std::forward<Args>(args)...));
}

template <class F, class... A>
Future<detail::call_result_t<F, A...>> EventLoop::run_in_executor(Executor* executor, F&& f,
                                                                  A&&... args) {
    check_callable_state("run_in_executor");
    detail::check_executor_call<F, A...>();
    using Call = detail::BoundCall<F, A...>;
    using R = detail::call_result_t<F, A...>;
    Executor& target = executor ? *executor : default_executor();
    Future<R> future = create_future<R>();
    auto* job =
        new detail::LoopCall<R, Call>(*this, Call(std::forward<F>(f), std::forward<A>(args)...));
    job->set_future_slot(future.raw().value);
    job->attach(future.core());
    job->submit(target);
    return future;
}

template <class T>
Future<T> EventLoop::create_future(detail::SourceLoc where) {
    auto* state = new detail::FutureState<T>(*this);
    if (get_debug())
        state->set_created(where);
    return Future<T>(state, &state->m_value);
}

template <class T>
T EventLoop::run_until_complete(Coro<T> coro) {
    check_closed();
    check_not_running(); // before the task exists: a refused coroutine must not run later
    Task<T> task = create_task(std::move(coro));
    run_until_done(task.core());
    task.core().check_result();
    if constexpr (!std::is_void_v<T>)
        return std::move(*task.raw()->m_value);
}

template <class T>
detail::ValueOf<T> EventLoop::run_until_complete(const Task<T>& task) {
    run_until_done(task.core());
    return task.result();
}

template <class T>
detail::ValueOf<T> EventLoop::run_until_complete(const Future<T>& future) {
    run_until_done(future.core());
    return future.result();
}

} // namespace asyncio
