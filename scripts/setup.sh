#!/usr/bin/env bash
# Installs what building and testing asyncio needs on Debian, if missing:
#
#     scripts/setup.sh [extra-package...]
#
# Checks each package with dpkg and runs apt-get (as root, or through sudo) only for the missing
# ones; prints nothing when nothing is missing. Extra packages (e.g. clang-14) are checked the
# same way. Sourced, it defines asyncio_setup and runs it for the base packages.

asyncio_setup() {
    local packages=(cmake ninja-build g++ pkg-config libuv1-dev libgtest-dev "$@")

    if ! command -v dpkg >/dev/null 2>&1; then
        local tool
        for tool in cmake c++ pkg-config; do
            command -v "$tool" >/dev/null 2>&1 ||
                echo "setup: not a Debian system and '$tool' is missing;" \
                    "install the equivalents of: ${packages[*]}" >&2
        done
        return 0
    fi

    local missing=() package
    for package in "${packages[@]}"; do
        dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed' ||
            missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    local as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            as_root=(sudo)
        else
            echo "setup: missing ${missing[*]}, and not root and no sudo to install them" >&2
            return 1
        fi
    fi
    echo "setup: installing ${missing[*]}"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    asyncio_setup "$@"
else
    asyncio_setup
fi
