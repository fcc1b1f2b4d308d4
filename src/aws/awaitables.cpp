// What the combinators share: the loop check of ensure_future, timeouts, de-duplication.
#include "asyncio/detail/aws/awaitables.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace asyncio::detail {

void OptionalSeconds::throw_nan() { throw ValueError("Invalid timeout: NaN (not a number)"); }

std::vector<bool> first_occurrences(const std::vector<const void*>& items) {
    std::vector<bool> keep(items.size(), true);
    std::vector<std::pair<const void*, std::size_t>> sorted;
    sorted.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
        sorted.emplace_back(items[i], i);
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return std::less<const void*>()(a.first, b.first) ||
               (a.first == b.first && a.second < b.second);
    });
    for (std::size_t i = 1; i < sorted.size(); ++i)
        if (sorted[i].first == sorted[i - 1].first)
            keep[sorted[i].second] = false;
    return keep;
}

} // namespace asyncio::detail
