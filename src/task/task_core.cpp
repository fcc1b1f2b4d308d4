// TaskCore: task steps, the cancellation protocol, and the async stack.
#include "asyncio/detail/task/task_core.hpp"

#include <algorithm>
#include <cxxabi.h>
#include <ostream>
#include <typeinfo>

#include "asyncio/detail/runtime/task_numbers.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/tasks.hpp"
#include "base/util.hpp"

namespace asyncio::detail {

struct TaskTraceback {
    std::exception_ptr exception;
    std::vector<Frame> frames; // innermost first, as the exception went up
};

void TaskTracebackDelete::operator()(TaskTraceback* t) const noexcept { delete t; }

bool current_exception_is_cancel() noexcept {
    const std::type_info* t = abi::__cxa_current_exception_type();
    return t && *t == typeid(CancelledError);
}

void PromiseBase::unhandled_exception() noexcept {
    m_exception = std::current_exception();
    m_exception_is_cancel = current_exception_is_cancel();
    if (!m_exception_is_cancel && m_task)
        m_task->record_traceback(*this);
}

void throw_reused_coroutine() { throw RuntimeError("cannot reuse already awaited coroutine"); }

void report_never_awaited(const PromiseBase& p) noexcept {
    LoopCore* loop = running_core();
    if (!loop || !loop->get_debug())
        return;
    LoopReport report;
    report.message = std::string("coroutine '") + p.function() + "' was never awaited\n" +
                     "Coroutine defined at " + p.file() + ":" + std::to_string(p.line());
    loop->report(report);
}

TaskCore* running_task() noexcept {
    LoopCore* loop = running_core();
    return loop ? loop->current_task() : nullptr;
}

void Waiter::describe_wait(std::ostream& os) const { os << "<awaitable>"; }

TaskCore::TaskCore(LoopCore& loop, std::coroutine_handle<> root, PromiseBase* root_promise)
    : FutureCore(loop), m_resume(root), m_leaf(root_promise) {
    m_is_task = true;
    m_cancel.unstarted();
}

TaskCore::~TaskCore() = default; // a frame still there is TaskState's to destroy

PromiseBase* TaskCore::root_promise() const noexcept {
    if (done())
        return nullptr; // m_leaf's storage describes the coroutine now
    PromiseBase* p = m_leaf;
    if (p)
        while (p->m_parent)
            p = p->m_parent;
    return p;
}

std::coroutine_handle<> TaskCore::coro() const noexcept {
    PromiseBase* root = root_promise();
    return root ? frame_of(*root) : std::coroutine_handle<>{};
}

void TaskCore::start(ContextImpl* context, bool eager) {
    if (context)
        m_context.adopt(context);
    else
        m_context.capture();
    m_number = next_task_number();
    add_ref(); // the loop's task list holds the task while it is pending
    m_link->core->add_task(this);
    if (eager && m_link->core->is_running() && running_core() == m_link->core)
        run(); // the first step, now; afterwards the task is scheduled like any other
    else
        wake();
}

void TaskCore::unregister() noexcept {
    m_link->core->remove_task(this);
    release();
}

void TaskCore::drop_pending_frame() noexcept {
    PromiseBase* root = root_promise();
    m_leaf = nullptr;
    m_waiter = nullptr;
    if (root)
        frame_of(*root).destroy();
    unregister();
}

const std::string& TaskCore::name() const {
    std::string& name = extras().name;
    if (name.empty()) // the made-up name is kept, as asyncio does
        name = "Task-" + std::to_string(m_number);
    return name;
}

bool TaskCore::cancel(const std::string& msg) {
    m_log_traceback = false;
    if (done())
        return false;
    ++m_num_cancels_requested;
    if (m_waiter && m_waiter->abort(msg))
        return true; // the waiter wakes the task with CancelledError(msg)
    m_cancel.request();
    set_cancel_msg(msg);
    return true;
}

int TaskCore::uncancel() noexcept {
    if (m_num_cancels_requested > 0) {
        if (--m_num_cancels_requested == 0)
            m_cancel.uncancel();
    }
    return m_num_cancels_requested;
}

void TaskCore::suspend_slow(Waiter* waiter) {
    arm_scopes();
    m_cancel.suspend(); // a cancellation a foreign awaitable did not deliver is requested again
    if (m_cancel.requested() && waiter->abort(cancel_msg()))
        m_cancel.handed_over();
}

void TaskCore::check_depth() {
    if (!m_link->core->get_debug())
        return;
    --m_depth; // the coroutine is not entered
    throw RecursionError("maximum await depth exceeded (" + std::to_string(k_max_await_depth) +
                         " coroutines awaiting one another in one task)");
}

void TaskCore::pop_inner_scope(ScopeTimer* s) noexcept {
    // Scopes close innermost first, except when a suspended chain of frames is destroyed from
    // its root (outer frames first): then walk.
    for (ScopeTimer** p = &m_scopes; *p; p = &(*p)->m_outer_scope) {
        if (*p == s) {
            *p = s->m_outer_scope;
            break;
        }
    }
    s->m_outer_scope = nullptr;
}

void TaskCore::arm_unarmed_scopes() {
    for (ScopeTimer* s = m_scopes; s && !s->m_armed; s = s->m_outer_scope)
        s->arm();
}

void TaskCore::wake() {
    if (m_scheduled)
        return;
    m_scheduled = true;
    m_link->core->push_ready(this); // a pending task's loop is alive
}

void TaskCore::run() {
    m_scheduled = false;
    if (done())
        return;
    bool cancel_unstarted = m_cancel.step();
    m_waiter = nullptr;
    LoopCore& loop = *m_link->core;
    TaskCore* outer = loop.enter_task(this);
    {
        ContextScope scope(&m_context);
        if (cancel_unstarted) [[unlikely]]
            finish_unstarted();
        else
            m_resume.resume();
    }
    loop.leave_task(outer);
    arm_scopes(); // a suspension on a foreign awaitable did not go through suspend()
    if (done())
        unregister(); // may free this task: touch nothing after
}

void TaskCore::finish_unstarted() {
    // asyncio throws CancelledError into the coroutine before its first line; here the
    // coroutine's outcome is that CancelledError, and its frame is destroyed unrun.
    m_cancel.consume();
    PromiseBase& root = *m_leaf; // the coroutine has not run: its innermost frame is the root
    root.m_exception = std::make_exception_ptr(CancelledError(cancel_msg()));
    root.m_exception_is_cancel = true;
    root_done(root);
}

void TaskCore::finish_from(PromiseBase& p, bool has_value) noexcept {
    if (p.m_exception) {
        if (p.m_exception_is_cancel) {
            m_state = State::cancelled;
            m_exception = p.m_exception;
        } else {
            m_state = State::finished;
            m_exception = p.m_exception;
            m_log_traceback = true;
        }
    } else if (!has_value) { // cancel() arrived while the last step ran
        m_state = State::cancelled;
    } else {
        m_state = State::finished;
    }
    m_cancel.finish();
    // Done: the suspension's storage now describes the coroutine, before its frame goes.
    m_coro_function = p.function();
    m_coro_file = p.file();
    m_coro_line = p.defined_line();
    frame_of(p).destroy();
    schedule_callbacks();
}

void TaskCore::record_traceback(const PromiseBase& p) {
    std::exception_ptr e = std::current_exception();
    auto& traceback = extras().traceback;
    if (!traceback)
        traceback.reset(new TaskTraceback());
    if (traceback->exception != e) {
        traceback->exception = e;
        traceback->frames.clear();
    }
    traceback->frames.push_back(Frame{p.function(), p.file(), p.line()});
}

std::vector<Frame> TaskCore::get_stack(std::optional<std::size_t> limit) const {
    std::vector<Frame> frames;
    if (!done()) {
        for (const PromiseBase* p = m_leaf; p; p = p->parent())
            frames.push_back(Frame{p->function(), p->file(), p->line()});
        std::reverse(frames.begin(), frames.end()); // the task's own coroutine first
        // asyncio walks a stack from the task's coroutine frame, which is therefore always
        // kept: `limit` keeps the task's coroutine and the frames nearest to it, so
        // get_stack(1) is the task's coroutine even while a nested coroutine runs.
        if (limit && frames.size() > *limit)
            frames.resize(*limit);
        return frames;
    }
    const TaskTraceback* traceback = m_extras ? m_extras->traceback.get() : nullptr;
    if (m_state == State::finished && m_exception && traceback &&
        traceback->exception == m_exception) {
        frames.assign(traceback->frames.rbegin(), traceback->frames.rend());
        // A traceback keeps the oldest `limit` frames.
        if (limit && frames.size() > *limit)
            frames.resize(*limit);
    }
    return frames;
}

void TaskCore::print_stack(std::optional<std::size_t> limit, std::ostream& os) const {
    std::vector<Frame> frames = get_stack(limit);
    os << (done() ? "Traceback for <" : "Stack for <");
    describe(os);
    os << ">";
    if (frames.empty()) {
        os << ": no stack for this task\n";
        return;
    }
    os << " (most recent call last):\n";
    for (const Frame& f : frames)
        os << f << "\n";
    if (done() && m_exception) {
        try {
            std::rethrow_exception(m_exception);
        } catch (const std::exception& x) {
            os << type_name(typeid(x)) << ": " << x.what() << "\n";
        } catch (...) {
            os << "unknown exception\n";
        }
    }
}

void TaskCore::describe(std::ostream& os, bool callbacks) const {
    os << "Task ";
    if (m_state == State::pending)
        os << (m_num_cancels_requested > 0 ? "cancelling" : "pending");
    else
        os << (m_state == State::cancelled ? "cancelled" : "finished");
    os << " name='" << name() << "'";
    if (!done() && m_leaf) {
        const PromiseBase* root = m_leaf;
        while (root->parent())
            root = root->parent();
        os << " coro=<" << root->function() << "() ";
        if (m_link->core && m_link->core->current_task() == this)
            os << "running";
        else
            os << "running at " << root->file() << ":" << root->line();
        os << ">";
    } else if (done()) {
        os << " coro=<" << m_coro_function << "() done, defined at " << m_coro_file << ":"
           << m_coro_line << ">";
    }
    describe_outcome(os);
    if (callbacks)
        describe_callbacks(os);
    if (!done() && m_waiter) {
        os << " wait_for=";
        m_waiter->describe_wait(os);
    }
}

void FutureWait::refuse(const TaskCore* task) const {
    if (!task)
        throw RuntimeError("a Future can only be awaited inside a Task");
    if (task == m_fut.get())
        throw RuntimeError("Task cannot await on itself");
    throw RuntimeError("Task got a Future attached to a different loop");
}

void FutureWait::on_done(FutureCore&) noexcept { m_task->wake(); }

void FutureWait::describe_callback(std::ostream& os) const { os << "Task.task_wakeup()"; }

void FutureWait::describe_wait(std::ostream& os) const {
    os << "<";
    m_fut->describe(os); // as the future describes itself, its callbacks (our wake-up) included
    os << ">";
}

} // namespace asyncio::detail

namespace asyncio {

std::ostream& operator<<(std::ostream& os, const Frame& f) {
    return os << "  File \"" << f.filename << "\", line " << f.lineno << ", in " << f.name;
}

std::ostream& operator<<(std::ostream& os, const TaskRef& t) {
    os << "<";
    t.core().describe(os);
    return os << ">";
}

void eager_task_factory(TaskOptions& options) { options.eager_start = true; }

TaskRef current_task() {
    detail::TaskCore* t = detail::running_core_or_raise().current_task();
    return t ? TaskRef(t) : TaskRef();
}

std::vector<TaskRef> all_tasks() { return detail::pending_tasks(detail::running_core_or_raise()); }

namespace detail {
std::vector<TaskRef> pending_tasks(const LoopCore& loop) {
    std::vector<TaskRef> tasks;
    const auto& list = loop.tasks();
    for (TaskHook* h = list.front(); h; h = list.next(h))
        if (auto* t = static_cast<TaskCore*>(h); !t->done())
            tasks.emplace_back(t);
    return tasks;
}
} // namespace detail

} // namespace asyncio

namespace asyncio::detail {
void TaskCore::describe_runnable(std::ostream& os) const {
    os << "<";
    describe(os);
    os << ">";
}
} // namespace asyncio::detail
