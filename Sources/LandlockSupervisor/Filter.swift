// SPDX-License-Identifier: Apache-2.0
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

/// The seccomp program of the sandboxed process, as classic BPF instructions.
///
/// - Foreign architecture (i386 `int 0x80`/`sysenter`, including `socketcall`) and x32
///   numbers: `ENOSYS`, as a kernel built without IA32/x32 emulation.
/// - `io_uring_setup`, `io_uring_enter`, `io_uring_register`: `EPERM`, as with
///   `kernel.io_uring_disabled=2`: ring operations would bypass seccomp.
/// - `sendto` with a NULL `dest_addr` register: allowed (the kernel already captured it).
/// - `connect`, `bind`, `sendto` with an address, `sendmsg`, `sendmmsg`: user notification.
/// - Resource limits and scheduling of *another* process (Landlock does not scope them, and
///   the supervisor is a process of the same user): `EPERM`. `prlimit64` with a pid and a new
///   limit; `setpriority` and `ioprio_set` other than for the calling process (`who` 0);
///   `sched_setaffinity`, `sched_setscheduler`, `sched_setparam`, `sched_setattr` with a pid
///   (the calling thread is pid 0). Reading limits and acting on oneself stay allowed.
/// - `userfaultfd` and `/dev/userfaultfd`'s `USERFAULTFD_IOC_NEW`: `EPERM`: memory whose faults
///   the program serves could stall the supervisor's reads of it.
/// - Calls that change the caller's credentials (`set*id`, `setgroups`, `capset`,
///   `unshare(CLONE_NEWUSER)`, `setns`) and `execve`/`execveat`: user notification, answered
///   by letting them run (CONTINUE) once the supervisor has forgotten what it knew of the
///   thread (ThreadTable). Nothing is decided on them.
/// - Anything else: allowed.
struct SeccompFilter {
    static let loadWord: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    static let jumpEqual: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
    static let jumpGreaterOrEqual: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
    static let jumpSet: UInt16 = 0x45  // BPF_JMP | BPF_JSET | BPF_K
    static let returnConstant: UInt16 = 0x06  // BPF_RET | BPF_K

    static let allow: UInt32 = 0x7fff_0000
    static let notify: UInt32 = 0x7fc0_0000
    static func errno(_ value: Int32) -> UInt32 { 0x0005_0000 | UInt32(value) & 0xffff }

    static let x32Bit: UInt32 = 0x4000_0000
    static let cloneNewUser: UInt32 = 0x1000_0000
    static let priorityProcess: UInt32 = 0  // PRIO_PROCESS
    static let ioPriorityProcess: UInt32 = 1  // IOPRIO_WHO_PROCESS
    static let userfaultfdNew: UInt32 = 0xAA00  // USERFAULTFD_IOC_NEW, _IO(0xAA, 0x00)

    /// Offsets in `struct seccomp_data` (little-endian: the low half of an argument first).
    static let numberOffset: UInt32 = 0
    static let architectureOffset: UInt32 = 4
    static func argumentLow(_ index: UInt32) -> UInt32 { 16 + 8 * index }
    static func argumentHigh(_ index: UInt32) -> UInt32 { 16 + 8 * index + 4 }

    /// The calls whose credential changes the supervisor must see (`ThreadTable`).
    static let credentialCalls = [
        "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
        "capset", "setns",
    ]
    static let execCalls = ["execve", "execveat"]

    private static func statement(_ code: UInt16, _ k: UInt32) -> clandlock_sock_filter {
        clandlock_sock_filter(code: code, jt: 0, jf: 0, k: k)
    }

    private static func jump(_ code: UInt16, _ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> clandlock_sock_filter {
        clandlock_sock_filter(code: code, jt: jt, jf: jf, k: k)
    }

    /// Allows the call only when argument `index` (a pid, low half) is 0: the calling thread.
    private static func refuseUnlessZero(_ index: UInt32) -> [clandlock_sock_filter] {
        [
            statement(loadWord, argumentLow(index)),
            jump(jumpEqual, 0, 0, 1),
            statement(returnConstant, allow),
            statement(returnConstant, errno(EPERM)),
        ]
    }

    /// `which` (argument 0) must be `kind` and `who` (argument 1) 0: the calling process.
    private static func refuseUnlessSelf(kind: UInt32) -> [clandlock_sock_filter] {
        [
            statement(loadWord, argumentLow(0)),
            jump(jumpEqual, kind, 0, 3),
            statement(loadWord, argumentLow(1)),
            jump(jumpEqual, 0, 0, 1),
            statement(returnConstant, allow),
            statement(returnConstant, errno(EPERM)),
        ]
    }

    // MARK: Protocols outside Landlock

    static let andConstant: UInt16 = 0x54  // BPF_ALU | BPF_AND | BPF_K
    static let internet: UInt32 = 2  // AF_INET
    static let internet6: UInt32 = 10  // AF_INET6
    /// Stream protocols that Landlock's TCP rights do not check (they check TCP sockets only):
    /// IPPROTO_MPTCP binds and connects anywhere; IPPROTO_SCTP has no Landlock right at all.
    static let uncoveredProtocols: [(name: String, number: UInt32)] = [("mptcp", 262), ("sctp", 132)]

    /// `socket(domain, type, protocol)`: EPROTONOSUPPORT (programs fall back to TCP) for an
    /// internet socket of an uncovered protocol; allowed otherwise. Ends in a return.
    private static func refusingUncoveredProtocols() -> [clandlock_sock_filter] {
        [
            statement(loadWord, argumentLow(0)),
            jump(jumpEqual, internet, 1, 0),
            jump(jumpEqual, internet6, 0, 3),
            statement(loadWord, argumentLow(2)),
            jump(jumpEqual, uncoveredProtocols[0].number, 2, 0),
            jump(jumpEqual, uncoveredProtocols[1].number, 1, 0),
            statement(returnConstant, allow),
            statement(returnConstant, errno(EPROTONOSUPPORT)),
        ]
    }

    /// The filter of a sandbox without supervisor whose ruleset handles TCP rights: only the
    /// refusal of uncovered protocols, on x86_64 and x32 numbers and through the i386 entry
    /// (`socket`, checked the same way; `socketcall`, whose arguments a filter cannot read:
    /// ENOSYS). No listener. `nil` on an architecture it does not cover.
    /// `nativeTail`: what follows on x86_64 once the call is not a refused `socket` (by
    /// default, allow); it must end in returns.
    static func protocolProgram(nativeTail: [clandlock_sock_filter]? = nil) -> [clandlock_sock_filter]? {
        let arch = clandlock_audit_arch(), i386 = clandlock_audit_arch_i386()
        let socket = clandlock_syscall_number("socket"), socket32 = clandlock_syscall_number("i386:socket")
        let socketcall32 = clandlock_syscall_number("i386:socketcall")
        guard arch != 0, i386 != 0, socket >= 0, socket32 >= 0, socketcall32 >= 0 else { return nil }
        let block = refusingUncoveredProtocols()
        let native: [clandlock_sock_filter] = [
            statement(loadWord, numberOffset),
            statement(andConstant, ~x32Bit),  // x32 numbers are x86_64's with the x32 bit
            jump(jumpEqual, UInt32(socket), 0, UInt8(block.count)),
        ] + block + (nativeTail ?? [statement(returnConstant, allow)])
        guard native.count <= 255 else { return nil }
        let foreign: [clandlock_sock_filter] = [
            statement(loadWord, numberOffset),
            jump(jumpEqual, UInt32(socketcall32), 0, 1),
            statement(returnConstant, errno(ENOSYS)),
            jump(jumpEqual, UInt32(socket32), 0, UInt8(block.count)),
        ] + block + [statement(returnConstant, allow)]
        return [
            statement(loadWord, architectureOffset),
            jump(jumpEqual, arch, 0, UInt8(native.count)),
        ] + native + [jump(jumpEqual, i386, 0, UInt8(foreign.count))] + foreign + [statement(returnConstant, allow)]
    }

    /// With the call number loaded: for `sendto`, notify unless both halves of args[4]
    /// (dest_addr) are zero, else allow; any other call goes on after the block.
    private static func notifyingSendtoWithAddress(_ sendto: UInt32) -> [clandlock_sock_filter] {
        [
            jump(jumpEqual, sendto, 0, 6),
            statement(loadWord, argumentLow(4)),
            jump(jumpEqual, 0, 0, 3),
            statement(loadWord, argumentHigh(4)),
            jump(jumpEqual, 0, 0, 1),
            statement(returnConstant, allow),
            statement(returnConstant, notify),
        ]
    }

    /// The calls `landlock-exec learn` observes: everything a Landlock right or scope checks
    /// that a program names (paths, ports, signal targets, abstract socket names).
    static let observedCalls = [
        "open", "openat", "openat2", "creat", "execve", "execveat", "mkdir", "mkdirat", "mknod", "mknodat",
        "unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
        "truncate", "ftruncate", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
        "pidfd_send_signal", "connect", "bind", "sendto", "sendmsg", "sendmmsg",
    ]

    /// The observed calls the supervisor's own filter does not already send it.
    static let observedOnlyCalls = observedCalls.filter {
        !["connect", "bind", "sendto", "sendmsg", "sendmmsg", "execve", "execveat"].contains($0)
    }

    /// The observing filter of `landlock-exec learn` (``Observer``) and of the denial log of a
    /// sandbox without supervisor: user notification for the `observedCalls` (`sendto` only
    /// with an address), every other call allowed, and calls of another architecture allowed
    /// unobserved (observing is not a boundary). `refusingProtocols`: in front, the refusal of
    /// MPTCP and SCTP sockets of `protocolProgram()`, whose other paths stay as they are.
    /// `nil` on an architecture it does not cover.
    static func observerProgram(refusingProtocols: Bool = false) -> [clandlock_sock_filter]? {
        let arch = clandlock_audit_arch()
        let sendto = clandlock_syscall_number("sendto")
        guard arch != 0, sendto >= 0 else { return nil }
        var program: [clandlock_sock_filter] = [
            statement(loadWord, numberOffset),
        ] + notifyingSendtoWithAddress(UInt32(sendto))
        for name in observedCalls where name != "sendto" {
            let number = clandlock_syscall_number(name)
            guard number >= 0 else { return nil }
            program.append(jump(jumpEqual, UInt32(number), 0, 1))
            program.append(statement(returnConstant, notify))
        }
        program.append(statement(returnConstant, allow))
        if refusingProtocols { return protocolProgram(nativeTail: program) }
        return [statement(loadWord, architectureOffset), jump(jumpEqual, arch, 1, 0), statement(returnConstant, allow)]
            + program
    }

    /// The instructions, or `nil` on an architecture the filter does not cover.
    /// `refusingProtocols`: also refuse internet sockets of the protocols Landlock's TCP rights
    /// do not cover (when the ruleset handles a TCP right).
    /// `observing`: also notify the ``observedOnlyCalls`` (the denial log's observer), which
    /// the supervisor lets run unchanged.
    static func program(refusingProtocols: Bool = false, observing: Bool = false) -> [clandlock_sock_filter]? {
        let arch = clandlock_audit_arch()
        guard arch != 0 else { return nil }
        func number(_ name: String) -> UInt32? {
            let value = clandlock_syscall_number(name)
            return value < 0 ? nil : UInt32(value)
        }
        guard let sendto = number("sendto") else { return nil }
        // sendto comes first: a connected send() (sendto with a NULL address) is the hot call
        // that must stay cheap, and its number is below the x32 bit.
        var program: [clandlock_sock_filter] = [
            statement(loadWord, architectureOffset),
            jump(jumpEqual, arch, 1, 0),
            statement(returnConstant, errno(ENOSYS)),
            statement(loadWord, numberOffset),
        ] + notifyingSendtoWithAddress(sendto) + [
            jump(jumpGreaterOrEqual, x32Bit, 0, 1),
            statement(returnConstant, errno(ENOSYS)),
        ]
        // Each call: `if nr == N { block }`, every block ending in a return.
        var blocks: [(String, [clandlock_sock_filter])] = []
        for name in ["connect", "bind", "sendmsg", "sendmmsg"] { blocks.append((name, [statement(returnConstant, notify)])) }
        for name in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
            blocks.append((name, [statement(returnConstant, errno(EPERM))]))
        }
        blocks.append(("prlimit64", [
            statement(loadWord, argumentLow(0)),  // pid 0: the caller
            jump(jumpEqual, 0, 4, 0),
            statement(loadWord, argumentLow(2)),  // new_limit NULL: a read
            jump(jumpEqual, 0, 0, 3),
            statement(loadWord, argumentHigh(2)),
            jump(jumpEqual, 0, 0, 1),
            statement(returnConstant, allow),
            statement(returnConstant, errno(EPERM)),
        ]))
        blocks.append(("setpriority", refuseUnlessSelf(kind: priorityProcess)))
        blocks.append(("ioprio_set", refuseUnlessSelf(kind: ioPriorityProcess)))
        // userfaultfd: memory whose faults the program serves (or never serves) would stall the
        // supervisor's reads of it (process_vm_readv waits for the fault). Refused, as with
        // vm.unprivileged_userfaultfd=0 for a program without CAP_SYS_PTRACE; also through
        // /dev/userfaultfd (ioctl USERFAULTFD_IOC_NEW).
        blocks.append(("userfaultfd", [statement(returnConstant, errno(EPERM))]))
        blocks.append(("ioctl", [
            statement(loadWord, argumentLow(1)),
            jump(jumpEqual, userfaultfdNew, 0, 1),
            statement(returnConstant, errno(EPERM)),
            statement(returnConstant, allow),
        ]))
        for name in ["sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr"] {
            blocks.append((name, refuseUnlessZero(0)))
        }
        for name in credentialCalls + execCalls { blocks.append((name, [statement(returnConstant, notify)])) }
        if refusingProtocols { blocks.append(("socket", refusingUncoveredProtocols())) }
        if observing { for name in observedOnlyCalls { blocks.append((name, [statement(returnConstant, notify)])) } }
        blocks.append(("unshare", [
            statement(loadWord, argumentLow(0)),
            jump(jumpSet, cloneNewUser, 0, 1),
            statement(returnConstant, notify),
            statement(returnConstant, allow),
        ]))
        for (name, block) in blocks {
            guard let nr = number(name) else {
                // Every name above exists on the architectures the filter supports; a missing
                // one would leave a hole, so refuse to build the filter.
                if name.hasPrefix("io_uring") { continue }
                return nil
            }
            program.append(jump(jumpEqual, nr, 0, UInt8(block.count)))
            program += block
        }
        program.append(statement(returnConstant, allow))
        return program
    }
}
