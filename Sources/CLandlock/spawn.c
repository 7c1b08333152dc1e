// SPDX-License-Identifier: Apache-2.0
//
// The post-fork child. Why C: between fork(2) and execve(2) in a multithreaded process only
// async-signal-safe calls are allowed, and Swift code (allocation, the runtime's locks,
// reference counting) is not. Everything here is a raw system call.
#define _GNU_SOURCE
#include "clandlock.h"
#include "clandlock_process.h"
#include "clandlock_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range 436
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

/// Drops the capabilities the program must not have. Before the seccomp filter is installed:
/// capset(2) is a call the filter reports, which the supervisor would have to answer before
/// the program could go on.
static void drop_capabilities(const struct clandlock_spawn_plan *plan) {
    if (plan->drop_capabilities != 0 && clandlock_drop_capabilities(plan->drop_capabilities) != 0)
        fail(plan, CLANDLOCK_SPAWN_STAGE_CAPABILITIES, errno);
}

/// The program's last steps: restrict, keep the inherited fds, execve.
static __attribute__((noreturn)) void restrict_and_exec(const struct clandlock_spawn_plan *plan) {
    if (plan->ruleset_fd >= 0 && clandlock_restrict_self(plan->ruleset_fd, plan->restrict_flags) != 0)
        fail(plan, CLANDLOCK_SPAWN_STAGE_RESTRICT, errno);

    for (int i = 0; i < plan->inherit_count; i++)
        if (fcntl(plan->inherit_fds[i], F_SETFD, 0) != 0) fail(plan, CLANDLOCK_SPAWN_STAGE_INHERIT, errno);

    execve(plan->path, plan->argv, plan->envp);
    fail(plan, CLANDLOCK_SPAWN_STAGE_EXEC, errno);
}

/// Unblocks every signal (the thread that forked may block some); dispositions are left as
/// inherited, as env(1) does, and handlers are reset by execve.
static void unblock_signals(const struct clandlock_spawn_plan *plan) {
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) fail(plan, CLANDLOCK_SPAWN_STAGE_SIGNALS, errno);
}

pid_t clandlock_spawn(const struct clandlock_spawn_plan *plan) {
    pid_t pid = fork();
    if (pid != 0) return pid;

    unblock_signals(plan);

    if (plan->set_no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail(plan, CLANDLOCK_SPAWN_STAGE_NO_NEW_PRIVS, errno);
    drop_capabilities(plan);

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
    restrict_and_exec(plan);
}

long clandlock_nest_call(const void *record, uint32_t magic) {
    return syscall(__NR_connect, -1, record, (unsigned long)magic);
}

pid_t clandlock_spawn_nested(const struct clandlock_spawn_plan *plan, const struct clandlock_nest_record *record,
                             int status_fd) {
    pid_t anchor = fork();
    if (anchor != 0) return anchor;

    // The anchor must outlive every process of the nested tree (the supervisor recognizes the
    // tree's members as its descendants): terminal signals aimed at the process group must not
    // end it. SIGKILL still can; the supervisor then fails closed.
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    if (plan->set_no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail(plan, CLANDLOCK_SPAWN_STAGE_NO_NEW_PRIVS, errno);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) fail(plan, CLANDLOCK_SPAWN_STAGE_ANCHOR, errno);
    if (plan->ruleset_fd >= 0 && clandlock_restrict_self(plan->ruleset_fd, plan->restrict_flags) != 0)
        fail(plan, CLANDLOCK_SPAWN_STAGE_RESTRICT, errno);
    if (clandlock_nest_call(record, CLANDLOCK_NEST_REGISTER) != 0) fail(plan, CLANDLOCK_SPAWN_STAGE_REGISTER, errno);
    // Registered: from now on, tasks of the outer tree that may ptrace this one (same uid)
    // must not make it retire early.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    pid_t program = fork();
    if (program < 0) fail(plan, CLANDLOCK_SPAWN_STAGE_FORK, errno);
    if (program == 0) {
        close(status_fd);
        unblock_signals(plan);
        drop_capabilities(plan);
        // A plain filter of the nested layer (no listener: the enclosing supervisor's stays).
        if (plan->filter != NULL && !(plan->filter_flags & CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER) &&
            clandlock_seccomp_install(plan->filter_flags, plan->filter, plan->filter_count) != 0)
            fail(plan, CLANDLOCK_SPAWN_STAGE_SECCOMP, errno);
        restrict_and_exec(plan);  // A second, nested domain: the anchor is out of its reach.
    }
    report(plan->report_fd, CLANDLOCK_SPAWN_STAGE_STARTED, program);
    // Keep nothing of the caller's open: a pipe held here would never see its end of file.
    for (int fd = 0; fd < status_fd; fd++) close(fd);
    if (syscall(__NR_close_range, status_fd + 1, ~0U, 0) != 0)
        for (int fd = status_fd + 1; fd < 65536; fd++) close(fd);

    for (;;) {
        int status;
        pid_t ended = waitpid(-1, &status, __WALL);
        if (ended == program) {
            ssize_t written;
            do {
                written = write(status_fd, &status, sizeof(status));
            } while (written < 0 && errno == EINTR);
            close(status_fd);
        } else if (ended < 0 && errno != EINTR) {
            break;  // ECHILD: the nested tree is empty, and nothing can join it any more.
        }
    }
    clandlock_nest_call(NULL, CLANDLOCK_NEST_RETIRE);
    _exit(0);
}
