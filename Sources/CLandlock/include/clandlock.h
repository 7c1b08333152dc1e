// SPDX-License-Identifier: Apache-2.0
//
// The C half of swift-landlock. It holds only what Swift cannot do itself:
//  - the project's own copy of the Landlock UAPI (prefixed), so the build never depends on
//    the host's <linux/landlock.h>, which on older distributions lacks network rights,
//    scopes, TSYNC and the UDP rights;
//  - fixed-arity wrappers around syscall(2) and prctl(2), which are C variadics that Swift
//    does not import.
// No policy lives here: compatibility decisions, masking and errno mapping are in Swift.
#ifndef CLANDLOCK_H
#define CLANDLOCK_H

#include <stddef.h>
#include <stdint.h>

// MARK: - UAPI structures (include/uapi/linux/landlock.h, ABI 1-11)

/// `struct landlock_ruleset_attr`. The kernel takes it with its size and accepts any
/// prefix of at least 8 bytes (copy_struct_from_user), so callers pass the smallest size
/// that holds the fields they set: 8 (ABI 1-3), 16 (ABI 4-5), 24 (ABI 6-9), 48 (ABI 10+).
struct clandlock_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
    uint64_t quiet_access_fs;
    uint64_t quiet_access_net;
    uint64_t quiet_scoped;
};

/// `struct landlock_path_beneath_attr`: packed, 12 bytes.
struct __attribute__((packed)) clandlock_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
};

/// `struct landlock_net_port_attr`: 16 bytes, port in host byte order.
struct clandlock_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
};

_Static_assert(sizeof(struct clandlock_ruleset_attr) == 48, "landlock_ruleset_attr (ABI 10) is 48 bytes");
_Static_assert(offsetof(struct clandlock_ruleset_attr, handled_access_net) == 8, "handled_access_net offset");
_Static_assert(offsetof(struct clandlock_ruleset_attr, scoped) == 16, "scoped offset");
_Static_assert(offsetof(struct clandlock_ruleset_attr, quiet_access_fs) == 24, "quiet_access_fs offset");
_Static_assert(offsetof(struct clandlock_ruleset_attr, quiet_scoped) == 40, "quiet_scoped offset");
_Static_assert(sizeof(struct clandlock_path_beneath_attr) == 12, "landlock_path_beneath_attr is packed, 12 bytes");
_Static_assert(offsetof(struct clandlock_path_beneath_attr, parent_fd) == 8, "parent_fd offset");
_Static_assert(sizeof(struct clandlock_net_port_attr) == 16, "landlock_net_port_attr is 16 bytes");
_Static_assert(offsetof(struct clandlock_net_port_attr, port) == 8, "port offset");

// Rule types (enum landlock_rule_type).
#define CLANDLOCK_RULE_PATH_BENEATH 1
#define CLANDLOCK_RULE_NET_PORT 2

// landlock_create_ruleset flags.
#define CLANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define CLANDLOCK_CREATE_RULESET_ERRATA (1U << 1)

// landlock_add_rule flags.
#define CLANDLOCK_ADD_RULE_QUIET (1U << 0)

// MARK: - Syscall wrappers

// Why C: syscall(2) is variadic. Each wrapper returns the raw result; on -1 the caller
// reads errno immediately (the Swift side does so in the same non-inlined function).

/// landlock_create_ruleset(2). `attr` may be NULL with size 0 for the VERSION/ERRATA queries.
int clandlock_create_ruleset(const struct clandlock_ruleset_attr *_Nullable attr, size_t size, uint32_t flags);

/// landlock_add_rule(2) for a PATH_BENEATH or NET_PORT rule.
int clandlock_add_rule(int ruleset_fd, int rule_type, const void *_Nonnull rule_attr, uint32_t flags);

/// landlock_restrict_self(2).
int clandlock_restrict_self(int ruleset_fd, uint32_t flags);

/// prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0). Why C: prctl(2) is variadic.
int clandlock_set_no_new_privs(void);

/// prctl(PR_GET_SECCOMP): the calling thread's seccomp mode (0 none, 2 filter), or -1.
int clandlock_seccomp_mode(void);

/// open(path, O_PATH | O_CLOEXEC). Why C: O_PATH needs _GNU_SOURCE, which the Swift Glibc
/// module does not define.
int clandlock_open_path(const char *_Nonnull path);

/// The thread id of the caller (gettid(2) through syscall(2)).
int clandlock_gettid(void);

#endif
