// EventLoop: the ready queue, the timers, running, stopping, closing, the exception handler.
#include "asyncio/events.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "asyncio/executor.hpp"
#include "backend/backend.hpp"
#include "base/util.hpp"

namespace asyncio {

namespace {
void describe_created(std::ostream& os, const detail::SourceLoc* created) {
    if (created)
        os << "\nObject created at " << created->file << ":" << created->line << " in "
           << created->function;
}

bool debug_from_env() {
    const char* v = std::getenv("ASYNCIO_DEBUG");
    return v && *v;
}
} // namespace

namespace detail {
double checked_seconds(double seconds, const char* what) {
    if (std::isnan(seconds))
        throw ValueError(std::string("Invalid ") + what + ": NaN (not a number)");
    return seconds;
}
} // namespace detail

EventLoop& get_running_loop() { return detail::face_of(detail::running_core_or_raise()); }

std::unique_ptr<EventLoop> new_event_loop(LoopOptions options) {
    return std::make_unique<EventLoop>(options);
}

EventLoop::EventLoop(LoopOptions options)
    : LoopCore(this, options.debug ? *options.debug : debug_from_env(), options.virtual_time) {}

EventLoop::~EventLoop() {
    close();
    // Jobs still running on the default executor finish before the loop goes (they find the
    // inbox closed and post nothing).
    if (m_executor_joiner.joinable())
        m_executor_joiner.join();
    m_default_executor.reset();
    // Tasks still pending when their loop goes: each is reported, as asyncio does when it
    // collects one, then asked to drop its frame (running the destructors of what it holds).
    std::vector<TaskRef> pending = detail::pending_tasks(*this);
    for (TaskRef& t : pending) {
        detail::ContextScope scope(&t.core().context()); // reported in the task's context
        ExceptionContext ctx;
        ctx.message = "Task was destroyed but it is pending!";
        ctx.task = t;
        call_exception_handler(ctx);
    }
    for (TaskRef& t : pending)
        t.core().drop_pending_frame();
}

void EventLoop::report(const detail::LoopReport& report) noexcept {
    ExceptionContext ctx;
    ctx.message = report.message;
    ctx.exception = report.exception;
    if (report.future && report.is_task)
        ctx.task = TaskRef(static_cast<detail::TaskCore*>(report.future));
    else if (report.future)
        ctx.future = FutureRef(report.future);
    if (report.handle)
        ctx.handle = Handle(static_cast<detail::HandleImpl*>(report.handle));
    call_exception_handler(ctx);
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
    h->set_threadsafe();
    Handle handle(h);
    if (detail::running_core() == this) { // same thread: keep FIFO order with call_soon
        h->add_ref();
        push_ready(h);
        return handle;
    }
    // Another thread (or this one, before the loop runs): through the inbox, which refuses once
    // the loop is closed. m_closed is not read here: it is not the other thread's to read.
    h->add_ref();
    if (!inbox().post(h)) {
        h->release();
        throw RuntimeError("Event loop is closed");
    }
    return handle;
}

std::vector<TaskRef> EventLoop::all_tasks() const { return detail::pending_tasks(*this); }

void EventLoop::run_until_done(detail::FutureCore& f) {
    check_closed();
    check_not_running();
    if (f.link() != link())
        detail::throw_different_loop();
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
    if (is_closed())
        return;
    if (m_default_executor)
        m_default_executor->shutdown(false);
    m_signals.clear(); // the signals' dispositions go back to what they were
    close_engine();
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
                os << "\n" << f;
            describe_created(os, context.task.core().created());
        }
        if (context.future) {
            os << "\nfuture: " << context.future;
            describe_created(os, context.future.core().created());
        }
        if (context.handle)
            os << "\nhandle: " << context.handle;
        if (context.exception) {
            os << "\n";
            detail::describe_exception_line(os, context.exception);
        }
        std::string text = os.str();
        if (text.empty() || text.back() != '\n')
            text += '\n';
        std::cerr << text << std::flush;
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
