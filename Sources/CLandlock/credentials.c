// SPDX-License-Identifier: Apache-2.0
//
// Per-thread credentials. Why C: Linux keeps credentials per thread, but glibc's setuid(2),
// setgroups(2) and friends change every thread of the process (they signal each one), so
// the supervisor's executor threads use the raw system calls, which syscall(2) (variadic)
// provides. The decision of *which* credentials to take is made in Swift.
#define _GNU_SOURCE
#include "clandlock_process.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int raw_capget(struct __user_cap_data_struct data[2]) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return (int)syscall(SYS_capget, &header, data);
}

static int raw_capset(struct __user_cap_data_struct data[2]) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return (int)syscall(SYS_capset, &header, data);
}

static uint64_t join(uint32_t low, uint32_t high) { return (uint64_t)high << 32 | low; }

static int set_capabilities(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_data_struct data[2] = {
        {.effective = (uint32_t)effective, .permitted = (uint32_t)permitted, .inheritable = (uint32_t)inheritable},
        {.effective = (uint32_t)(effective >> 32), .permitted = (uint32_t)(permitted >> 32),
         .inheritable = (uint32_t)(inheritable >> 32)},
    };
    return raw_capset(data);
}

int clandlock_adopt_credentials(const struct clandlock_credentials *target) {
    gid_t current_groups[CLANDLOCK_MAX_GROUPS];
    long count = syscall(SYS_getgroups, CLANDLOCK_MAX_GROUPS, current_groups);
    int same_groups = count == (long)target->group_count;
    for (long i = 0; same_groups && i < count; i++) same_groups = current_groups[i] == target->groups[i];
    if (!same_groups && syscall(SYS_setgroups, (size_t)target->group_count, target->groups) != 0) return -1;

    uid_t r, e, s;
    gid_t gr, ge, gs;
    if (syscall(SYS_getresgid, &gr, &ge, &gs) != 0) return -1;
    if ((gr != target->gid[0] || ge != target->gid[1] || gs != target->gid[2]) &&
        syscall(SYS_setresgid, target->gid[0], target->gid[1], target->gid[2]) != 0)
        return -1;
    syscall(SYS_setfsgid, target->gid[3]);

    if (syscall(SYS_getresuid, &r, &e, &s) != 0) return -1;
    if (r != target->uid[0] || e != target->uid[1] || s != target->uid[2]) {
        // Keep the permitted set across the change of uid; the effective set is set below.
        if (syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return -1;
        if (syscall(SYS_setresuid, target->uid[0], target->uid[1], target->uid[2]) != 0) return -1;
    }
    // setfsuid(2) needs CAP_SETUID unless the value is one of the ids: raise what is permitted.
    struct __user_cap_data_struct now[2];
    if (raw_capget(now) != 0) return -1;
    uint64_t permitted = join(now[0].permitted, now[1].permitted);
    if (set_capabilities(permitted, permitted, join(now[0].inheritable, now[1].inheritable)) != 0) return -1;
    syscall(SYS_setfsuid, target->uid[3]);
    if (set_capabilities(target->effective, target->permitted, target->inheritable) != 0) return -1;

    // Verify: a credential that could not be taken exactly fails the call (fail closed).
    if (syscall(SYS_getresuid, &r, &e, &s) != 0 || r != target->uid[0] || e != target->uid[1] || s != target->uid[2])
        goto mismatch;
    if (syscall(SYS_getresgid, &gr, &ge, &gs) != 0 || gr != target->gid[0] || ge != target->gid[1] ||
        gs != target->gid[2])
        goto mismatch;
    // setfsuid/setfsgid return the previous value: asking for an impossible one (-1) reads it.
    if ((uid_t)syscall(SYS_setfsuid, (uid_t)-1) != target->uid[3] ||
        (gid_t)syscall(SYS_setfsgid, (gid_t)-1) != target->gid[3])
        goto mismatch;
    if (raw_capget(now) != 0 || join(now[0].effective, now[1].effective) != target->effective) goto mismatch;
    return 0;
mismatch:
    errno = EPERM;
    return -1;
}

int clandlock_caller_credentials(uint32_t uids[3], uint64_t *permitted) {
    uid_t r, e, s;
    if (syscall(SYS_getresuid, &r, &e, &s) != 0) return -1;
    uids[0] = r, uids[1] = e, uids[2] = s;
    struct __user_cap_data_struct data[2];
    if (raw_capget(data) != 0) return -1;
    *permitted = join(data[0].permitted, data[1].permitted);
    return 0;
}

int clandlock_drop_capabilities(uint64_t mask) {
    int keep_going = 1;
    for (int cap = 0; cap < 64 && keep_going; cap++) {
        if (!(mask & ((uint64_t)1 << cap))) continue;
        int in_bounding = (int)syscall(SYS_prctl, PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in_bounding < 0) {
            if (errno == EINVAL) break;  // Past the kernel's last capability.
            return -1;
        }
        // Without CAP_SETPCAP the bounding set cannot shrink. A non-root program with
        // no_new_privs cannot regain the capability through execve(2) anyway; root could.
        if (in_bounding == 1 && syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
            (errno != EPERM || getuid() == 0 || geteuid() == 0))
            return -1;
        syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0, 0);  // EINVAL before 4.3
    }
    struct __user_cap_data_struct data[2];
    if (raw_capget(data) != 0) return -1;
    uint64_t effective = join(data[0].effective, data[1].effective) & ~mask;
    uint64_t permitted = join(data[0].permitted, data[1].permitted) & ~mask;
    uint64_t inheritable = join(data[0].inheritable, data[1].inheritable) & ~mask;
    return set_capabilities(effective, permitted, inheritable);
}
