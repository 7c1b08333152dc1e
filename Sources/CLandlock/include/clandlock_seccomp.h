// SPDX-License-Identifier: Apache-2.0
//
// Seccomp for the supervisor: vendored user-notification UAPI, the ioctl request numbers
// (function-like macros Swift cannot import), and fixed-arity wrappers around the variadic
// syscall(2), ioctl(2) and fcntl(2). No policy lives here: the BPF program, the decisions and
// every errno mapping are in Swift.
#ifndef CLANDLOCK_SECCOMP_H
#define CLANDLOCK_SECCOMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// MARK: - Vendored UAPI (include/uapi/linux/seccomp.h, filter.h)

struct clandlock_seccomp_data {
    int32_t nr;
    uint32_t arch;
    uint64_t instruction_pointer;
    uint64_t args[6];
};

struct clandlock_seccomp_notif {
    uint64_t id;
    uint32_t pid;
    uint32_t flags;
    struct clandlock_seccomp_data data;
};

struct clandlock_seccomp_notif_resp {
    uint64_t id;
    int64_t val;
    int32_t error;
    uint32_t flags;
};

struct clandlock_seccomp_notif_sizes {
    uint16_t seccomp_notif;
    uint16_t seccomp_notif_resp;
    uint16_t seccomp_data;
};

/// `struct sock_filter`: one classic BPF instruction.
struct clandlock_sock_filter {
    uint16_t code;
    uint8_t jt;
    uint8_t jf;
    uint32_t k;
};

_Static_assert(sizeof(struct clandlock_seccomp_data) == 64, "seccomp_data is 64 bytes");
_Static_assert(offsetof(struct clandlock_seccomp_data, args) == 16, "seccomp_data.args offset");
_Static_assert(sizeof(struct clandlock_seccomp_notif) == 80, "seccomp_notif is 80 bytes");
_Static_assert(offsetof(struct clandlock_seccomp_notif, data) == 16, "seccomp_notif.data offset");
_Static_assert(sizeof(struct clandlock_seccomp_notif_resp) == 24, "seccomp_notif_resp is 24 bytes");
_Static_assert(sizeof(struct clandlock_sock_filter) == 8, "sock_filter is 8 bytes");

#define CLANDLOCK_SECCOMP_GET_NOTIF_SIZES 3
#define CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER (1U << 3)
#define CLANDLOCK_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1U << 5)
#define CLANDLOCK_SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1U << 0)
#define CLANDLOCK_SECCOMP_USER_NOTIF_FLAG_CONTINUE (1U << 0)

/// `SECCOMP_IOCTL_NOTIF_RECV`, `_SEND`, `_ID_VALID`, `_SET_FLAGS`. Why C: `_IOWR`/`_IOW`
/// are function-like macros.
extern const unsigned long clandlock_seccomp_ioctl_notif_recv;
extern const unsigned long clandlock_seccomp_ioctl_notif_send;
extern const unsigned long clandlock_seccomp_ioctl_notif_id_valid;
extern const unsigned long clandlock_seccomp_ioctl_notif_set_flags;

// MARK: - Syscall wrappers (why C: syscall(2), ioctl(2) and fcntl(2) are variadic)

/// seccomp(2).
int clandlock_seccomp(unsigned int operation, unsigned int flags, void *_Nullable args);
/// seccomp(SECCOMP_SET_MODE_FILTER) with a program of `count` instructions.
int clandlock_seccomp_install(unsigned int flags, const struct clandlock_sock_filter *_Nonnull filter,
                              unsigned short count);
/// ioctl(2) with a pointer argument.
int clandlock_ioctl(int fd, unsigned long request, void *_Nullable argument);
/// ioctl(2) with an integer argument (`SECCOMP_IOCTL_NOTIF_SET_FLAGS` takes its flags by value).
int clandlock_ioctl_value(int fd, unsigned long request, unsigned long value);
/// pidfd_open(2).
int clandlock_pidfd_open(pid_t pid, unsigned int flags);
/// pidfd_getfd(2).
int clandlock_pidfd_getfd(int pidfd, int targetfd, unsigned int flags);
/// pidfd_send_signal(2) with no siginfo.
int clandlock_pidfd_send_signal(int pidfd, int sig);
/// fcntl(fd, F_GETFL) and fcntl(fd, F_SETFD, flags).
int clandlock_fcntl_getfl(int fd);
/// fcntl(fd, F_DUPFD_CLOEXEC, 0): a close-on-exec duplicate, or -1 (errno set).
int clandlock_dup_cloexec(int fd);
int clandlock_fcntl_setfd(int fd, int flags);
/// unshare(CLONE_FS). Why C: CLONE_FS needs _GNU_SOURCE.
int clandlock_unshare_fs(void);
/// pipe2(fds, O_CLOEXEC). Why C: pipe2 needs _GNU_SOURCE.
int clandlock_pipe_cloexec(int fds[_Nonnull 2]);
/// The raw (kernel) number of a syscall on this architecture, or -1 if it has none.
/// Names: the socket calls ("connect", "bind", "sendto", "sendmsg", "sendmmsg"), io_uring's,
/// the resource and scheduling controls ("prlimit64", "setpriority", "sched_set*",
/// "ioprio_set") and the credential changes ("set*id", "setgroups", "capset", "unshare",
/// "setns", "execve", "execveat") the filter names.
long clandlock_syscall_number(const char *_Nonnull name);
/// The AUDIT_ARCH value the filter compares `seccomp_data.arch` with, or 0 if unsupported.
uint32_t clandlock_audit_arch(void);
/// AUDIT_ARCH_I386 on x86_64 (the int 0x80 entry), else 0.
uint32_t clandlock_audit_arch_i386(void);

#endif
