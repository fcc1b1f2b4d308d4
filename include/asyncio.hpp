// asyncio for C++: Python asyncio's coroutines and tasks in C++20. The umbrella header.
#pragma once

#include "asyncio/as_completed.hpp"
#include "asyncio/coroutines.hpp"
#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/gather.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/shield.hpp"
#include "asyncio/sleep.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/timeouts.hpp"
#include "asyncio/wait.hpp"
