// SPDX-License-Identifier: Apache-2.0
public import Landlock

/// How one UDP right is enforced: ``EnforcementPlan/enforcer(of:)`` for that right, in short.
public enum UDPRightEnforcement: Sendable, Hashable, CustomStringConvertible {
    /// The policy does not handle the right.
    case notHandled
    /// Landlock enforces it (ABI 10).
    case kernel
    /// The seccomp supervisor enforces it (this sandbox's, or the enclosing sandbox's when
    /// the layer registers with it), with the kernel's semantics.
    case supervisor
    /// Nothing enforces it.
    case notEnforced(reason: String)

    init(_ enforcer: Enforcer?) {
        switch enforcer {
        case nil: self = .notHandled
        case .kernel?: self = .kernel
        case .supervisor?, .enclosingSupervisor?: self = .supervisor
        case .seccompFilter?: self = .notEnforced(reason: "a seccomp filter refuses the calls")
        case .nobody(let reason)?: self = .notEnforced(reason: "\(reason)")
        }
    }

    public var description: String {
        switch self {
        case .notHandled: "not handled"
        case .kernel: "enforced by the kernel"
        case .supervisor: "enforced by the supervisor"
        case .notEnforced(let reason): "not enforced: \(reason)"
        }
    }
}

/// What a sandbox will enforce: its ``EnforcementPlan``, the kernel's part as
/// ``CreatedRuleset/restrictSelf(flags:compatibility:)`` reports it, and the capabilities
/// dropped from the program.
public struct SandboxStatus: Sendable, Hashable, CustomStringConvertible {
    /// Who enforces each requested right, scope and flag, and why not when nobody does.
    public let plan: EnforcementPlan
    /// The kernel's part (filesystem, TCP, scopes; UDP on ABI 10).
    public var restriction: RestrictionStatus

    /// Capabilities dropped from the program (``SandboxedCommand/keepsNetworkCapabilities``):
    /// `CAP_NET_RAW` and `CAP_NET_ADMIN` when the ruleset handles a network right, so that
    /// raw and packet sockets cannot bypass it. Empty when kept or nothing is handled.
    public var droppedCapabilities: [String] = []

    init(plan: EnforcementPlan) {
        self.plan = plan
        self.restriction = plan.restriction
    }

    /// Who enforces ``NetworkAccess/bindUDP``.
    public var bindUDP: UDPRightEnforcement { UDPRightEnforcement(plan.enforcer(of: NetworkAccess.rights[2])) }
    /// Who enforces ``NetworkAccess/connectSendUDP``.
    public var connectSendUDP: UDPRightEnforcement { UDPRightEnforcement(plan.enforcer(of: NetworkAccess.rights[3])) }

    /// Rights of this policy that are not enforced for the socket calls a foreign outer seccomp
    /// supervisor performs on the program's behalf (``SupervisorAvailability/outerListener``
    /// without ``SupervisorAvailability/outerSupervisorTakesRegistrations``): `connect`, `bind`
    /// and sends with an address run in that supervisor's domain, outside any layer added
    /// inside it. Empty unless this sandbox runs under such a listener (under a swift-landlock
    /// supervisor the layer registers instead: ``registeredWithOuterSupervisor``).
    public var notEnforcedForOuterSupervisor: OuterSupervisorGap {
        var gap = OuterSupervisorGap()
        (gap.network, gap.scopes, gap.fileSystem) = plan.outerGap
        return gap
    }

    /// Whether this sandbox is nested in a supervised one and registers its layer with that
    /// sandbox's supervisor, which then enforces its UDP rights and performs its members'
    /// other socket calls in a domain with this layer's rules (no second filter is installed).
    public var registeredWithOuterSupervisor: Bool { plan.supervisorRole == .registersWithEnclosing }

    /// Whether the program runs under a supervisor (this sandbox's own, or the outer one it
    /// registers with), so that it must be started with ``PreparedSandbox/spawn()``.
    public var usesSupervisor: Bool { plan.supervisorRole != .none }

    /// E.g. `fully enforced at ABI 7; all threads; no_new_privs; net.bind_udp: enforced by the
    /// supervisor; net.connect_send_udp: enforced by the supervisor`.
    public var description: String {
        var parts = [restriction.description]
        if bindUDP != .notHandled { parts.append("net.bind_udp: \(bindUDP)") }
        if connectSendUDP != .notHandled { parts.append("net.connect_send_udp: \(connectSendUDP)") }
        if !droppedCapabilities.isEmpty { parts.append("dropped \(droppedCapabilities.joined(separator: ", "))") }
        if plan.uncoveredProtocols == .seccompFilter { parts.append("MPTCP and SCTP sockets refused (seccomp filter)") }
        if registeredWithOuterSupervisor { parts.append("layer registered with the outer supervisor") }
        if !notEnforcedForOuterSupervisor.isEmpty {
            parts.append("not enforced for socket calls an outer supervisor performs: \(notEnforcedForOuterSupervisor)")
        }
        return parts.joined(separator: "; ")
    }
}

/// The rights that matter to the socket calls a seccomp supervisor performs: network rights,
/// the abstract UNIX socket scope, and the filesystem rights checked by `bind`/`connect` on
/// pathname UNIX sockets.
public struct OuterSupervisorGap: Sendable, Hashable, CustomStringConvertible {
    public var network: NetworkAccess = []
    public var scopes: Scope = []
    public var fileSystem: FileSystemAccess = []

    public init() {}

    /// Every right a socket call performed outside the program's domain escapes
    /// (``EnforcementPlan/socketRights``).
    public static var socketRights: OuterSupervisorGap {
        var rights = OuterSupervisorGap()
        (rights.network, rights.scopes, rights.fileSystem) = EnforcementPlan.socketRights
        return rights
    }

    public var isEmpty: Bool { network.isEmpty && scopes.isEmpty && fileSystem.isEmpty }

    public var description: String {
        (network.auditNames + scopes.auditNames + fileSystem.auditNames).joined(separator: ", ")
    }
}
