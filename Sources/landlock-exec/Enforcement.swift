// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor

/// How `landlock-exec` reads the library's ``EnforcementPlan``. It decides nothing: who
/// enforces what comes from the plan (`status`, `--print-policy`, strict mode and best effort
/// all ask it); this file only words the plan's values in the tool's vocabulary.
enum Enforcement {
    /// This machine, as the plan needs it: the kernel's Landlock and errata, whether the
    /// supervisor can run, and the sandbox this process already runs in.
    static var environment: EnforcementPlan.Environment {
        let enclosing: EnclosingSandbox = !SupervisorAvailability.outerListener ? .none
            : SupervisorAvailability.outerSupervisorTakesRegistrations ? .supervised : .foreignListener
        var supervisor = SupervisorSupport.available
        if case .unavailable(let reason) = SupervisorAvailability.current { supervisor = .unavailable(reason: reason) }
        return .current(supervisor: supervisor, enclosing: enclosing)
    }

    /// Who would enforce each right this tool knows here: the plan of a ruleset that handles
    /// every right, scope and flag of the newest ABI, best effort, for this process.
    static func machinePlan(in environment: EnforcementPlan.Environment) -> EnforcementPlan {
        let ruleset = Ruleset()
            .handling(FileSystemAccess.all(in: .newest)).handling(NetworkAccess.all(in: .newest))
            .scoping(Scope.all(in: .newest))
        let request = EnforcementPlan.Request(
            ruleset: ruleset, flags: RestrictSelfFlags.all(in: .newest), compatibility: .bestEffort,
            singleThreaded: false, supervisor: .automatic)
        // Best effort with something handled: nothing to refuse, nothing to throw.
        return try! EnforcementPlan(request, in: environment)
    }

    /// The enforcer as `status --json` and `--print-policy --json` name it.
    static func jsonName(_ enforcer: Enforcer) -> String {
        switch enforcer {
        case .kernel: "kernel"
        case .supervisor, .enclosingSupervisor: "supervisor"
        case .seccompFilter: "seccomp_filter"
        case .nobody: "none"
        }
    }

    /// The note after "enforced by the kernel" or the reason after "not enforced", for JSON.
    static func jsonReason(_ enforcer: Enforcer, _ right: AccessRight) -> String? {
        switch enforcer {
        case .kernel(.landlock): nil
        case .kernel(let mechanism): "\(mechanism)"
        case .nobody(let reason): "not enforced: " + reasonText(reason, right)
        default: nil
        }
    }

    /// Why nothing enforces `right`, in the tool's words: the library's sentence, with what
    /// the tool adds about itself.
    static func reasonText(_ reason: NotEnforcedReason, _ right: AccessRight) -> String {
        if case .kernelTooOld = reason, RestrictSelfFlags(right) == .allThreads {
            return "\(reason) (landlock-exec does not need it: execve ends its other threads)"
        }
        return "\(reason)"
    }

    /// One line of `status` or `--print-policy`.
    static func text(_ enforcer: Enforcer, _ right: AccessRight, long: Bool) -> String {
        switch enforcer {
        case .kernel: "\(enforcer)"
        case .supervisor: "enforced by the supervisor (seccomp user notification)"
        case .enclosingSupervisor where long:
            "enforced by the supervisor of the enclosing sandbox (a new sandbox registers its layer with it)"
        case .enclosingSupervisor, .seccompFilter: "\(enforcer)"
        case .nobody(let reason): "not enforced: " + reasonText(reason, right)
        }
    }
}

extension NotEnforcedReason {
    /// Whether a supervisor could have enforced the right (for the strict-mode hint).
    var involvesSupervisor: Bool {
        switch self {
        case .supervisorUnavailable, .supervisorDisabled: true
        default: false
        }
    }
}
