#!/bin/sh
# guest-tests.sh: the test script run INSIDE every kernel-lane guest.
#
# run-lane.sh copies this file into the payload (it is /payload/guest-tests.sh in the
# guest) and runs it with busybox sh (POSIX sh, no bash) as root, with
#   LANE_KERNEL=<lane name>        experimental | sid | trixie | bookworm | bookworm-nolandlock
#   LANE_EXPECTED_ABI=<n>          11 | 10 | 6 | 2 | 0 (0 = Landlock not enabled)
#   LANDLOCK_TEST_ABI=<n>          same value, for the library's kernel tests (F.7)
# The payload (everything run-lane.sh was given, plus the static smoke test) is in
# /payload, which is also on PATH. /tmp is a tmpfs; only loopback networking exists.
#
# Why a separate file: this is the plug-in point of the lane. Each step prints
#   KERNEL-LANE-RESULT PASS|FAIL|SKIP <name> <detail>
# which run-lane.sh counts; the script's exit status is the guest's verdict.
#
# Steps: the smoke test (always), then each of the project's payload items when the
# payload carries it:
#   landlock-probe, Conformance/ conformance probe over the tables (kernel and supervisor mode)
#   *PackageTests.xctest         the library's test bundle (kernel tests, exit tests)
#   landlock-exec                `landlock-exec status`
set -u

failures=0
pass() { echo "KERNEL-LANE-RESULT PASS $*"; }
fail() {
    echo "KERNEL-LANE-RESULT FAIL $*"
    failures=$((failures + 1))
}
skip() { echo "KERNEL-LANE-RESULT SKIP $*"; }

# step NAME COMMAND...: run a command, record PASS/FAIL from its exit status.
step() {
    name=$1
    shift
    echo "---- $name: $*"
    "$@"
    rc=$?
    if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name exit status $rc"; fi
}

echo "guest-tests: kernel=${LANE_KERNEL:-?} release=$(uname -r) expected-abi=${LANE_EXPECTED_ABI:-?}"

# 1. The lane's own smoke test: ABI, errata, one enforcement per ABI feature. It prints
#    its own KERNEL-LANE-RESULT lines (and KERNEL-LANE-ABI / KERNEL-LANE-ERRATA).
if landlock-smoke --expect-abi "${LANE_EXPECTED_ABI:--1}"; then :; else failures=$((failures + 1)); fi

# 2. Conformance probe (when the payload has it): every row of the tables in
#    /payload/Conformance, in kernel mode on every kernel (rows the kernel cannot enforce
#    are skipped with the reason from the sandbox status), and in supervisor mode (the UDP
#    rights through the seccomp supervisor, forced even on ABI 10) where Landlock is
#    enabled: the supervisor protects itself with Landlock (ABI >= 2 for its no-op domain).
#    The probe prints `conformance(MODE): N passed, N failed, N skipped` and one
#    `conformance(MODE): skipped N: REASON` line per reason; run-lane.sh reports them.
if [ -x /payload/landlock-probe ] && [ -d /payload/Conformance ]; then
    step conformance/kernel landlock-probe --table /payload/Conformance --mode kernel
    if [ "${LANE_EXPECTED_ABI:-0}" -ge 2 ]; then
        step conformance/supervisor landlock-probe --table /payload/Conformance --mode supervisor
    else
        skip conformance/supervisor "Landlock is not enabled: the supervisor cannot protect itself"
    fi
else
    skip conformance "landlock-probe or Conformance/ not in the payload"
fi

# 3. The library's test bundles (swift-testing; kernel tests use exit tests).
found_bundle=0
for bundle in /payload/*PackageTests.xctest; do
    [ -x "$bundle" ] || continue
    found_bundle=1
    # --testing-library swift-testing: run the swift-testing tests of the bundle.
    # Exit tests re-execute the bundle itself, so it must stay at this path.
    # Skipped here, run on the host: SandboxCLITests (they compare GNU tools' messages and
    # exit codes), SupervisedSandboxTests, SupervisedSemanticsTests, ThreatModelTests and
    # MessageFuzzTests (their C helpers are compiled with gcc from the source tree at test
    # time, and the guest has no compiler; landlock-probe --mode supervisor covers the
    # supervisor in the guest), and LearnTests (pure: the learner and the command-line
    # parsers, which no kernel changes; the parse comparisons take minutes under TCG).
    step "tests/$(basename "$bundle" .xctest)" "$bundle" --testing-library swift-testing \
        --skip 'SandboxCLITests|Supervised[A-Za-z]*Tests|ThreatModelTests|MessageFuzzTests|LearnTests'

done
[ "$found_bundle" = 1 ] || skip tests "no *PackageTests.xctest in the payload"

# 4. The CLI: `landlock-exec status`. Where Landlock is left out of lsm=, it must say
#    "not enabled" and give the lsm= hint.
if [ -x /payload/landlock-exec ]; then
    echo "---- exec-status: landlock-exec status"
    out=$(landlock-exec status 2>&1)
    rc=$?
    echo "$out"
    if [ "$rc" -ne 0 ]; then
        fail exec-status "exit status $rc"
    elif [ "${LANE_EXPECTED_ABI:-0}" -eq 0 ]; then
        if echo "$out" | grep -q '^Landlock: not enabled' && echo "$out" | grep -q '^Hint: .*lsm='; then
            pass exec-status "not enabled, with the lsm= hint"
        else
            fail exec-status "expected 'Landlock: not enabled' and an lsm= hint"
        fi
    elif echo "$out" | grep -q "^Landlock: ABI ${LANE_EXPECTED_ABI}\$"; then
        pass exec-status "ABI ${LANE_EXPECTED_ABI}"
    else
        fail exec-status "expected 'Landlock: ABI ${LANE_EXPECTED_ABI}'"
    fi
else
    skip exec-status "landlock-exec not in the payload"
fi

echo "guest-tests: ${LANE_KERNEL:-?} done, $failures failing step(s)"
[ "$failures" -eq 0 ]
