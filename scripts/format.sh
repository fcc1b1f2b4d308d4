#!/usr/bin/env bash
# Formats the C++ sources with clang-format-14 (the version CI checks with), or with --check only
# reports what is not formatted and fails:
#
#     scripts/format.sh [--check]
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$asyncio_root"

command -v clang-format-14 >/dev/null 2>&1 || scripts/setup.sh clang-format-14

dirs=()
for dir in include src tests examples bench tools; do
    [ -d "$dir" ] && dirs+=("$dir")
done
files=()
[ ${#dirs[@]} -eq 0 ] ||
    mapfile -t files < <(find "${dirs[@]}" -type f \( -name '*.hpp' -o -name '*.cpp' \) | sort)
[ ${#files[@]} -gt 0 ] || exit 0

if [ "${1:-}" = "--check" ]; then
    echo "format: checking ${#files[@]} files"
    clang-format-14 --dry-run --Werror "${files[@]}"
else
    clang-format-14 -i "${files[@]}"
fi
