// FutureCore: the future state machine shared by Future<T> and Task<T>.
#include "asyncio/detail/task/future_core.hpp"

#include "asyncio/detail/context/context_core.hpp"

#include <iostream>
#include <ostream>
#include <sstream>
#include <utility>

#include "asyncio/exceptions.hpp"
#include "asyncio/futures.hpp"
#include "base/util.hpp"

namespace asyncio::detail {

void throw_different_loop() {
    throw ValueError(
        "The future belongs to a different loop than the one specified as the loop argument");
}

void throw_empty_handle() { throw InvalidStateError("operation on an empty handle"); }

FutureCore::FutureCore(LoopCore& loop) : m_link(loop.link()) { m_link->add_ref(); }

FutureCore::~FutureCore() {
    // A pending future dropped with callbacks still registered: they can never run.
    while (CallbackNode* n = m_callbacks.front()) {
        remove_node(n);
        n->dispose();
    }
    m_link->release();
}

EventLoop& FutureCore::loop() const {
    if (!m_link->loop)
        throw RuntimeError("the event loop of this future was destroyed");
    return *m_link->loop;
}

bool FutureCore::cancel(const std::string& msg) {
    m_log_traceback = false;
    if (done())
        return false;
    set_cancelled(nullptr, msg);
    return true;
}

void FutureCore::set_cancelled(std::exception_ptr cancelled, const std::string& msg) {
    m_state = State::cancelled;
    m_exception = std::move(cancelled);
    set_cancel_msg(msg);
    schedule_callbacks();
}

std::exception_ptr FutureCore::cancelled_error() const {
    if (m_exception)
        return m_exception;
    return std::make_exception_ptr(CancelledError(cancel_msg()));
}

void FutureCore::throw_result_not_set() { throw InvalidStateError("Result is not set."); }

const std::string& FutureCore::cancel_msg() const noexcept {
    static const std::string none;
    return m_extras ? m_extras->cancel_msg : none;
}

void FutureCore::set_cancel_msg(const std::string& msg) {
    if (m_extras || !msg.empty())
        extras().cancel_msg = msg;
}

FutureExtras& FutureCore::extras() const {
    if (!m_extras)
        m_extras = std::make_unique<FutureExtras>();
    return *m_extras;
}

void FutureCore::check_result() { check_result_inline(); }

std::exception_ptr FutureCore::exception() {
    switch (m_state) {
    case State::pending:
        throw InvalidStateError("Exception is not set.");
    case State::cancelled:
        throw_cancelled();
    case State::finished:
        break;
    }
    m_log_traceback = false;
    return m_exception;
}

void FutureCore::throw_invalid_state() { throw InvalidStateError("invalid state"); }

void FutureCore::set_exception(std::exception_ptr e) {
    ensure_pending();
    if (!e)
        throw ValueError("set_exception() needs an exception");
    m_exception = std::move(e);
    m_log_traceback = true;
    m_state = State::finished;
    schedule_callbacks_or_raise();
}

void FutureCore::schedule_callbacks_or_raise() {
    // asyncio's call_soon of each done callback raises on a closed loop; the future is done
    // all the same, and its callbacks are dropped.
    LoopCore* loop = m_link->core;
    const bool lost = !m_callbacks.empty() && (!loop || loop->is_closed());
    schedule_callbacks();
    if (lost)
        throw RuntimeError("Event loop is closed");
}

void FutureCore::remove_node(CallbackNode* n) noexcept {
    m_callbacks.remove(n);
    n->id = 0;
}

std::size_t FutureCore::remove_callback(std::uint64_t id) noexcept {
    for (CallbackNode* n = m_callbacks.front(); n; n = m_callbacks.next(n)) {
        if (n->id == id) {
            remove_node(n);
            n->dispose();
            return 1;
        }
    }
    return 0;
}

void FutureCore::schedule_callbacks() noexcept {
    // In registration order; a node is off the list when it is called.
    while (CallbackNode* n = m_callbacks.pop_front()) {
        n->id = 0;
        n->on_done(*this);
    }
}

void FutureCore::schedule(Runnable* r) noexcept {
    if (LoopCore* loop = m_link->core; loop && !loop->is_closed())
        loop->push_ready(r);
    else
        r->discard();
}

void FutureCore::report_callback_error(std::exception_ptr e) noexcept {
    if (LoopCore* loop = m_link->core)
        loop->report(LoopReport{std::string("Exception in callback of ") + kind(), std::move(e),
                                this, is_task(), nullptr});
}

void FutureCore::last_ref() noexcept {
    LoopCore* loop = m_link->core;
    if (m_log_traceback && !loop) {
        // The loop is gone, with its exception handler: the report goes where asyncio's
        // default handler would put it.
        try {
            std::ostringstream os;
            os << kind() << " exception was never retrieved\n"
               << (is_task() ? "task: <" : "future: <");
            describe(os);
            os << ">\n";
            describe_exception_line(os, m_exception);
            std::cerr << os.str() << std::flush;
        } catch (...) {
        }
    }
    if (m_log_traceback && loop) {
        m_log_traceback = false;
        m_refs = 1; // the report holds this future for the handler; it may even keep it
        {
            ContextScope scope(report_context()); // a task's report runs in its context
            loop->report(LoopReport{std::string(kind()) + " exception was never retrieved",
                                    m_exception, this, is_task(), nullptr});
        }
        if (--m_refs != 0)
            return;
    }
    delete this;
}

void describe_exception_line(std::ostream& os, const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        os << type_name(typeid(x)) << ": " << x.what() << "\n";
    } catch (const CancelledError& x) {
        os << "asyncio::CancelledError: " << x.message() << "\n";
    } catch (...) {
        os << "unknown exception\n";
    }
}

namespace {
void describe_exception(std::ostream& os, const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        os << " exception=" << type_name(typeid(x)) << "('" << x.what() << "')";
    } catch (const CancelledError& x) {
        os << " exception=CancelledError('" << x.message() << "')";
    } catch (...) {
        os << " exception=<unknown>";
    }
}
} // namespace

void CallbackNode::describe_callback(std::ostream& os) const { os << "<callback>()"; }

void describe_callable(std::ostream& os, const std::type_info& type) {
    os << type_name(type) << "()";
}

void FutureCore::describe_callbacks(std::ostream& os) const {
    if (m_callbacks.empty())
        return;
    std::size_t size = 0;
    for (CallbackNode* n = m_callbacks.front(); n; n = m_callbacks.next(n))
        ++size;
    os << " cb=[";
    m_callbacks.front()->describe_callback(os);
    if (size > 2)
        os << ", <" << size - 2 << " more>";
    if (size > 1) {
        os << ", ";
        m_callbacks.back()->describe_callback(os);
    }
    os << "]";
}

void FutureCore::describe_outcome(std::ostream& os) const {
    if (m_state == State::finished && m_exception)
        describe_exception(os, m_exception);
}

void FutureCore::describe(std::ostream& os, bool callbacks) const {
    os << kind() << ' ';
    switch (m_state) {
    case State::pending:
        os << "pending";
        break;
    case State::cancelled:
        os << "cancelled";
        break;
    case State::finished:
        os << "finished";
        break;
    }
    describe_outcome(os);
    if (callbacks)
        describe_callbacks(os);
    if (const SourceLoc* where = created()) // debug mode, as asyncio's repr of a future
        os << " created at " << where->file << ":" << where->line;
}

} // namespace asyncio::detail

namespace asyncio {
std::ostream& operator<<(std::ostream& os, const FutureRef& f) {
    os << "<";
    f.core().describe(os);
    return os << ">";
}
} // namespace asyncio
