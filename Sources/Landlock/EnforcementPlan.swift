// SPDX-License-Identifier: Apache-2.0

/// Who enforces one right, scope or restrict-self flag of a sandbox.
public enum Enforcer: Sendable, Hashable, CustomStringConvertible {
    /// The kernel: Landlock itself, or (for no_new_privs) `prctl(2)`.
    case kernel(KernelMechanism)
    /// The seccomp user-notification supervisor started for this sandbox
    /// (`LandlockSupervisor`), with the kernel's semantics.
    case supervisor
    /// The supervisor of the sandbox this one is nested in: this sandbox registers its layer
    /// with it instead of starting its own.
    case enclosingSupervisor
    /// A plain seccomp filter that refuses the calls outright (no supervisor). Reserved for
    /// what no Landlock right covers (for example MPTCP or SCTP sockets); the plan never
    /// names it yet, because no such filter exists.
    case seccompFilter
    /// Nothing enforces it, for this reason.
    case nobody(NotEnforcedReason)

    /// Whether something enforces it.
    public var enforces: Bool {
        if case .nobody = self { return false }
        return true
    }

    /// `enforced by the kernel (ABI 4)`, `enforced by the supervisor`, `not enforced: <reason>`.
    public var description: String {
        switch self {
        case .kernel(.landlock(let abi)): "enforced by the kernel (\(abi))"
        case .kernel(let mechanism): "enforced by the kernel: \(mechanism)"
        case .supervisor: "enforced by the supervisor"
        case .enclosingSupervisor: "enforced by the supervisor of the enclosing sandbox"
        case .seccompFilter: "refused by a seccomp filter"
        case .nobody(let reason): "not enforced: \(reason)"
        }
    }
}

/// How the kernel enforces something.
public enum KernelMechanism: Sendable, Hashable, CustomStringConvertible {
    /// A Landlock right, scope or flag, known since this ABI.
    case landlock(since: LandlockABI)
    /// no_new_privs, set with `prctl(PR_SET_NO_NEW_PRIVS)` on every kernel: the library never
    /// passes the restrict-self flag that sets it from `flagIntroduced` (the same effect).
    case prctl(flagIntroduced: LandlockABI)
    /// ``RestrictSelfFlags/allThreads`` without the flag: the program is restricted while it
    /// has one thread (a child between fork and exec, or a process about to `execve`).
    case singleThreaded

    public var description: String {
        switch self {
        case .landlock(let abi): "Landlock \(abi)"
        case .prctl: "set with prctl(PR_SET_NO_NEW_PRIVS)"
        case .singleThreaded: "the program is restricted while it has one thread"
        }
    }
}

/// Why nothing enforces a right.
public enum NotEnforcedReason: Sendable, Hashable, CustomStringConvertible {
    /// The kernel has no usable Landlock.
    case landlockUnavailable(LandlockStatus)
    /// The kernel's ABI predates the right, and nothing else enforces it.
    case kernelTooOld(needs: LandlockABI, kernel: LandlockABI)
    /// A soft requirement was not met, so the kernel enforces none of the ruleset.
    case softRequirementNotMet
    /// The kernel's ABI predates the right, and the supervisor that would enforce it cannot
    /// run here (`reason` says why).
    case supervisorUnavailable(kernel: LandlockABI?, reason: String)
    /// The kernel's ABI predates the right, and the supervisor was not allowed
    /// (``SupervisorMode/never``).
    case supervisorDisabled(kernel: LandlockABI)
    /// A foreign seccomp supervisor this sandbox runs under performs the program's socket
    /// calls in its own domain, outside this sandbox's layer.
    case outerSupervisor
    /// Every right the kernel part handles was dropped, so the kernel gets no ruleset.
    case nothingLeftToEnforce
    /// No Landlock right covers it (internet sockets of other protocols than TCP and UDP).
    case noLandlockRight

    public var description: String {
        switch self {
        case .landlockUnavailable(let status): "\(status)"
        case .kernelTooOld(let needs, let kernel): "kernel ABI \(kernel.rawValue) < \(needs.rawValue)"
        case .softRequirementNotMet: "a soft requirement was not met, so the kernel enforces none of the ruleset"
        case .supervisorUnavailable(let kernel?, let reason):
            "kernel ABI \(kernel.rawValue) lacks it and the supervisor cannot run here (\(reason))"
        case .supervisorUnavailable(nil, let reason): "the supervisor cannot run here (\(reason))"
        case .supervisorDisabled(let kernel): "kernel ABI \(kernel.rawValue) < 10 and the supervisor is disabled"
        case .outerSupervisor: "an outer seccomp supervisor performs the socket calls outside this sandbox's layer"
        case .nothingLeftToEnforce: "every right the kernel would enforce was dropped, so it gets no ruleset"
        case .noLandlockRight: "no Landlock right covers them"
        }
    }
}

/// Whether a user-space supervisor may enforce the rights the kernel lacks (the UDP rights of
/// ABI 10).
public enum SupervisorMode: Sendable, Hashable {
    /// When the kernel lacks the rights.
    case automatic
    /// Always, even when the kernel has them (for tests and comparisons).
    case always
    /// Never: the compatibility levels decide, as for any right the kernel lacks.
    case never
}

/// The sandbox the program already runs in, as far as seccomp is concerned.
public enum EnclosingSandbox: Sendable, Hashable {
    /// No seccomp listener: a new sandbox may start its own supervisor.
    case none
    /// A supervised sandbox of this library, whose supervisor takes the registration of
    /// nested layers.
    case supervised
    /// Another seccomp listener (a container runtime's): no second supervisor can start,
    /// and the socket calls it performs escape any layer added inside it.
    case foreignListener
}

/// Whether the supervisor can run here.
public enum SupervisorSupport: Sendable, Hashable {
    case available
    case unavailable(reason: String)
}

/// One model of who enforces what: from a requested ruleset, its compatibility levels, the
/// kernel's Landlock ABI and errata, whether a supervisor can run and the enclosing sandbox,
/// to the ruleset handed to the kernel and, for each requested right, scope and flag, its
/// ``Enforcer`` with a typed reason when nothing enforces it.
///
/// The plan is pure: it makes no system call, so every combination can be tested (see
/// `Tests/LandlockTests/EnforcementPlanTests.swift`). `SandboxedCommand`,
/// ``CreatedRuleset/restrictSelf(flags:compatibility:)`` and `landlock-exec` all read it.
public struct EnforcementPlan: Sendable, Hashable {
    /// What is asked.
    public struct Request: Sendable, Hashable {
        public var ruleset: Ruleset
        /// Flags of `landlock_restrict_self(2)`.
        public var flags: RestrictSelfFlags
        /// The level for the flags, and for the rights a supervisor would enforce when it
        /// cannot run (rights handled at ``CompatibilityLevel/hardRequirement`` are strict too).
        public var compatibility: CompatibilityLevel
        /// Whether the program is restricted while single-threaded (a new process), rather than
        /// the calling, multi-threaded, process.
        public var singleThreaded: Bool
        /// Whether a supervisor may enforce what the kernel lacks.
        public var supervisor: SupervisorMode
        /// Whether the caller installs a seccomp filter that refuses internet sockets of the
        /// protocols no Landlock right covers (MPTCP, SCTP), so that they cannot bypass the
        /// TCP rules. Nothing in this package installs one for a sandbox yet.
        public var refusesUncoveredProtocols: Bool

        public init(
            ruleset: Ruleset, flags: RestrictSelfFlags = [.allThreads, .noNewPrivileges],
            compatibility: CompatibilityLevel = .bestEffort, singleThreaded: Bool = false,
            supervisor: SupervisorMode = .never, refusesUncoveredProtocols: Bool = false
        ) {
            self.ruleset = ruleset
            self.flags = flags
            self.compatibility = compatibility
            self.singleThreaded = singleThreaded
            self.supervisor = supervisor
            self.refusesUncoveredProtocols = refusesUncoveredProtocols
        }
    }

    /// Where it runs.
    public struct Environment: Sendable, Hashable {
        public var landlock: LandlockStatus
        /// The fixed errata, or `nil` when the kernel does not say. They change no enforcer.
        public var errata: Errata?
        public var supervisor: SupervisorSupport
        public var enclosing: EnclosingSandbox

        public init(
            landlock: LandlockStatus, errata: Errata? = nil, supervisor: SupervisorSupport = .available,
            enclosing: EnclosingSandbox = .none
        ) {
            self.landlock = landlock
            self.errata = errata
            self.supervisor = supervisor
            self.enclosing = enclosing
        }
    }

    /// The role of a supervisor in the sandbox.
    public enum SupervisorRole: Sendable, Hashable {
        /// None: the kernel enforces what it can.
        case none
        /// The sandbox starts its own supervisor.
        case own
        /// The sandbox registers its layer with the enclosing sandbox's supervisor.
        case registersWithEnclosing
    }

    /// A request that cannot be met under its compatibility levels, beyond what the kernel
    /// part refuses by itself (a ``LandlockError``).
    public enum Refusal: Sendable, Hashable {
        /// Strict rights need the supervisor, which cannot run here.
        case supervisorUnavailable(rights: NetworkAccess, reason: String)
        /// Strict socket rights escape through a foreign outer supervisor.
        case outerSupervisor(network: NetworkAccess, scopes: Scope, fileSystem: FileSystemAccess)
    }

    /// One requested right, scope or flag and who enforces it.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        public var right: AccessRight
        public var enforcer: Enforcer
        public var description: String { "\(right.auditName): \(enforcer)" }
    }

    public let request: Request
    public let environment: Environment

    /// The ruleset handed to the kernel (``Ruleset/create()`` it): the request without the
    /// rights a supervisor enforces; when nothing else is left, a protective ruleset that
    /// restricts nothing but gives the supervisor's threads a Landlock domain. `nil` when
    /// Landlock is unavailable.
    public let kernelRuleset: Ruleset?
    /// The kernel's part, as ``CreatedRuleset/restrictSelf(flags:compatibility:)`` will report
    /// it (paths not opened yet: ``RestrictionStatus/ignoredPaths`` is empty).
    public let restriction: RestrictionStatus
    /// The restrict-self flags passed to the kernel.
    public let kernelFlags: RestrictSelfFlags
    public let supervisorRole: SupervisorRole
    /// Each requested right, scope and flag, in kernel order (filesystem, network, scopes,
    /// flags).
    public let entries: [Entry]
    /// What a strict request cannot get here; `nil` when everything asked is possible.
    public let refusal: Refusal?
    /// The socket rights that a foreign outer supervisor performs outside this layer.
    public let outerGap: (network: NetworkAccess, scopes: Scope, fileSystem: FileSystemAccess)
    /// Who keeps internet sockets of the protocols no Landlock right covers (MPTCP, SCTP) from
    /// bypassing the handled TCP rights; `nil` when no TCP right is handled. The kernel when it
    /// lacks erratum 1 (its TCP rights then apply to every internet stream socket), a seccomp
    /// filter when the request installs one, nobody otherwise.
    public let uncoveredProtocols: Enforcer?

    /// Who enforces `right`; `nil` when it was not requested.
    public func enforcer(of right: AccessRight) -> Enforcer? {
        entries.first { $0.right == right }?.enforcer
    }

    /// The requested rights nothing enforces, with the reason.
    public var notEnforced: [(right: AccessRight, reason: NotEnforcedReason)] {
        entries.compactMap { entry in
            guard case .nobody(let reason) = entry.enforcer else { return nil }
            return (entry.right, reason)
        }
    }

    /// The socket rights escaping a supervisor that performs the program's socket calls from
    /// outside its domain: every network right, the abstract UNIX socket scope, and the
    /// filesystem rights checked by `bind`/`connect` on pathname UNIX sockets.
    public static let socketRights = (
        network: NetworkAccess.all(in: .newest), scopes: Scope.abstractUnixSocket,
        fileSystem: FileSystemAccess([.makeSock, .resolveUnix])
    )

    /// The network rights a supervisor can enforce on kernels that lack them.
    public static let supervisedRights = NetworkAccess.udp

    /// The filesystem rights a supervisor can enforce on kernels that lack them: the lookup of
    /// pathname UNIX sockets, which it performs for the program (connect, sends with an
    /// address), before ABI 9.
    public static let supervisedFileSystemRights = FileSystemAccess.resolveUnix

    /// The ruleset that gives a supervised sandbox a Landlock domain when the kernel has
    /// nothing else of the policy to enforce: handling make_block and refer and allowing both
    /// beneath "/" restricts nothing (on ABI 1, where refer is unknown, cross-directory
    /// renames are denied as with any filesystem ruleset).
    public static var protectiveRuleset: Ruleset {
        try! Ruleset().handling([.makeBlock, .refer]).adding(PathBeneath("/", [.makeBlock, .refer]))
    }

    /// Two plans are equal when they plan the same request in the same environment: the
    /// rest follows from those.
    public static func == (lhs: EnforcementPlan, rhs: EnforcementPlan) -> Bool {
        lhs.request == rhs.request && lhs.environment == rhs.environment
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(request)
        hasher.combine(environment)
    }

    /// Plans `request` in `environment`.
    ///
    /// - Throws: ``LandlockError`` when the kernel part cannot meet a hard requirement (as
    ///   ``Ruleset/create()`` would), or the ruleset handles nothing.
    public init(_ request: Request, in environment: Environment) throws(LandlockError) {
        self.request = request
        self.environment = environment
        let ruleset = request.ruleset
        let landlock = environment.landlock
        let abi = landlock.abi
        let supervised = Self.supervisedRights
        let supervisedHandled = ruleset.handledNetwork.intersection(supervised)
        let strictRights = request.compatibility == .hardRequirement
            ? supervisedHandled
            : ruleset.handledNetworkLevels[.hardRequirement].intersection(supervised)

        let socketNetwork = ruleset.handledNetwork.intersection(Self.socketRights.network)
        let socketScopes = ruleset.scopes.intersection(Self.socketRights.scopes)
        let socketFileSystem = ruleset.handledFileSystem.intersection(Self.socketRights.fileSystem)
        let hasSocketRights = !socketNetwork.isEmpty || !socketScopes.isEmpty || !socketFileSystem.isEmpty

        // Inside a supervised sandbox whose supervisor takes registrations, this layer joins it.
        let nested = (!supervisedHandled.isEmpty || hasSocketRights) && environment.enclosing == .supervised
            && abi != nil
        // fs.resolve_unix on a kernel before ABI 9 (or always, to compare with the kernel): the
        // supervisor resolves the path and checks the socket it reaches; a nested layer's
        // rules are registered with the enclosing supervisor, whose lookups apply every layer.
        let supervisesLookup = request.supervisor == .always || (request.supervisor == .automatic && (abi ?? .v1) < .v9)
            || (nested && (abi ?? .v1) < .v9)
        let supervisedFileSystem = supervisesLookup
            ? ruleset.handledFileSystem.intersection(Self.supervisedFileSystemRights) : []
        var wantsSupervisor = !supervisedFileSystem.isEmpty && !nested
        if !supervisedHandled.isEmpty && !nested {
            switch request.supervisor {
            case .never: break
            case .automatic: wantsSupervisor = wantsSupervisor || (abi ?? .v1) < .v10
            case .always: wantsSupervisor = true
            }
        }
        var problem: String? = nil
        var refusal: Refusal? = nil
        if wantsSupervisor {
            if case .unavailable(let why) = environment.supervisor {
                problem = why
            } else if abi == nil {
                problem = "Landlock, which protects the supervisor from the program, is not available (\(landlock))"
            }
            if let problem, !strictRights.isEmpty {
                refusal = .supervisorUnavailable(rights: strictRights, reason: problem)
            }
        }
        let ownSupervisor = wantsSupervisor && problem == nil

        // Under a foreign listener, its supervisor performs this program's socket calls in its
        // own domain: the socket rights of this layer cannot be enforced for them.
        let foreign = environment.enclosing == .foreignListener && !nested
        let gap = foreign ? (socketNetwork, socketScopes, socketFileSystem) : ([], [], [])
        if refusal == nil && !strictRights.isEmpty && foreign && hasSocketRights {
            refusal = .outerSupervisor(network: gap.0, scopes: gap.1, fileSystem: gap.2)
        }
        outerGap = gap

        // The kernel's part.
        let withSupervisor = ownSupervisor || nested
        // A refused plan is still planned in full, without the refused rights, so that callers
        // can show it (the kernel part would refuse them too, less precisely).
        var refusedSupervised = false
        if case .supervisorUnavailable = refusal { refusedSupervised = true }
        let removesSupervised = withSupervisor || refusedSupervised
        var kernelRuleset = removesSupervised ? ruleset.removingAccess(network: supervised, fileSystem: supervisedFileSystem) : ruleset
        if removesSupervised && kernelRuleset.handledFileSystem.isEmpty && kernelRuleset.handledNetwork.isEmpty
            && kernelRuleset.scopes.isEmpty
        {
            // Only supervised rights were handled: the kernel's part is the protective ruleset.
            kernelRuleset = Self.protectiveRuleset
        }
        let engine = try kernelRuleset.degraded(for: landlock).engine
        let kernelEnforcesPolicy = !engine.enforcesNothing
        // The status is the kernel ruleset's, as `restrictSelf` reports it.
        var (flagBits, restriction) = try engine.restriction(
            flags: request.flags, compatibility: request.compatibility, singleThreaded: request.singleThreaded,
            enforces: kernelEnforcesPolicy,
            requested: (kernelRuleset.handledFileSystem, kernelRuleset.handledNetwork, kernelRuleset.scopes),
            ignoredPaths: [])
        var hasDomain = kernelEnforcesPolicy
        if withSupervisor && !kernelEnforcesPolicy && abi != nil {
            // The kernel enforces nothing of the policy here (only rights this kernel lacks),
            // but the supervisor's threads still need a Landlock domain, so that the program
            // (in a nested one) cannot ptrace them.
            let protective = try Self.protectiveRuleset.degraded(for: landlock).engine
            if !protective.enforcesNothing {
                flagBits = try protective.restriction(
                    flags: request.flags, compatibility: .bestEffort, singleThreaded: request.singleThreaded,
                    enforces: true, requested: ([.makeBlock, .refer], [], []), ignoredPaths: []
                ).kernelFlags
                kernelRuleset = Self.protectiveRuleset
                hasDomain = true
            }
        }
        if withSupervisor && !hasDomain {
            problem = problem ?? "Landlock, which protects the supervisor from the program, is not available (\(landlock))"
        }
        let role: SupervisorRole = ownSupervisor && hasDomain ? .own : nested && hasDomain ? .registersWithEnclosing : .none
        if role != .none { restriction.allThreads = true }
        self.kernelRuleset = abi == nil ? nil : kernelRuleset
        let kernelFlags = RestrictSelfFlags(rawValue: UInt64(flagBits))
        self.kernelFlags = kernelFlags
        self.restriction = restriction
        self.supervisorRole = role
        self.refusal = refusal
        if ruleset.handledNetwork.isDisjoint(with: .tcp) {
            uncoveredProtocols = nil
        } else if request.refusesUncoveredProtocols {
            uncoveredProtocols = .seccompFilter
        } else if let abi, abi >= .v4, kernelEnforcesPolicy, let errata = environment.errata,
            !errata.contains(.tcpSocketIdentification)
        {
            uncoveredProtocols = .kernel(.landlock(since: .v4))
        } else if abi == nil {
            uncoveredProtocols = .nobody(.landlockUnavailable(landlock))
        } else {
            uncoveredProtocols = .nobody(.noLandlockRight)
        }

        // Who enforces each requested right.
        let dropped = engine.dropped
        func enforcer(_ right: AccessRight, droppedHere: Bool, inGap: Bool) -> Enforcer {
            guard let abi else { return .nobody(.landlockUnavailable(landlock)) }
            let isSupervised = supervised.contains(right) || supervisedFileSystem.contains(right)
            if isSupervised && role == .own { return .supervisor }
            if isSupervised && role == .registersWithEnclosing { return .enclosingSupervisor }
            if right.introduced <= abi && !droppedHere {
                if !kernelEnforcesPolicy { return .nobody(engine.disabled ? .softRequirementNotMet : .nothingLeftToEnforce) }
                if inGap { return .nobody(.outerSupervisor) }
                return .kernel(.landlock(since: right.introduced))
            }
            if isSupervised, let problem { return .nobody(.supervisorUnavailable(kernel: abi, reason: problem)) }
            if isSupervised && request.supervisor == .never { return .nobody(.supervisorDisabled(kernel: abi)) }
            return .nobody(.kernelTooOld(needs: right.introduced, kernel: abi))
        }
        var entries: [Entry] = []
        for right in FileSystemAccess.rights where ruleset.handledFileSystem.contains(right) {
            entries.append(Entry(right: right, enforcer: enforcer(
                right, droppedHere: dropped.handledFileSystem.contains(right), inGap: gap.2.contains(right))))
        }
        for right in NetworkAccess.rights where ruleset.handledNetwork.contains(right) {
            entries.append(Entry(right: right, enforcer: enforcer(
                right, droppedHere: dropped.handledNetwork.contains(right), inGap: gap.0.contains(right))))
        }
        for right in Scope.rights where ruleset.scopes.contains(right) {
            entries.append(Entry(right: right, enforcer: enforcer(
                right, droppedHere: dropped.scopes.contains(right), inGap: gap.1.contains(right))))
        }
        for right in RestrictSelfFlags.rights where request.flags.contains(right) {
            let flag = RestrictSelfFlags(right)!
            let entry: Enforcer
            if let abi {
                if flag == .noNewPrivileges {
                    // Set with prctl before restrict_self, whatever the ABI (Ruleset.restrictSelf).
                    entry = .kernel(.prctl(flagIntroduced: right.introduced))
                } else if flag == .allThreads && request.singleThreaded {
                    entry = kernelFlags.contains(flag) ? .kernel(.landlock(since: right.introduced)) : .kernel(.singleThreaded)
                } else if kernelFlags.contains(flag) {
                    entry = .kernel(.landlock(since: right.introduced))
                } else if abi >= right.introduced {
                    // Flags known to this ABI are only left out when the kernel gets no ruleset.
                    entry = .nobody(engine.disabled ? .softRequirementNotMet : .nothingLeftToEnforce)
                } else {
                    entry = .nobody(.kernelTooOld(needs: right.introduced, kernel: abi))
                }
            } else {
                entry = .nobody(.landlockUnavailable(landlock))
            }
            entries.append(Entry(right: right, enforcer: entry))
        }
        self.entries = entries
    }
}

extension EnforcementPlan.Environment {
    /// The running kernel's Landlock support and errata, with the given supervisor facts.
    public static func current(
        supervisor: SupervisorSupport = .available, enclosing: EnclosingSandbox = .none
    ) -> EnforcementPlan.Environment {
        EnforcementPlan.Environment(
            landlock: .current, errata: Errata.current, supervisor: supervisor, enclosing: enclosing)
    }
}
