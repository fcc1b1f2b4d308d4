#!/usr/bin/env bash
# Builds the examples (Release, in build/) and runs them in the order of examples/ORDER, each
# after a "== <name> ==" line. Exits non-zero if any example does.
#
#     scripts/run_examples.sh
#
# Environment: BUILD_DIR (default: build/ at the top of the repository), CXX.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$asyncio_root/scripts/setup.sh"

build_dir=${BUILD_DIR:-$asyncio_root/build}
asyncio_configure "$build_dir" -DCMAKE_BUILD_TYPE=Release -DASYNCIO_BUILD_EXAMPLES=ON
cmake --build "$build_dir" --target asyncio_examples -j "$(asyncio_jobs)"

failed=()
while read -r name _; do
    case "$name" in "" | "#"*) continue ;; esac
    binary="$build_dir/examples/$name"
    if [ ! -x "$binary" ]; then
        echo "note: examples/$name.cpp does not exist yet; skipped $name"
        continue
    fi
    echo "== $name =="
    status=0
    "$binary" </dev/null || status=$?
    if [ "$status" -ne 0 ]; then
        echo "($name exited with status $status)"
        failed+=("$name")
    fi
done <"$asyncio_root/examples/ORDER"

if [ ${#failed[@]} -ne 0 ]; then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
