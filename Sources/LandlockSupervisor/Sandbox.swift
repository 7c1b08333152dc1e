// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
public import Landlock
import SystemPackage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Who enforces the UDP rights (``NetworkAccess/bindUDP``, ``NetworkAccess/connectSendUDP``).
public enum UDPEnforcement: Sendable, Hashable {
    /// The kernel when it provides Landlock ABI 10 (Linux 7.2), the supervisor otherwise.
    case automatic
    /// The supervisor, even on ABI 10 (for tests and comparisons).
    case supervisor
    /// Never the supervisor: on older kernels the compatibility engine drops the UDP rights
    /// (best effort), enforces nothing (soft requirement) or fails (hard requirement).
    case kernelOnly
}

/// How one UDP right is enforced.
public enum UDPRightEnforcement: Sendable, Hashable, CustomStringConvertible {
    /// The policy does not handle the right.
    case notHandled
    /// Landlock enforces it (ABI 10).
    case kernel
    /// The seccomp supervisor enforces it, with the kernel's semantics.
    case supervisor
    /// Nothing enforces it.
    case notEnforced(reason: String)

    public var description: String {
        switch self {
        case .notHandled: "not handled"
        case .kernel: "enforced by the kernel"
        case .supervisor: "enforced by the supervisor"
        case .notEnforced(let reason): "not enforced: \(reason)"
        }
    }
}

/// What a sandbox will enforce: the kernel's part and the UDP rights.
public struct SandboxStatus: Sendable, Hashable, CustomStringConvertible {
    /// The kernel's part (filesystem, TCP, scopes; UDP on ABI 10).
    public var restriction: RestrictionStatus
    public var bindUDP: UDPRightEnforcement
    public var connectSendUDP: UDPRightEnforcement

    /// Rights of this policy that are not enforced for the socket calls a foreign outer seccomp
    /// supervisor performs on the program's behalf (``SupervisorAvailability/outerListener``
    /// without ``SupervisorAvailability/outerSupervisorTakesRegistrations``): `connect`, `bind`
    /// and sends with an address run in that supervisor's domain, outside any layer added
    /// inside it. Empty unless this sandbox runs under such a listener (under a swift-landlock
    /// supervisor the layer registers instead: ``registeredWithOuterSupervisor``).
    public var notEnforcedForOuterSupervisor = OuterSupervisorGap()

    /// Whether this sandbox is nested in a supervised one and registers its layer with that
    /// sandbox's supervisor, which then enforces its UDP rights and performs its members'
    /// other socket calls in a domain with this layer's rules (no second filter is installed).
    public var registeredWithOuterSupervisor = false

    /// Capabilities dropped from the program (``SandboxedCommand/keepsNetworkCapabilities``):
    /// `CAP_NET_RAW` and `CAP_NET_ADMIN` when the ruleset handles a network right, so that
    /// raw and packet sockets cannot bypass it. Empty when kept or nothing is handled.
    public var droppedCapabilities: [String] = []

    /// Whether the program runs under a supervisor (this sandbox's own, or the outer one it
    /// registers with), so that it must be started with ``PreparedSandbox/spawn()``.
    public var usesSupervisor: Bool {
        bindUDP == .supervisor || connectSendUDP == .supervisor || registeredWithOuterSupervisor
    }

    /// E.g. `fully enforced at ABI 7; all threads; no_new_privs; net.bind_udp: enforced by the
    /// supervisor; net.connect_send_udp: enforced by the supervisor`.
    public var description: String {
        var parts = [restriction.description]
        if bindUDP != .notHandled { parts.append("net.bind_udp: \(bindUDP)") }
        if connectSendUDP != .notHandled { parts.append("net.connect_send_udp: \(connectSendUDP)") }
        if !droppedCapabilities.isEmpty { parts.append("dropped \(droppedCapabilities.joined(separator: ", "))") }
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

    /// Every right a socket call performed outside the program's domain escapes.
    public static var socketRights: OuterSupervisorGap {
        var rights = OuterSupervisorGap()
        rights.network = NetworkAccess.all(in: .newest)
        rights.scopes = .abstractUnixSocket
        rights.fileSystem = [.makeSock, .resolveUnix]
        return rights
    }

    /// What of `ruleset` a socket call performed outside its domain escapes.
    init(_ ruleset: Ruleset) {
        let all = OuterSupervisorGap.socketRights
        network = ruleset.handledNetwork.intersection(all.network)
        scopes = ruleset.scopes.intersection(all.scopes)
        fileSystem = ruleset.handledFileSystem.intersection(all.fileSystem)
    }

    public var isEmpty: Bool { network.isEmpty && scopes.isEmpty && fileSystem.isEmpty }

    public var description: String {
        (network.auditNames + scopes.auditNames + fileSystem.auditNames).joined(separator: ", ")
    }
}

/// How a sandboxed process ended.
public enum TerminationStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    /// The status cannot be known: `waitpid` failed, or a nested sandbox's anchor (the
    /// program's parent) was killed before it could report it; the reason says which.
    case unknown(reason: String)

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        case .unknown(let reason): "ended with an unknown status: \(reason)"
        }
    }
}

/// A program to run in a sandbox.
///
/// ```swift
/// var command = SandboxedCommand(
///     executable: "/usr/bin/dig", arguments: ["@192.0.2.53", "example.org"],
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

    /// Creates the kernel ruleset, decides who enforces the UDP rights, and returns the
    /// complete status before anything runs, so that a caller can refuse or print it.
    ///
    /// - Throws: ``LandlockError`` (ruleset creation, hard requirements of the kernel part),
    ///   ``SeccompError/Code/supervisorUnavailable`` for strict UDP rules the supervisor cannot
    ///   enforce here, ``SeccompError/Code/executableNotFound``.
    public func prepare() throws -> PreparedSandbox {
        let path = try resolvedExecutable()
        let environment = self.environment ?? currentEnvironment()
        let udpHandled = ruleset.handledNetwork.intersection(.udp)
        let landlock = LandlockStatus.current
        let kernelHasUDP = (landlock.abi ?? .v1) >= .v10
        let strict = compatibility == .hardRequirement
            || !(ruleset.handledNetworkLevels[.hardRequirement] ?? []).isDisjoint(with: .udp)
        var useSupervisor = false
        var reason: String? = nil
        // Inside a supervised sandbox whose supervisor takes registrations, this layer joins it.
        let socketRights = OuterSupervisorGap(ruleset)
        let nested = (!udpHandled.isEmpty || !socketRights.isEmpty) && SupervisorAvailability.outerListener
            && SupervisorAvailability.outerSupervisorTakesRegistrations && landlock.abi != nil
        if !udpHandled.isEmpty && !nested {
            switch udp {
            case .kernelOnly: useSupervisor = false
            case .automatic: useSupervisor = !kernelHasUDP
            case .supervisor: useSupervisor = true
            }
        }
        if useSupervisor {
            if case .unavailable(let why) = SupervisorAvailability.current {
                reason = why
            } else if landlock.abi == nil {
                reason = "Landlock, which protects the supervisor from the program, is not available (\(landlock))"
            }
            if let reason {
                if strict {
                    throw SeccompError(
                        .supervisorUnavailable,
                        "Failed to enforce the UDP rules: they need Landlock ABI 10 (Linux 7.2) or the seccomp supervisor, "
                            + "and the supervisor cannot run here: \(reason)")
                }
                useSupervisor = false
            }
        }
        // Under a foreign listener, its supervisor performs this program's socket calls in its
        // own domain: the socket rights of this layer cannot be enforced for them.
        var outerGap = socketRights
        if nested || (!outerGap.isEmpty && !SupervisorAvailability.outerListener) { outerGap = OuterSupervisorGap() }
        if strict && !outerGap.isEmpty {
            throw SeccompError(
                .outerSupervisor,
                "Failed to enforce \(outerGap): an outer seccomp supervisor performs this program's socket calls "
                    + "outside this sandbox's Landlock layer")
        }
        let udpPolicy = UDPPolicy(ruleset: ruleset)
        // Handling make_block and refer and allowing both beneath "/" restricts nothing (on
        // ABI 1, where refer is unknown, cross-directory renames are denied as with any
        // filesystem ruleset): a domain for the supervisor's protection when the kernel has
        // nothing else of the policy to enforce.
        let protectiveRuleset = try Ruleset()
            .handling([.makeBlock, .refer]).adding(PathBeneath("/", [.makeBlock, .refer]))
        let supervised = useSupervisor || nested
        var kernelRuleset = supervised ? ruleset.removingNetworkAccess(.udp) : ruleset
        if supervised && kernelRuleset.handledFileSystem.isEmpty && kernelRuleset.handledNetwork.isEmpty
            && kernelRuleset.scopes.isEmpty
        {
            // Only UDP was handled: the kernel's part is the protective ruleset below.
            kernelRuleset = protectiveRuleset
        }
        var created = try kernelRuleset.create()
        let kernelEnforces = created.fileDescriptor != nil
        var (kernelFlags, restriction) = try created.plan(
            flags: flags, compatibility: compatibility, singleThreaded: true)
        if supervised && !kernelEnforces && landlock.abi != nil {
            // The kernel enforces nothing of the policy here (only rights this kernel lacks),
            // but the supervisor's domain thread still needs a Landlock domain, so that the
            // program (in a nested one) cannot ptrace it.
            let protective = try protectiveRuleset.create()
            if protective.fileDescriptor != nil {
                kernelFlags = try protective.plan(flags: flags, compatibility: .bestEffort, singleThreaded: true).kernelFlags
                created = protective
            }
        }
        if supervised && created.fileDescriptor == nil {
            useSupervisor = false
            reason = "Landlock, which protects the supervisor from the program, is not available (\(landlock))"
        }
        let registers = nested && created.fileDescriptor != nil
        func rightStatus(_ right: NetworkAccess) -> UDPRightEnforcement {
            guard udpHandled.contains(right) else { return .notHandled }
            if useSupervisor || registers { return .supervisor }
            if kernelHasUDP && kernelEnforces && !restriction.dropped.handledNetwork.contains(right) {
                if !outerGap.isEmpty {
                    return .notEnforced(reason: "an outer seccomp supervisor performs the UDP calls outside this layer")
                }
                return .kernel
            }
            return .notEnforced(
                reason: reason ?? (udp == .kernelOnly
                    ? "the kernel provides \(landlock.abi.map { "Landlock \($0)" } ?? "no Landlock") and the supervisor is disabled"
                    : "the kernel part of the policy is not enforced"))
        }
        if useSupervisor || registers { restriction.allThreads = true }
        var status = SandboxStatus(
            restriction: restriction, bindUDP: rightStatus(.bindUDP), connectSendUDP: rightStatus(.connectSendUDP))
        status.notEnforcedForOuterSupervisor = outerGap
        status.registeredWithOuterSupervisor = registers
        let dropCapabilities: UInt64 = keepsNetworkCapabilities || ruleset.handledNetwork.isEmpty
            ? 0 : 1 << UInt64(capabilityNetworkRaw) | 1 << UInt64(capabilityNetworkAdministration)
        // Said only where the program could have them: from root (execve gives root the
        // bounding set) or from capabilities this process holds.
        if dropCapabilities != 0,
            ThreadFacts(thread: clandlock_gettid()).map({ $0.credentials.mightGive(dropCapabilities) }) ?? true
        {
            status.droppedCapabilities = ["cap_net_raw", "cap_net_admin"]
        }
        var nest: NestPlan? = nil
        if registers {
            nest = NestPlan(layer: UDPLayer(ruleset: ruleset))
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
            created: created, kernelFlags: kernelFlags, status: status, path: path,
            argv: [argument0 ?? executable] + arguments, envp: environment,
            setNoNewPrivileges: flags.contains(.noNewPrivileges) || useSupervisor || registers,
            policy: useSupervisor ? udpPolicy : nil, nest: nest,
            denialLog: denialLog, inherit: inheritedFileDescriptors, landlockABI: landlock.abi,
            dropCapabilities: dropCapabilities)
    }

    private func resolvedExecutable() throws(SeccompError) -> String {
        if executable.contains("/") { return executable }
        let environment = self.environment ?? currentEnvironment()
        let path = environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + executable
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw SeccompError(.executableNotFound, "Failed to find \"\(executable)\" in PATH")
    }
}

func currentEnvironment() -> [String] {
    var result: [String] = []
    var pointer = environ
    while let entry = pointer.pointee {
        result.append(String(cString: entry))
        pointer += 1
    }
    return result
}

/// A sandbox ready to start: the kernel ruleset exists, the status is known.
public struct PreparedSandbox: ~Copyable {
    private let created: CreatedRuleset
    private let kernelFlags: UInt32
    /// What will be enforced.
    public let status: SandboxStatus
    private let path: String
    private let argv: [String]
    private let envp: [String]
    private let setNoNewPrivileges: Bool
    private let policy: UDPPolicy?
    private let nest: NestPlan?
    private let denialLog: DenialLog?
    private let inherit: [Int32]
    private let landlockABI: LandlockABI?
    private let dropCapabilities: UInt64

    init(
        created: consuming CreatedRuleset, kernelFlags: UInt32, status: SandboxStatus, path: String, argv: [String],
        envp: [String], setNoNewPrivileges: Bool, policy: UDPPolicy?, nest: NestPlan?, denialLog: DenialLog?,
        inherit: [Int32], landlockABI: LandlockABI?, dropCapabilities: UInt64
    ) {
        self.dropCapabilities = dropCapabilities
        self.created = created
        self.kernelFlags = kernelFlags
        self.status = status
        self.path = path
        self.argv = argv
        self.envp = envp
        self.setNoNewPrivileges = setNoNewPrivileges
        self.policy = policy
        self.nest = nest
        self.denialLog = denialLog
        self.inherit = inherit
        self.landlockABI = landlockABI
    }

    /// Starts the program in a child process, with the supervisor when the status says so.
    /// The caller's process is not restricted (only an internal thread of it is, when the
    /// supervisor runs).
    public consuming func spawn() throws -> SandboxedProcess {
        var plan = SpawnPlan(path: path, argv: argv, envp: envp)
        plan.setNoNewPrivileges = setNoNewPrivileges
        plan.rulesetFD = created.fileDescriptor ?? -1
        plan.restrictFlags = kernelFlags
        plan.inheritFDs = inherit
        plan.dropCapabilities = dropCapabilities
        if let nest {
            // The calling thread forks the anchor: the anchor restricts itself, registers, and
            // forks the program (the caller's process stays unrestricted).
            let result = try LandlockSupervisor.spawn(plan, nest: nest)
            return SandboxedProcess(pid: result.pid, anchor: result.anchor)
        }
        guard let policy else {
            let result = try LandlockSupervisor.spawn(plan)
            return SandboxedProcess(pid: result.pid)
        }
        guard let program = SeccompFilter.program() else {
            throw SeccompError(.internalInconsistency, "Failed to build the seccomp filter for this architecture")
        }
        plan.filter = program
        plan.filterFlags = CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER | CLANDLOCK_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        // The domain thread's own logging: its denials (calls performed for the program) are
        // logged like the program's after exec.
        let logNewExecOn: UInt32 = 1 << 1
        let ownFlags: UInt32 = (landlockABI ?? .v1) >= .v7 && kernelFlags & logNewExecOn == 0 ? 1 << 0 : 0
        // The monitor thread is started here, unrestricted, and waits for the listener; the
        // domain thread hands it over before the program's execve (itself a notified call).
        let handoff = ListenerHandoff()
        let denials = denialLog.map { DenialSink(log: $0) }
        let dropped = dropCapabilities
        guard startThread({
            guard let (listener, domain) = handoff.wait() else { return }
            Supervisor(listener: listener, policy: policy, denials: denials, domain: domain, droppedCapabilities: dropped)
                .run()
        }) else {
            throw SeccompError(.spawnFailed, "Failed to start the supervisor thread")
        }
        let started: SpawnResult?
        do throws(SeccompError) {
            (_, started) = try DomainThread.start(rulesetFD: plan.rulesetFD, ownFlags: ownFlags, plan: plan) {
                handoff.deliver($1, domain: $0)
            }
        } catch {
            handoff.cancel()
            throw error
        }
        guard let result = started, result.listener != nil else {
            handoff.cancel()
            throw SeccompError(.internalInconsistency, "Failed to receive the seccomp listener")
        }
        return SandboxedProcess(pid: result.pid, denials: denials)
    }

    /// Restricts the calling process and replaces it with the program (`execve`), with no
    /// fork. Only for a status without the supervisor (it cannot supervise the process it
    /// replaces). Returns only by throwing.
    public consuming func execReplacingCurrentProcess() throws -> Never {
        guard policy == nil && nest == nil else {
            throw SeccompError(
                .supervisorRequired,
                "Failed to execute \"\(path)\" in place: the UDP rules need the supervisor; start the program with spawn()")
        }
        let path = self.path
        let argv = self.argv
        let envp = self.envp
        let flags = RestrictSelfFlags(rawValue: UInt64(kernelFlags)).union(setNoNewPrivileges ? .noNewPrivileges : [])
        if dropCapabilities != 0 && clandlock_drop_capabilities(dropCapabilities) != 0 {
            throw SeccompError(.spawnFailed, "Failed to drop the network capabilities", errno: Errno(rawValue: errno))
        }
        _ = try created.restrictSelf(flags: flags, compatibility: .bestEffort)
        for fd in inherit { _ = clandlock_fcntl_setfd(fd, 0) }
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnvp = envp.map { strdup($0) } + [nil]
        execve(path, cArgv, cEnvp)
        throw SeccompError(.spawnFailed, "Failed to execute \"\(path)\"", errno: Errno(rawValue: errno))
    }
}

/// A running sandboxed program.
public final class SandboxedProcess: Sendable {
    /// Its process id.
    public let pid: Int32
    /// A nested sandbox's anchor (the program's parent) and the pipe it reports the
    /// program's wait status on.
    private let anchor: (pid: pid_t, status: Int32)?

    /// The sandbox's denial log, written by a thread of its own: flushed before `wait()`
    /// returns, for at most a second (a log nobody reads must not hold the caller up).
    private let denials: DenialSink?

    init(pid: Int32, anchor: (pid: pid_t, status: Int32)? = nil, denials: DenialSink? = nil) {
        self.pid = pid
        self.anchor = anchor
        self.denials = denials
    }

    /// Waits for the program to end. The supervisor keeps serving the program's descendants
    /// that outlive it, for as long as the calling process lives. Call it once.
    public func wait() -> TerminationStatus {
        defer { denials?.flush(waitingAtMost: 1000) }
        var status: Int32 = 0
        if let anchor {
            // The program is the anchor's child: the anchor writes its wait status, then keeps
            // reaping the program's descendants; a detached thread reaps the anchor.
            var received = 0
            while received < 4 {
                let count = withUnsafeMutableBytes(of: &status) { read(anchor.status, $0.baseAddress! + received, 4 - received) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                received += count
            }
            close(anchor.status)
            let anchorPid = anchor.pid
            startThread {
                var ignored: Int32 = 0
                while waitpid(anchorPid, &ignored, 0) < 0 && errno == EINTR {}
            }
            guard received == 4 else {
                return .unknown(reason: "the nested sandbox's anchor process ended before the program (it was killed)")
            }
        } else {
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { return .unknown(reason: "waitpid failed: \(Errno(rawValue: errno).sentence)") }
            }
        }
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }
}

/// The listener and domain thread, passed from the domain thread that spawns the program to
/// the monitor thread that serves it.
final class ListenerHandoff: @unchecked Sendable {
    private let slot = Mutex<(listener: Int32, domain: DomainThread)?>(nil)
    private let ready: (read: Int32, write: Int32)

    init() {
        var fds: [Int32] = [-1, -1]
        _ = clandlock_pipe_cloexec(&fds)
        ready = (fds[0], fds[1])
    }

    func deliver(_ listener: Int32, domain: DomainThread) {
        slot.withLock { $0 = (listener, domain) }
        cancel()
    }

    /// Wakes the monitor with nothing to serve (the spawn failed).
    func cancel() {
        var byte: UInt8 = 1
        _ = write(ready.write, &byte, 1)
    }

    /// Blocks until `deliver` or `cancel`.
    func wait() -> (Int32, DomainThread)? {
        var byte: UInt8 = 0
        while read(ready.read, &byte, 1) < 0 && errno == EINTR {}
        return slot.withLock { $0 }
    }

    deinit {
        close(ready.read)
        close(ready.write)
    }
}
