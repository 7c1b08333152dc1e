// SPDX-License-Identifier: Apache-2.0
//
// The C half of LandlockSupervisor: vendored seccomp user-notification UAPI, the ioctl
// request numbers (function-like macros Swift cannot import), fixed-arity wrappers around
// variadic syscalls, and the post-fork child. No policy lives here: the BPF program, the
// decisions and every errno mapping are in Swift.
#ifndef CLANDLOCK_SUPERVISOR_H
#define CLANDLOCK_SUPERVISOR_H

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

#define CLANDLOCK_SECCOMP_SET_MODE_FILTER 1
#define CLANDLOCK_SECCOMP_GET_ACTION_AVAIL 2
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

// MARK: - The post-fork child

/// What the child must do between fork and exec. Plain data: no callbacks.
struct clandlock_spawn_plan {
    const char *_Nonnull path;                 // the executable (execve, no PATH search)
    char *_Nullable const *_Nonnull argv;
    char *_Nullable const *_Nonnull envp;
    int set_no_new_privs;                      // prctl(PR_SET_NO_NEW_PRIVS) first
    const struct clandlock_sock_filter *_Nullable filter;  // NULL: no seccomp filter
    unsigned short filter_count;
    unsigned int filter_flags;                 // NEW_LISTENER, WAIT_KILLABLE_RECV
    int ruleset_fd;                            // -1: no landlock_restrict_self
    uint32_t restrict_flags;
    int report_fd;                             // write end, CLOEXEC: (stage, errno) records
    int go_fd;                                 // read end, CLOEXEC: the parent's "listener taken"
    const int *_Nullable inherit_fds;          // fds to keep across exec (FD_CLOEXEC cleared)
    int inherit_count;
    uint64_t drop_capabilities;                // capabilities (bit = CAP_*) to drop from every set
};

/// Stages reported by the child as `struct clandlock_spawn_report`.
enum {
    CLANDLOCK_SPAWN_STAGE_NO_NEW_PRIVS = 1,
    CLANDLOCK_SPAWN_STAGE_SECCOMP = 2,
    CLANDLOCK_SPAWN_STAGE_LISTENER = 3,        // not an error: `value` is the listener fd
    CLANDLOCK_SPAWN_STAGE_WAIT_PARENT = 4,
    CLANDLOCK_SPAWN_STAGE_RESTRICT = 5,
    CLANDLOCK_SPAWN_STAGE_INHERIT = 6,
    CLANDLOCK_SPAWN_STAGE_EXEC = 7,
    CLANDLOCK_SPAWN_STAGE_SIGNALS = 8,
    CLANDLOCK_SPAWN_STAGE_ANCHOR = 9,          // the anchor's prctl(PR_SET_CHILD_SUBREAPER)
    CLANDLOCK_SPAWN_STAGE_REGISTER = 10,       // registering with the outer supervisor
    CLANDLOCK_SPAWN_STAGE_FORK = 11,           // the anchor's fork of the program
    CLANDLOCK_SPAWN_STAGE_STARTED = 12,        // not an error: `value` is the program's pid
    CLANDLOCK_SPAWN_STAGE_CAPABILITIES = 13,   // dropping `drop_capabilities`
};

struct clandlock_spawn_report {
    int32_t stage;
    int32_t value;                             // errno, or the listener fd
};

// MARK: - Nested sandboxes

/// A nested sandbox registers its layer with the supervisor that already serves its process
/// tree through a system call that supervisor intercepts: `connect(-1, record, MAGIC)`. The
/// kernel itself answers EBADF (fd -1), so no real program relies on it; the supervisor answers
/// 0 (registered), or an errno. A NULL record asks "does this supervisor take registrations?":
/// the answer is CLANDLOCK_NEST_VERSION_ANSWER, which no supervisor answering blindly gives.
#define CLANDLOCK_NEST_REGISTER 0x4e455354u  // "NEST", the address length argument
/// `connect(-1, NULL, RETIRE)`: the anchor has no descendants left; the layer is done.
#define CLANDLOCK_NEST_RETIRE 0x52544952u    // "RTIR"
#define CLANDLOCK_NEST_VERSION 1u
#define CLANDLOCK_NEST_VERSION_ANSWER 0x4c4c01  // "LL", version 1

/// The registration record, read from the anchor's memory by the supervisor.
struct clandlock_nest_record {
    uint32_t version;                          // CLANDLOCK_NEST_VERSION
    int32_t ruleset_fd;                        // the anchor's fd of the layer's kernel ruleset, -1: none
    uint32_t handled;                          // UDP rights the layer handles (LANDLOCK_ACCESS_NET_* bits)
    uint32_t port_count;
    uint64_t ports;                            // address of port_count struct clandlock_nest_port
    int32_t log_fd;                            // the anchor's fd for the layer's denial lines, -1: none
    uint32_t reserved;
};

struct clandlock_nest_port {
    uint32_t access;                           // LANDLOCK_ACCESS_NET_* bits allowed on the port
    uint16_t port;
    uint16_t reserved;
};

_Static_assert(sizeof(struct clandlock_nest_record) == 32, "nest record is 32 bytes");
_Static_assert(sizeof(struct clandlock_nest_port) == 8, "nest port is 8 bytes");

/// `connect(-1, record, magic)`: 0 or -1 with errno. Why C: the raw syscall, with no libc
/// socket-address conventions in between.
long clandlock_nest_call(const void *_Nullable record, uint32_t magic);

/// fork(2) an *anchor* and return its pid (or -1, errno set). The anchor blocks every signal,
/// becomes a child subreaper (orphans of the nested tree stay below it), restricts itself with
/// `plan->ruleset_fd`, registers `record` with the outer supervisor, forks the program (which
/// restricts itself once more, so it can neither ptrace nor, when scoped, signal the anchor,
/// then runs the plan without a filter), reports CLANDLOCK_SPAWN_STAGE_STARTED with the
/// program's pid, writes the program's wait status (4 bytes) to `status_fd`, reaps every
/// descendant, retires the registration and exits. Async-signal-safe calls only.
pid_t clandlock_spawn_nested(const struct clandlock_spawn_plan *_Nonnull plan,
                             const struct clandlock_nest_record *_Nonnull record, int status_fd);

/// fork(2), and in the child: run the plan and execve. Returns the child's pid in the parent
/// or -1 (errno set) if fork failed. The child never returns: it execs or _exit(127)s after
/// writing a report. Async-signal-safe calls only in the child.
pid_t clandlock_spawn(const struct clandlock_spawn_plan *_Nonnull plan);

#endif

#ifndef CLANDLOCK_SUPERVISOR_LAYOUTS
#define CLANDLOCK_SUPERVISOR_LAYOUTS
#include <sys/socket.h>
// MARK: - Layouts of the program's memory that Swift's Glibc module does not import
// (they need _GNU_SOURCE)

/// `struct mmsghdr`, one entry of sendmmsg(2).
struct clandlock_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// `struct ucred`, the payload of SCM_CREDENTIALS.
struct clandlock_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};

_Static_assert(sizeof(struct clandlock_mmsghdr) == 64, "mmsghdr is 64 bytes");
_Static_assert(offsetof(struct clandlock_mmsghdr, msg_len) == 56, "mmsghdr.msg_len offset");
_Static_assert(sizeof(struct clandlock_ucred) == 12, "ucred is 12 bytes");
#endif

#ifndef CLANDLOCK_SUPERVISOR_CREDENTIALS
#define CLANDLOCK_SUPERVISOR_CREDENTIALS
// MARK: - Per-thread credentials (credentials.c)

#define CLANDLOCK_MAX_GROUPS 65536

/// A thread's credentials as `/proc/<tid>/status` shows them.
struct clandlock_credentials {
    uint32_t uid[4];                           // real, effective, saved, filesystem
    uint32_t gid[4];
    uint32_t group_count;                      // at most CLANDLOCK_MAX_GROUPS
    const uint32_t *_Nullable groups;
    uint64_t effective;                        // capability sets (bit = CAP_*)
    uint64_t permitted;
    uint64_t inheritable;
};

/// Gives the calling thread, and only it, exactly `target` (raw setgroups, setresgid,
/// setfsgid, setresuid, setfsuid, capset), then reads them back. Returns 0, or -1 with errno
/// (EPERM when the result differs from `target`). The thread cannot go back afterwards.
int clandlock_adopt_credentials(const struct clandlock_credentials *_Nonnull target);

/// Drops the capabilities in `mask` from the calling thread's bounding, ambient, effective,
/// permitted and inheritable sets (raw prctl/capset: this thread only). Returns 0 or -1.
int clandlock_drop_capabilities(uint64_t mask);
#endif

#ifndef CLANDLOCK_SUPERVISOR_MEMORY
#define CLANDLOCK_SUPERVISOR_MEMORY
/// process_vm_readv(2)/process_vm_writev(2) of one contiguous range. Returns the number of
/// bytes copied or -1. Why C: the Swift Glibc module does not export them (_GNU_SOURCE).
long clandlock_read_memory(pid_t pid, uint64_t remote, void *_Nonnull local, size_t length);
/// One process_vm_readv(2) of two ranges (either may be empty). Returns the bytes copied or -1;
/// a fault in the second range gives a short count.
long clandlock_read_memory2(pid_t pid, uint64_t remote1, void *_Nonnull local1, size_t length1, uint64_t remote2,
                            void *_Nonnull local2, size_t length2);
/// Copies `length` bytes, or those before the first page that cannot be read; returns how
/// many (0 when none).
long clandlock_read_memory_prefix(pid_t pid, uint64_t remote, void *_Nonnull local, size_t length);
long clandlock_write_memory(pid_t pid, uint64_t remote, const void *_Nonnull local, size_t length);
/// pthread_sigmask(SIG_BLOCK, all) for the calling thread, so the supervisor's threads never
/// run the host program's signal handlers.
int clandlock_block_all_signals(void);
#endif
