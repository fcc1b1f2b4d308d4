// Context variables: the persistent map (a hash array mapped trie), contexts, entering them.
#include "asyncio/contextvars.hpp"

#include <bit>
#include <cstddef>
#include <new>

namespace asyncio::detail {

namespace {

// An entry of a trie node: a value (key != 0) or a child node (key == 0; ids start at 1).
struct Entry {
    std::uint64_t key;
    void* ptr;
};

constexpr unsigned bits_per_level = 5;

std::uint32_t slot_bit(std::uint64_t key, unsigned shift) noexcept {
    return std::uint32_t{1} << ((key >> shift) & 31u);
}

} // namespace

// Invariants: `bitmap` has one bit per occupied slot of the 32, and the entries follow the node
// in slot order (popcount(bitmap) of them); a node is never changed after it is built and
// shared; a child node holds at least two values (a lone value is pulled up into its parent),
// except that the root may hold one.
class MapNode {
public:
    std::atomic<std::uint32_t> refs{1};
    std::uint32_t bitmap;

    explicit MapNode(std::uint32_t b) noexcept : bitmap(b) {}
    int size() const noexcept { return std::popcount(bitmap); }
    Entry* entries() noexcept { return reinterpret_cast<Entry*>(this + 1); }
    const Entry* entries() const noexcept { return reinterpret_cast<const Entry*>(this + 1); }
    int index(std::uint32_t bit) const noexcept { return std::popcount(bitmap & (bit - 1)); }
};
static_assert(sizeof(MapNode) % alignof(Entry) == 0);

namespace {

MapNode* alloc_node(std::uint32_t bitmap) {
    const auto n = static_cast<std::size_t>(std::popcount(bitmap));
    void* mem = ::operator new(sizeof(MapNode) + n * sizeof(Entry));
    auto* node = new (mem) MapNode(bitmap);
    for (std::size_t i = 0; i < n; ++i)
        new (node->entries() + i) Entry{0, nullptr};
    return node;
}

void ref_entry(const Entry& e) noexcept {
    if (e.key == 0)
        static_cast<MapNode*>(e.ptr)->refs.fetch_add(1, std::memory_order_relaxed);
    else
        static_cast<ValueBase*>(e.ptr)->add_ref();
}

void unref_entry(const Entry& e) noexcept {
    if (e.key == 0)
        map_release(static_cast<MapNode*>(e.ptr));
    else
        static_cast<ValueBase*>(e.ptr)->release();
}

// A node holding two distinct keys, split at `shift` or deeper.
MapNode* two_values(Entry a, Entry b, unsigned shift) {
    std::uint32_t ba = slot_bit(a.key, shift);
    std::uint32_t bb = slot_bit(b.key, shift);
    if (ba == bb) {
        MapNode* child = two_values(a, b, shift + bits_per_level);
        MapNode* node;
        try {
            node = alloc_node(ba);
        } catch (...) {
            map_release(child);
            throw;
        }
        node->entries()[0] = Entry{0, child};
        return node;
    }
    MapNode* node = alloc_node(ba | bb);
    Entry* e = node->entries();
    e[node->index(ba)] = a;
    e[node->index(bb)] = b;
    ref_entry(a);
    ref_entry(b);
    return node;
}

// A copy of `node` with slot `bit` set to `e` (inserted or replaced); `e` already holds the
// reference the new node keeps.
MapNode* with_entry(const MapNode* node, std::uint32_t bit, Entry e) {
    const bool present = node->bitmap & bit;
    MapNode* copy = alloc_node(node->bitmap | bit);
    const int at = copy->index(bit);
    const Entry* src = node->entries();
    Entry* dst = copy->entries();
    for (int i = 0; i < node->size(); ++i) {
        if (present && i == at)
            continue; // the replaced entry
        dst[present || i < at ? i : i + 1] = src[i];
        ref_entry(src[i]);
    }
    dst[at] = e;
    return copy;
}

// A copy of `node` without slot `bit`; null when nothing would be left.
MapNode* without_entry(const MapNode* node, std::uint32_t bit) {
    const std::uint32_t bitmap = node->bitmap & ~bit;
    if (bitmap == 0)
        return nullptr;
    MapNode* copy = alloc_node(bitmap);
    const int skip = node->index(bit);
    const Entry* src = node->entries();
    Entry* dst = copy->entries();
    for (int i = 0, j = 0; i < node->size(); ++i) {
        if (i == skip)
            continue;
        dst[j++] = src[i];
        ref_entry(src[i]);
    }
    return copy;
}

MapNode* assign_at(const MapNode* node, std::uint64_t key, ValueBase* value, unsigned shift) {
    const std::uint32_t bit = slot_bit(key, shift);
    if (!node) {
        MapNode* fresh = alloc_node(bit);
        fresh->entries()[0] = Entry{key, value};
        value->add_ref();
        return fresh;
    }
    if (!(node->bitmap & bit)) {
        value->add_ref();
        return with_entry(node, bit, Entry{key, value});
    }
    const Entry& old = node->entries()[node->index(bit)];
    Entry e;
    if (old.key == 0) {
        e = Entry{
            0, assign_at(static_cast<const MapNode*>(old.ptr), key, value, shift + bits_per_level)};
    } else if (old.key == key) {
        value->add_ref();
        e = Entry{key, value};
    } else {
        e = Entry{0, two_values(old, Entry{key, value}, shift + bits_per_level)};
    }
    try {
        return with_entry(node, bit, e);
    } catch (...) {
        unref_entry(e);
        throw;
    }
}

enum class Removed { not_found, done };

// Sets `out` to the node without `key` (null if empty) when the key is there.
Removed remove_at(const MapNode* node, std::uint64_t key, unsigned shift, MapNode*& out) {
    const std::uint32_t bit = slot_bit(key, shift);
    if (!(node->bitmap & bit))
        return Removed::not_found;
    const Entry& e = node->entries()[node->index(bit)];
    if (e.key == key) {
        out = without_entry(node, bit);
        return Removed::done;
    }
    if (e.key != 0)
        return Removed::not_found;
    MapNode* child = nullptr;
    if (remove_at(static_cast<const MapNode*>(e.ptr), key, shift + bits_per_level, child) ==
        Removed::not_found)
        return Removed::not_found;
    if (!child) {
        out = without_entry(node, bit);
        return Removed::done;
    }
    Entry replacement{0, child};
    if (child->size() == 1 && child->entries()[0].key != 0) { // a lone value moves up
        replacement = child->entries()[0];
        ref_entry(replacement);
        map_release(child);
    }
    try {
        out = with_entry(node, bit, replacement);
    } catch (...) {
        unref_entry(replacement);
        throw;
    }
    return Removed::done;
}

} // namespace

void map_add_ref(MapNode* root) noexcept { root->refs.fetch_add(1, std::memory_order_relaxed); }

void map_release(MapNode* root) noexcept {
    if (root->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
        return;
    for (int i = 0; i < root->size(); ++i)
        unref_entry(root->entries()[i]);
    root->~MapNode();
    ::operator delete(root);
}

ValueBase* map_find(const MapNode* node, std::uint64_t key) noexcept {
    for (unsigned shift = 0; node; shift += bits_per_level) {
        const std::uint32_t bit = slot_bit(key, shift);
        if (!(node->bitmap & bit))
            return nullptr;
        const Entry& e = node->entries()[node->index(bit)];
        if (e.key == key)
            return static_cast<ValueBase*>(e.ptr);
        if (e.key != 0)
            return nullptr;
        node = static_cast<const MapNode*>(e.ptr);
    }
    return nullptr;
}

MapNode* map_assign(const MapNode* root, std::uint64_t key, ValueBase* value) {
    return assign_at(root, key, value, 0);
}

MapNode* map_remove(MapNode* root, std::uint64_t key) {
    if (!root)
        return nullptr;
    MapNode* out = nullptr;
    if (remove_at(root, key, 0, out) == Removed::not_found) {
        map_add_ref(root);
        return root;
    }
    return out;
}

ContextImpl& LazyContext::materialize() {
    if (!(m_bits & ctx_tag)) {
        auto* c = new ContextImpl();
        c->vars = Vars::adopt(reinterpret_cast<MapNode*>(m_bits)); // takes over the reference
        c->add_ref();
        m_bits = reinterpret_cast<std::uintptr_t>(c) | ctx_tag;
    }
    return *ctx();
}

LazyContext& base_context() noexcept {
    thread_local LazyContext base;
    return base;
}

std::uint64_t next_var_id() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

void throw_lookup(const std::string& name) {
    throw LookupError("<ContextVar name='" + name + "'>");
}

void throw_token_used(const std::string& name) {
    throw RuntimeError("<Token var=<ContextVar name='" + name + "'>> has already been used once");
}

void throw_token_other_var(const std::string& name) {
    throw ValueError("<Token var=<ContextVar name='" + name +
                     "'>> was created by a different ContextVar");
}

void throw_token_other_context(const std::string& name) {
    throw ValueError("<Token var=<ContextVar name='" + name +
                     "'>> was created in a different Context");
}

} // namespace asyncio::detail

namespace asyncio {

namespace {
detail::LazyContext* enter(detail::ContextImpl& ctx, detail::LazyContext& lazy) {
    if (ctx.entered.exchange(true, std::memory_order_acquire))
        throw RuntimeError("cannot enter context: the Context is already entered");
    lazy.adopt(&ctx);
    return &lazy;
}
} // namespace

Context::Context() : m_impl(new detail::ContextImpl()) {}

Context Context::copy() const { return Context(new detail::ContextImpl(m_impl->vars)); }

Context::Enter::Enter(detail::ContextImpl& ctx) : m_impl(ctx), m_scope(enter(ctx, m_lazy)) {}

Context::Enter::~Enter() { m_impl.entered.store(false, std::memory_order_release); }

Context copy_context() {
    const detail::LazyContext& current = detail::current_context();
    return Context(new detail::ContextImpl(detail::Vars::share(current.vars())));
}

} // namespace asyncio
