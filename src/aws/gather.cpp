// gather(): the counting, cancelling and failure rules of asyncio's _GatheringFuture.
#include "asyncio/gather.hpp"

#include <ostream>

namespace asyncio::detail {

GatherCore::GatherCore(LoopCore& loop, std::size_t count, bool return_exceptions)
    : FutureCore(loop), m_children(new Child[count]), m_count(count), m_held(count, false),
      m_return_exceptions(return_exceptions) {}

GatherCore::~GatherCore() {
    for (std::size_t i = 0; i < m_count; ++i) {
        Child& c = m_children[i];
        if (c.linked()) // only if add_child() ran and start() did not
            c.child->remove_node(&c);
        if (m_held[i])
            c.child->release();
    }
}

void GatherCore::add_child(std::size_t i, FutureCore& core) noexcept {
    Child& c = m_children[i];
    c.owner = this;
    c.child = &core;
    c.index = i;
    c.description = "_GatheringFuture._done_callback()";
    if (core.done()) {
        core.add_ref();
        m_held[i] = true;
    } else {
        core.add_node(&c);
        add_ref(); // held while registered
    }
}

void GatherCore::start() {
    for (std::size_t i = 0; i < m_count; ++i)
        if (m_held[i])
            child_done(*m_children[i].child);
}

void GatherCore::on_callback(Child& c) {
    c.child->add_ref(); // kept until the gather goes: the results are read from it
    m_held[c.index] = true;
    try {
        child_done(*c.child);
    } catch (...) { // building the results failed (a copy threw): the gather fails with it
        if (!done())
            set_exception(std::current_exception());
        else
            report_callback_error(std::current_exception());
    }
}

bool GatherCore::cancel(const std::string& msg) {
    if (done())
        return false;
    bool cancelled = false;
    for (std::size_t i = 0; i < m_count; ++i) {
        FutureCore* child = m_children[i].child;
        if (child && child->cancel(msg))
            cancelled = true;
    }
    // Only if a child was actually cancelled: then the gather ends cancelled whatever
    // return_exceptions says (asyncio issue 32684).
    if (cancelled)
        m_cancel_requested = true;
    return cancelled;
}

void GatherCore::mark_retrieved() noexcept {
    for (std::size_t i = 0; i < m_count; ++i) {
        FutureCore& child = *m_children[i].child;
        if (!child.cancelled())
            (void)child.exception();
    }
}

void GatherCore::child_done(FutureCore& child) {
    ++m_finished;
    if (done()) {
        if (!child.cancelled())
            (void)child.exception(); // mark its failure retrieved: the gather reported one
        return;
    }
    if (!m_return_exceptions) {
        if (child.cancelled()) {
            set_exception(child.cancelled_error());
            return;
        }
        if (std::exception_ptr e = child.exception()) {
            set_exception(std::move(e));
            return;
        }
    }
    if (m_finished < m_count)
        return;
    if (m_cancel_requested) {
        mark_retrieved();
        // asyncio takes the CancelledError of the last child in argument order.
        FutureCore& last = *m_children[m_count - 1].child;
        set_exception(last.cancelled() ? last.cancelled_error()
                                       : std::make_exception_ptr(CancelledError()));
        return;
    }
    store_results();
    set_finished();
}

} // namespace asyncio::detail
