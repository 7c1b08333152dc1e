// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import Landlock
import SandboxSupport
import SystemPackage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A sandbox ready to start: the kernel ruleset exists, the status is known.
public struct PreparedSandbox: ~Copyable {
    private let created: CreatedRuleset
    private let kernelFlags: UInt32
    /// What will be enforced.
    public let status: SandboxStatus
    private let path: String
    private let argv: [[UInt8]]
    private let envp: [[UInt8]]
    private let setNoNewPrivileges: Bool
    private let policy: UDPPolicy?
    /// The fs.resolve_unix layer the supervisor enforces (kernels before ABI 9), if any.
    private let unixLayer: UnixPathLayer?
    private let nest: NestPlan?
    private let denialLog: DenialLog?
    private let inherit: [Int32]
    private let landlockABI: LandlockABI?
    private let dropCapabilities: UInt64
    /// Install the filter that refuses MPTCP and SCTP internet sockets (SeccompFilter).
    private let refusesUncoveredProtocols: Bool
    /// Words the program's denied calls for the denial log (SandboxedCommand.explainDenials).
    private let explainDenials: (@Sendable (Observation) -> [String])?

    init(
        created: consuming CreatedRuleset, kernelFlags: UInt32, status: SandboxStatus, path: String, argv: [[UInt8]],
        envp: [[UInt8]], setNoNewPrivileges: Bool, policy: UDPPolicy?, unixLayer: UnixPathLayer?, nest: NestPlan?,
        denialLog: DenialLog?,
        inherit: [Int32], landlockABI: LandlockABI?, dropCapabilities: UInt64, refusesUncoveredProtocols: Bool,
        explainDenials: (@Sendable (Observation) -> [String])? = nil
    ) {
        self.explainDenials = explainDenials
        self.refusesUncoveredProtocols = refusesUncoveredProtocols
        self.dropCapabilities = dropCapabilities
        self.created = created
        self.kernelFlags = kernelFlags
        self.status = status
        self.path = path
        self.argv = argv
        self.envp = envp
        self.setNoNewPrivileges = setNoNewPrivileges
        self.policy = policy
        self.unixLayer = unixLayer
        self.nest = nest
        self.denialLog = denialLog
        self.inherit = inherit
        self.landlockABI = landlockABI
    }

    /// Drops from the calling thread the capabilities the program will not have
    /// (``SandboxStatus/droppedCapabilities``). A UNIX socket's peer sees this process's pid
    /// (`SO_PEERCRED`) for the connections the supervisor makes for the program, and through it
    /// its main thread's credentials: the supervisor serves the program's UNIX-socket calls
    /// only while that thread has no more than the program. For a wrapper whose main thread
    /// does nothing but start and wait for the program, as `landlock-exec`; call it from that
    /// thread before ``spawn()``.
    public func dropCapabilitiesFromCallingThread() throws(SeccompError) {
        guard dropCapabilities != 0 else { return }
        guard clandlock_drop_capabilities(dropCapabilities) == 0 else {
            throw SeccompError(.spawnFailed, "Failed to drop the network capabilities", errno: Errno(rawValue: errno))
        }
    }

    /// Starts the program in a child process, with the supervisor when the status says so.
    /// The caller's process is not restricted (only an internal thread of it is, when the
    /// supervisor runs).
    ///
    /// It borrows the prepared sandbox (the ruleset stays open until the value goes), so it
    /// can be called on a global, as in top-level code, and more than once: each call starts
    /// another program, with its own supervisor when one is needed.
    public borrowing func spawn() throws -> SandboxedProcess {
        var plan = SpawnPlan(path: path, argv: argv, envp: envp)
        plan.setNoNewPrivileges = setNoNewPrivileges
        // Through the kernel abstraction, so that a mock kernel sees the child's restriction.
        let restriction = created.restrictionForChild(flags: RestrictSelfFlags(rawValue: UInt64(kernelFlags)))
        plan.rulesetFD = restriction?.ruleset ?? -1
        plan.restrictFlags = restriction?.flags ?? kernelFlags
        plan.inheritFDs = inherit
        plan.dropCapabilities = dropCapabilities
        if refusesUncoveredProtocols && policy == nil {
            // No supervisor (or the enclosing one's): a plain filter, no listener.
            guard let program = SeccompFilter.protocolProgram() else {
                throw SeccompError(.internalInconsistency, "Failed to build the protocol filter for this architecture")
            }
            plan.filter = program
            plan.filterFlags = 0
        }
        if let nest {
            // The calling thread forks the anchor: the anchor restricts itself, registers, and
            // forks the program (the caller's process stays unrestricted).
            // The anchor restricts itself too, before the program: announced as well.
            _ = created.restrictionForChild(flags: RestrictSelfFlags(rawValue: UInt64(kernelFlags)))
            let result = try LandlockSupervisor.spawn(plan, nest: nest)
            return SandboxedProcess(pid: result.pid, anchor: result.anchor)
        }
        let denials = denialLog.map { DenialSink(log: $0) }
        let observer = explainDenials.flatMap { explain in
            denials.map { sink in
                CallObserver { observation in
                    let lines = explain(observation)
                    for line in lines { sink.record(line: line) }
                    // Before the call goes on (and the program reports its failure).
                    if !lines.isEmpty { sink.flushUnlessStalled(waitingAtMost: 20) }
                }
            }
        }
        guard let policy else {
            guard let observer else {
                let result = try LandlockSupervisor.spawn(plan)
                return SandboxedProcess(pid: result.pid)
            }
            // The kernel enforces everything; only the denial log's observer is served.
            guard let program = SeccompFilter.observerProgram(refusingProtocols: refusesUncoveredProtocols) else {
                throw SeccompError(.internalInconsistency, "Failed to build the observing seccomp filter for this architecture")
            }
            plan.filter = program
            plan.filterFlags = CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER
            let result = try LandlockSupervisor.spawn(plan) { listener in
                startDetachedThread {
                    _ = clandlock_block_all_signals()
                    ObserverLoop(listener: listener, observer: observer).run()
                }
            }
            return SandboxedProcess(pid: result.pid, denials: denials)
        }
        guard let program = SeccompFilter.program(refusingProtocols: refusesUncoveredProtocols, observing: observer != nil) else {
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
        let dropped = dropCapabilities
        let unixLayer = self.unixLayer
        guard startDetachedThread({
            let setup = Supervisor.MonitorSetup(droppedCapabilities: dropped)
            guard let (listener, domain) = handoff.wait() else { return }
            Supervisor(
                listener: listener, policy: policy, unixLayer: unixLayer, denials: denials, domain: domain,
                setup: setup, observer: observer
            ).run()
        }) else {
            throw SeccompError(.spawnFailed, "Failed to start the supervisor thread")
        }
        let started: SpawnResult?
        do throws(SeccompError) {
            // The domain thread restricts itself with the same ruleset before forking the
            // program: announced to the kernel abstraction like the child's restriction.
            let domainRestriction = created.restrictionForChild(flags: RestrictSelfFlags(rawValue: UInt64(ownFlags)))
            (_, started) = try DomainThread.start(
                rulesetFD: domainRestriction?.ruleset ?? plan.rulesetFD, ownFlags: domainRestriction?.flags ?? ownFlags,
                plan: plan
            ) {
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
        if refusesUncoveredProtocols && SeccompTools.installProtocolFilter() != 0 {
            throw SeccompError(.spawnFailed, "Failed to install the seccomp filter that refuses MPTCP and SCTP sockets",
                errno: Errno(rawValue: errno))
        }
        for fd in inherit { _ = clandlock_fcntl_setfd(fd, 0) }
        let cArgv = cStringArray(argv)
        let cEnvp = cStringArray(envp)
        execve(path, cArgv, cEnvp)
        throw SeccompError(.spawnFailed, "Failed to execute \"\(path)\"", errno: Errno(rawValue: errno))
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
