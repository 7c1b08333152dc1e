// SPDX-License-Identifier: Apache-2.0
//
// The sandboxed program's threads as the supervisor reaches them: layouts of its memory that
// Swift's Glibc module does not import, reading and writing that memory, and taking a
// thread's credentials (credentials.c).
#ifndef CLANDLOCK_PROCESS_H
#define CLANDLOCK_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

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

/// The calling thread's real, effective and saved user ids and its permitted capability set
/// (bit = CAP_*); 0 or -1 (errno set).
int clandlock_caller_credentials(uint32_t uids[_Nonnull 3], uint64_t *_Nonnull permitted);

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
/// process_vm_readv of `count` remote ranges, in order, into `local` one after the other (in
/// calls of up to 1024 ranges, IOV_MAX): bytes read. A range that cannot be read whole ends
/// the copy before it (the call never splits a remote iovec), so the count falls on a range
/// boundary.
long clandlock_read_scatter(pid_t pid, const uint64_t *_Nonnull remotes, const uint64_t *_Nonnull lengths, size_t count,
                            void *_Nonnull local);
long clandlock_write_memory(pid_t pid, uint64_t remote, const void *_Nonnull local, size_t length);
/// pthread_sigmask(SIG_BLOCK, all) for the calling thread, so the supervisor's threads never
/// run the host program's signal handlers.
int clandlock_block_all_signals(void);

/// connect(2) for at most about `milliseconds`: a blocking connect that still waits then
/// returns -1 with EINTR (a timer signal to the calling thread interrupts it; the connect
/// itself goes on as after any interrupted connect). 0 or -1 with errno otherwise. Where the
/// timer signal (SIGRTMAX - 1) has a handler of the host program's, or a timer cannot be made,
/// a plain connect. Why C: SIGEV_THREAD_ID timers and sigaction are out of Swift's reach.
int clandlock_connect_slice(int fd, const void *_Nullable address, unsigned int length, int milliseconds);

#endif
