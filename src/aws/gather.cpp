// gather(): the counting, cancelling and failure rules of asyncio's _GatheringFuture.
#include "asyncio/gather.hpp"

#include <ostream>

namespace asyncio::detail {

GatherCore::GatherCore(LoopCore& loop, std::size_t count, bool return_exceptions)
    : FutureCore(loop), m_children(new Child[count]), m_count(count),
      m_return_exceptions(return_exceptions) {}

GatherCore::~GatherCore() {
    for (std::size_t i = 0; i < m_count; ++i) {
        Child& c = m_children[i];
        if (c.linked()) // only if add_child() ran and start() did not
            c.core->remove_node(&c);
        if (c.strong)
            c.core->release();
    }
}

void GatherCore::add_child(std::size_t i, FutureCore& core, void* value) noexcept {
    Child& c = m_children[i];
    c.owner = this;
    c.core = &core;
    c.value = value;
    if (core.done()) {
        core.add_ref();
        c.strong = true;
    } else {
        core.add_node(&c);
        add_ref(); // held while registered
    }
}

void GatherCore::start() {
    for (std::size_t i = 0; i < m_count; ++i) {
        Child& c = m_children[i];
        if (c.strong)
            child_done(c);
    }
}

bool GatherCore::cancel(const std::string& msg) {
    if (done())
        return false;
    bool cancelled = false;
    for (std::size_t i = 0; i < m_count; ++i) {
        FutureCore* child = m_children[i].core;
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
        FutureCore& child = *m_children[i].core;
        if (!child.cancelled())
            (void)child.exception();
    }
}

void GatherCore::child_done(Child& c) {
    ++m_finished;
    FutureCore& child = *c.core;
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
        FutureCore& last = *m_children[m_count - 1].core;
        set_exception(last.cancelled() ? last.cancelled_error()
                                       : std::make_exception_ptr(CancelledError()));
        return;
    }
    store_results();
    set_finished();
}

void GatherCore::Child::on_done(FutureCore& f) noexcept {
    f.add_ref();
    strong = true;
    f.schedule(this); // the reference on the owner now stands for the queued callback
}

void GatherCore::Child::dispose() noexcept {
    // The pending child was destroyed: it can never complete, and neither can the gather.
    core = nullptr;
    owner->release();
}

void GatherCore::Child::describe_callback(std::ostream& os) const {
    os << "_GatheringFuture._done_callback()";
}

void GatherCore::Child::run() {
    GatherCore* o = owner;
    try {
        o->child_done(*this);
    } catch (...) { // building the results failed (a copy threw): the gather fails with it
        if (!o->done())
            o->set_exception(std::current_exception());
        else
            o->report_callback_error(std::current_exception());
    }
    o->release(); // may destroy the owner and this node
}

void GatherCore::Child::discard() noexcept { owner->release(); }

} // namespace asyncio::detail
