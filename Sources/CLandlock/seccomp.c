// SPDX-License-Identifier: Apache-2.0
//
// Seccomp and pidfd system calls for the supervisor. Why C: syscall(2), ioctl(2) and fcntl(2)
// are variadic, and the ioctl numbers are function-like macros.
#define _GNU_SOURCE
#include "clandlock_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

_Static_assert(sizeof(struct clandlock_seccomp_notif) == sizeof(struct seccomp_notif), "vendored seccomp_notif");
_Static_assert(sizeof(struct clandlock_seccomp_notif_resp) == sizeof(struct seccomp_notif_resp), "vendored resp");
_Static_assert(sizeof(struct clandlock_sock_filter) == sizeof(struct sock_filter), "vendored sock_filter");

// The ioctl numbers, computed from the vendored struct sizes so the host headers only
// serve as a cross-check.
#define CL_IOWR(nr, size) _IOC(_IOC_READ | _IOC_WRITE, '!', (nr), (size))
#define CL_IOW(nr, size) _IOC(_IOC_WRITE, '!', (nr), (size))
const unsigned long clandlock_seccomp_ioctl_notif_recv = CL_IOWR(0, sizeof(struct clandlock_seccomp_notif));
const unsigned long clandlock_seccomp_ioctl_notif_send = CL_IOWR(1, sizeof(struct clandlock_seccomp_notif_resp));
const unsigned long clandlock_seccomp_ioctl_notif_id_valid = CL_IOW(2, sizeof(uint64_t));
const unsigned long clandlock_seccomp_ioctl_notif_set_flags = CL_IOW(4, sizeof(uint64_t));

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

int clandlock_seccomp(unsigned int operation, unsigned int flags, void *args) {
    return (int)syscall(__NR_seccomp, operation, flags, args);
}

int clandlock_seccomp_install(unsigned int flags, const struct clandlock_sock_filter *filter, unsigned short count) {
    struct sock_fprog program = {.len = count, .filter = (struct sock_filter *)filter};
    return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
}

int clandlock_ioctl(int fd, unsigned long request, void *argument) {
    return ioctl(fd, request, argument);
}

int clandlock_ioctl_value(int fd, unsigned long request, unsigned long value) {
    return ioctl(fd, request, value);
}

int clandlock_pidfd_open(pid_t pid, unsigned int flags) {
    return (int)syscall(__NR_pidfd_open, pid, flags);
}

int clandlock_pidfd_getfd(int pidfd, int targetfd, unsigned int flags) {
    return (int)syscall(__NR_pidfd_getfd, pidfd, targetfd, flags);
}

int clandlock_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(__NR_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int clandlock_fcntl_getfl(int fd) { return fcntl(fd, F_GETFL); }
int clandlock_dup_cloexec(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }
int clandlock_fcntl_setfd(int fd, int flags) { return fcntl(fd, F_SETFD, flags); }
int clandlock_unshare_fs(void) { return unshare(CLONE_FS); }
int clandlock_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

long clandlock_syscall_number(const char *name) {
    static const struct { const char *name; long nr; } table[] = {
        {"connect", __NR_connect}, {"bind", __NR_bind}, {"sendto", __NR_sendto},
        {"sendmsg", __NR_sendmsg}, {"sendmmsg", __NR_sendmmsg},
        // Calls that aim at another process's resources or scheduling.
        {"prlimit64", __NR_prlimit64}, {"setpriority", __NR_setpriority},
        {"sched_setaffinity", __NR_sched_setaffinity}, {"sched_setscheduler", __NR_sched_setscheduler},
        {"sched_setparam", __NR_sched_setparam}, {"sched_setattr", __NR_sched_setattr},
        {"ioprio_set", __NR_ioprio_set},
        // Calls that change the caller's credentials.
        {"setuid", __NR_setuid}, {"setgid", __NR_setgid}, {"setreuid", __NR_setreuid},
        {"setregid", __NR_setregid}, {"setresuid", __NR_setresuid}, {"setresgid", __NR_setresgid},
        {"setfsuid", __NR_setfsuid}, {"setfsgid", __NR_setfsgid}, {"setgroups", __NR_setgroups},
        {"capset", __NR_capset}, {"unshare", __NR_unshare}, {"setns", __NR_setns},
        {"execve", __NR_execve}, {"execveat", __NR_execveat},
        {"socket", __NR_socket}, {"userfaultfd", __NR_userfaultfd}, {"ioctl", __NR_ioctl},
        // The calls `landlock-exec learn` observes (paths, creations, removals, signals).
        {"open", __NR_open}, {"openat", __NR_openat}, {"openat2", 437}, {"creat", __NR_creat},
        {"mkdir", __NR_mkdir}, {"mkdirat", __NR_mkdirat}, {"mknod", __NR_mknod}, {"mknodat", __NR_mknodat},
        {"unlink", __NR_unlink}, {"unlinkat", __NR_unlinkat}, {"rmdir", __NR_rmdir},
        {"rename", __NR_rename}, {"renameat", __NR_renameat}, {"renameat2", __NR_renameat2},
        {"link", __NR_link}, {"linkat", __NR_linkat}, {"symlink", __NR_symlink}, {"symlinkat", __NR_symlinkat},
        {"truncate", __NR_truncate}, {"ftruncate", __NR_ftruncate},
        {"kill", __NR_kill}, {"tkill", __NR_tkill}, {"tgkill", __NR_tgkill},
        {"rt_sigqueueinfo", __NR_rt_sigqueueinfo}, {"rt_tgsigqueueinfo", __NR_rt_tgsigqueueinfo},
        {"pidfd_send_signal", __NR_pidfd_send_signal},
        // i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl): the foreign-architecture part
        // of the protocol filter (an x86_64 program can still enter through int 0x80).
        {"i386:socket", 359}, {"i386:socketcall", 102},
#ifdef __NR_io_uring_setup
        {"io_uring_setup", __NR_io_uring_setup}, {"io_uring_enter", __NR_io_uring_enter},
        {"io_uring_register", __NR_io_uring_register},
#endif
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0) return table[i].nr;
    return -1;
}

uint32_t clandlock_audit_arch_i386(void) {
#if defined(__x86_64__)
    return AUDIT_ARCH_I386;
#else
    return 0;
#endif
}

uint32_t clandlock_audit_arch(void) {
#if defined(__x86_64__)
    return AUDIT_ARCH_X86_64;
#else
    return 0;  // The filter handles x86_64 only; elsewhere the supervisor reports itself unavailable.
#endif
}
