#!/usr/bin/env bash
# boot.sh --kernel SUITE|VMLINUZ [options] --payload DIR -- GUEST_COMMAND [ARGS...]
#
# Kernel lane: boot a real (Debian) kernel under QEMU with a throw-away initramfs, run
# one command in the guest, stream the serial console to stdout and exit with the
# guest command's exit status.
#
# Why: Landlock's behaviour depends on the running kernel (ABI version, errata, lsm=).
# Booting packaged kernels under QEMU (TCG, no KVM needed) lets the tests run against
# several kernels in a few seconds each, on any x86_64 Linux machine.
#
# The initramfs holds: a static busybox (all applets linked at boot), an /init that mounts
# proc, sys, devtmpfs, devpts, tmpfs on /tmp and /run, brings `lo` up, runs the command
# with the payload at /payload (also on PATH), prints "KERNEL-LANE-EXIT <status>" and
# powers off; minimal /etc files (passwd, group, hosts, resolv.conf, nsswitch.conf);
# the payload directory; and, for every ELF file in the payload, the shared libraries
# `ldd` lists for it (plus the dynamic loader) at the same paths as on the host, so
# dynamically linked programs (e.g. Swift programs built with --static-swift-stdlib,
# which still need libc, libm, libstdc++, libgcc_s and ld-linux) run unchanged.
#
# Options:
#   --kernel SUITE|FILE   experimental | sid | trixie | bookworm (fetched with
#                         fetch-kernel.sh) or a vmlinuz file
#   --payload DIR         directory copied to /payload in the guest (optional)
#   --append "ARGS"       extra kernel command line (e.g. "lsm=landlock,yama")
#   --timeout SECS        wall-clock limit for the whole boot (default 300)
#   --memory MB           guest RAM (default 1024, raised for large payloads)
#   --smp N               guest CPUs (default 2)
#   --env NAME=VALUE      environment variable for the guest command (repeatable)
#   --log FILE            also write the console output (CR stripped) to FILE
#   --kernel-messages     do not pass `quiet` (show the kernel's boot messages)
# Environment: LANE_QEMU_ACCEL (default tcg), LANE_QEMU_EXTRA (extra qemu arguments),
#   LANE_QEMU_BIOS (firmware; default qboot.rom when installed, else QEMU's default),
#   LANE_KEEP_INITRAMFS=FILE (keep a copy of the generated initramfs).
#
# Exit status: the guest command's status; 124 on timeout; 125 when the guest never
# printed its exit marker (kernel panic, init failure, ...); 2 on usage errors.
set -euo pipefail
trap 'echo "boot.sh: command failed (status $?) at line $LINENO" >&2' ERR

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}
die() {
    echo "boot.sh: error: $*" >&2
    exit 2
}
log() { echo "boot.sh: $*" >&2; }

kernel=""
payload=""
append=""
timeout_secs=300
memory=1024
smp=2
log_file=""
quiet_kernel=1
guest_env=()
while [ $# -gt 0 ]; do
    case "$1" in
    --kernel) kernel="${2:?--kernel needs a value}"; shift 2 ;;
    --payload) payload="${2:?--payload needs a value}"; shift 2 ;;
    --append) append="${2?--append needs a value}"; shift 2 ;;
    --timeout) timeout_secs="${2:?--timeout needs a value}"; shift 2 ;;
    --memory) memory="${2:?--memory needs a value}"; shift 2 ;;
    --smp) smp="${2:?--smp needs a value}"; shift 2 ;;
    --env)
        case "${2:-}" in [A-Za-z_]*=*) ;; *) die "--env expects NAME=VALUE" ;; esac
        guest_env+=("$2"); shift 2 ;;
    --log) log_file="${2:?--log needs a value}"; shift 2 ;;
    --kernel-messages) quiet_kernel=""; shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[ -n "$kernel" ] || die "--kernel is required"
[ $# -gt 0 ] || die "no guest command given after --"
[ -z "$payload" ] || [ -d "$payload" ] || die "payload '$payload' is not a directory"
case "$timeout_secs" in '' | *[!0-9]*) die "--timeout expects seconds" ;; esac

# --- host tools -----------------------------------------------------------------------
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    die "qemu-system-x86_64 not found: run Scripts/kernel-lane/ensure-tools.sh"
command -v cpio >/dev/null 2>&1 || die "cpio not found: run Scripts/kernel-lane/ensure-tools.sh"
busybox="$(command -v busybox 2>/dev/null || true)"
[ -n "$busybox" ] || die "busybox not found: run Scripts/kernel-lane/ensure-tools.sh"
# ldd exits non-zero for static executables ("not a dynamic executable") and prints
# "statically linked" for static-pie ones.
is_dynamic() { local out; out="$(ldd "$1" 2>&1)" && [[ "$out" != *"statically linked"* ]]; }
if is_dynamic "$busybox"; then
    die "$busybox is dynamically linked: install busybox-static (Scripts/kernel-lane/ensure-tools.sh)"
fi

# --- kernel ---------------------------------------------------------------------------
if [ -f "$kernel" ]; then
    vmlinuz="$kernel"
else
    vmlinuz="$("$script_dir/fetch-kernel.sh" "$kernel")" || die "could not fetch kernel '$kernel'"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/kernel-lane-boot.XXXXXX")"
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,lane,payload,var/tmp}

# --- busybox -------------------------------------------------------------------------
# Only /bin/sh is linked here; /init links the other applets with `busybox --install -s`
# (one process in the guest instead of ~400 `ln` processes on the host).
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# --- payload and the libraries its ELF files need -------------------------------------
is_elf() { [ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = "7f454c46" ]; }

copy_host_file() { # copy a host file (symlinks resolved) to the same path in the guest
    local src="$1"
    [ -e "$root$src" ] && return 0
    mkdir -p "$root$(dirname "$src")"
    cp -L "$src" "$root$src"
}

libs_needed=0
add_elf_deps() { # $1: ELF file on the host
    local out line lib
    is_dynamic "$1" || return 0
    out="$(ldd "$1" 2>/dev/null)" || return 0
    while IFS= read -r line; do
        case "$line" in
        *"=> not found"*) die "$1 needs ${line%% =>*}, which ldd cannot find on the host" ;;
        *"=> /"*) lib="${line#*=> }"; lib="${lib%% (*}" ;;
        [[:space:]]/*) lib="${line#"${line%%[![:space:]]*}"}"; lib="${lib%% (*}" ;;
        *) continue ;;
        esac
        # a library of the payload itself (RUNPATH $ORIGIN/...) is already in place
        case "$lib" in "$root"/*) continue ;; esac
        copy_host_file "$lib"
        libs_needed=1
    done <<<"$out"
}

if [ -n "$payload" ]; then
    # -L: symlinks in the payload are copied as the files they point to.
    cp -RL "$payload/." "$root/payload/"
    while IFS= read -r -d '' f; do
        if is_elf "$f"; then add_elf_deps "$f"; fi
    done < <(find "$root/payload" -type f -print0)
fi
if [ "$libs_needed" = 1 ]; then
    # glibc dlopen()s libgcc_s for thread cancellation and unwinding even when ldd
    # does not list it.
    gcc_s="$(ldconfig -p 2>/dev/null | awk '/libgcc_s\.so\.1 .*x86-64/ && !f { print $NF; f = 1 }')"
    [ -z "$gcc_s" ] || copy_host_file "$gcc_s"
fi

# --- minimal /etc -------------------------------------------------------------------
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost kernel-lane
::1	localhost ip6-localhost ip6-loopback
EOF
echo "nameserver 127.0.0.1" >"$root/etc/resolv.conf"
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
EOF
cat >"$root/etc/protocols" <<'EOF'
ip	0	IP
icmp	1	ICMP
tcp	6	TCP
udp	17	UDP
ipv6-icmp	58	IPv6-ICMP
EOF
cat >"$root/etc/services" <<'EOF'
domain	53/tcp
domain	53/udp
http	80/tcp
EOF
echo "kernel-lane" >"$root/etc/hostname"
: >"$root/etc/ld.so.conf"

# --- the guest command ------------------------------------------------------------
shq() { # single-quote $1 for sh
    local s="${1//\'/\'\\\'\'}"
    printf "'%s'" "$s"
}
{
    echo "# generated by boot.sh"
    for kv in ${guest_env[@]+"${guest_env[@]}"}; do
        echo "export ${kv%%=*}=$(shq "${kv#*=}")"
    done
    for a in "$@"; do printf '%s ' "$(shq "$a")"; done
    echo
} >"$root/lane/command.sh"

cat >"$root/init" <<'EOF'
#!/bin/sh
# /init of the kernel-lane initramfs (generated by Scripts/kernel-lane/boot.sh)
/bin/busybox --install -s
# Debian (merged /usr) has the common tools in /usr/bin, and tests name them there
# (/usr/bin/true, /usr/bin/env, ...). Hard links, not symlinks: a Landlock rule on /usr must
# cover the executed file itself.
for a in true false env mkdir rm cp mv cat ls ln id sleep touch chmod head tail wc sh; do
    ln -f /bin/busybox /usr/bin/$a
done
export PATH=/payload:/payload/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
hostname kernel-lane
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
echo "KERNEL-LANE-BOOTED $(uname -r) lsm=$(cat /sys/kernel/security/lsm 2>/dev/null || echo '?')"
cd /payload
/bin/sh /lane/command.sh </dev/null
status=$?
echo "KERNEL-LANE-EXIT $status"
sync
poweroff -f
# poweroff failed: exiting init panics the kernel, panic=-1 reboots, -no-reboot ends qemu.
exit "$status"
EOF
chmod 0755 "$root/init"

# --- pack ---------------------------------------------------------------------------
# Uncompressed newc cpio: under TCG, decompressing in the guest costs more than the
# host-side copy of a larger initrd.
initrd="$work/initramfs.cpio"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$initrd"
# /dev/console for the kernel's initial console, appended as a hand-made newc archive
# (mknod would need root). The kernel unpacks concatenated archives in order.
cpio_entry() { # name mode(hex) rdevmajor rdevminor
    local name="$1" namesize=$((${#1} + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        0 "$((16#$2))" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
    printf '%s\0' "$name"
    # pad header (110 bytes) + name to a multiple of 4
    local pad=$(((4 - (110 + namesize) % 4) % 4))
    head -c "$pad" /dev/zero
}
{
    cpio_entry dev 41ED 0 0
    cpio_entry dev/console 2180 5 1
    cpio_entry 'TRAILER!!!' 0 0 0
} >>"$initrd"
if [ -n "${LANE_KEEP_INITRAMFS:-}" ]; then cp "$initrd" "$LANE_KEEP_INITRAMFS"; fi

initrd_mb=$((($(stat -c %s "$initrd") + 1048575) / 1048576))
if [ $((initrd_mb * 3 + 256)) -gt "$memory" ]; then
    memory=$((initrd_mb * 3 + 256))
    log "payload is ${initrd_mb} MiB: raising guest memory to ${memory} MiB"
fi

# --- boot ---------------------------------------------------------------------------
cmdline="console=ttyS0 panic=-1 oops=panic ${quiet_kernel:+quiet loglevel=3 }$append"
console_log="$work/console.log"
qemu=(
    qemu-system-x86_64
    -accel "${LANE_QEMU_ACCEL:-tcg}" -cpu max -smp "$smp" -m "$memory"
    -nographic -no-reboot -nodefaults -serial stdio
    -kernel "$vmlinuz" -initrd "$initrd" -append "$cmdline"
)
# qboot (from qemu-system-data) starts a -kernel boot faster than SeaBIOS and prints
# nothing on the serial line; LANE_QEMU_BIOS=FILE picks another firmware, "" the default.
bios="${LANE_QEMU_BIOS-auto}"
if [ "$bios" = auto ]; then
    bios=""
    [ ! -f /usr/share/qemu/qboot.rom ] || bios=qboot.rom
fi
[ -z "$bios" ] || qemu+=(-bios "$bios")
# shellcheck disable=SC2206 # intentional word splitting of extra arguments
[ -z "${LANE_QEMU_EXTRA:-}" ] || qemu+=(${LANE_QEMU_EXTRA})

set +e
trap - ERR # the status is examined below
timeout --kill-after=10 "$timeout_secs" "${qemu[@]}" </dev/null 2>"$work/qemu.err" |
    sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' | tee "$console_log"
rcs=("${PIPESTATUS[@]}")
set -e
trap 'echo "boot.sh: command failed (status $?) at line $LINENO" >&2' ERR
[ -z "$log_file" ] || cp "$console_log" "$log_file"

if [ "${rcs[0]}" = 124 ] || [ "${rcs[0]}" = 137 ]; then
    log "timed out after ${timeout_secs}s (kernel $kernel)"
    exit 124
fi
if [ "${rcs[0]}" != 0 ]; then
    log "qemu exited with status ${rcs[0]}"
    cat "$work/qemu.err" >&2
fi
marker="$(grep -a -o 'KERNEL-LANE-EXIT [0-9][0-9]*' "$console_log" | tail -n 1 || true)"
if [ -z "$marker" ]; then
    log "the guest did not report an exit status (no KERNEL-LANE-EXIT line; kernel $kernel)"
    exit 125
fi
exit "${marker#KERNEL-LANE-EXIT }"
