// shield(): the outer future's callbacks, and the report of a shielded future's failure.
#include "asyncio/shield.hpp"

#include <ostream>
#include <typeinfo>

#include "base/util.hpp"

namespace asyncio::detail {

namespace {

// asyncio's _log_on_exception: left on a pending inner whose shield was cancelled, so that its
// failure, which nobody can receive any more, reaches the exception handler.
class LogOnException final : public CallbackNode, public Runnable {
public:
    void on_done(FutureCore& f) noexcept override {
        f.add_ref();
        m_fired = &f;
        f.schedule(this);
    }
    void dispose() noexcept override { delete this; }
    void describe_callback(std::ostream& os) const override { os << "_log_on_exception()"; }
    void run() override {
        FutureCore* f = m_fired;
        if (!f->cancelled()) {
            if (std::exception_ptr e = f->exception())
                report(*f, e);
        }
        discard();
    }
    void discard() noexcept override {
        m_fired->release();
        delete this;
    }

private:
    static void report(FutureCore& f, const std::exception_ptr& e) noexcept {
        LoopCore* loop = f.loop_core();
        if (!loop)
            return;
        std::string message;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            message = type_name(typeid(x));
        } catch (...) {
            message = "unknown";
        }
        loop->report(
            LoopReport{message + " exception in shielded future", e, &f, f.is_task(), nullptr});
    }

    FutureCore* m_fired = nullptr;
};

} // namespace

ShieldCore::ShieldCore(LoopCore& loop, FutureCore& inner) noexcept : FutureCore(loop) {
    m_inner_node.owner = this;
    m_inner_node.child = &inner;
    m_inner_node.description = "shield._inner_done_callback()";
    m_outer_node.owner = this;
    m_outer_node.child = this;
    m_outer_node.description = "shield._outer_done_callback()";
    inner.add_node(&m_inner_node);
    add_ref(); // held by m_inner_node while registered
    add_node(&m_outer_node);
}

ShieldCore::~ShieldCore() {
    // The outer node lives here: take it off this future's list before ~FutureCore walks it.
    if (m_outer_node.linked())
        remove_node(&m_outer_node);
}

void ShieldCore::inner_done(FutureCore& inner) {
    if (done()) // cancelled (or set by hand): the inner's outcome goes nowhere
        return;
    if (inner.cancelled()) {
        FutureCore::cancel("");
        return;
    }
    if (std::exception_ptr e = inner.exception()) {
        set_exception(std::move(e));
        return;
    }
    copy_value();
    set_finished();
}

void ShieldCore::outer_done() {
    if (!m_inner_node.linked())
        return; // the inner is done, or gone
    FutureCore* inner = m_inner_node.child;
    inner->remove_node(&m_inner_node);
    // Keep one reporter per inner: remove any a previous shield left, then add this one.
    for (CallbackNode* n = inner->callbacks().front(); n;) {
        CallbackNode* next = inner->callbacks().next(n);
        if (dynamic_cast<LogOnException*>(n)) {
            inner->remove_node(n);
            n->dispose();
        }
        n = next;
    }
    inner->add_node(new LogOnException);
    release(); // the reference m_inner_node held (the caller holds another)
}

void ShieldCore::on_callback(InnerNode& n) {
    try {
        inner_done(*n.child);
    } catch (...) { // copying the value threw
        if (!done())
            set_exception(std::current_exception());
    }
}

} // namespace asyncio::detail
