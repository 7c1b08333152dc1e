// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor
import SandboxSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything the launcher needs: the policy, the command and its environment.
struct LaunchRequest {
    var policy: SandboxPolicy
    /// argv of the command; `command[0]` is looked up in `PATH` when it has no slash.
    var command: [String]
    /// The command's environment, `KEY=VALUE` strings.
    var environment: [String]
    var verbose = false
    /// Do not warn about implicit defaults the kernel cannot enforce.
    var quiet = false
    /// Print the kernel sample's "Executing the sandboxed command..." line.
    var announce = false
    /// Print a warning for each path skipped because it does not exist.
    var warnIgnoredPaths = false
    /// Filesystem options replaced the default policy (no `--system`): a failed exec names
    /// `--system` in its hint.
    var replacedDefaultPolicy = false
}

/// The one place that turns a policy into a running sandboxed command.
///
/// It hands the policy to `LandlockSupervisor`'s `SandboxedCommand`, which creates the kernel
/// ruleset and decides who enforces the UDP rights, then checks strictness against that status
/// before anything runs. Without the supervisor (the kernel enforces everything it can) this
/// process restricts itself and becomes the command (`execve`, no fork: the exit status,
/// signals and inherited file descriptors are the command's own). With the supervisor (UDP
/// rules on a kernel without Landlock ABI 10), the command runs in a child process that this
/// process supervises; its exit status and signals are passed through.
enum Launcher {
    static func launch(_ request: LaunchRequest) -> Never {
        let executable = resolveExecutable(request)
        let policy = request.policy
        // Denial lines name the option that allows the call, here and in sandboxes nested in
        // this one (this process's supervisor writes theirs).
        DenialLog.wordAllowingRules(option(allowing:))

        var command: SandboxedCommand
        do {
            command = SandboxedCommand(
                executable: executable, arguments: Array(request.command.dropFirst()),
                environment: request.environment, ruleset: try policy.ruleset(),
                // No TSYNC: execve(2) ends every other thread of this process right after, and a
                // spawned child is single-threaded.
                flags: policy.restrictFlags.union(.noNewPrivileges), compatibility: .bestEffort,
                udp: policy.udpSupervisor.enforcement,
                denialLog: policy.logDenials ? .fileDescriptor(2) : nil)
        } catch {
            failure(for: error, policy: policy).exit()
        }
        command.argument0 = request.command[0]
        // Arguments and environment values pass as the bytes this process was given: Swift's
        // Strings would have rewritten what is not UTF-8 (U+FFFD).
        command.argumentBytes = request.command.dropFirst().map(RawBytes.argumentBytes)
        command.environmentBytes = request.environment.map(RawBytes.environmentBytes)
        command.keepsNetworkCapabilities = policy.keepNetworkCapabilities
        command.allowsUncoveredProtocols = policy.allowUncoveredProtocols
        if policy.logDenials {
            // Everything else the command is denied, checked against the policy as the
            // supervisor observes its calls (DenialExplainer).
            let plan = try? command.plan()
            let explainer = DenialExplainer(policy: policy, enforcer: { plan?.enforcer(of: $0) }) { path in
                guard let resolved = realpath(RawBytes.openablePath(path), nil) else { return nil }
                defer { free(resolved) }
                return String(cString: resolved)
            }
            command.explainDenials = { explainer.lines(for: $0) }
        }

        let prepared: PreparedSandbox
        do {
            prepared = try command.prepare()
        } catch let error as LandlockError {
            failure(for: error, policy: policy).exit()
        } catch {
            ToolFailure("\(error)").exit()
        }
        // The plan says every thread is restricted: the command starts single-threaded.
        let status = prepared.status
        check(status, policy: policy, quiet: request.quiet)

        if request.verbose {
            var shown = status
            shown.restriction.ignoredPaths = []
            writeStandardError("landlock-exec: \(shown)\n")
        }
        if request.warnIgnoredPaths || request.verbose {
            let defaults = policy.paths.filter { $0.source == DefaultPolicy.source }.map(\.path)
            for path in status.restriction.ignoredPaths where !defaults.contains(path) {
                warn("skipped \"\(path)\": \(errnoSentence(ENOENT))")
            }
        }
        if request.announce { writeStandardError("Executing the sandboxed command...\n") }

        // The denial log observes the command from this process: it runs as a child.
        guard status.usesSupervisor || policy.logDenials else {
            do {
                try prepared.execReplacingCurrentProcess()
            } catch let error as SeccompError where error.underlyingError != nil {
                reportExecFailure(request.command[0], errno: error.underlyingError!.rawValue, sandboxed: true, request: request)
            } catch {
                ToolFailure("\(error)").exit()
            }
        }
        let servesOrphans = status.plan.supervisorRole == .own
        let process: SandboxedProcess
        do {
            // This process only waits for the command: it keeps no capability the command lacks
            // (a UNIX socket's peer sees its pid for the supervisor's connections).
            try prepared.dropCapabilitiesFromCallingThread()
            // The command's orphans (a daemon's grandchild) become this process's children, so
            // that it lives, and its supervisor serves them, for as long as any of them does. (In
            // a nested sandbox the enclosing supervisor serves them, and the anchor reaps them.)
            if servesOrphans { Descendants.becomeSubreaper() }
            process = try prepared.spawn()
        } catch let error as SeccompError where error.failedToExecute {
            reportExecFailure(request.command[0], errno: error.underlyingError?.rawValue ?? EACCES, sandboxed: true, request: request)
        } catch {
            ToolFailure("\(error)").exit()
        }
        SignalForwarding.forward(to: process.pid)
        if servesOrphans {
            // Forward nothing to the command's pid once it has ended (it could be reused), but
            // from then on to the processes of the sandbox that are left.
            Descendants.reapOrphansUntilTheEnd(of: process.pid)
            Descendants.takeOverSignals()
        }
        let ending = process.wait()
        if servesOrphans { Descendants.waitForAll() }
        switch ending {
        case .exited(let code):
            // Nothing is left to run at exit (the command's output is its own, this process's
            // messages went out unbuffered): `_exit` skips the exit handlers, start-up time
            // paid at the end (about 60 µs here).
            fflush(nil)
            _exit(code)
        case .unknown(let reason):
            ToolFailure("Failed to learn how the command ended: \(reason)").exit()
        case .signaled(let signal):
            // Die of the same signal, so that the caller sees what it would see without us.
            SignalForwarding.reraise(signal)
        }
    }

    // MARK: Strictness

    /// Refuses (strict) or reports (best effort) what the kernel will not enforce.
    private static func check(_ sandbox: SandboxStatus, policy: SandboxPolicy, quiet: Bool) {
        let status = sandbox.restriction
        guard let abi = status.landlock.abi else {
            let sentence = "Landlock is not available, so nothing can be enforced: \(status.landlock)"
            if policy.bestEffort && !policy.requireLandlock {
                warn("\(sentence); running the command without a sandbox")
                return
            }
            ToolFailure(
                "Failed to set up the sandbox: \(sentence)",
                hints: KernelHints.forStatus(status.landlock) + ["add --best-effort to run the command unsandboxed anyway"]
            ).exit()
        }
        // Every requested right nothing enforces, as the plan says, explicit or implicit.
        var explicit: [(AccessRight, NotEnforcedReason)] = []
        var implicit: [(AccessRight, NotEnforcedReason)] = []
        for (right, reason) in sandbox.plan.notEnforced {
            let asked = switch right.kind {
            case .fileSystem: policy.explicitFileSystem.contains(right)
            case .network: policy.explicitNetwork.contains(right)
            case .scope: policy.explicitScopes.contains(right)
            case .restrictSelf: policy.restrictFlags.contains(right)
            }
            if asked { explicit.append((right, reason)) } else { implicit.append((right, reason)) }
        }

        if !explicit.isEmpty {
            if policy.bestEffort {
                for line in describe(explicit) { warn("not enforced: \(line)") }
            } else {
                var hints: [String] = []
                let reasons = explicit.map(\.1)
                if reasons.contains(.outerSupervisor) {
                    hints.append("run the command outside the supervised sandbox, or on Linux 7.2 where no supervisor is needed, or add --best-effort")
                } else if reasons.contains(where: \.involvesSupervisor) {
                    hints.append(
                        "the UDP rights need Linux 7.2 (Landlock ABI 10) or the supervisor; remove the UDP options, "
                            + "update the kernel, run where the supervisor works, or add --best-effort")
                } else {
                    hints.append("update the kernel (it provides Landlock ABI \(abi.rawValue)), remove the options that need a newer one, or add --best-effort")
                }
                ToolFailure(
                    "Refusing to run: this sandbox cannot enforce " + describe(explicit).joined(separator: "; "),
                    hints: hints
                ).exit()
            }
        }
        if !implicit.isEmpty && !quiet {
            warn("not restricted here: " + describe(implicit).joined(separator: "; ") + " (--quiet hides this)")
        }
    }

    /// `net.bind_udp, net.connect_send_udp (reason)`, grouping rights by reason.
    private static func describe(_ rights: [(AccessRight, NotEnforcedReason)]) -> [String] {
        var groups: [(reason: String, names: [String])] = []
        for (right, reason) in rights {
            let text = Enforcement.reasonText(reason, right)
            if let index = groups.firstIndex(where: { $0.reason == text }) {
                groups[index].names.append(right.auditName)
            } else {
                groups.append((text, [right.auditName]))
            }
        }
        return groups.map { $0.names.joined(separator: ", ") + " (\($0.reason))" }
    }

    /// The option of this tool that allows `rule`: `--connect-udp 53`, `--bind-udp 0`.
    static func option(allowing rule: NetPort) -> String {
        let options: [(NetworkAccess, String)] = [
            (.bindTCP, "--bind-tcp"), (.connectTCP, "--connect-tcp"), (.bindUDP, "--bind-udp"),
            (.connectSendUDP, "--connect-udp"),
        ]
        return options.filter { rule.access.contains($0.0) }.map { "\($0.1) \(rule.port)" }.joined(separator: " ")
    }

    // MARK: Errors

    private static func failure(for error: LandlockError, policy: SandboxPolicy) -> ToolFailure {
        var hints: [String] = []
        switch error.code {
        case .openPathFailed where error.underlyingError == .noSuchFileOrDirectory:
            hints.append("create the path, fix its spelling, or add --ignore-missing to skip missing paths")
        case .openPathFailed where error.underlyingError == .permissionDenied:
            hints.append("the path must be reachable by this user before the sandbox starts")
        case .tooManyLayers:
            hints.append("the command is already inside 16 nested Landlock sandboxes; run it from an outer one")
        case .createRulesetFailed, .restrictSelfFailed:
            if error.underlyingError?.rawValue == ENOSYS { hints.append(KernelHints.notImplemented) }
            if error.underlyingError?.rawValue == EOPNOTSUPP { hints.append(KernelHints.notEnabled) }
        default:
            break
        }
        return ToolFailure("\(error)", hints: hints)
    }

    // MARK: Executing

    /// Finds the executable before the sandbox exists, so that "not found" and "not
    /// executable" are told apart from "denied by the sandbox".
    private static func resolveExecutable(_ request: LaunchRequest) -> String {
        let name = request.command[0]
        // An empty name is found nowhere (a PATH search would try the directories themselves).
        if name.isEmpty { reportExecFailure(name, errno: ENOENT, sandboxed: false) }
        if name.contains("/") {
            if let problem = ExecutableSearch.problem(executing: name) { reportExecFailure(name, errno: problem, sandboxed: false) }
            return name
        }
        // The command's PATH, else this process's (after --clear-env), else the default.
        let path = ProcessEnvironment.value("PATH", in: request.environment)
            ?? ProcessEnvironment.value("PATH", in: ProcessEnvironment.current) ?? ExecutableSearch.defaultPath
        switch ExecutableSearch.find(name, path: path) {
        case .found(let candidate): return candidate
        case .notFound(let problem): reportExecFailure(name, errno: problem, sandboxed: false)
        }
    }

    /// Reports a failed or impossible `execve` and exits 126 or 127, as `env(1)` does.
    private static func reportExecFailure(
        _ name: String, errno code: Int32, sandboxed: Bool, request: LaunchRequest? = nil
    ) -> Never {
        let notFound = code == ENOENT || code == ENOTDIR
        var hints: [String] = []
        if sandboxed && (code == EACCES || code == EPERM) {
            let alternative = request?.replacedDefaultPolicy == true
                ? "or add --system to keep the default policy's system paths" : "or use the default policy"
            hints.append(
                "the sandbox may deny executing the binary, its interpreter (#! line or ELF loader) or its shared "
                    + "libraries: allow them with --rox (for example --rox /usr), \(alternative)")
        } else if name.isEmpty {
            hints.append("the command is an empty word: check its quoting, or the variable meant to hold it")
        } else if sandboxed && notFound {
            hints.append("the binary's interpreter (#! line or ELF loader) may be missing")
        } else if notFound {
            hints.append(name.contains("/") ? "check the path" : "check the spelling, or give the full path of the command")
        } else if code == EACCES {
            hints.append("make the file executable (chmod +x), or run it through its interpreter")
        }
        let verb = notFound && !sandboxed ? "find" : "execute"
        ToolFailure(
            "Failed to \(verb) \"\(name)\": \(errnoSentence(code))", hints: hints,
            status: notFound ? ExitStatus.notFound : ExitStatus.cannotExecute
        ).exit()
    }
}

/// Passes signals sent to `landlock-exec` on to the supervised command, so that a service
/// manager or a shell can stop it as if it had run without a supervisor.
///
/// A signal sent to a whole process group that the command shares with `landlock-exec`
/// already reaches the command: forwarding it too would deliver it twice ("press Ctrl-C twice
/// to quit" programs would quit at once). Such signals are recognised as sudo(8) does: sent by
/// the kernel (the terminal's Ctrl-C, Ctrl-\, window size changes and hangups go to its
/// foreground process group), or sent by a process of the command's own process group (a
/// `kill(0, ...)` there), while the command is in this process's group.
enum SignalForwarding {
    nonisolated(unsafe) private static var child: pid_t = 0

    /// `si_code` of a signal the kernel sends (`SI_KERNEL`), as the terminal does.
    private static let sentByKernel: Int32 = 0x80
    /// `si_code` of `kill(2)` (`SI_USER`).
    private static let sentByKill: Int32 = 0

    static func forward(to pid: pid_t) {
        child = pid
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT] {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signal, info, _ in
                let child = SignalForwarding.child
                guard child > 0 else { return }
                if let info, SignalForwarding.commandHasItsOwnCopy(info.pointee, child: child) { return }
                kill(child, signal)
            }
            action.sa_flags = SA_RESTART | SA_SIGINFO
            sigaction(signal, &action, nil)
        }
    }

    /// Stops forwarding (the command has ended; its pid may be reused).
    static func stop() {
        child = 0
    }

    /// Whether a signal with `info` went to a process group the command is in as well.
    /// Async-signal-safe: system calls only.
    private static func commandHasItsOwnCopy(_ info: siginfo_t, child: pid_t) -> Bool {
        let group = getpgid(child)
        guard group > 0, group == getpgrp() else { return false }
        return sentToAGroup(info)
    }

    /// Whether a signal with `info` was sent to this process's process group rather than to
    /// this process: by the kernel (a terminal), or by a process of the group.
    static func sentToAGroup(_ info: siginfo_t) -> Bool {
        if info.si_code == sentByKernel { return true }
        if info.si_code == sentByKill {
            let sender = info._sifields._kill.si_pid
            return sender > 0 && getpgid(sender) == getpgrp()
        }
        return false
    }

    /// Ends this process with `signal`, or with 128 + signal if the signal does not kill.
    ///
    /// The status is the command's, but the core dump is not: a command that dies of
    /// SIGSEGV, SIGABRT, SIGQUIT... has dumped its own core (if its limit allowed), and this
    /// process must not add one of itself. Not dumpable, the kernel writes no core whatever
    /// `core_pattern` says (a file, a pipe to a collector), and the wait status has no
    /// "core dumped" bit.
    static func reraise(_ signal: Int32) -> Never {
        _ = ProcessControl.set(ProcessControl.setDumpable, 0)
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_DFL
        sigaction(signal, &action, nil)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signal)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        kill(getpid(), signal)
        exit(128 + signal)
    }
}

/// `prctl(2)` with integer arguments.
///
/// prctl is a C variadic, which Swift does not import, and this target has no C shim: it is
/// called through a pointer with the fixed-arity type of the system call (five unsigned long
/// arguments), which is how the variadic reads them on Linux's 64-bit ABIs.
enum ProcessControl {
    /// `PR_SET_DUMPABLE` (<linux/prctl.h>, not in Swift's Glibc module).
    static let setDumpable: Int32 = 4
    /// `PR_SET_CHILD_SUBREAPER` (Linux 3.4).
    static let setChildSubreaper: Int32 = 36

    private typealias Function = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    private static let function: Function? = dlsym(nil, "prctl").map { unsafeBitCast($0, to: Function.self) }

    /// Returns the result of prctl, or -1 (with `errno`) when it fails or cannot be found.
    static func set(_ option: Int32, _ value: UInt) -> Int32 {
        guard let function else {
            errno = ENOSYS
            return -1
        }
        return function(option, value, 0, 0, 0)
    }
}
