// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import SandboxSupport

#if canImport(Glibc)
import Glibc
#endif

/// Seccomp building blocks for this package's benchmarks and tests (`package`, not public
/// API): they install filters and answer notifications as the supervisor does (the BPF from
/// `SeccompFilter`'s encodings, `SECCOMP_IOCTL_NOTIF_SET_FLAGS` by value), so that a
/// calibration or a simulated foreign supervisor neither hand-assembles BPF nor reaches into
/// the C shim.
package enum SeccompTools {
    /// What a filter does with the system call it names.
    package enum Action: Sendable {
        case allow
        /// `SECCOMP_RET_USER_NOTIF`: a listener decides.
        case notify
        /// `SECCOMP_RET_ERRNO`: the call fails with this errno without running (0: returns 0).
        case errno(Int32)

        var value: UInt32 {
            switch self {
            case .allow: SeccompFilter.allow
            case .notify: SeccompFilter.notify
            case .errno(let value): SeccompFilter.errno(value)
            }
        }
    }

    /// Whether seccomp user notification works here (`SECCOMP_GET_NOTIF_SIZES`).
    package static var userNotificationAvailable: Bool {
        var sizes = clandlock_seccomp_notif_sizes()
        return clandlock_seccomp(UInt32(CLANDLOCK_SECCOMP_GET_NOTIF_SIZES), 0, &sizes) == 0
    }

    /// Sets no_new_privs and installs on the calling thread a filter that applies `action` to
    /// the system call `name` (to every call when `nil`) and allows the others. With
    /// `listener`, returns the new listener (with `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` where the
    /// kernel has it), else 0; -1 with errno set on failure.
    package static func install(_ action: Action, for name: String? = nil, listener: Bool = false) -> Int32 {
        var program: [clandlock_sock_filter] = []
        if let name {
            let number = clandlock_syscall_number(name)
            guard number >= 0 else { errno = ENOSYS; return -1 }
            program = [
                clandlock_sock_filter(code: SeccompFilter.loadWord, jt: 0, jf: 0, k: SeccompFilter.numberOffset),
                clandlock_sock_filter(code: SeccompFilter.jumpEqual, jt: 0, jf: 1, k: UInt32(number)),
            ]
        }
        program.append(clandlock_sock_filter(code: SeccompFilter.returnConstant, jt: 0, jf: 0, k: action.value))
        if name != nil {
            program.append(clandlock_sock_filter(code: SeccompFilter.returnConstant, jt: 0, jf: 0, k: SeccompFilter.allow))
        }
        return install(program, flags: listener ? CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER : 0)
    }

    /// Sets no_new_privs and installs on the calling thread the supervisor's own filter
    /// (`SeccompFilter.program`, MPTCP and SCTP refused) with a new listener, as a supervised
    /// program gets it: the listener (with `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` where the kernel
    /// has it), or -1 with errno set. With ``continueEverything(_:)`` it measures what the
    /// supervisor's traps cost when nothing is checked: the floor of any trap of that filter.
    package static func installSupervisorFilter() -> Int32 {
        guard let program = SeccompFilter.program(refusingProtocols: true) else { errno = ENOSYS; return -1 }
        return install(program, flags: CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER | CLANDLOCK_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    }

    /// no_new_privs, then `program` with `flags`; a new listener gets the sync wake-up flag.
    private static func install(_ program: [clandlock_sock_filter], flags: UInt32) -> Int32 {
        guard clandlock_set_no_new_privs() == 0 else { return -1 }
        let fd = program.withUnsafeBufferPointer { clandlock_seccomp_install(flags, $0.baseAddress!, UInt16($0.count)) }
        if fd > 0 && flags & CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
            _ = clandlock_ioctl_value(
                fd, clandlock_seccomp_ioctl_notif_set_flags, UInt(CLANDLOCK_SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP))
        }
        return fd
    }

    /// Sets no_new_privs and installs `SeccompFilter.protocolProgram()` (MPTCP and SCTP
    /// internet sockets refused) on the calling thread: 0, or -1 with errno set.
    package static func installProtocolFilter() -> Int32 {
        guard let program = SeccompFilter.protocolProgram() else { errno = ENOSYS; return -1 }
        guard clandlock_set_no_new_privs() == 0 else { return -1 }
        return program.withUnsafeBufferPointer { clandlock_seccomp_install(0, $0.baseAddress!, UInt16($0.count)) }
    }

    /// Serves `listener` on a thread of its own until it is closed, letting every notified call
    /// run as it was made (CONTINUE). A calibration: it checks nothing, and CONTINUE cannot
    /// implement a policy.
    package static func continueEverything(_ listener: Int32) -> Bool {
        startDetachedThread {
            _ = clandlock_block_all_signals()
            while true {
                var notification = clandlock_seccomp_notif()
                if clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_recv, &notification) != 0 {
                    if errno == EINTR || errno == ENOENT { continue }
                    return
                }
                var response = clandlock_seccomp_notif_resp(
                    id: notification.id, val: 0, error: 0, flags: UInt32(CLANDLOCK_SECCOMP_USER_NOTIF_FLAG_CONTINUE))
                _ = clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_send, &response)
            }
        }
    }
}
