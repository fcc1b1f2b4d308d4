#!/usr/bin/env bash
# Builds everything and runs every test:
#
#     scripts/run_tests.sh [ctest-arg...]        e.g. scripts/run_tests.sh -R Gather -L unit
#
# Environment:
#     BUILD_DIR     build tree (default: build/ at the top of the repository)
#     CMAKE_ARGS    extra configure arguments, split on spaces (e.g. -DASYNCIO_WERROR=ON)
#     CXX           the C++ compiler (e.g. clang++-14)
#     BUILD_TARGET  build only this target instead of everything (e.g. asyncio_thread_tests)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$asyncio_root/scripts/setup.sh"

build_dir=${BUILD_DIR:-$asyncio_root/build}
read -r -a cmake_args <<<"${CMAKE_ARGS:-}"
asyncio_configure "$build_dir" "${cmake_args[@]}"

target_args=()
[ -n "${BUILD_TARGET:-}" ] && target_args=(--target "$BUILD_TARGET")
cmake --build "$build_dir" "${target_args[@]}" -j "$(asyncio_jobs)"

ctest --test-dir "$build_dir" --output-on-failure -j "$(asyncio_jobs)" "$@"
