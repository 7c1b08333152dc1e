// SPDX-License-Identifier: Apache-2.0
//
// The child between clone(2) or fork(2) and execve(2). Why C: there, in a multithreaded process,
// only async-signal-safe calls are allowed, and Swift code (allocation, the runtime's locks,
// reference counting) is not; the program's child even shares the caller's memory. Everything
// here is a raw system call.
#define _GNU_SOURCE
#include "clandlock.h"
#include "clandlock_process.h"
#include "clandlock_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
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

/// Gives every signal the program's process catches its default action. The child shares the
/// caller's memory until execve: a handler of the caller's must not run in it. (execve resets
/// them anyway; ignored signals stay ignored, as execve keeps them.)
static void reset_caught_signals(void) {
    for (int number = 1; number < _NSIG; number++) {
        if (number >= 32 && number < SIGRTMIN) continue;  // the C library's own (sigaction refuses them)
        struct sigaction current;
        if (sigaction(number, NULL, &current) != 0) continue;
        if (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN) continue;
        struct sigaction fallback = {0};
        fallback.sa_handler = SIG_DFL;
        sigaction(number, &fallback, NULL);
    }
}

/// The child, from clone(2) to execve(2), on its own stack and with its own copy of the plan.
static int spawn_child(void *argument) {
    const struct clandlock_spawn_plan *plan = argument;
    reset_caught_signals();
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

/// Room for the child's stack, above its copy of the plan.
static const size_t spawn_stack_size = 128 * 1024;

/// Copies `count` bytes to `*cursor` and moves it on (8-byte aligned).
static void *place(char **cursor, const void *bytes, size_t count) {
    void *copy = *cursor;
    if (count > 0) memcpy(copy, bytes, count);
    *cursor += (count + 7) & ~(size_t)7;
    return copy;
}

static size_t pointer_count(char *const *pointers) {
    size_t count = 0;
    while (pointers[count] != NULL) count++;
    return count + 1;  // with the final NULL
}

pid_t clandlock_spawn(const struct clandlock_spawn_plan *plan, struct clandlock_spawn_child *child) {
    // The child shares this process's memory until it execs (no page tables to copy, none of
    // fork's copy-on-write faults, no atfork locks), so it gets a region of its own: copies of
    // the plan and of what it points to (the caller's may be gone once this returns), and a
    // stack. The strings argv and envp point to stay the caller's, alive until it has seen the
    // child exec or end.
    size_t path_size = strlen(plan->path) + 1;
    size_t argv_size = pointer_count(plan->argv) * sizeof(char *);
    size_t envp_size = pointer_count(plan->envp) * sizeof(char *);
    size_t filter_size = plan->filter == NULL ? 0 : plan->filter_count * sizeof(struct clandlock_sock_filter);
    size_t inherit_size = plan->inherit_fds == NULL ? 0 : (size_t)plan->inherit_count * sizeof(int);
    size_t copies = sizeof(*plan) + path_size + argv_size + envp_size + filter_size + inherit_size + 6 * 8;
    size_t page = 4096;
    child->size = (copies + spawn_stack_size + page - 1) & ~(page - 1);
    child->region = mmap(NULL, child->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (child->region == MAP_FAILED) {
        child->region = NULL;
        return -1;
    }
    char *cursor = child->region;
    struct clandlock_spawn_plan *copy = place(&cursor, plan, sizeof(*plan));
    copy->path = place(&cursor, plan->path, path_size);
    copy->argv = place(&cursor, plan->argv, argv_size);
    copy->envp = place(&cursor, plan->envp, envp_size);
    if (plan->filter != NULL) copy->filter = place(&cursor, plan->filter, filter_size);
    if (plan->inherit_fds != NULL) copy->inherit_fds = place(&cursor, plan->inherit_fds, inherit_size);
    char *stack_top = (char *)child->region + child->size;

    // Every signal blocked across clone: the child starts with none it could take before it
    // has reset the caller's handlers.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t pid = clone(spawn_child, stack_top, CLONE_VM | SIGCHLD, copy);
    int error = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) {
        clandlock_spawn_release(child);
        errno = error;
    }
    return pid;
}

void clandlock_spawn_release(struct clandlock_spawn_child *child) {
    if (child->region != NULL) munmap(child->region, child->size);
    child->region = NULL;
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
