// contextvars: ContextVar<T>, Token<T>, Context and copy_context(), the context variables that
// tasks, callbacks and to_thread() carry along as asyncio does.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "detail/base/intrusive.hpp"
#include "detail/context/context_core.hpp"
#include "exceptions.hpp"

namespace asyncio {

template <class T>
class ContextVar;

// A handle to one mutable context: a mapping from context variables to values (Python's
// contextvars.Context). Copying the handle shares the context; copy() and copy_context() make a
// new context with the same values, in O(1) (the mapping is shared until one of them is written).
//
// Every thread has a context of its own; a task runs in a copy of the context that was current
// when it was created (or in the one given to create_task), a callback in the one current when
// it was scheduled (or the one given to call_soon), to_thread()'s function in a copy of its
// caller's. A context may be current in one thread at a time.
class Context {
public:
    // A new, empty context (Python's Context()).
    Context();
    explicit Context(detail::ContextImpl* impl) noexcept : m_impl(impl) {}

    // Calls f(args...) with this context current and gives its result; variables set by f stay
    // in this context. RuntimeError if the context is already entered (current in some thread,
    // by an enclosing run()).
    template <class F, class... A>
    std::invoke_result_t<F, A...> run(F&& f, A&&... args) const {
        Enter enter(*m_impl);
        return std::invoke(std::forward<F>(f), std::forward<A>(args)...);
    }

    // The value of `var` in this context, if it is set here (the variable's default does not
    // count, as in Python's ctx.get(var)).
    template <class T>
    std::optional<T> get(const ContextVar<T>& var) const {
        if (detail::ValueBase* v = detail::map_find(m_impl->vars.get(), var.id()))
            return static_cast<detail::Value<T>*>(v)->value;
        return std::nullopt;
    }
    template <class T>
    bool contains(const ContextVar<T>& var) const {
        return detail::map_find(m_impl->vars.get(), var.id()) != nullptr;
    }
    // A new context with the same values.
    Context copy() const;

    friend bool operator==(const Context& a, const Context& b) noexcept {
        return a.m_impl == b.m_impl;
    }
    detail::ContextImpl* impl() const noexcept { return m_impl.get(); }

private:
    // Enters the context for a scope: marks it entered and makes it current.
    class Enter {
    public:
        explicit Enter(detail::ContextImpl& ctx);
        Enter(const Enter&) = delete;
        Enter& operator=(const Enter&) = delete;
        ~Enter();

    private:
        detail::ContextImpl& m_impl;
        detail::LazyContext m_lazy;
        detail::ContextScope m_scope;
    };

    detail::IntrusivePtr<detail::ContextImpl> m_impl;
};

// A copy of the current context (Python's contextvars.copy_context()), in O(1).
Context copy_context();

namespace detail {
// Ids start at 1 and are never reused; the trie is keyed by them.
std::uint64_t next_var_id() noexcept;
[[noreturn]] void throw_lookup(const std::string& name);
[[noreturn]] void throw_token_used(const std::string& name);
[[noreturn]] void throw_token_other_var(const std::string& name);
[[noreturn]] void throw_token_other_context(const std::string& name);
} // namespace detail

// What ContextVar::set() returns, to undo that set with ContextVar::reset() (once). Move-only:
// it is the one record of that set.
template <class T>
class Token {
public:
    Token(Token&&) noexcept = default;
    Token& operator=(Token&&) noexcept = default;

    const ContextVar<T>& var() const noexcept { return *m_var; }
    // The variable's value before the set; nullopt when it had none (Python's Token.MISSING).
    std::optional<T> old_value() const {
        if (m_old)
            return static_cast<detail::Value<T>*>(m_old.get())->value;
        return std::nullopt;
    }

private:
    friend class ContextVar<T>;
    Token(const ContextVar<T>* var, detail::ContextImpl* ctx, detail::ValueBase* old) noexcept
        : m_var(var), m_ctx(ctx), m_old(old) {}

    const ContextVar<T>* m_var;
    detail::IntrusivePtr<detail::ContextImpl> m_ctx;
    detail::IntrusivePtr<detail::ValueBase> m_old;
    bool m_used = false;
};

// A context variable (Python's contextvars.ContextVar): its value depends on the current context.
// Declare it once (at namespace scope, typically) and keep it alive while it is used; it can be
// neither copied nor moved, since its identity is the key. get() gives a copy of the value.
template <class T>
class ContextVar {
    static_assert(std::is_copy_constructible_v<T>,
                  "ContextVar<T>: T must be copy-constructible (get() gives a copy); hold a "
                  "move-only value through a std::shared_ptr");

public:
    explicit ContextVar(std::string name) : m_name(std::move(name)), m_id(detail::next_var_id()) {}
    ContextVar(std::string name, T default_value)
        : m_name(std::move(name)), m_default(std::move(default_value)),
          m_id(detail::next_var_id()) {}
    ContextVar(const ContextVar&) = delete;
    ContextVar& operator=(const ContextVar&) = delete;

    const std::string& name() const noexcept { return m_name; }

    // The value in the current context, else the default; LookupError when there is neither.
    T get() const {
        if (detail::ValueBase* v = detail::map_find(detail::current_context().vars(), m_id))
            return static_cast<detail::Value<T>*>(v)->value;
        if (m_default)
            return *m_default;
        detail::throw_lookup(m_name);
    }
    // The value in the current context, else `fallback` (the variable's default is not used).
    T get(T fallback) const {
        if (detail::ValueBase* v = detail::map_find(detail::current_context().vars(), m_id))
            return static_cast<detail::Value<T>*>(v)->value;
        return fallback;
    }

    // Sets the value in the current context; the token undoes it.
    Token<T> set(T value) const {
        detail::ContextImpl& ctx = detail::current_context().materialize();
        detail::IntrusivePtr<detail::ValueBase> v(new detail::Value<T>(std::move(value)));
        Token<T> token(this, &ctx, detail::map_find(ctx.vars.get(), m_id));
        ctx.vars = detail::Vars::adopt(detail::map_assign(ctx.vars.get(), m_id, v.get()));
        return token;
    }

    // Restores the value the variable had before the set() that gave `token`. RuntimeError if the
    // token was already used; ValueError if it comes from another variable or another context.
    void reset(Token<T>& token) const {
        if (token.m_used)
            detail::throw_token_used(m_name);
        if (token.m_var != this)
            detail::throw_token_other_var(m_name);
        detail::ContextImpl* ctx = detail::current_context().materialized();
        if (ctx != token.m_ctx.get())
            detail::throw_token_other_context(m_name);
        token.m_used = true;
        if (token.m_old)
            ctx->vars =
                detail::Vars::adopt(detail::map_assign(ctx->vars.get(), m_id, token.m_old.get()));
        else
            ctx->vars = detail::Vars::adopt(detail::map_remove(ctx->vars.get(), m_id));
    }
    void reset(Token<T>&& token) const { reset(token); }

    // The key of this variable in contexts' maps.
    std::uint64_t id() const noexcept { return m_id; }

private:
    std::string m_name;
    std::optional<T> m_default;
    std::uint64_t m_id;
};

} // namespace asyncio
