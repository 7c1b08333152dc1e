#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs every test of the project, as a newcomer and CI do (README "Testing"):
#   1. the Swift tests on this machine's kernel (pure tests, real-kernel tests in child
#      processes, the supervisor's adversarial tests, the CLI end to end), then the network
#      conformance table on this kernel, natively and through the supervisor;
#   2. the kernel lane: Debian's 7.3, 7.2, 6.12 and 6.1 kernels (and one without Landlock)
#      booted under QEMU, each running the conformance table, the kernel tests and `status`.
#
# Environment:
#   LANDLOCK_TEST_ABI=N   the Landlock ABI this machine's kernel must have (CI sets it, so a
#                         misconfigured runner fails instead of skipping kernel tests).
#   SKIP_KERNEL_LANE=1    run only step 1 (for a quick local run; CI never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null; then
    echo "test.sh: swift is not on PATH; install Swift 6.3 (see README)" >&2
    exit 1
fi

echo "== Swift tests (kernel $(uname -r), LANDLOCK_TEST_ABI=${LANDLOCK_TEST_ABI:-unset})"
swift build --build-tests
swift test --skip-build

echo "== Conformance table on this machine's kernel, natively and through the supervisor"
for mode in kernel supervisor; do
    .build/debug/landlock-probe --table Conformance --mode "$mode" | { grep -v -e '^PASS' -e '^SKIP' || true; }
done

if [ "${SKIP_KERNEL_LANE:-0}" = 1 ]; then
    echo "== Kernel lane skipped (SKIP_KERNEL_LANE=1)"
    exit 0
fi
echo "== Kernel lane"
Scripts/kernel-lane/run-lane.sh --build
