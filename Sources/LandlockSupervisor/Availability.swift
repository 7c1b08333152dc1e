// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import SystemPackage
import Landlock

#if canImport(Glibc)
import Glibc
#endif

/// Whether the UDP supervisor can run on this machine, in this process.
public enum SupervisorAvailability: Sendable, Hashable, CustomStringConvertible {
    case available
    case unavailable(reason: String)

    /// Probed once per process: the architecture, seccomp user notification
    /// (`SECCOMP_GET_NOTIF_SIZES`), `pidfd_open`, `pidfd_getfd` (which container profiles may
    /// block), and whether a listener can be installed (a throwaway child tries; `EBUSY` means
    /// an outer listener: an outer sandbox, a container runtime, WSL).
    public static var current: SupervisorAvailability { probed.availability }

    /// Whether another seccomp listener already intercepts this process's system calls: this
    /// process runs inside a supervised sandbox (or under a container runtime's or WSL's
    /// supervisor). Socket calls such a supervisor performs on a program's behalf run outside
    /// any Landlock layer the program adds itself: a nested ``SandboxedCommand`` registers its
    /// layer when the listener is a swift-landlock supervisor
    /// (``outerSupervisorTakesRegistrations``), and otherwise must not claim to enforce its
    /// network rules, abstract-socket scope or socket-file rights for them.
    public static var outerListener: Bool { noFilter ? false : probed.outerListener }

    /// No seccomp filter applies to the calling thread, so no listener either: one read of
    /// /proc answers ``outerListener`` without the rest of the probe (start-up time).
    private static let noFilter = !hasSeccompFilter

    /// Whether the outer listener is a swift-landlock supervisor that takes the registration of
    /// nested sandboxes (it answers `connect(-1, NULL, CLANDLOCK_NEST_REGISTER)` with
    /// `CLANDLOCK_NEST_VERSION_ANSWER`; the kernel answers EBADF, and a foreign supervisor
    /// that lets the call through or answers blindly does not give that value). Checked only
    /// under an outer listener.
    public static var outerSupervisorTakesRegistrations: Bool { takesRegistrations }

    private static let takesRegistrations: Bool = outerListener && clandlock_nest_call(nil, CLANDLOCK_NEST_REGISTER) == CLANDLOCK_NEST_VERSION_ANSWER

    /// Whether any seccomp filter applies to the calling thread (`PR_GET_SECCOMP`, the
    /// `Seccomp:` field of `/proc/thread-self/status` without formatting that file; filters
    /// are per thread unless installed with TSYNC): without one there is no listener, and no
    /// need for the probe's throwaway child. An error (a filter refusing prctl) counts as one.
    private static var hasSeccompFilter: Bool { clandlock_seccomp_mode() != 0 }

    private static let probed: (availability: SupervisorAvailability, outerListener: Bool) = {
        let availability = probe()
        return (availability, availability == .unavailable(reason: busyReason))
    }()

    private static let busyReason =
        "a seccomp listener is already installed for this process (an outer sandbox, a container runtime or WSL), and listeners do not stack (EBUSY)"

    public var description: String {
        switch self {
        case .available: "available"
        case .unavailable(let reason): "unavailable: \(reason)"
        }
    }

    static func probe() -> SupervisorAvailability {
        func text(_ error: Int32) -> String { "\(Errno(rawValue: error).sentence) (\(Errno(rawValue: error).symbol))" }
        guard clandlock_audit_arch() != 0 else {
            return .unavailable(reason: "the supervisor's seccomp filter supports x86_64 only")
        }
        var sizes = clandlock_seccomp_notif_sizes()
        guard clandlock_seccomp(UInt32(CLANDLOCK_SECCOMP_GET_NOTIF_SIZES), 0, &sizes) == 0 else {
            return .unavailable(reason: "seccomp user notification is not available: \(text(errno))")
        }
        let pidfd = clandlock_pidfd_open(getpid(), 0)
        guard pidfd >= 0 else { return .unavailable(reason: "pidfd_open is not available: \(text(errno))") }
        defer { close(pidfd) }
        let copy = clandlock_pidfd_getfd(pidfd, pidfd, 0)
        guard copy >= 0 else {
            return .unavailable(reason: "pidfd_getfd is not available (a seccomp profile may block it): \(text(errno))")
        }
        close(copy)
        // Without any seccomp filter there is no listener to collide with: skip the child
        // (it costs a fork on every launch). Should installing the filter fail all the same,
        // spawning fails with the error: nothing runs unsupervised.
        guard !noFilter else { return .available }
        // A throwaway child installs an allow-all filter with a new listener.
        var plan = SpawnPlan(path: "/", argv: [Array("probe".utf8)], envp: [])
        plan.filter = [clandlock_sock_filter(code: SeccompFilter.returnConstant, jt: 0, jf: 0, k: SeccompFilter.allow)]
        plan.filterFlags = CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER
        do throws(SeccompError) {
            let result = try spawn(plan)
            if let listener = result.listener { close(listener) }
            var status: Int32 = 0
            while waitpid(result.pid, &status, 0) < 0 && errno == EINTR {}
            return .available
        } catch {
            if error.stage == Int32(CLANDLOCK_SPAWN_STAGE_EXEC) { return .available }
            if error.underlyingError == .resourceBusy {
                return .unavailable(reason: busyReason)
            }
            if error.underlyingError == .permissionDenied || error.underlyingError == .notPermitted {
                return .unavailable(reason: "installing a seccomp filter is not permitted: \(error)")
            }
            return .unavailable(reason: "the probe child failed: \(error)")
        }
    }
}
