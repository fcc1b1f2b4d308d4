// expect: CancelledError|std::exception
// CancelledError does not derive from std::exception, so ordinary error handling cannot
// swallow a cancellation by accident.
#include <asyncio.hpp>
#include <type_traits>

static_assert(std::is_base_of_v<std::exception, asyncio::CancelledError>);
