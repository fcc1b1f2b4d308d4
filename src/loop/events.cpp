// EventLoop: the ready queue, the timers, running, stopping, closing, the exception handler.
#include "asyncio/events.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "asyncio/executor.hpp"
#include "backend/backend.hpp"
#include "base/util.hpp"

namespace asyncio {

namespace {
thread_local EventLoop* t_running_loop = nullptr;

void describe_created(std::ostream& os, const detail::SourceLoc* created) {
    if (created)
        os << "\nObject created at " << created->file << ":" << created->line << " in "
           << created->function;
}

bool debug_from_env() {
    const char* v = std::getenv("ASYNCIO_DEBUG");
    return v && *v;
}

double monotonic() noexcept {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// The clock's resolution: timers due within it of now count as due (asyncio does the same),
// so a wait rounded to the OS's granularity never spins.
constexpr double clock_resolution = 1e-9;
} // namespace

namespace detail {
EventLoop* running_loop_or_null() noexcept { return t_running_loop; }
} // namespace detail

EventLoop& get_running_loop() {
    if (!t_running_loop)
        throw RuntimeError("no running event loop");
    return *t_running_loop;
}

std::unique_ptr<EventLoop> new_event_loop(LoopOptions options) {
    return std::make_unique<EventLoop>(options);
}

EventLoop::EventLoop(LoopOptions options)
    : m_debug(options.debug ? *options.debug : debug_from_env()), m_virtual(options.virtual_time),
      m_thread(std::this_thread::get_id()), m_link(new detail::LoopLink{this, 1}),
      m_backend(std::make_unique<detail::Backend>()), m_inbox(new detail::Inbox(m_backend.get())) {
    m_inbox->add_ref();
}

EventLoop::~EventLoop() {
    close();
    // Jobs still running on the default executor finish before the loop goes (they find the
    // inbox closed and post nothing).
    if (m_executor_joiner.joinable())
        m_executor_joiner.join();
    m_default_executor.reset();
    // Tasks still pending when their loop goes: their frames are destroyed (running the
    // destructors of what they hold), and each is reported, as asyncio does when it collects one.
    std::vector<detail::IntrusivePtr<detail::TaskCore>> pending;
    for (detail::TaskCore* t = m_tasks_head; t; t = t->m_next_task)
        pending.emplace_back(t);
    for (auto& t : pending) {
        detail::ContextScope scope(&t->context()); // reported in the task's context
        ExceptionContext ctx;
        ctx.message = "Task was destroyed but it is pending!";
        ctx.task = TaskRef(t.get());
        call_exception_handler(ctx);
    }
    for (auto& t : pending) {
        t->m_leaf = nullptr;
        t->m_waiter = nullptr;
        if (auto root = std::exchange(t->m_root, {}))
            root.destroy();
    }
    while (m_tasks_head)
        unregister_task(m_tasks_head);
    pending.clear();
    m_link->loop = nullptr;
    m_link->release();
    m_inbox->release();
}

double EventLoop::time() const noexcept { return m_virtual ? m_vnow : monotonic(); }

void EventLoop::check_closed() const {
    if (m_closed)
        throw RuntimeError("Event loop is closed");
}

void EventLoop::check_thread(const char* what) const {
    if (is_running() && std::this_thread::get_id() != m_thread.load(std::memory_order_relaxed))
        throw RuntimeError(std::string("Non-thread-safe operation (") + what +
                           ") invoked on an event loop other than the current one");
}

void EventLoop::check_callable_state(const char* what) const {
    check_closed();
    if (m_debug)
        check_thread(what);
}

void EventLoop::check_running() const {
    if (is_running())
        throw RuntimeError("This event loop is already running");
    if (t_running_loop)
        throw RuntimeError("Cannot run the event loop while another loop is running");
}

void EventLoop::run_forever() {
    check_closed();
    check_running();
    m_thread.store(std::this_thread::get_id(), std::memory_order_relaxed);
    m_running.store(true, std::memory_order_relaxed);
    t_running_loop = this;
    struct Reset {
        EventLoop& loop;
        ~Reset() {
            loop.m_stopping = false;
            loop.m_running.store(false, std::memory_order_relaxed);
            t_running_loop = nullptr;
        }
    } reset{*this};
    for (;;) {
        run_once();
        if (m_stopping)
            break;
    }
}

void EventLoop::run_once() {
    if (m_inbox->has_items())
        drain_inbox();
    if (m_ready.empty() && !m_stopping)
        wait_for_work();
    if (!m_timers.empty())
        process_timers();
    // Only what is ready now runs in this iteration; what it schedules runs in the next.
    std::size_t n = m_ready.size();
    if (m_debug) [[unlikely]] {
        run_timed(n);
        return;
    }
    for (; n > 0; --n)
        m_ready.pop()->run();
}

void EventLoop::wait_for_work() {
    if (m_timers.empty()) {
        wait_os(-1.0);
    } else if (double delay = m_timers.top_when() - time(); delay > 0) {
        if (m_virtual && m_external.load(std::memory_order_relaxed) == 0)
            m_vnow = m_timers.top_when();
        else
            wait_os(delay);
    }
    drain_inbox();
}

void EventLoop::run_timed(std::size_t n) {
    for (; n > 0; --n) {
        detail::Runnable* r = m_ready.pop();
        if (r->is_cancelled()) { // a cancelled handle is dropped, not timed
            r->run();
            continue;
        }
        std::ostringstream what;
        r->describe_runnable(what);
        double start = monotonic();
        r->run();
        double took = monotonic() - start;
        if (took >= slow_callback_duration) {
            std::ostringstream msg;
            msg << "Executing " << what.str() << " took " << took << " seconds";
            call_exception_handler(ExceptionContext{msg.str(), nullptr, {}, {}, {}});
        }
    }
}

void EventLoop::wait_os(double timeout) {
    double start = m_virtual ? monotonic() : 0.0;
    // Work is coming back from other threads (jobs in flight, or the inbox had something just
    // now): busy-wait a little for it before sleeping in the kernel, which costs both sides a
    // wake-up of several microseconds.
    if (m_external.load(std::memory_order_relaxed) > 0 || m_inbox_active) {
        auto limit = timeout >= 0 ? detail::spin_limit_for(timeout) : detail::spin_limit;
        m_inbox_active = detail::spin_until([this] { return m_inbox->has_items(); }, limit);
    }
    if (m_inbox_active || !m_inbox->prepare_sleep()) { // something was posted meanwhile
        if (m_virtual)
            m_vnow += monotonic() - start;
        return;
    }
    m_backend->wait(timeout);
    m_inbox->end_sleep();
    if (m_virtual) // something outside the loop is in flight: virtual time runs at the real rate
        m_vnow += monotonic() - start;
}

void EventLoop::process_timers() {
    if (m_timers.empty())
        return;
    double end = time() + clock_resolution;
    while (!m_timers.empty() && m_timers.top_when() <= end)
        m_timers.pop()->on_timer();
}

void EventLoop::drain_inbox() {
    if (!m_inbox->has_items())
        return;
    detail::InboxItem* item = m_inbox->take_newest_first();
    if (!item)
        return;
    m_inbox_active = true;
    std::size_t count = 0;
    for (; item; ++count) {
        detail::InboxItem* next = item->m_inbox_next;
        m_ready.push(item);
        item = next;
    }
    m_ready.reverse_last(count); // first posted first
}

Handle EventLoop::schedule(detail::HandleImpl* h) {
    Handle handle(h);
    h->add_ref();
    push_ready(h);
    return handle;
}

TimerHandle EventLoop::schedule_at(detail::HandleImpl* h, double when) {
    TimerHandle handle(h);
    h->when = when;
    h->add_ref();
    add_timer(h);
    return handle;
}

Handle EventLoop::schedule_threadsafe(detail::HandleImpl* h) {
    Handle handle(h);
    if (t_running_loop == this) { // same thread: keep FIFO order with call_soon
        h->add_ref();
        push_ready(h);
        return handle;
    }
    // Another thread (or this one, before the loop runs): through the inbox, which refuses once
    // the loop is closed. m_closed is not read here: it is not the other thread's to read.
    h->add_ref();
    if (!m_inbox->post(h)) {
        h->release();
        throw RuntimeError("Event loop is closed");
    }
    return handle;
}

void EventLoop::track(detail::ExternalWork* w) noexcept {
    w->m_tracked = true;
    w->m_ext_prev = nullptr;
    w->m_ext_next = m_ext_head;
    if (m_ext_head)
        m_ext_head->m_ext_prev = w;
    m_ext_head = w;
    if (w->m_outside)
        begin_external();
}

void EventLoop::untrack(detail::ExternalWork* w) noexcept {
    if (!w->m_tracked)
        return;
    w->m_tracked = false;
    (w->m_ext_prev ? w->m_ext_prev->m_ext_next : m_ext_head) = w->m_ext_next;
    if (w->m_ext_next)
        w->m_ext_next->m_ext_prev = w->m_ext_prev;
    w->m_ext_prev = w->m_ext_next = nullptr;
    if (w->m_outside)
        end_external();
}

void EventLoop::register_task(detail::TaskCore* t) {
    t->add_ref();
    t->m_prev_task = m_tasks_tail;
    t->m_next_task = nullptr;
    (m_tasks_tail ? m_tasks_tail->m_next_task : m_tasks_head) = t;
    m_tasks_tail = t;
    t->wake();
}

void EventLoop::unregister_task(detail::TaskCore* t) noexcept {
    (t->m_prev_task ? t->m_prev_task->m_next_task : m_tasks_head) = t->m_next_task;
    (t->m_next_task ? t->m_next_task->m_prev_task : m_tasks_tail) = t->m_prev_task;
    t->m_prev_task = t->m_next_task = nullptr;
    t->release();
}

std::vector<TaskRef> EventLoop::all_tasks() const {
    std::vector<TaskRef> tasks;
    for (detail::TaskCore* t = m_tasks_head; t; t = t->m_next_task)
        if (!t->done())
            tasks.emplace_back(t);
    return tasks;
}

void EventLoop::run_until_done(detail::FutureCore& f) {
    check_closed();
    check_running();
    if (f.link() != m_link)
        throw ValueError("The future belongs to a different loop than the one specified as "
                         "the loop argument");
    if (!f.done()) {
        FutureRef ref(&f);
        CallbackId id = ref.add_done_callback([this] { stop(); });
        try {
            run_forever();
        } catch (...) {
            ref.remove_done_callback(id);
            throw;
        }
        ref.remove_done_callback(id);
    }
    if (!f.done())
        throw RuntimeError("Event loop stopped before Future completed.");
}

void EventLoop::cancel_all_tasks() {
    std::vector<TaskRef> tasks = all_tasks();
    if (tasks.empty())
        return;
    std::size_t remaining = tasks.size();
    for (TaskRef& t : tasks) {
        t.cancel();
        t.add_done_callback([this, &remaining] {
            if (--remaining == 0)
                stop();
        });
    }
    run_forever();
    for (TaskRef& t : tasks) {
        if (!t.done() || t.cancelled())
            continue;
        if (std::exception_ptr e = t.exception()) {
            ExceptionContext ctx;
            ctx.message = "unhandled exception during asyncio.run() shutdown";
            ctx.exception = e;
            ctx.task = t;
            call_exception_handler(ctx);
        }
    }
}

void EventLoop::close() {
    if (is_running())
        throw RuntimeError("Cannot close a running event loop");
    if (m_closed)
        return;
    m_closed = true;
    if (m_default_executor)
        m_default_executor->shutdown(false);
    detail::InboxItem* left = m_inbox->close();
    // Work still in flight can no longer deliver: it lets go of the loop's objects here, on the
    // loop's thread.
    while (detail::ExternalWork* w = m_ext_head) {
        untrack(w);
        w->detach();
    }
    while (!m_ready.empty())
        m_ready.pop()->discard();
    while (!m_timers.empty())
        m_timers.pop()->discard_timer();
    while (left) {
        detail::InboxItem* next = left->m_inbox_next;
        left->discard();
        left = next;
    }
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
    if (!m_handler) {
        default_exception_handler(context);
        return;
    }
    try {
        m_handler(*this, context);
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "Unhandled error in exception handler";
        ctx.exception = std::current_exception();
        default_exception_handler(ctx);
        std::cerr << "while handling: ";
        default_exception_handler(context);
    }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) noexcept {
    try {
        std::ostringstream os;
        os << (context.message.empty() ? "Unhandled exception in event loop" : context.message);
        if (context.task) {
            os << "\ntask: " << context.task;
            std::vector<Frame> frames = context.task.core().get_stack(std::nullopt);
            for (const Frame& f : frames)
                os << "\n  File \"" << f.filename << "\", line " << f.lineno << ", in " << f.name;
            describe_created(os, context.task.core().created());
        }
        if (context.future) {
            os << "\nfuture: " << context.future;
            describe_created(os, context.future.core().created());
        }
        if (context.handle)
            os << "\nhandle: " << context.handle;
        if (context.exception) {
            try {
                std::rethrow_exception(context.exception);
            } catch (const std::exception& e) {
                os << "\n" << detail::type_name(typeid(e)) << ": " << e.what();
            } catch (const CancelledError& e) {
                os << "\nasyncio::CancelledError: " << e.message();
            } catch (...) {
                os << "\nunknown exception";
            }
        }
        os << "\n";
        std::cerr << os.str() << std::flush;
    } catch (...) {
        std::cerr << "Exception in default exception handler\n";
    }
}

// ---- Handle ----

detail::HandleImpl& Handle::impl() const {
    if (!m_impl)
        throw InvalidStateError("operation on an empty handle");
    return *m_impl;
}

void Handle::cancel() { impl().cancel(); }
bool Handle::cancelled() const { return impl().cancelled(); }
double TimerHandle::when() const { return impl().when; }

std::ostream& operator<<(std::ostream& os, const Handle& h) {
    h.impl().describe(os);
    return os;
}

} // namespace asyncio
