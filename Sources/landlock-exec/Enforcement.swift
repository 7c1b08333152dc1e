// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor

/// Who enforces a right on this machine. This is the one place that knows about the
/// user-space fallback (`LandlockSupervisor`); `status`, strict mode and best effort all ask it.
enum Enforcer: String {
    case kernel
    case supervisor
    case none
}

enum Enforcement {
    /// Why the user-space supervisor for the UDP rights cannot run here, or `nil` when it can.
    static var supervisorProblem: String? {
        // Inside a supervised sandbox, a new sandbox registers its layer with that supervisor.
        if SupervisorAvailability.outerListener && SupervisorAvailability.outerSupervisorTakesRegistrations { return nil }
        if case .unavailable(let reason) = SupervisorAvailability.current { return reason }
        return nil
    }

    /// The rights the supervisor enforces on kernels that do not know them.
    static let supervisedRights: NetworkAccess = .udp

    /// Who enforces `right` with the given kernel support, and why not when nobody does.
    static func enforcer(of right: AccessRight, kind: RightKind, status: LandlockStatus) -> (Enforcer, String?) {
        guard let abi = status.abi else {
            return (.none, "not enforced: \(status)")
        }
        if kind == .restrictSelf && right.rawValue == RestrictSelfFlags.noNewPrivileges.rawValue {
            // The library sets no_new_privs with prctl(2) on every ABI.
            return (.kernel, right.introduced <= abi ? nil : "set with prctl(PR_SET_NO_NEW_PRIVS); the flag needs ABI \(right.introduced.rawValue)")
        }
        if kind == .restrictSelf && right.rawValue == RestrictSelfFlags.allThreads.rawValue && right.introduced > abi {
            return (.none, "not enforced: kernel ABI \(abi.rawValue) < \(right.introduced.rawValue) (landlock-exec does not need it: "
                + "execve ends its other threads)")
        }
        if right.introduced <= abi { return (.kernel, nil) }
        if kind == .network, supervisedRights.rawValue & right.rawValue != 0 {
            guard let problem = supervisorProblem else { return (.supervisor, nil) }
            return (.none, udpReason(abi, problem))
        }
        return (.none, "not enforced: kernel ABI \(abi.rawValue) < \(right.introduced.rawValue)")
    }

    /// The reason the UDP rights are not enforced on an older kernel, in one place.
    static func udpReason(_ abi: LandlockABI, _ problem: String) -> String {
        "not enforced: kernel ABI \(abi.rawValue) < 10 and the supervisor cannot run here (\(problem))"
    }

    /// A short explanation of why a dropped right is not enforced, for error and warning lines.
    static func reason(for right: AccessRight, kind: RightKind, status: LandlockStatus) -> String {
        let (_, why) = enforcer(of: right, kind: kind, status: status)
        return why ?? "not enforced"
    }
}

/// The kinds of Landlock bits the CLI reports.
enum RightKind: String {
    case fileSystem = "fs"
    case network = "net"
    case scope = "scope"
    case restrictSelf = "restrict_self"
}
