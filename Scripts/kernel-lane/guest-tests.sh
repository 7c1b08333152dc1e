#!/bin/sh
# guest-tests.sh: the test script run INSIDE every kernel-lane guest.
#
# run-lane.sh copies this file into the payload (it is /payload/guest-tests.sh in the
# guest) and runs it with busybox sh (POSIX sh, no bash) as root, with
#   LANE_KERNEL=<lane name>        sid | trixie | bookworm | bookworm-nolandlock
#   LANE_EXPECTED_ABI=<n>          10 | 6 | 2 | 0 (0 = Landlock not enabled)
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
#   landlock-probe               conformance probe over the table in /payload/Conformance
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

# 2. Conformance probe (when the payload has it).
if [ -x /payload/landlock-probe ]; then
    # TODO(conformance): run every row of the data table in /payload/Conformance with
    # landlock-probe once its command line is settled, e.g.
    #   step conformance landlock-probe --table /payload/Conformance --abi "$LANE_EXPECTED_ABI"
    step probe-help landlock-probe --help
else
    skip probe "landlock-probe not in the payload"
fi

# 3. The library's test bundles (swift-testing; kernel tests use exit tests).
found_bundle=0
for bundle in /payload/*PackageTests.xctest; do
    [ -x "$bundle" ] || continue
    found_bundle=1
    # --testing-library swift-testing: run the swift-testing tests of the bundle.
    # Exit tests re-execute the bundle itself, so it must stay at this path.
    step "tests/$(basename "$bundle" .xctest)" "$bundle" --testing-library swift-testing
done
[ "$found_bundle" = 1 ] || skip tests "no *PackageTests.xctest in the payload"

# 4. The CLI.
if [ -x /payload/landlock-exec ]; then
    step exec-status landlock-exec status
else
    skip exec-status "landlock-exec not in the payload"
fi

echo "guest-tests: ${LANE_KERNEL:-?} done, $failures failing step(s)"
[ "$failures" -eq 0 ]
