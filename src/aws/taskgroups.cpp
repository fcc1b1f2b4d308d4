// TaskGroup: asyncio's TaskGroup state machine (__aenter__, __aexit__, _on_task_done, _abort).
#include "asyncio/taskgroups.hpp"

#include <sstream>

#include "asyncio/events.hpp"

namespace asyncio::detail {

namespace {
// asyncio's _is_base_error: SystemExit and KeyboardInterrupt end the group as themselves.
bool is_base_error(const std::exception_ptr& e) { return holds<KeyboardInterrupt>(e); }
} // namespace

TaskGroupCore::~TaskGroupCore() {
    close();
    // Queued nodes that were discarded (their loop closed) never ran: nothing holds them now.
    while (Child* c = m_tasks.pop_front())
        delete c;
}

void TaskGroupCore::enter() {
    if (m_entered)
        throw RuntimeError("TaskGroup has already been entered");
    m_parent = running_task();
    if (!m_parent)
        throw RuntimeError("TaskGroup cannot determine the parent task");
    m_entered = true;
    if (m_cancel_on_enter)
        cancel();
}

const char* TaskGroupCore::refusal() const noexcept {
    if (!m_entered || m_closed)
        return "is finished";
    if (m_exiting && m_tasks.empty())
        return "is finished";
    if (m_aborting)
        return "is shutting down";
    return nullptr;
}

void TaskGroupCore::refuse(const char* why) const {
    std::ostringstream os;
    os << "TaskGroup ";
    describe(os);
    os << " " << why;
    throw RuntimeError(os.str());
}

void TaskGroupCore::adopt(TaskCore& task) {
    auto* c = new Child;
    c->owner = this;
    c->child = &task;
    c->description = "TaskGroup._on_task_done()";
    m_tasks.push_back(c);
    ++m_task_count;
    if (task.done()) // asyncio's add_done_callback on a done task: scheduled at once
        c->on_done(task);
    else
        task.add_node(c);
    // An eager task may have failed and made the group abort before it joined (gh-155418).
    if (m_aborting && !task.done())
        task.cancel("");
}

void TaskGroupCore::on_callback(OwnerCallback<TaskGroupCore, false>& node) {
    auto* c = static_cast<Child*>(&node);
    TaskCore* task = static_cast<TaskCore*>(c->child);
    m_tasks.remove(c);
    --m_task_count;
    delete c;
    if (m_closed)
        return;
    if (m_on_completed && m_tasks.empty() && !m_on_completed->done())
        m_on_completed->set_result();
    if (task->cancelled())
        return;
    std::exception_ptr e = task->exception();
    if (!e)
        return;
    m_errors.push_back(e);
    if (!m_base_error && is_base_error(e))
        m_base_error = e;
    if (m_parent->done()) {
        std::ostringstream msg;
        msg << "Task " << TaskRef(task) << " has errored out but its parent task "
            << TaskRef(m_parent) << " is already completed";
        loop().report(LoopReport{msg.str(), e, task, true, nullptr});
        return;
    }
    if (!m_aborting && !m_parent_cancel_requested) {
        // Cancel the body where it waits, and take that cancellation back at exit.
        abort();
        m_parent_cancel_requested = true;
        m_parent->cancel("");
    }
}

FutureCore* TaskGroupCore::awaiting_future() const noexcept {
    return m_closed ? nullptr : m_parent;
}

void TaskGroupCore::abort() {
    m_aborting = true;
    for (Child* c = m_tasks.front(); c; c = m_tasks.next(c))
        if (c->child && !c->child->done())
            c->child->cancel("");
}

void TaskGroupCore::cancel() {
    if (!m_entered) {
        m_cancel_on_enter = true;
        return;
    }
    if (m_closed || (m_exiting && m_tasks.empty()))
        return;
    if (!m_aborting) {
        abort();
        if (m_parent && !m_parent_cancel_requested) {
            m_parent_cancel_requested = true;
            m_parent->cancel("");
        }
    }
}

Coro<void> TaskGroupCore::exit(std::exception_ptr error, bool error_is_cancel) {
    IntrusivePtr<TaskGroupCore> hold(this);
    m_exiting = true;
    if (error && !m_base_error && is_base_error(error))
        m_base_error = error;
    std::exception_ptr propagate_cancel = error_is_cancel ? error : nullptr;
    if (error && !m_aborting)
        abort(); // the body failed, or its task is being cancelled: the children go too
    // A loop: the wait itself can be cancelled, repeatedly, while the children finish.
    std::exception_ptr pending_cancel;
    while (!m_tasks.empty()) {
        if (!m_on_completed)
            m_on_completed.emplace(face_of(loop()).create_future<void>());
        bool cancelled = false;
        try {
            co_await *m_on_completed;
        } catch (const CancelledError&) {
            pending_cancel = std::current_exception();
            cancelled = true;
        }
        if (cancelled && !m_aborting) {
            // The task running the group is cancelled from outside while children run.
            propagate_cancel = pending_cancel;
            abort();
        }
        m_on_completed.reset();
    }
    if (m_base_error) {
        // The base error ends the group by itself: the children's errors would be lost, so
        // they are reported (gh-135736).
        for (const std::exception_ptr& e : m_errors) {
            if (e == m_base_error)
                continue;
            loop().report(LoopReport{"TaskGroup task exception was not propagated because the "
                                     "TaskGroup body is being closed with a BaseException",
                                     e, nullptr, false, nullptr});
        }
        std::rethrow_exception(m_base_error);
    }
    if (m_parent_cancel_requested) {
        // The group cancelled its task: that cancellation is taken back here.
        if (m_parent->uncancel() == 0)
            propagate_cancel = nullptr;
        else if (!propagate_cancel)
            propagate_cancel = pending_cancel; // what remains is not ours (gh-155433)
    }
    if (propagate_cancel && m_errors.empty())
        std::rethrow_exception(propagate_cancel);
    if (error && !error_is_cancel)
        m_errors.push_back(error);
    if (!m_errors.empty()) {
        // An outer cancellation stays requested: uncancel and cancel keep its count.
        if (m_parent->cancelling() > 0) {
            m_parent->uncancel();
            m_parent->cancel("");
        }
        std::vector<std::exception_ptr> errors = std::move(m_errors);
        m_errors.clear();
        throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors));
    }
}

void TaskGroupCore::close() noexcept {
    m_closed = true;
    // Registrations on pending children go; a queued node stays listed: it holds a reference on
    // this group and deletes itself when it runs (on_callback finds the group closed).
    for (Child* c = m_tasks.front(); c;) {
        Child* next = m_tasks.next(c);
        if (c->registered() || !c->child) {
            if (c->registered())
                c->child->remove_node(c);
            m_tasks.remove(c);
            delete c;
        }
        c = next;
    }
}

void TaskGroupCore::describe(std::ostream& os) const {
    os << "<TaskGroup";
    if (m_task_count)
        os << " tasks=" << m_task_count;
    if (!m_errors.empty())
        os << " errors=" << m_errors.size();
    if (m_aborting)
        os << " cancelling";
    else if (m_entered)
        os << " entered";
    os << ">";
}

} // namespace asyncio::detail
