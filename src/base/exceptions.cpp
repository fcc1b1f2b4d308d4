// ExceptionGroup: its message and how a group is found inside an exception_ptr.
#include "asyncio/exceptions.hpp"

namespace asyncio {

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : m_message(std::move(message)), m_exceptions(std::move(exceptions)) {
    const std::size_t n = m_exceptions.size();
    m_what = m_message + " (" + std::to_string(n) + " sub-exception" + (n == 1 ? "" : "s") + ")";
}

const ExceptionGroup* ExceptionGroup::group_of(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const ExceptionGroup& g) {
        return &g; // the object `e` holds: rethrow_exception throws it, not a copy
    } catch (...) {
        return nullptr;
    }
}

} // namespace asyncio
