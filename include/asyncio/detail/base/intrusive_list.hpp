// Internal: the one intrusive doubly linked list (tasks of a loop, external work, done callbacks).
#pragma once

namespace asyncio::detail {

// What an element embeds to be on an IntrusiveList tagged `Tag` (one hook per list an element
// can be on at the same time). An element is on a list exactly when its `prev` is set.
template <class Tag>
struct ListHook {
    ListHook* prev = nullptr;
    ListHook* next = nullptr;
    bool linked() const noexcept { return prev != nullptr; }
};

// A FIFO of elements that link themselves: pushing and removing allocate nothing and are O(1).
// The list is one pointer: the head's `prev` is the tail, and the tail's `next` is null. T
// derives from ListHook<Tag>; the list neither owns nor references its elements.
template <class T, class Tag = T>
class IntrusiveList {
    using Hook = ListHook<Tag>;
    static Hook* hook(T* t) noexcept { return static_cast<Hook*>(t); }
    static T* elem(Hook* h) noexcept { return static_cast<T*>(h); }

public:
    bool empty() const noexcept { return m_head == nullptr; }
    T* front() const noexcept { return m_head ? elem(m_head) : nullptr; }
    T* back() const noexcept { return m_head ? elem(m_head->prev) : nullptr; }
    // The element after `t`, null at the end.
    static T* next(T* t) noexcept {
        Hook* n = hook(t)->next;
        return n ? elem(n) : nullptr;
    }

    void push_back(T* t) noexcept {
        Hook* h = hook(t);
        h->next = nullptr;
        if (!m_head) {
            h->prev = h;
            m_head = h;
        } else {
            Hook* tail = m_head->prev;
            tail->next = h;
            h->prev = tail;
            m_head->prev = h;
        }
    }

    void remove(T* t) noexcept {
        Hook* h = hook(t);
        if (h == m_head) {
            m_head = h->next;
            if (m_head)
                m_head->prev = h->prev; // the tail
        } else {
            h->prev->next = h->next;
            (h->next ? h->next->prev : m_head->prev) = h->prev;
        }
        h->prev = h->next = nullptr;
    }

    T* pop_front() noexcept {
        T* t = front();
        if (t)
            remove(t);
        return t;
    }

    // Empties the list and gives its former first element; the elements keep their `next`
    // links (so the caller can walk them) but count as unlinked: their `prev` is cleared.
    T* take_all() noexcept {
        Hook* first = m_head;
        for (Hook* h = first; h; h = h->next)
            h->prev = nullptr;
        m_head = nullptr;
        return first ? elem(first) : nullptr;
    }

private:
    Hook* m_head = nullptr;
};

} // namespace asyncio::detail
