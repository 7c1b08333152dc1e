#!/usr/bin/env bash
# ensure-tools.sh
#
# Kernel lane: make sure the host tools the lane needs are installed:
#   qemu-system-x86 (qemu-system-x86_64), busybox-static (a static /bin/busybox for the
#   guest's initramfs), cpio (to pack it), plus gcc for the lane's C smoke test.
#
# Why: CI starts on a fresh Debian machine where none of these may be present. The
# tools are installed with apt-get only when something is missing, and `apt-get update`
# runs first only in that case, so a machine that already has them needs no network.
# Needs root (or sudo) when an install is needed.
set -euo pipefail
trap 'echo "ensure-tools.sh: command failed (status $?) at line $LINENO" >&2' ERR

log() { echo "ensure-tools: $*" >&2; }

missing=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
# busybox must be the static build: the guest has no shared libraries of its own.
if ! dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
    missing+=(busybox-static)
fi
# libc6-dev provides libc.a for `gcc -static`.
if command -v gcc >/dev/null 2>&1 && [ ! -e "$(gcc -print-file-name=libc.a)" ]; then
    missing+=(libc6-dev)
fi

if [ ${#missing[@]} -eq 0 ]; then
    log "all tools present"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        log "missing packages: ${missing[*]}; run this script as root to install them"
        exit 1
    }
    sudo=(sudo)
fi
command -v apt-get >/dev/null 2>&1 || {
    log "missing packages: ${missing[*]}; apt-get not found, install them by hand"
    exit 1
}

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
# busybox-static conflicts with (replaces) the dynamic busybox package; apt handles it.
"${sudo[@]}" apt-get install -q -y --no-install-recommends "${missing[@]}"
log "done"
