// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
public import Landlock
import SandboxSupport

/// Who enforces the UDP rights (``NetworkAccess/bindUDP``, ``NetworkAccess/connectSendUDP``).
public enum UDPEnforcement: Sendable, Hashable {
    /// The kernel when it provides Landlock ABI 10 (Linux 7.2), the supervisor otherwise.
    case automatic
    /// The supervisor, even on ABI 10 (for tests and comparisons).
    case supervisor
    /// Never the supervisor: on older kernels the compatibility engine drops the UDP rights
    /// (best effort), enforces nothing (soft requirement) or fails (hard requirement).
    case kernelOnly

    /// The plan's word for it.
    public var supervisorMode: SupervisorMode {
        switch self {
        case .automatic: .automatic
        case .supervisor: .always
        case .kernelOnly: .never
        }
    }
}

/// A program to run in a sandbox.
///
/// ```swift
/// let command = SandboxedCommand(
///     executable: "getent", arguments: ["hosts", "example.org"],
///     ruleset: try Ruleset()
///         .handling(NetworkAccess.all(in: .v10))
///         .adding(NetPort([.connectSendUDP], port: 53))
///         .adding(NetPort([.bindUDP], port: 0)))
/// let prepared = try command.prepare()
/// print(prepared.status)   // ...; net.connect_send_udp: enforced by the supervisor
/// let process = try prepared.spawn()
/// let status = process.wait()
/// ```
///
/// The child is single-threaded between fork and exec, so every thread of the program is
/// restricted whatever the ABI (``RestrictSelfFlags/allThreads`` always holds).
public struct SandboxedCommand: Sendable {
    /// The program: a path, or a name looked up in the `PATH` of ``environment``.
    public var executable: String
    /// The arguments after `argv[0]`.
    public var arguments: [String]
    /// `argv[0]`; `nil` for ``executable``.
    public var argument0: String?
    /// `NAME=value` entries; `nil` to pass the current environment.
    public var environment: [String]?
    /// The arguments after `argv[0]` as bytes, in place of ``arguments``: Linux arguments are
    /// bytes, and one that is not valid UTF-8 cannot be a `String` without being rewritten
    /// (U+FFFD). A NUL byte ends an argument, as in C.
    public var argumentBytes: [[UInt8]]?
    /// The environment as `NAME=value` bytes, in place of ``environment`` (see
    /// ``argumentBytes``). The executable is still looked up in the `PATH` of ``environment``.
    public var environmentBytes: [[UInt8]]?
    /// The policy.
    public var ruleset: Ruleset
    /// Flags of `landlock_restrict_self(2)`; ``RestrictSelfFlags/noNewPrivileges`` sets
    /// no_new_privs in the child.
    public var flags: RestrictSelfFlags
    /// The level for the flags and for the UDP rights when the supervisor cannot run. UDP
    /// rights handled at ``CompatibilityLevel/hardRequirement`` are strict as well.
    public var compatibility: CompatibilityLevel
    /// Who enforces the UDP rights.
    public var udp: UDPEnforcement
    /// Where the supervisor reports the UDP calls it denies; `nil` for nowhere.
    public var denialLog: DenialLog?
    /// File descriptors to pass to the program even though they are close-on-exec. Every
    /// descriptor without `FD_CLOEXEC` is passed anyway, as `env(1)` does.
    public var inheritedFileDescriptors: [Int32]
    /// Whether a program that may open raw or packet sockets keeps that power. By default,
    /// when the ruleset handles any network right, `CAP_NET_RAW` and `CAP_NET_ADMIN` are
    /// dropped from every capability set of the program (bounding set included, so that a
    /// root program cannot regain them through `execve`): Landlock does not restrict raw
    /// (`SOCK_RAW`) or packet (`AF_PACKET`) sockets, which would bypass the network rules, and
    /// `CAP_NET_ADMIN` admits control messages (`SO_MARK`, ...) and interface settings. Only
    /// a program that has them (root, or granted capabilities) is affected.
    public var keepsNetworkCapabilities = false
    /// Whether the program may open MPTCP and SCTP internet sockets while the ruleset handles
    /// TCP rights. Landlock's TCP rights check TCP sockets only: an `IPPROTO_MPTCP` socket
    /// binds and connects to any port, and SCTP has no Landlock right at all. By default a
    /// seccomp filter (no supervisor involved) refuses their `socket()` with
    /// `EPROTONOSUPPORT`, so that programs fall back to TCP (``EnforcementPlan/uncoveredProtocols``).
    public var allowsUncoveredProtocols = false
    /// The kernel the Landlock calls go to: a mock in tests, so that it sees the ruleset
    /// created and the child's restriction (``Landlock/CreatedRuleset``).
    package var kernel: LandlockKernel = .system
    /// Says which of the program's calls (``Observation``s) the sandbox denies, as lines for a
    /// file-descriptor ``denialLog`` (written after `landlock: `), where the supervisor serves
    /// the program: `landlock-exec --log-denials` checks each against its policy. The
    /// supervisor's filter then also notifies the calls that name paths and signal targets,
    /// and lets them run unchanged. Called on the supervisor's thread; keep it short.
    package var explainDenials: (@Sendable (Observation) -> [String])?

    public init(
        executable: String, arguments: [String] = [], environment: [String]? = nil, ruleset: Ruleset,
        flags: RestrictSelfFlags = [.allThreads, .noNewPrivileges], compatibility: CompatibilityLevel = .bestEffort,
        udp: UDPEnforcement = .automatic, denialLog: DenialLog? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.ruleset = ruleset
        self.flags = flags
        self.compatibility = compatibility
        self.udp = udp
        self.denialLog = denialLog
        self.inheritedFileDescriptors = []
    }

    /// Who will enforce what, here: the ``EnforcementPlan`` for this command on the running
    /// kernel, with the supervisor's availability and the enclosing sandbox probed only when
    /// the ruleset has rights they matter to. Makes no change.
    ///
    /// - Throws: ``LandlockError`` when the kernel part cannot meet a hard requirement.
    public func plan() throws(LandlockError) -> EnforcementPlan {
        let request = EnforcementPlan.Request(
            ruleset: ruleset, flags: flags, compatibility: compatibility, singleThreaded: true,
            supervisor: udp.supervisorMode, refusesUncoveredProtocols: !allowsUncoveredProtocols)
        let landlock = LandlockStatus(kernel: kernel)
        // Only rulesets with socket rights care about a supervisor, own or enclosing.
        let socketRights = EnforcementPlan.socketRights
        let caresAboutSeccomp = !ruleset.handledNetwork.isEmpty || !ruleset.scopes.isDisjoint(with: socketRights.scopes)
            || !ruleset.handledFileSystem.isDisjoint(with: socketRights.fileSystem)
        var environment = EnforcementPlan.Environment(landlock: landlock)
        if caresAboutSeccomp {
            environment.enclosing = !SupervisorAvailability.outerListener ? .none
                : SupervisorAvailability.outerSupervisorTakesRegistrations ? .supervised : .foreignListener
            // Whether this sandbox's own supervisor could run matters only where it may be asked for.
            if udp.supervisorMode != .never, case .unavailable(let reason) = SupervisorAvailability.current {
                environment.supervisor = .unavailable(reason: reason)
            }
        }
        return try EnforcementPlan(request, in: environment)
    }

    /// Creates the kernel ruleset as ``plan()`` says, and returns the complete status before
    /// anything runs, so that a caller can refuse or print it.
    ///
    /// - Throws: ``LandlockError`` (ruleset creation, hard requirements of the kernel part),
    ///   ``SeccompError/Code/supervisorUnavailable`` for strict UDP rules the supervisor cannot
    ///   enforce here, ``SeccompError/Code/outerSupervisor``,
    ///   ``SeccompError/Code/executableNotFound``.
    public func prepare() throws -> PreparedSandbox {
        let path = try resolvedExecutable()
        let environment = self.environment ?? ProcessEnvironment.current
        let plan = try self.plan()
        switch plan.refusal {
        case .supervisorUnavailable(_, let reason)?:
            throw SeccompError(
                .supervisorUnavailable,
                "Failed to enforce the UDP rules: they need Landlock ABI 10 (Linux 7.2) or the seccomp supervisor, "
                    + "and the supervisor cannot run here: \(reason)")
        case .outerSupervisor?:
            throw SeccompError(
                .outerSupervisor,
                "Failed to enforce \(SandboxStatus(plan: plan).notEnforcedForOuterSupervisor): an outer seccomp "
                    + "supervisor performs this program's socket calls outside this sandbox's Landlock layer")
        case nil:
            break
        }
        let created = try (plan.kernelRuleset ?? ruleset).create(kernel: kernel)
        var status = SandboxStatus(plan: plan)
        status.restriction.ignoredPaths = created.ignoredPaths
        let supervised = plan.supervisorRole == .own
        let registers = plan.supervisorRole == .registersWithEnclosing
        let dropCapabilities: UInt64 = keepsNetworkCapabilities || ruleset.handledNetwork.isEmpty
            ? 0 : 1 << UInt64(capabilityNetworkRaw) | 1 << UInt64(capabilityNetworkAdministration)
        // Said only where the program could have them: from root (execve gives root the
        // bounding set) or from capabilities this process holds.
        if dropCapabilities != 0,
            Credentials.callingThreadMightGive(dropCapabilities)
        {
            status.droppedCapabilities = ["cap_net_raw", "cap_net_admin"]
        }
        var nest: NestPlan? = nil
        if registers {
            nest = NestPlan(layer: UDPLayer(ruleset: ruleset))
            if plan.enforcer(of: FileSystemAccess.rights[16]) == .enclosingSupervisor { nest?.unixRules = ruleset }  // resolve_unix
            switch denialLog {
            case .fileDescriptor(let fd): nest?.logFD = fd
            case .handler:
                throw SeccompError(
                    .outerSupervisor,
                    "Failed to log denials with a handler: in a nested sandbox the enclosing sandbox's supervisor "
                        + "decides the UDP calls, in another process; log to a file descriptor (DenialLog.fileDescriptor)")
            case nil: break
            }
        }
        return PreparedSandbox(
            created: created, kernelFlags: UInt32(plan.kernelFlags.rawValue), status: status, path: path,
            argv: [Array((argument0 ?? executable).utf8)] + (argumentBytes ?? arguments.map { Array($0.utf8) }),
            envp: environmentBytes ?? environment.map { Array($0.utf8) },
            setNoNewPrivileges: flags.contains(.noNewPrivileges) || supervised || registers
                || plan.uncoveredProtocols == .seccompFilter,  // seccomp filters need no_new_privs
            policy: supervised ? UDPPolicy(ruleset: ruleset) : nil,
            unixLayer: supervised && plan.enforcer(of: FileSystemAccess.rights[16]) == .supervisor  // resolve_unix
                ? UnixPathLayer(ruleset: ruleset) : nil,
            nest: nest,
            denialLog: denialLog, inherit: inheritedFileDescriptors, landlockABI: plan.environment.landlock.abi,
            dropCapabilities: dropCapabilities, refusesUncoveredProtocols: plan.uncoveredProtocols == .seccompFilter,
            explainDenials: explainDenials)
    }

    private func resolvedExecutable() throws(SeccompError) -> String {
        if executable.contains("/") { return executable }
        let environment = self.environment ?? ProcessEnvironment.current
        if case .found(let path) = ExecutableSearch.find(executable, path: ExecutableSearch.path(in: environment)) {
            return path
        }
        throw SeccompError(.executableNotFound, "Failed to find \"\(executable)\" in PATH")
    }
}
