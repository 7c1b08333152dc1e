// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "clandlock.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// The Landlock syscall numbers are the same in the generic table and on x86_64, i386 and
// arm; older libc headers may not define them.
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

int clandlock_create_ruleset(const struct clandlock_ruleset_attr *attr, size_t size, uint32_t flags) {
    return (int)syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

int clandlock_add_rule(int ruleset_fd, int rule_type, const void *rule_attr, uint32_t flags) {
    return (int)syscall(__NR_landlock_add_rule, ruleset_fd, rule_type, rule_attr, flags);
}

int clandlock_restrict_self(int ruleset_fd, uint32_t flags) {
    return (int)syscall(__NR_landlock_restrict_self, ruleset_fd, flags);
}

int clandlock_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int clandlock_seccomp_mode(void) {
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
}

int clandlock_gettid(void) {
    return (int)syscall(SYS_gettid);
}

int clandlock_open_path(const char *path) {
    return open(path, O_PATH | O_CLOEXEC);
}
