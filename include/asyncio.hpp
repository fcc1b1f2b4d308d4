// asyncio for C++: Python asyncio's coroutines and tasks in C++20. The umbrella header.
#pragma once

#include "asyncio/concurrent.hpp"
#include "asyncio/contextvars.hpp"
#include "asyncio/coroutines.hpp"
#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/executor.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/sleep.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/threads.hpp"
#include "asyncio/threadsafe.hpp"
#include "asyncio/wrap_future.hpp"
