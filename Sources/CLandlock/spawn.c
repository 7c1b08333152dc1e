// SPDX-License-Identifier: Apache-2.0
//
// The post-fork child. Why C: between fork(2) and execve(2) in a multithreaded process only
// async-signal-safe calls are allowed, and Swift code (allocation, the runtime's locks,
// reference counting) is not. Everything here is a raw system call.
#define _GNU_SOURCE
#include "clandlock_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

static void report(int fd, int stage, int value) {
    struct clandlock_spawn_report record = {.stage = stage, .value = value};
    ssize_t written;
    do {
        written = write(fd, &record, sizeof(record));
    } while (written < 0 && errno == EINTR);
}

static __attribute__((noreturn)) void fail(const struct clandlock_spawn_plan *plan, int stage, int error) {
    report(plan->report_fd, stage, error);
    _exit(127);
}

pid_t clandlock_spawn(const struct clandlock_spawn_plan *plan) {
    pid_t pid = fork();
    if (pid != 0) return pid;

    // The child: unblock every signal (the thread that forked may block some); dispositions
    // are left as inherited, as env(1) does, and handlers are reset by execve.
    sigset_t all;
    sigemptyset(&all);
    if (sigprocmask(SIG_SETMASK, &all, NULL) != 0) fail(plan, CLANDLOCK_SPAWN_STAGE_SIGNALS, errno);

    if (plan->set_no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail(plan, CLANDLOCK_SPAWN_STAGE_NO_NEW_PRIVS, errno);

    if (plan->filter != NULL) {
        int listener = clandlock_seccomp_install(plan->filter_flags, plan->filter, plan->filter_count);
        if (listener < 0 && errno == EINVAL && (plan->filter_flags & CLANDLOCK_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
            listener = clandlock_seccomp_install(
                plan->filter_flags & ~CLANDLOCK_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, plan->filter, plan->filter_count);
        if (listener < 0) fail(plan, CLANDLOCK_SPAWN_STAGE_SECCOMP, errno);
        if (plan->filter_flags & CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER) {
            // sendmsg(2) is trapped by the filter just installed, so the listener cannot be
            // sent with SCM_RIGHTS: the parent takes it with pidfd_getfd(2) and says so.
            report(plan->report_fd, CLANDLOCK_SPAWN_STAGE_LISTENER, listener);
            char byte;
            ssize_t got;
            do {
                got = read(plan->go_fd, &byte, 1);
            } while (got < 0 && errno == EINTR);
            if (got != 1) fail(plan, CLANDLOCK_SPAWN_STAGE_WAIT_PARENT, got < 0 ? errno : EPIPE);
            close(listener);
        }
    }

    if (plan->ruleset_fd >= 0 && syscall(__NR_landlock_restrict_self, plan->ruleset_fd, plan->restrict_flags) != 0)
        fail(plan, CLANDLOCK_SPAWN_STAGE_RESTRICT, errno);

    for (int i = 0; i < plan->inherit_count; i++)
        if (fcntl(plan->inherit_fds[i], F_SETFD, 0) != 0) fail(plan, CLANDLOCK_SPAWN_STAGE_INHERIT, errno);

    execve(plan->path, plan->argv, plan->envp);
    fail(plan, CLANDLOCK_SPAWN_STAGE_EXEC, errno);
}
