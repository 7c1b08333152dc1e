// SPDX-License-Identifier: Apache-2.0
//
// The post-fork child (spawn.c): a declarative plan, the stages it reports, and the nested
// sandbox's registration record. Plain data: no callbacks.
#ifndef CLANDLOCK_SPAWN_H
#define CLANDLOCK_SPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clandlock_seccomp.h"


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
#define CLANDLOCK_NEST_VERSION 2u
#define CLANDLOCK_NEST_VERSION_ANSWER 0x4c4c02  // "LL", version 2

/// The registration record, read from the anchor's memory by the supervisor.
struct clandlock_nest_record {
    uint32_t version;                          // CLANDLOCK_NEST_VERSION
    int32_t ruleset_fd;                        // the anchor's fd of the layer's kernel ruleset, -1: none
    uint32_t handled;                          // UDP rights the layer handles (LANDLOCK_ACCESS_NET_* bits)
    uint32_t port_count;
    uint64_t ports;                            // address of port_count struct clandlock_nest_port
    int32_t log_fd;                            // the anchor's fd for the layer's denial lines, -1: none
    uint32_t unix_handled;                     // 1: the layer handles fs.resolve_unix, for the supervisor
    uint32_t unix_count;
    uint32_t reserved;
    uint64_t unix_fds;                         // address of unix_count int32_t: the anchor's O_PATH fds
                                               // of the paths of the rules granting fs.resolve_unix
};

struct clandlock_nest_port {
    uint32_t access;                           // LANDLOCK_ACCESS_NET_* bits allowed on the port
    uint16_t port;
    uint16_t reserved;
};

_Static_assert(sizeof(struct clandlock_nest_record) == 48, "nest record is 48 bytes");
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

/// The memory of a child started by clandlock_spawn: its stack and its copy of the plan.
struct clandlock_spawn_child {
    void *_Nullable region;
    size_t size;
};

/// clone(2) with CLONE_VM, and in the child: run the plan and execve. Returns the child's pid
/// in the parent or -1 (errno set) if it could not start. The child never returns: it execs or
/// _exit(127)s after writing a report. Until it does, it shares the caller's memory (as
/// vfork(2) children do, without suspending the caller): the caller keeps the strings of
/// `argv` and `envp` and releases `child` (clandlock_spawn_release) only once the report pipe
/// shows the child exec'd or ended (end of file), or once it has reaped it. Async-signal-safe
/// calls only in the child, which resets the caller's signal handlers before unblocking
/// signals. errno is shared with the calling thread while both run: the caller must make no
/// call that can fail while the child can (it waits on the report pipe with signals blocked).
pid_t clandlock_spawn(const struct clandlock_spawn_plan *_Nonnull plan, struct clandlock_spawn_child *_Nonnull child);

/// Frees the memory of a child that exec'd or ended.
void clandlock_spawn_release(struct clandlock_spawn_child *_Nonnull child);

#endif
