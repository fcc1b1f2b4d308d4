// Internal: LoopCore, the loop's engine (ready queue, timers, task list, inbox, the OS wait, the
// current task). Tasks, futures and awaitables talk to it; EventLoop is the public face over it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "../base/intrusive.hpp"
#include "../base/intrusive_list.hpp"
#include "../base/runnable.hpp"
#include "external_work.hpp"
#include "inbox.hpp"
#include "io_resource.hpp"
#include "ready_queue.hpp"
#include "timer_heap.hpp"

namespace asyncio {
class EventLoop;
struct TaskOptions;
// A task factory (loop.set_task_factory): it sees, and may change, the options of every task
// about to be created on the loop.
using TaskFactory = std::function<void(TaskOptions&)>;
} // namespace asyncio

namespace asyncio::detail {

class Backend;
class FutureCore;
class LoopCore;
class TaskCore;

// The loop as seen by the futures it made. It outlives the loop while futures still point at it,
// so a future dropped after its loop is gone can still tell that the loop is gone: both pointers
// are cleared when the loop is destroyed. Loop-thread only.
struct LoopLink : RefCounted<LoopLink> {
    LoopLink(LoopCore* c, EventLoop* l) noexcept : core(c), loop(l) {}
    LoopCore* core;
    EventLoop* loop; // the public face, for Future::get_loop()
};

// What a task embeds to be on its loop's task list. The list holds no reference: the task takes
// one when it registers and drops it when it unregisters.
struct LoopTaskTag;
using TaskHook = ListHook<LoopTaskTag>;

// What hears of a signal its loop watches: called on the loop's thread, from the loop's poll of
// the OS, never inside the signal handler.
class SignalSink {
public:
    virtual void on_signal(int signum) noexcept = 0;

protected:
    ~SignalSink() = default;
};

// What the engine hands to the public loop's exception handler. `future` is a task when
// `is_task`; `runnable` is a callback handle's.
struct LoopReport {
    std::string message;
    std::exception_ptr exception;
    FutureCore* future = nullptr;
    bool is_task = false;
    Runnable* handle = nullptr;
};

// The engine. One iteration (run_once):
// 1. take what other threads queued (one atomic load when there is none);
// 2. only if nothing is ready: wait in the OS for the next deadline, a wake-up or I/O (on virtual
//    time with nothing in flight outside the loop: jump the clock to the next deadline); while
//    something is ready and an I/O resource is open: poll the OS without blocking (CPython's
//    select with timeout 0), so I/O is seen within one iteration however busy the loop is;
// 3. move every due timer to the ready queue;
// 4. run exactly the items that are ready now; what they schedule runs in the next iteration.
// Not thread-safe: other threads reach it only through inbox().
class LoopCore {
public:
    LoopCore(EventLoop* face, bool debug, bool virtual_time);
    LoopCore(const LoopCore&) = delete;
    LoopCore& operator=(const LoopCore&) = delete;

    // ---- scheduling ----
    // What other threads submitted first goes first: call_soon_threadsafe and call_soon share
    // one FIFO order, as in asyncio.
    void push_ready(Runnable* r) {
        if (m_inbox->has_items())
            drain_inbox();
        m_ready.push(r);
    }
    void add_timer(TimerNode* n) { m_timers.push(n, ++m_timer_seq); }
    void remove_timer(TimerNode* n) noexcept { m_timers.erase(n); }
    // What other threads post to (a shared reference keeps it valid after the loop is gone).
    Inbox& inbox() const noexcept { return *m_inbox; }
    LoopLink* link() const noexcept { return m_link; }

    // ---- tasks (asyncio's _enter_task / _leave_task and the task registry) ----
    TaskCore* current_task() const noexcept { return m_current_task; }
    // Makes `t` the running task and gives the one it replaces, for leave_task().
    TaskCore* enter_task(TaskCore* t) noexcept { return std::exchange(m_current_task, t); }
    void leave_task(TaskCore* previous) noexcept { m_current_task = previous; }
    void add_task(TaskHook* t) noexcept { m_tasks.push_back(t); }
    void remove_task(TaskHook* t) noexcept { m_tasks.remove(t); }
    const IntrusiveList<TaskHook, LoopTaskTag>& tasks() const noexcept { return m_tasks; }

    // ---- state ----
    double time() const noexcept;
    void stop() noexcept { m_stopping = true; }
    bool is_running() const noexcept { return m_running.load(std::memory_order_relaxed); }
    bool is_closed() const noexcept { return m_closed; }
    void set_debug(bool enabled) noexcept { m_debug = enabled; }
    bool get_debug() const noexcept { return m_debug; }
    // Debug mode reports callbacks and task steps slower than this many seconds.
    double slow_callback_duration = 0.1;
    // Applied by create_task to the options of every new task; empty: none.
    TaskFactory task_factory;
    void check_closed() const;
    // RuntimeError if this loop, or another, already runs on this thread.
    void check_not_running() const;
    void check_thread(const char* what) const;
    // check_closed(), and in debug mode check_thread(): what every scheduling call checks.
    void check_callable_state(const char* what) const;
    // True on the thread that runs the loop (or created it, before it first runs).
    bool on_loop_thread() const noexcept {
        return std::this_thread::get_id() == m_thread.load(std::memory_order_relaxed);
    }

    // ---- work outside the loop ----
    // While above zero, virtual time runs at the real rate.
    void begin_external() noexcept { m_external.fetch_add(1, std::memory_order_relaxed); }
    void end_external() noexcept { m_external.fetch_sub(1, std::memory_order_relaxed); }
    // Work in flight outside the loop that holds loop objects (counted as external work);
    // close() detaches what is still there. untrack() of untracked work does nothing.
    void track(ExternalWork* w) noexcept;
    void untrack(ExternalWork* w) noexcept;

    // ---- signals ----
    // Watches `signum` (one sink per signal; a second watch replaces the first) through
    // libuv's signal watcher. While any signal is watched the loop also polls the OS without
    // blocking every k_signal_poll_interval iterations, so a signal is seen however busy the
    // loop is. std::system_error when the signal cannot be caught.
    void watch_signal(int signum, SignalSink* sink);
    // Ends the watch and restores the disposition the signal had before it.
    void unwatch_signal(int signum) noexcept;
    static constexpr unsigned k_signal_poll_interval = 1024;

    // ---- I/O (the io layer's sockets, servers and resolver requests) ----
    // An open resource makes every iteration poll the OS and virtual time run at the real rate.
    void add_io(IoResource* r) noexcept {
        m_io.push_back(r);
        ++m_io_count;
    }
    void remove_io(IoResource* r) noexcept {
        if (!r->registered())
            return;
        m_io.remove(r);
        if (--m_io_count == 0)
            m_real_mark = 0.0;
    }
    // The OS side of the loop, for the io layer (its type is private to src/).
    Backend& backend() const noexcept { return *m_backend; }

    // ---- running ----
    // Runs iterations until stop(); marks the loop running on this thread meanwhile.
    void run_until_stopped();
    // Closes the engine: refuses further posts, detaches external work, drops what is queued.
    void close_engine() noexcept;
    // Reports through the public loop's exception handler.
    virtual void report(const LoopReport& report) noexcept = 0;

protected:
    friend struct LoopTestAccess;
    // Drops the inbox's and the link's references: the public face calls it last.
    virtual ~LoopCore();

private:
    void run_once();
    // run_once()'s slow paths, apart so that its own path stays short: the wait when nothing is
    // ready, and debug mode's timing of each callback (the first `n` of the ready queue).
    [[gnu::noinline]] void wait_for_work();
    [[gnu::noinline]] void run_timed(std::size_t n);
    void process_timers();
    // With an I/O resource open: the zero-timeout poll, and virtual time following the real clock.
    [[gnu::noinline]] void poll_io();
    void follow_real_time() noexcept;
    void drain_inbox();
    void wait_os(double timeout);
    [[gnu::noinline]] void poll_signals();

    ReadyQueue m_ready;
    TimerHeap m_timers;
    std::uint64_t m_timer_seq = 0;
    TaskCore* m_current_task = nullptr;
    IntrusiveList<TaskHook, LoopTaskTag> m_tasks;
    bool m_stopping = false;
    std::atomic<bool> m_running{false};
    bool m_closed = false;
    bool m_debug = false;
    bool m_virtual = false;
    bool m_inbox_active = false; // the inbox had items lately: worth a short spin before sleeping
    std::map<int, SignalSink*> m_signal_sinks;
    unsigned m_poll_countdown = 0; // iterations until the next poll; 0 while nothing is watched
    double m_vnow = 0.0;
    std::atomic<int> m_external{0};
    std::size_t m_io_count = 0;
    double m_real_mark = 0.0; // virtual time with I/O open: the real time it last followed
    IntrusiveList<IoResource> m_io;
    IntrusiveList<ExternalWork> m_external_work;
    std::atomic<std::thread::id> m_thread;
    LoopLink* m_link;
    std::unique_ptr<Backend> m_backend;
    Inbox* m_inbox; // holds a reference
};

// The loop running on this thread, or null.
LoopCore* running_core() noexcept;
// The same, or RuntimeError("no running event loop").
LoopCore& running_core_or_raise();

} // namespace asyncio::detail
