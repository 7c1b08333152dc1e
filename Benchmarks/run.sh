#!/usr/bin/env bash
# Benchmarks/run.sh [--quick] [--guest] [landlock-bench run options...]
#
# What the sandbox costs, side by side with native, in one run: builds landlock-bench,
# swift-exec-floor (the start-up floor of a static Swift tool) and landlock-exec in release
# mode and prints a Markdown table of medians and ratios. Every ratio comes from this one run
# (native and sandboxed runs interleaved round by round).
#
#   --quick    CI smoke: a few rounds of very short runs (seconds; the numbers are rough)
#   --guest    also boot Linux 7.2 (Scripts/kernel-lane) and compare kernel-native Landlock
#              UDP with no sandbox and with the supervisor (Benchmarks/run-guest.sh)
#   other options go to `landlock-bench run` (--rounds N, --seconds S, --spawns N,
#   --only startup,udp,stream,memory; the guest run gets them too); see `landlock-bench --help`.
#
# Environment: BENCH_SCRATCH_PATH (default .build) is the SwiftPM scratch path.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scratch="${BENCH_SCRATCH_PATH:-.build}"

guest=0
args=()
for argument in "$@"; do
    case "$argument" in
    --guest) guest=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) args+=("$argument") ;;
    esac
done

# One product per invocation: `swift build --product A --product B` builds only B. Static
# Swift standard library, as the README builds landlock-exec (and as the kernel lane does, so
# the two share one build): its start-up is what users get.
for product in landlock-bench swift-exec-floor landlock-exec; do
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product" >&2
done
bin="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)"

source Benchmarks/state.sh
state="$(measured_state)"

"$bin/landlock-bench" run --landlock-exec "$bin/landlock-exec" --state "$state" ${args[@]+"${args[@]}"}

if [ "$guest" = 1 ]; then
    Benchmarks/run-guest.sh ${args[@]+"${args[@]}"}
fi
