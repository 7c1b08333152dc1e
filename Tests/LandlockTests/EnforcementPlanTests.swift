// SPDX-License-Identifier: Apache-2.0
@testable import Landlock
import LandlockSupervisor
import LandlockTestSupport
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The enforcement plan without any system call: every kernel from "no Landlock" to "newer
/// than this library" × supervisor available or not × no enclosing sandbox, a supervised one,
/// or a foreign seccomp listener, as go-landlock tests its downgrade apart from the syscalls.
@Suite("Enforcement plan")
struct EnforcementPlanTests {
    enum Kernel: CaseIterable, CustomStringConvertible {
        case notImplemented, notEnabled
        case version(Int)

        static let allCases: [Kernel] = [.notImplemented, .notEnabled] + (1...12).map { .version($0) }

        var status: LandlockStatus {
            switch self {
            case .notImplemented: .notImplemented
            case .notEnabled: .notEnabled
            case .version(let version): .available(effective: LandlockABI(kernelVersion: version)!, kernel: version)
            }
        }

        var description: String { "\(status)" }
    }

    static let supervisors: [SupervisorSupport] = [.available, .unavailable(reason: "no pidfd_getfd (ENOSYS)")]
    static let enclosings: [EnclosingSandbox] = [.none, .supervised, .foreignListener]

    static var matrix: [(Kernel, SupervisorSupport, EnclosingSandbox)] {
        Kernel.allCases.flatMap { kernel in
            supervisors.flatMap { supervisor in enclosings.map { (kernel, supervisor, $0) } }
        }
    }

    /// Everything the newest ABI has, best effort.
    static func everything(_ level: CompatibilityLevel = .bestEffort) throws -> Ruleset {
        try Ruleset(compatibility: level)
            .handling(FileSystemAccess.all(in: .newest))
            .handling(NetworkAccess.all(in: .newest))
            .scoping(Scope.all(in: .newest))
            .adding(PathBeneath("/usr", FileSystemAccess.read(in: .newest)))
            .adding(NetPort([.connectTCP, .connectSendUDP], port: 53))
    }

    static let socketRights: Set<String> = [
        "fs.make_sock", "fs.resolve_unix", "net.bind_tcp", "net.connect_tcp", "net.bind_udp", "net.connect_send_udp",
        "scope.abstract_unix_socket",
    ]

    /// The table, written out independently of the plan: who enforces `right` for a sandbox
    /// started as a new process, with the supervisor allowed when the kernel lacks UDP.
    static func expected(
        _ right: AccessRight, kernel: LandlockStatus, supervisor: SupervisorSupport, enclosing: EnclosingSandbox
    ) -> Enforcer {
        guard let abi = kernel.abi else { return .nobody(.landlockUnavailable(kernel)) }
        let udp = right.auditName.hasSuffix("_udp")
        // fs.resolve_unix before ABI 9: the supervisor, the enclosing one for a nested layer.
        let supervisedLookup = right.auditName == "fs.resolve_unix" && abi < .v9
        if (udp || supervisedLookup) && enclosing == .supervised { return .enclosingSupervisor }
        if right.kind == .restrictSelf {
            switch right.name {
            case "no_new_privs": return .kernel(.prctl(flagIntroduced: .v11))  // never the kernel flag
            case "tsync": return .kernel(.singleThreaded)
            default: return abi >= .v7 ? .kernel(.landlock(since: .v7)) : .nobody(.kernelTooOld(needs: .v7, kernel: abi))
            }
        }
        if (udp && abi < .v10) || supervisedLookup {
            if case .unavailable(let reason) = supervisor {
                return .nobody(.supervisorUnavailable(kernel: abi, reason: reason))
            }
            return .supervisor
        }
        if right.introduced > abi { return .nobody(.kernelTooOld(needs: right.introduced, kernel: abi)) }
        if enclosing == .foreignListener && socketRights.contains(right.auditName) { return .nobody(.outerSupervisor) }
        return .kernel(.landlock(since: right.introduced))
    }

    @Test("Every right of a full ruleset, for a new process", arguments: matrix)
    func everyRight(kernel: Kernel, supervisor: SupervisorSupport, enclosing: EnclosingSandbox) throws {
        let request = EnforcementPlan.Request(
            ruleset: try Self.everything(), flags: RestrictSelfFlags.all(in: .newest), singleThreaded: true,
            supervisor: .automatic)
        let plan = try EnforcementPlan(
            request, in: .init(landlock: kernel.status, supervisor: supervisor, enclosing: enclosing))
        #expect(plan.entries.map(\.right) == AccessRight.all)
        for entry in plan.entries {
            let wanted = Self.expected(entry.right, kernel: kernel.status, supervisor: supervisor, enclosing: enclosing)
            #expect(entry.enforcer == wanted, "\(entry.right)")
        }
        #expect(plan.refusal == nil)
        guard let abi = kernel.status.abi else {
            #expect(plan.kernelRuleset == nil)
            #expect(plan.supervisorRole == .none)
            return
        }
        let role: EnforcementPlan.SupervisorRole = enclosing == .supervised ? .registersWithEnclosing
            : abi < .v10 && supervisor == .available ? .own : .none
        #expect(plan.supervisorRole == role)
        // The kernel never gets the rights a supervisor enforces.
        #expect(plan.kernelRuleset?.handledNetwork.contains(.bindUDP) == (role == .none))
        #expect(plan.restriction.allThreads)
        #expect(plan.kernelFlags.isDisjoint(with: [.allThreads, .noNewPrivileges]))
        #expect(plan.kernelFlags == RestrictSelfFlags.logging.supported(in: abi))
    }

    @Test("Only UDP handled: the kernel gets the protective ruleset", arguments: Kernel.allCases)
    func onlyUDP(kernel: Kernel) throws {
        let ruleset = try Ruleset().handling(NetworkAccess.udp).adding(NetPort(.connectSendUDP, port: 53))
        let plan = try EnforcementPlan(
            .init(ruleset: ruleset, flags: [], singleThreaded: true, supervisor: .automatic), in: .init(landlock: kernel.status))
        guard let abi = kernel.status.abi else {
            #expect(plan.supervisorRole == .none)
            #expect(plan.enforcer(of: NetworkAccess.rights[2]) == .nobody(.landlockUnavailable(kernel.status)))
            return
        }
        if abi >= .v10 {
            #expect(plan.kernelRuleset == ruleset)
            #expect(plan.supervisorRole == .none)
        } else {
            #expect(plan.kernelRuleset == EnforcementPlan.protectiveRuleset)
            #expect(plan.supervisorRole == .own)
            #expect(plan.entries.map(\.enforcer) == [.supervisor, .supervisor])
        }
    }

    @Test("fs.resolve_unix: the supervisor before ABI 9, the kernel from 9, nobody when disabled", arguments: Kernel.allCases)
    func onlyResolveUnix(kernel: Kernel) throws {
        let resolveUnix = FileSystemAccess.rights[16]
        #expect(resolveUnix.auditName == "fs.resolve_unix")
        let ruleset = Ruleset().handling(FileSystemAccess([.resolveUnix, .makeSock]))
        for mode in [SupervisorMode.automatic, .never] {
            let plan = try EnforcementPlan(
                .init(ruleset: ruleset, flags: [], singleThreaded: true, supervisor: mode), in: .init(landlock: kernel.status))
            guard let abi = kernel.status.abi else {
                #expect(plan.enforcer(of: resolveUnix) == .nobody(.landlockUnavailable(kernel.status)))
                continue
            }
            if abi >= .v9 {
                #expect(plan.enforcer(of: resolveUnix) == .kernel(.landlock(since: .v9)))
                #expect(plan.supervisorRole == .none)
            } else if mode == .automatic {
                #expect(plan.enforcer(of: resolveUnix) == .supervisor)
                #expect(plan.supervisorRole == .own)
            } else {
                #expect(plan.enforcer(of: resolveUnix) == .nobody(.kernelTooOld(needs: .v9, kernel: abi)))
                #expect(plan.supervisorRole == .none)
            }
        }
    }

    @Test("The supervisor disabled: the kernel's rights or nobody", arguments: Kernel.allCases)
    func supervisorNever(kernel: Kernel) throws {
        let ruleset = Ruleset().handling(NetworkAccess.all(in: .newest))
        let plan = try EnforcementPlan(
            .init(ruleset: ruleset, flags: [], singleThreaded: true, supervisor: .never), in: .init(landlock: kernel.status))
        #expect(plan.supervisorRole == .none)
        guard let abi = kernel.status.abi else { return }
        let udp = plan.entries.filter { $0.right.auditName.hasSuffix("_udp") }.map(\.enforcer)
        if abi >= .v10 {
            #expect(udp == [.kernel(.landlock(since: .v10)), .kernel(.landlock(since: .v10))])
        } else {
            #expect(udp == [.nobody(.supervisorDisabled(kernel: abi)), .nobody(.supervisorDisabled(kernel: abi))])
        }
    }

    @Test("Always the supervisor, even on ABI 10")
    func supervisorAlways() throws {
        let ruleset = Ruleset().handling(NetworkAccess.all(in: .v10))
        let available = try EnforcementPlan(
            .init(ruleset: ruleset, flags: [], singleThreaded: true, supervisor: .always),
            in: .init(landlock: .available(effective: .v10, kernel: 10)))
        #expect(available.supervisorRole == .own)
        #expect(available.kernelRuleset?.handledNetwork == .tcp)
        // Unavailable: the kernel keeps the rights it has.
        let unavailable = try EnforcementPlan(
            .init(ruleset: ruleset, flags: [], singleThreaded: true, supervisor: .always),
            in: .init(landlock: .available(effective: .v10, kernel: 10), supervisor: .unavailable(reason: "EBUSY")))
        #expect(unavailable.supervisorRole == .none)
        #expect(unavailable.enforcer(of: NetworkAccess.rights[2]) == .kernel(.landlock(since: .v10)))
    }

    @Test("Strict UDP rules the supervisor cannot enforce are refused, at either level")
    func strictRefusal() throws {
        let environment = EnforcementPlan.Environment(
            landlock: .available(effective: .v7, kernel: 7), supervisor: .unavailable(reason: "EBUSY"))
        let hardRuleset = Ruleset().handling(NetworkAccess.udp, compatibility: .hardRequirement)
        let byRight = try EnforcementPlan(.init(ruleset: hardRuleset, flags: [], supervisor: .automatic), in: environment)
        #expect(byRight.refusal == .supervisorUnavailable(rights: .udp, reason: "EBUSY"))
        let byLevel = try EnforcementPlan(
            .init(ruleset: Ruleset().handling(NetworkAccess.all(in: .v4)).handling(NetworkAccess.udp),
                  flags: [], compatibility: .hardRequirement, supervisor: .automatic), in: environment)
        #expect(byLevel.refusal == .supervisorUnavailable(rights: .udp, reason: "EBUSY"))
        let bestEffort = try EnforcementPlan(
            .init(ruleset: Ruleset().handling(NetworkAccess.udp), flags: [], supervisor: .automatic), in: environment)
        #expect(bestEffort.refusal == nil)
        #expect(bestEffort.notEnforced.map(\.reason) == [
            .supervisorUnavailable(kernel: .v7, reason: "EBUSY"), .supervisorUnavailable(kernel: .v7, reason: "EBUSY"),
        ])
        // Under a foreign listener, strict socket rights escape through it.
        let foreign = EnforcementPlan.Environment(
            landlock: .available(effective: .v10, kernel: 10), supervisor: .unavailable(reason: "EBUSY"),
            enclosing: .foreignListener)
        let tcp = try EnforcementPlan(
            .init(ruleset: Ruleset().handling(NetworkAccess.all(in: .v10)), flags: [],
                  compatibility: .hardRequirement, supervisor: .automatic), in: foreign)
        #expect(tcp.refusal == .outerSupervisor(network: NetworkAccess.all(in: .v10), scopes: [], fileSystem: []))
    }

    @Test("A soft requirement not met: nothing is enforced, and the plan says why")
    func softRequirement() throws {
        let ruleset = Ruleset(compatibility: .softRequirement)
            .handling(FileSystemAccess.all(in: .v5)).handling(NetworkAccess.tcp)
        let plan = try EnforcementPlan(.init(ruleset: ruleset, flags: []), in: .init(landlock: .available(effective: .v3, kernel: 3)))
        #expect(plan.restriction.ruleset == .notEnforced)
        #expect(plan.enforcer(of: FileSystemAccess.rights[0]) == .nobody(.softRequirementNotMet))
        #expect(plan.enforcer(of: FileSystemAccess.rights[15]) == .nobody(.kernelTooOld(needs: .v5, kernel: .v3)))
        #expect(plan.enforcer(of: NetworkAccess.rights[0]) == .nobody(.kernelTooOld(needs: .v4, kernel: .v3)))
    }

    /// MPTCP and SCTP: no Landlock right covers them, except by accident before erratum 1; a
    /// seccomp filter only when the request installs one (nothing claims it otherwise).
    @Test("Protocols no right covers", arguments: [Errata?.none, [], [.tcpSocketIdentification]])
    func uncoveredProtocols(errata: Errata?) throws {
        let tcp = Ruleset().handling(NetworkAccess.tcp)
        let environment = EnforcementPlan.Environment(landlock: .available(effective: .v6, kernel: 6), errata: errata)
        let plan = try EnforcementPlan(.init(ruleset: tcp), in: environment)
        #expect(plan.uncoveredProtocols == (errata == [] ? .kernel(.landlock(since: .v4)) : .nobody(.noLandlockRight)))
        let filtered = try EnforcementPlan(.init(ruleset: tcp, refusesUncoveredProtocols: true), in: environment)
        #expect(filtered.uncoveredProtocols == .seccompFilter)
        let noTCP = try EnforcementPlan(.init(ruleset: Ruleset().handling(FileSystemAccess.readFile)), in: environment)
        #expect(noTCP.uncoveredProtocols == nil)
        let old = try EnforcementPlan(.init(ruleset: tcp), in: .init(landlock: .available(effective: .v3, kernel: 3), errata: errata))
        #expect(old.uncoveredProtocols == .nobody(.noLandlockRight))
    }

    @Test("Hard requirements of the kernel part throw as create() does")
    func hardRequirement() throws {
        let ruleset = Ruleset().handling(NetworkAccess.tcp, compatibility: .hardRequirement)
        #expect(throws: LandlockError.self) {
            try EnforcementPlan(.init(ruleset: ruleset), in: .init(landlock: .available(effective: .v3, kernel: 3)))
        }
    }

    /// `restrictSelf` reports what the plan says, for the calling (multi-threaded) process.
    @Test("The plan's restriction is restrictSelf's status", arguments: 0...12)
    func restrictSelfAgrees(kernelVersion: Int) throws {
        let mock = MockKernel(
            abi: kernelVersion == 0 ? .failure(Errno(rawValue: ENOSYS)) : .success(kernelVersion), files: ["/usr": true])
        let ruleset = try Self.everything()
        let status = try ruleset.create(kernel: mock.kernel).restrictSelf()
        let plan = try EnforcementPlan(.init(ruleset: ruleset), in: .init(landlock: LandlockStatus(kernel: mock.kernel)))
        #expect(plan.restriction == status)
        let tsync = RestrictSelfFlags.rights[3]
        if let abi = LandlockABI(kernelVersion: kernelVersion) {
            #expect(plan.enforcer(of: tsync) == (abi >= .v8 ? .kernel(.landlock(since: .v8)) : .nobody(.kernelTooOld(needs: .v8, kernel: abi))))
        }
    }

    /// A child's restriction goes through the kernel abstraction too: the mock sees it, with
    /// the flags the plan chose (no_new_privs is never a kernel flag before ABI 11).
    @Test func childRestrictionIsSeenByTheKernelAbstraction() throws {
        let mock = MockKernel(abi: 7, files: ["/usr": true])
        let ruleset = try Self.everything()
        let plan = try EnforcementPlan(
            .init(ruleset: ruleset, flags: [.allThreads, .noNewPrivileges, .logNewExecOn], singleThreaded: true),
            in: .init(landlock: LandlockStatus(kernel: mock.kernel)))
        let created = try ruleset.create(kernel: mock.kernel)
        let child = created.restrictionForChild(flags: plan.kernelFlags)
        let handed = try #require(child)
        #expect(handed.flags == UInt32(RestrictSelfFlags.logNewExecOn.rawValue))
        #expect(mock.calls.last == .restrictChild(flags: handed.flags))
        #expect(!mock.calls.contains(.restrictSelf(flags: handed.flags)))
    }

    @Test func typedLinkFromRightToSet() {
        let bindUDP = NetworkAccess.rights[2]
        #expect(NetworkAccess(bindUDP) == .bindUDP)
        #expect(FileSystemAccess(bindUDP) == nil)
        #expect(NetworkAccess.udp.contains(bindUDP))
        // Same bit, other set.
        #expect(!FileSystemAccess.readFile.contains(bindUDP))
        #expect(AccessRight.all.count == 17 + 4 + 2 + 5)
        #expect(Set(AccessRight.all.map(\.kind)) == Set(AccessKind.allCases))
    }
}

/// `SandboxedCommand` through the mock kernel: the plan decides, the mock sees the ruleset
/// created and the child's restriction.
@Suite("SandboxedCommand and the kernel abstraction")
struct SandboxedCommandKernelTests {
    @Test func theMockSeesTheRulesetAndTheChildsRestriction() throws {
        let mock = MockKernel(abi: 7, files: ["/usr": true])
        let ruleset = try Ruleset().handling(FileSystemAccess.all(in: .v7))
            .adding(PathBeneath("/usr", FileSystemAccess.read(in: .v1)))
        var command = SandboxedCommand(executable: "/bin/true", ruleset: ruleset, flags: [.noNewPrivileges])
        command.kernel = mock.kernel
        let prepared = try command.prepare()
        #expect(prepared.status.plan.enforcer(of: FileSystemAccess.rights[0]) == .kernel(.landlock(since: .v1)))
        #expect(prepared.status.plan.supervisorRole == .none)
        #expect(mock.calls.contains(.addPathBeneath(access: FileSystemAccess.read(in: .v1).rawValue, path: "/usr", flags: 0)))
        // The child restricts itself with the mock's descriptor, which the real kernel refuses:
        // the spawn fails, after the restriction went through the kernel abstraction.
        do {
            _ = try prepared.spawn()
            Issue.record("the child restricted itself with a descriptor that is no ruleset")
        } catch {
            #expect("\(error)".contains("landlock_restrict_self"), "\(error)")
        }
        #expect(mock.calls.contains(.restrictChild(flags: 0)))
    }

    /// Under the supervisor, the supervisor's domain thread restricts itself with the ruleset
    /// before it forks the program: that restriction goes through the kernel abstraction too.
    @Test(.enabled(if: SupervisorAvailability.current == .available, "Requires the supervisor"))
    func theMockSeesTheDomainThreadsRestriction() throws {
        let mock = MockKernel(abi: 7, files: [:])
        let ruleset = try Ruleset().handling(NetworkAccess.all(in: .v10)).adding(NetPort(.connectSendUDP, port: 53))
        var command = SandboxedCommand(executable: "/bin/true", ruleset: ruleset, udp: .supervisor)
        command.kernel = mock.kernel
        let prepared = try command.prepare()
        #expect(prepared.status.plan.supervisorRole == .own)
        let before = mock.calls.filter { if case .restrictChild = $0 { true } else { false } }.count
        // The domain thread restricts itself with the mock's descriptor, which the real kernel
        // refuses: the spawn fails after both restrictions were announced.
        #expect(throws: (any Error).self) { _ = try prepared.spawn() }
        let after = mock.calls.filter { if case .restrictChild = $0 { true } else { false } }.count
        #expect(after - before == 2, "\(mock.calls)")
    }
}
