#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Checks the sandboxer's quiet variables (LL_FS_QUIET, LL_QUIET_ACCESS; Landlock ABI 10) on a
# real kernel: with LL_FORCE_LOG=1, a denial beneath a quiet path is not audited, one
# elsewhere is, and LL_QUIET_ACCESS=w leaves read denials audited. Runs inside a kernel-lane
# guest booted with audit enabled (no auditd: the records reach the kernel log):
#
#   mkdir -p /tmp/qpayload && cp Scripts/quiet-audit-check.sh /tmp/qpayload/ &&
#   swift build -c release --static-swift-stdlib --product landlock-exec &&
#   cp .build/release/landlock-exec /tmp/qpayload/ &&
#   Scripts/kernel-lane/boot.sh --kernel sid --append audit=1 --payload /tmp/qpayload \
#       -- /payload/quiet-audit-check.sh
#
# Each case prints the audit records (type 1423) of its denials. Expected on Linux 7.2:
# "no quiet" both files, "quiet /tmp/q" and "LL_QUIET_ACCESS=r" only /tmp/loud/f,
# "LL_QUIET_ACCESS=w" both.
mkdir -p /tmp/q /tmp/loud
echo x > /tmp/q/f; echo y > /tmp/loud/f
echo "status:"; landlock-exec status | head -1
run() {
    echo "---- $1"; shift
    sleep 6; dmesg -c > /dev/null
    env "$@" landlock-exec sandboxer /bin/busybox cat /tmp/q/f /tmp/loud/f
    echo "exit $?"
    sleep 2
    echo "audit records:"; dmesg | grep -o 'type=1423.*' | sed 's/audit([^)]*)//' 
}
run "no quiet" LL_FS_RO=/bin:/payload:/lib:/lib64:/usr LL_FS_RW= LL_FORCE_LOG=1
run "quiet /tmp/q" LL_FS_RO=/bin:/payload:/lib:/lib64:/usr LL_FS_RW= LL_FORCE_LOG=1 LL_FS_QUIET=/tmp/q
run "quiet /tmp/q, LL_QUIET_ACCESS=w" LL_FS_RO=/bin:/payload:/lib:/lib64:/usr LL_FS_RW= LL_FORCE_LOG=1 LL_FS_QUIET=/tmp/q LL_QUIET_ACCESS=w
run "quiet /tmp/q, LL_QUIET_ACCESS=r" LL_FS_RO=/bin:/payload:/lib:/lib64:/usr LL_FS_RW= LL_FORCE_LOG=1 LL_FS_QUIET=/tmp/q LL_QUIET_ACCESS=r
