#!/usr/bin/env bash
# run-lane.sh [--build [--scratch-path DIR]] [--kernels "NAME..."] [--payload PATH]...
#             [--guest-script FILE] [--timeout SECS] [--quiet]
#
# The whole lane, from a checkout, in one command:
#   Scripts/kernel-lane/run-lane.sh --build
#
# Kernel lane: boot each Debian kernel of the matrix under QEMU (boot.sh) and run the
# guest test script in it; print per kernel the kernel release, the Landlock ABI seen,
# a summary and the wall time, then the total. Exit non-zero if any kernel's run
# fails or reports an ABI other than the expected one.
#
# Why: conventions F.7 — besides the machine's own kernel, the library must be tested
# against Landlock ABI 11 (the newest it knows), 10 (UDP rights), 6, 2 and a kernel
# where Landlock is not enabled. The matrix:
#
#   name                  suite         kernel command line                           ABI
#   experimental          experimental  (default)                                     11
#   sid                   sid           (default)                                     10
#   trixie                trixie        (default)                                      6
#   bookworm              bookworm      lsm=landlock,lockdown,yama,integrity,apparmor  2
#   bookworm-nolandlock   bookworm      lsm=lockdown,yama,integrity,apparmor           0
#
# --build: first build what the guests run and add it to the payload:
#   swift build -c release --static-swift-stdlib --product landlock-probe   (and, in a second
#     build, --product landlock-exec: SwiftPM builds only the last of several --product)
#   swift build --build-tests   (the test bundle; the toolchain has no static Testing module)
#   plus the conformance tables in Conformance/. --scratch-path DIR (or LANE_SCRATCH_PATH)
#   is passed to swift build; the default is SwiftPM's .build.
#
# Payload (plug-in points; all end up in /payload in the guest, which is on PATH):
#   * the lane's static C smoke test (smoke/landlock-smoke.c, built here with gcc);
#   * the guest script: guest-tests.sh beside this file, or --guest-script FILE /
#     LANE_GUEST_SCRIPT=FILE; it runs as `sh /payload/guest-tests.sh` with
#     LANE_KERNEL, LANE_EXPECTED_ABI and LANDLOCK_TEST_ABI set;
#   * files or directories named with --payload PATH (repeatable) or in
#     LANE_PAYLOAD="PATH ..." (whitespace-separated; relative paths are taken from the
#     repository root). Each is copied under its base name; the shared libraries of
#     every ELF file are added by boot.sh.
# --kernels "NAME...": only these rows of the matrix (e.g. --kernels experimental).
# Other environment: LANE_KERNELS (same as --kernels), LANE_TIMEOUT (per boot, default
#   600 s), LANDLOCK_KERNEL_CACHE (kernel cache, see fetch-kernel.sh).
#
# Output per kernel: the kernel release, the Landlock ABI seen, the guest's checks, the
# conformance rows passed / failed / skipped per probe mode with the skip reasons, and the
# wall time; then the total wall time.
set -euo pipefail
trap 'echo "run-lane.sh: command failed (status $?) at line $LINENO" >&2' ERR

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}
die() {
    echo "run-lane: error: $*" >&2
    exit 2
}

# name | suite | extra kernel command line | expected ABI
matrix=(
    "experimental|experimental||11"
    "sid|sid||10"
    "trixie|trixie||6"
    "bookworm|bookworm|lsm=landlock,lockdown,yama,integrity,apparmor|2"
    "bookworm-nolandlock|bookworm|lsm=lockdown,yama,integrity,apparmor|0"
)

kernels="${LANE_KERNELS:-}"
guest_script="${LANE_GUEST_SCRIPT:-$script_dir/guest-tests.sh}"
timeout_secs="${LANE_TIMEOUT:-600}"
quiet=""
build=""
scratch_path="${LANE_SCRATCH_PATH:-}"
payload_items=()
# shellcheck disable=SC2206 # whitespace-separated list by design
[ -z "${LANE_PAYLOAD:-}" ] || payload_items=(${LANE_PAYLOAD})
while [ $# -gt 0 ]; do
    case "$1" in
    --kernels) kernels="${2:?}"; shift 2 ;;
    --payload) payload_items+=("${2:?}"); shift 2 ;;
    --guest-script) guest_script="${2:?}"; shift 2 ;;
    --timeout) timeout_secs="${2:?}"; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --build) build=1; shift ;;
    --scratch-path) scratch_path="${2:?}"; shift 2 ;;
    -h | --help) usage ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

lane_start="$(now)"
"$script_dir/ensure-tools.sh" || die "missing tools (see above)"

# --- build (--build) --------------------------------------------------------------------
build_line=""
if [ -n "$build" ]; then
    t_build="$(now)"
    swift_build=(swift build)
    [ -z "$scratch_path" ] || swift_build+=(--scratch-path "$scratch_path")
    echo "==== building the guest payload (${swift_build[*]})"
    (
        cd "$repo_root"
        "${swift_build[@]}" -c release --static-swift-stdlib --product landlock-probe
        "${swift_build[@]}" -c release --static-swift-stdlib --product landlock-exec
        "${swift_build[@]}" --build-tests
    ) || die "swift build failed"
    release_bin="$(cd "$repo_root" && "${swift_build[@]}" -c release --show-bin-path)"
    debug_bin="$(cd "$repo_root" && "${swift_build[@]}" --show-bin-path)"
    payload_items+=("$release_bin/landlock-probe" "$release_bin/landlock-exec" "$repo_root/Conformance")
    for bundle in "$debug_bin"/*PackageTests.xctest; do
        [ -e "$bundle" ] && payload_items+=("$bundle")
    done
    build_line="build: $(elapsed "$t_build" "$(now)") s"
    echo "==== $build_line"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/kernel-lane.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- payload ------------------------------------------------------------------------
payload="$work/payload"
mkdir -p "$payload"
gcc -static -O2 -Wall -Wextra -o "$payload/landlock-smoke" "$script_dir/smoke/landlock-smoke.c" ||
    die "building the smoke test failed (gcc -static needs libc6-dev)"
[ -f "$guest_script" ] || die "guest script '$guest_script' not found"
cp "$guest_script" "$payload/guest-tests.sh"
for item in ${payload_items[@]+"${payload_items[@]}"}; do
    case "$item" in /*) src="$item" ;; *) src="$repo_root/$item" ;; esac
    [ -e "$src" ] || die "payload item '$item' not found"
    cp -RL "$src" "$payload/"
done

# --- the matrix -----------------------------------------------------------------------
selected=()
for row in "${matrix[@]}"; do
    name="${row%%|*}"
    if [ -z "$kernels" ] || [[ " $kernels " == *" $name "* ]]; then selected+=("$row"); fi
done
[ ${#selected[@]} -gt 0 ] || die "no kernel of the matrix matches '$kernels'"

summary=()
n_ok=0
n_failed=0
for row in "${selected[@]}"; do
    IFS='|' read -r name suite append expected <<<"$row"
    echo "==== [$name] Debian $suite kernel${append:+ ($append)}, expecting Landlock ABI $expected"
    t0="$(now)"
    verdict=OK
    reason=""
    release="?"
    abi="?"
    errata="?"
    counts="no results"
    conformance=()
    if ! vmlinuz="$("$script_dir/fetch-kernel.sh" "$suite")"; then
        verdict=FAIL
        reason="kernel download failed"
    else
        t_boot="$(now)"
        log="$work/$name.log"
        set +e
        trap - ERR # the status is examined below
        if [ -n "$quiet" ]; then
            "$script_dir/boot.sh" --kernel "$vmlinuz" --append "$append" \
                --timeout "$timeout_secs" --payload "$payload" --log "$log" \
                --env "LANE_KERNEL=$name" --env "LANE_EXPECTED_ABI=$expected" \
                --env "LANDLOCK_TEST_ABI=$expected" \
                -- /bin/sh /payload/guest-tests.sh >/dev/null
            rc=$?
        else
            "$script_dir/boot.sh" --kernel "$vmlinuz" --append "$append" \
                --timeout "$timeout_secs" --payload "$payload" --log "$log" \
                --env "LANE_KERNEL=$name" --env "LANE_EXPECTED_ABI=$expected" \
                --env "LANDLOCK_TEST_ABI=$expected" \
                -- /bin/sh /payload/guest-tests.sh | sed -u "s/^/[$name] /"
            rc=${PIPESTATUS[0]}
        fi
        set -e
        trap 'echo "run-lane.sh: command failed (status $?) at line $LINENO" >&2' ERR
        boot_time="$(elapsed "$t_boot" "$(now)")"
        if [ -f "$log" ]; then
            release="$(sed -n 's/^.*KERNEL-LANE-BOOTED \([^ ]*\).*$/\1/p' "$log" | awk 'NR == 1')"
            abi="$(sed -n 's/^KERNEL-LANE-ABI \([0-9-]*\).*$/\1/p' "$log" | awk 'NR == 1')"
            errata="$(sed -n 's/^KERNEL-LANE-ERRATA \([^ ]*\).*$/\1/p' "$log" | awk 'NR == 1')"
            p="$(grep -c '^KERNEL-LANE-RESULT PASS' "$log" || true)"
            f="$(grep -c '^KERNEL-LANE-RESULT FAIL' "$log" || true)"
            s="$(grep -c '^KERNEL-LANE-RESULT SKIP' "$log" || true)"
            counts="checks: $p pass, $f fail, $s skip"
            # The probe's summary lines: "conformance(MODE): N passed, N failed, N skipped"
            # and "conformance(MODE): skipped N: REASON".
            while IFS= read -r cline; do
                conformance+=("$cline")
            done < <(grep -a '^conformance([a-z]*): [0-9]* passed\|^conformance([a-z]*): skipped ' "$log" || true)
            [ -n "$release" ] || release="?"
            [ -n "$abi" ] || abi="?"
            [ -n "$errata" ] || errata="?"
        fi
        if [ "$rc" -ne 0 ]; then
            verdict=FAIL
            case "$rc" in
            124) reason="timed out after ${timeout_secs}s" ;;
            125) reason="guest never reported an exit status" ;;
            *) reason="guest script exited with $rc" ;;
            esac
        fi
        if [ "$abi" != "$expected" ]; then
            verdict=FAIL
            reason="${reason:+$reason; }ABI $abi seen, $expected expected"
        fi
    fi
    total_time="$(elapsed "$t0" "$(now)")"
    line="[$name] kernel $release | ABI $abi (expected $expected) | errata $errata | $counts | boot ${boot_time:-?} s, total $total_time s | $verdict${reason:+ ($reason)}"
    echo "==== $line"
    summary+=("$line")
    if [ ${#conformance[@]} -gt 0 ]; then
        for cline in "${conformance[@]}"; do
            echo "====     $cline"
            summary+=("    $cline")
        done
    else
        summary+=("    conformance: not run (no landlock-probe in the payload, or the guest stopped early)")
    fi
    if [ "$verdict" = OK ]; then n_ok=$((n_ok + 1)); else n_failed=$((n_failed + 1)); fi
    unset boot_time
done

echo
echo "==== kernel lane summary"
for line in "${summary[@]}"; do echo "  $line"; done
[ -z "$build_line" ] || echo "  $build_line"
echo "  total wall time: $(elapsed "$lane_start" "$(now)") s"
echo "kernel-lane: $n_ok passed, $n_failed failed"
if [ "$n_failed" -ne 0 ]; then exit 1; fi
