#!/usr/bin/env bash
# Benchmarks/run-guest.sh [--quick] [landlock-bench run options...]
#
# Boots Debian sid's Linux 7.2 (Landlock ABI 10) under QEMU with Scripts/kernel-lane/boot.sh
# and, in that one boot, compares the UDP workloads with no sandbox, under kernel-native
# Landlock UDP rights (udp: .kernelOnly) and under the forced supervisor (udp: .supervisor).
# The guest runs under TCG emulation: only the ratios mean something.
#
# Environment: BENCH_GUEST_SCRATCH_PATH (default BENCH_SCRATCH_PATH, then .build) is the
# scratch path of the --static-swift-stdlib build, shared with run.sh and the kernel lane; BENCH_GUEST_TIMEOUT (default 1800) limits the boot in seconds.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scratch="${BENCH_GUEST_SCRATCH_PATH:-${BENCH_SCRATCH_PATH:-.build}}"

swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product landlock-bench >&2
bin="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)"

source Benchmarks/state.sh
state="$(measured_state); guest: QEMU TCG, 2 vCPUs"

work="$(mktemp -d "${TMPDIR:-/tmp}/landlock-bench-guest.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/payload"
cp "$bin/landlock-bench" "$work/payload/"

echo "landlock-bench: booting Linux 7.2 (sid) under QEMU; the console follows on stderr" >&2
status=0
Scripts/kernel-lane/boot.sh --kernel sid --payload "$work/payload" --timeout "${BENCH_GUEST_TIMEOUT:-1800}" \
    --log "$work/console.log" -- /payload/landlock-bench run --guest --state "$state" "$@" >&2 || status=$?

# The table, from the console log (the guest's own lines only).
sed -n '/^# landlock-bench/,/^KERNEL-LANE-EXIT/p' "$work/console.log" | grep -v '^KERNEL-LANE-EXIT' || true
if [ "$status" != 0 ]; then
    echo "run-guest.sh: the guest run failed (status $status)" >&2
fi
exit "$status"
