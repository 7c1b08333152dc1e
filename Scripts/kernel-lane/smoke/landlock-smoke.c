/*
 * landlock-smoke.c: smoke test of the kernel lane (Scripts/kernel-lane/run-lane.sh).
 *
 * Built with `gcc -static` so it runs in any guest, it proves that a lane boot really
 * runs the kernel it claims: it prints the kernel release, the Landlock ABI version
 * (landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION), or the errno when
 * Landlock is unavailable), the errata mask (flag 2), and performs one real enforcement
 * check per feature the ABI provides, each in a forked child (restriction is
 * irreversible):
 *
 *   ABI >= 1  fs-make-reg    creating a file is denied (EACCES), allowed beneath a rule
 *   ABI >= 2  fs-refer       a cross-directory rename without REFER fails with EXDEV
 *   ABI >= 3  fs-truncate    truncate() is denied (EACCES)
 *   ABI >= 4  net-bind-tcp   TCP bind to a port without a rule is denied (EACCES),
 *                            the port of the rule binds
 *   ABI >= 6  scope-signal   signalling a process outside the domain fails (EPERM)
 *   ABI >= 10 net-bind-udp   UDP bind (LANDLOCK_ACCESS_NET_BIND_UDP = 1<<2) to a port
 *                            without a rule is denied (EACCES), the rule's port binds
 *   ABI < 10  newer-rights   a ruleset naming rights the kernel does not know is
 *                            rejected (EINVAL, or E2BIG when the struct is too new)
 *   ABI 0     disabled       Landlock built in but not enabled: EOPNOTSUPP
 *
 * Output: human-readable lines plus machine-readable ones for run-lane.sh:
 *   KERNEL-LANE-ABI <n>          (0 when Landlock is unavailable)
 *   KERNEL-LANE-ERRATA <mask>|none
 *   KERNEL-LANE-RESULT PASS|FAIL|SKIP smoke/<check> <detail>
 * With --expect-abi N (or LANE_EXPECTED_ABI=N) a differing ABI is a failure.
 * Exit status: 0 when nothing failed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define SYS_create_ruleset 444
#define SYS_add_rule 445
#define SYS_restrict_self 446

#define CREATE_RULESET_VERSION (1U << 0)
#define CREATE_RULESET_ERRATA (1U << 1)

#define RULE_PATH_BENEATH 1
#define RULE_NET_PORT 2

#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_REG (1ULL << 8)
#define FS_REFER (1ULL << 13)
#define FS_TRUNCATE (1ULL << 14)
#define NET_BIND_TCP (1ULL << 0)
#define NET_BIND_UDP (1ULL << 2)
#define SCOPE_SIGNAL (1ULL << 1)

struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
};

static int abi;
static int passed, failed, skipped;

static size_t attr_size(void) {
    if (abi < 4) return 8;
    if (abi < 6) return 16;
    return sizeof(struct ruleset_attr);
}

static int create_ruleset(const struct ruleset_attr *attr, size_t size) {
    return (int)syscall(SYS_create_ruleset, attr, size, 0U);
}

static int add_path_rule(int ruleset, const char *path, uint64_t access) {
    struct path_beneath_attr pb = {.allowed_access = access};
    pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
    if (pb.parent_fd < 0) return -1;
    int rc = (int)syscall(SYS_add_rule, ruleset, RULE_PATH_BENEATH, &pb, 0U);
    int saved = errno;
    close(pb.parent_fd);
    errno = saved;
    return rc;
}

static int add_port_rule(int ruleset, uint64_t port, uint64_t access) {
    struct net_port_attr np = {.allowed_access = access, .port = port};
    return (int)syscall(SYS_add_rule, ruleset, RULE_NET_PORT, &np, 0U);
}

static int restrict_self(int ruleset) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    int rc = (int)syscall(SYS_restrict_self, ruleset, 0U);
    int saved = errno;
    close(ruleset);
    errno = saved;
    return rc;
}

static void result(const char *status, const char *name, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    printf("KERNEL-LANE-RESULT %s smoke/%s %s\n", status, name, detail);
    fflush(stdout);
    if (!strcmp(status, "PASS")) passed++;
    else if (!strcmp(status, "FAIL")) failed++;
    else skipped++;
}

/* Child side of a check: returns 0 on success; writes its explanation into msg. */
typedef int (*check_fn)(char *msg, size_t len);

static void run_check(const char *name, int min_abi, check_fn fn) {
    if (abi < min_abi) {
        result("SKIP", name, "needs Landlock ABI %d, kernel has %d", min_abi, abi);
        return;
    }
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        result("FAIL", name, "pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        result("FAIL", name, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        char msg[400] = "";
        close(pipefd[0]);
        int rc = fn(msg, sizeof msg);
        ssize_t ignored = write(pipefd[1], msg, strlen(msg));
        (void)ignored;
        _exit(rc == 0 ? 0 : 1);
    }
    close(pipefd[1]);
    char msg[400];
    ssize_t n = read(pipefd[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = 0;
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    result(ok ? "PASS" : "FAIL", name, "%s", msg[0] ? msg : "(no detail)");
}

#define EXPECT_ERRNO(call, want, what)                                                   \
    do {                                                                                 \
        errno = 0;                                                                       \
        if ((call) == 0 || errno != (want)) {                                            \
            snprintf(msg, len, "%s: expected %s, got %s", what, strerrorname_np(want),   \
                     errno ? strerrorname_np(errno) : "success");                        \
            return 1;                                                                    \
        }                                                                                \
    } while (0)

#define EXPECT_OK(call, what)                                                            \
    do {                                                                                 \
        errno = 0;                                                                       \
        if ((call) < 0) {                                                                \
            snprintf(msg, len, "%s: unexpected %s", what, strerrorname_np(errno));       \
            return 1;                                                                    \
        }                                                                                \
    } while (0)

static int check_fs_make_reg(char *msg, size_t len) {
    mkdir("/tmp/smoke", 0755);
    mkdir("/tmp/smoke/allowed", 0755);
    struct ruleset_attr attr = {.handled_access_fs = FS_MAKE_REG};
    int rs;
    EXPECT_OK(rs = create_ruleset(&attr, attr_size()), "create_ruleset");
    EXPECT_OK(add_path_rule(rs, "/tmp/smoke/allowed", FS_MAKE_REG), "add_rule(path)");
    EXPECT_OK(restrict_self(rs), "restrict_self");
    EXPECT_ERRNO(open("/tmp/smoke/denied.txt", O_CREAT | O_WRONLY, 0644), EACCES,
                 "create outside the rule");
    int fd;
    EXPECT_OK(fd = open("/tmp/smoke/allowed/ok.txt", O_CREAT | O_WRONLY, 0644),
              "create beneath the rule");
    close(fd);
    snprintf(msg, len, "create denied with EACCES, allowed beneath the rule");
    return 0;
}

static int check_fs_refer(char *msg, size_t len) {
    mkdir("/tmp/refer", 0755);
    mkdir("/tmp/refer/a", 0755);
    mkdir("/tmp/refer/b", 0755);
    int fd = open("/tmp/refer/a/f", O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
    struct ruleset_attr attr = {.handled_access_fs = FS_REFER | FS_MAKE_REG | FS_REMOVE_FILE};
    int rs;
    EXPECT_OK(rs = create_ruleset(&attr, attr_size()), "create_ruleset");
    EXPECT_OK(add_path_rule(rs, "/tmp/refer", FS_MAKE_REG | FS_REMOVE_FILE), "add_rule(path)");
    EXPECT_OK(restrict_self(rs), "restrict_self");
    EXPECT_ERRNO(rename("/tmp/refer/a/f", "/tmp/refer/b/f"), EXDEV,
                 "rename across directories without REFER");
    EXPECT_OK(rename("/tmp/refer/a/f", "/tmp/refer/a/g"), "rename within a directory");
    snprintf(msg, len, "cross-directory rename refused with EXDEV, same-directory rename works");
    return 0;
}

static int check_fs_truncate(char *msg, size_t len) {
    int fd = open("/tmp/trunc.txt", O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) {
        ssize_t ignored = write(fd, "data", 4);
        (void)ignored;
        close(fd);
    }
    struct ruleset_attr attr = {.handled_access_fs = FS_TRUNCATE};
    int rs;
    EXPECT_OK(rs = create_ruleset(&attr, attr_size()), "create_ruleset");
    EXPECT_OK(restrict_self(rs), "restrict_self");
    EXPECT_ERRNO(truncate("/tmp/trunc.txt", 0), EACCES, "truncate");
    snprintf(msg, len, "truncate denied with EACCES");
    return 0;
}

static int bind_port(int type, uint16_t port) {
    int s = socket(AF_INET, type, 0);
    if (s < 0) return -1;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = bind(s, (struct sockaddr *)&sin, sizeof sin);
    int saved = errno;
    close(s);
    errno = saved;
    return rc;
}

static int check_net_bind(char *msg, size_t len, int type, uint64_t right, const char *proto) {
    const uint16_t allowed = 40001, denied = 40002;
    EXPECT_OK(bind_port(type, denied), "bind before restriction");
    struct ruleset_attr attr = {.handled_access_net = right};
    int rs;
    EXPECT_OK(rs = create_ruleset(&attr, attr_size()), "create_ruleset");
    EXPECT_OK(add_port_rule(rs, allowed, right), "add_rule(port)");
    EXPECT_OK(restrict_self(rs), "restrict_self");
    EXPECT_ERRNO(bind_port(type, denied), EACCES, "bind to a port without a rule");
    EXPECT_OK(bind_port(type, allowed), "bind to the rule's port");
    snprintf(msg, len, "%s bind to %u denied with EACCES, bind to %u (rule) works", proto,
             denied, allowed);
    return 0;
}

static int check_net_bind_tcp(char *msg, size_t len) {
    return check_net_bind(msg, len, SOCK_STREAM, NET_BIND_TCP, "TCP");
}

static int check_net_bind_udp(char *msg, size_t len) {
    return check_net_bind(msg, len, SOCK_DGRAM, NET_BIND_UDP, "UDP");
}

static int check_scope_signal(char *msg, size_t len) {
    pid_t parent = getppid();
    struct ruleset_attr attr = {.scoped = SCOPE_SIGNAL};
    int rs;
    EXPECT_OK(rs = create_ruleset(&attr, attr_size()), "create_ruleset");
    EXPECT_OK(restrict_self(rs), "restrict_self");
    EXPECT_ERRNO(kill(parent, 0), EPERM, "kill(parent outside the domain, 0)");
    EXPECT_OK(kill(getpid(), 0), "kill(self, 0)");
    snprintf(msg, len, "signal to a process outside the domain refused with EPERM");
    return 0;
}

static int check_newer_rights(char *msg, size_t len) {
    /* ABI 4..9: BIND_UDP is an unknown net right -> EINVAL.
     * ABI 1..3: the kernel's struct ends after handled_access_fs; a non-zero
     * handled_access_net in the larger struct -> E2BIG. */
    struct ruleset_attr attr = {.handled_access_fs = FS_MAKE_REG, .handled_access_net = NET_BIND_UDP};
    int want = abi >= 4 ? EINVAL : E2BIG;
    EXPECT_ERRNO(create_ruleset(&attr, 16), want, "create_ruleset with NET_BIND_UDP");
    snprintf(msg, len, "ruleset handling NET_BIND_UDP rejected with %s", strerrorname_np(want));
    return 0;
}

static int check_disabled(char *msg, size_t len) {
    struct ruleset_attr attr = {.handled_access_fs = FS_MAKE_REG};
    EXPECT_ERRNO(create_ruleset(&attr, 8), EOPNOTSUPP, "create_ruleset");
    EXPECT_ERRNO(syscall(SYS_restrict_self, -1, 0U), EOPNOTSUPP, "restrict_self");
    snprintf(msg, len, "create_ruleset and restrict_self fail with EOPNOTSUPP");
    return 0;
}

int main(int argc, char **argv) {
    int expected = -1;
    const char *env = getenv("LANE_EXPECTED_ABI");
    if (env && *env) expected = atoi(env);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect-abi") && i + 1 < argc) expected = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--expect-abi N]\n", argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct utsname uts;
    uname(&uts);
    printf("smoke: uname -r = %s\n", uts.release);

    errno = 0;
    long v = syscall(SYS_create_ruleset, NULL, 0, CREATE_RULESET_VERSION);
    int abi_errno = v < 0 ? errno : 0;
    abi = v < 0 ? 0 : (int)v;
    if (v < 0)
        printf("smoke: landlock abi = unavailable (%s: %s)\n", strerrorname_np(abi_errno),
               strerror(abi_errno));
    else
        printf("smoke: landlock abi = %d\n", abi);
    printf("KERNEL-LANE-ABI %d\n", abi);

    errno = 0;
    long errata = syscall(SYS_create_ruleset, NULL, 0, CREATE_RULESET_ERRATA);
    if (errata < 0) {
        printf("smoke: landlock errata = unavailable (%s)\n", strerrorname_np(errno));
        printf("KERNEL-LANE-ERRATA none\n");
    } else {
        printf("smoke: landlock errata = 0x%lx (%ld)\n", errata, errata);
        printf("KERNEL-LANE-ERRATA %ld\n", errata);
    }

    if (expected >= 0) {
        if (expected == abi)
            result("PASS", "abi", "ABI %d as expected", abi);
        else
            result("FAIL", "abi", "expected ABI %d, kernel reports %d", expected, abi);
    }

    if (abi == 0) {
        if (abi_errno == EOPNOTSUPP)
            run_check("disabled", 0, check_disabled);
        else
            result("FAIL", "disabled", "version query failed with %s, expected EOPNOTSUPP",
                   strerrorname_np(abi_errno));
    } else {
        run_check("fs-make-reg", 1, check_fs_make_reg);
        run_check("fs-refer", 2, check_fs_refer);
        run_check("fs-truncate", 3, check_fs_truncate);
        run_check("net-bind-tcp", 4, check_net_bind_tcp);
        run_check("scope-signal", 6, check_scope_signal);
        run_check("net-bind-udp", 10, check_net_bind_udp);
        if (abi < 10) run_check("newer-rights", 1, check_newer_rights);
    }

    printf("smoke summary: passed=%d failed=%d skipped=%d\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
