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
/// - Anything else: allowed.
struct SeccompFilter {
    static let loadWord: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    static let jumpEqual: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
    static let jumpGreaterOrEqual: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
    static let returnConstant: UInt16 = 0x06  // BPF_RET | BPF_K

    static let allow: UInt32 = 0x7fff_0000
    static let notify: UInt32 = 0x7fc0_0000
    static func errno(_ value: Int32) -> UInt32 { 0x0005_0000 | UInt32(value) & 0xffff }

    static let x32Bit: UInt32 = 0x4000_0000

    /// The instructions, or `nil` on an architecture the filter does not cover.
    static func program() -> [clandlock_sock_filter]? {
        let arch = clandlock_audit_arch()
        guard arch != 0 else { return nil }
        func number(_ name: String) -> UInt32? {
            let value = clandlock_syscall_number(name)
            return value < 0 ? nil : UInt32(value)
        }
        guard let connect = number("connect"), let bind = number("bind"), let sendto = number("sendto"),
            let sendmsg = number("sendmsg"), let sendmmsg = number("sendmmsg")
        else { return nil }
        func statement(_ code: UInt16, _ k: UInt32) -> clandlock_sock_filter {
            clandlock_sock_filter(code: code, jt: 0, jf: 0, k: k)
        }
        func jump(_ code: UInt16, _ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> clandlock_sock_filter {
            clandlock_sock_filter(code: code, jt: jt, jf: jf, k: k)
        }
        // sendto comes first: a connected send() (sendto with a NULL address) is the hot call
        // that must stay cheap, and its number is below the x32 bit.
        var program: [clandlock_sock_filter] = [
            statement(loadWord, 4),  // seccomp_data.arch
            jump(jumpEqual, arch, 1, 0),
            statement(returnConstant, errno(ENOSYS)),
            statement(loadWord, 0),  // seccomp_data.nr
            // sendto: notify unless both halves of args[4] (dest_addr) are zero.
            jump(jumpEqual, sendto, 0, 6),
            statement(loadWord, 16 + 4 * 8),  // args[4], low half (little-endian)
            jump(jumpEqual, 0, 0, 3),
            statement(loadWord, 16 + 4 * 8 + 4),  // args[4], high half
            jump(jumpEqual, 0, 0, 1),
            statement(returnConstant, allow),
            statement(returnConstant, notify),
            jump(jumpGreaterOrEqual, x32Bit, 0, 1),
            statement(returnConstant, errno(ENOSYS)),
        ]
        var decided: [(UInt32, UInt32)] = []
        for name in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
            if let nr = number(name) { decided.append((nr, errno(EPERM))) }
        }
        for nr in [connect, bind, sendmsg, sendmmsg] { decided.append((nr, notify)) }
        for (nr, action) in decided {
            program.append(jump(jumpEqual, nr, 0, 1))
            program.append(statement(returnConstant, action))
        }
        program.append(statement(returnConstant, allow))
        return program
    }
}
