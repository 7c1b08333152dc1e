// SPDX-License-Identifier: Apache-2.0
import Landlock
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
}

/// The one place that turns a policy into a running sandboxed command.
///
/// Today it uses the Landlock library directly: it builds and creates the ruleset, checks
/// strictness against what the kernel will enforce, restricts this process and replaces it with
/// the command (`execve`, no fork: the exit status, signals and inherited file descriptors are
/// the command's own). When `LandlockSupervisor` lands, this is the only code to switch.
enum Launcher {
    static func launch(_ request: LaunchRequest) -> Never {
        let executable = resolveExecutable(request)
        let policy = request.policy

        let created: CreatedRuleset
        do {
            created = try policy.ruleset().create()
        } catch {
            failure(for: error, policy: policy).exit()
        }

        // What the kernel will enforce, before anything is enforced.
        let flags = policy.restrictFlags.union(.noNewPrivileges)
        let preview: RestrictionStatus
        do {
            preview = try created.plan(flags: flags, compatibility: .bestEffort, singleThreaded: true).status
        } catch {
            failure(for: error, policy: policy).exit()
        }
        check(preview, policy: policy, quiet: request.quiet)

        var status: RestrictionStatus
        do {
            // No TSYNC: execve(2) ends every other thread of this process right after.
            status = try created.restrictSelf(flags: flags, compatibility: .bestEffort)
        } catch {
            failure(for: error, policy: policy).exit()
        }
        status.allThreads = true
        if request.verbose {
            var shown = status
            shown.ignoredPaths = []
            writeStandardError("landlock-exec: \(shown)\n")
        }
        if request.warnIgnoredPaths || request.verbose {
            let defaults = policy.paths.filter { $0.source == DefaultPolicy.source }.map(\.path)
            for path in status.ignoredPaths where !defaults.contains(path) {
                warn("skipped \"\(path)\": \(errnoSentence(ENOENT))")
            }
        }
        if request.announce { writeStandardError("Executing the sandboxed command...\n") }
        execute(executable, request)
    }

    // MARK: Strictness

    /// Refuses (strict) or reports (best effort) what the kernel will not enforce.
    private static func check(_ status: RestrictionStatus, policy: SandboxPolicy, quiet: Bool) {
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
        let dropped = status.dropped
        var explicit: [(AccessRight, RightKind)] = []
        var implicit: [(AccessRight, RightKind)] = []
        func sort<Bits: LandlockBitmask>(_ bits: Bits, explicitBits: Bits, kind: RightKind) {
            for right in bits.accessRights {
                if explicitBits.rawValue & right.rawValue != 0 { explicit.append((right, kind)) } else { implicit.append((right, kind)) }
            }
        }
        sort(dropped.handledFileSystem, explicitBits: policy.explicitFileSystem, kind: .fileSystem)
        sort(dropped.handledNetwork, explicitBits: policy.explicitNetwork, kind: .network)
        sort(dropped.scopes, explicitBits: policy.explicitScopes, kind: .scope)
        sort(dropped.restrictSelfFlags, explicitBits: policy.restrictFlags, kind: .restrictSelf)

        if !explicit.isEmpty {
            if policy.bestEffort {
                for line in describe(explicit, status.landlock) { warn("not enforced: \(line)") }
            } else {
                var hints: [String] = []
                if explicit.contains(where: { $0.1 == .network && NetworkAccess.udp.rawValue & $0.0.rawValue != 0 }) {
                    hints.append("the UDP rights need Linux 7.2 (Landlock ABI 10); remove the UDP options, update the kernel, or add --best-effort")
                } else {
                    hints.append("update the kernel (it provides Landlock ABI \(abi.rawValue)), remove the options that need a newer one, or add --best-effort")
                }
                ToolFailure(
                    "Refusing to run: this kernel cannot enforce " + describe(explicit, status.landlock).joined(separator: "; "),
                    hints: hints
                ).exit()
            }
        }
        if !implicit.isEmpty && !quiet {
            warn("not restricted on this kernel: " + describe(implicit, status.landlock).joined(separator: "; ")
                + " (--quiet hides this)")
        }
    }

    /// `net.bind_udp, net.connect_send_udp: kernel ABI 7 < 10 and ...`, grouping rights by reason.
    private static func describe(_ rights: [(AccessRight, RightKind)], _ status: LandlockStatus) -> [String] {
        var groups: [(reason: String, names: [String])] = []
        for (right, kind) in rights {
            var reason = Enforcement.reason(for: right, kind: kind, status: status)
            if reason.hasPrefix("not enforced: ") { reason.removeFirst("not enforced: ".count) }
            if let index = groups.firstIndex(where: { $0.reason == reason }) {
                groups[index].names.append(right.auditName)
            } else {
                groups.append((reason, [right.auditName]))
            }
        }
        return groups.map { $0.names.joined(separator: ", ") + " (\($0.reason))" }
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
        if name.contains("/") {
            if let problem = executableProblem(name) { reportExecFailure(name, errno: problem, sandboxed: false) }
            return name
        }
        let path = lookup("PATH", in: request.environment) ?? getenv("PATH").map { String(cString: $0) }
            ?? "/usr/local/bin:/usr/bin:/bin"
        var firstProblem: Int32?
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            guard let problem = executableProblem(candidate) else { return candidate }
            if problem != ENOENT && problem != ENOTDIR && firstProblem == nil { firstProblem = problem }
        }
        reportExecFailure(name, errno: firstProblem ?? ENOENT, sandboxed: false)
    }

    /// Why `path` cannot be executed (as an errno), or `nil` when it can.
    private static func executableProblem(_ path: String) -> Int32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno }
        if info.st_mode & S_IFMT == S_IFDIR { return EACCES }
        guard access(path, X_OK) == 0 else { return errno }
        return nil
    }

    private static func lookup(_ key: String, in environment: [String]) -> String? {
        let prefix = key + "="
        return environment.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    private static func execute(_ path: String, _ request: LaunchRequest) -> Never {
        let argv = request.command.map { strdup($0) } + [nil]
        let envp = request.environment.map { strdup($0) } + [nil]
        execve(path, argv, envp)
        reportExecFailure(request.command[0], errno: errno, sandboxed: true)
    }

    /// Reports a failed or impossible `execve` and exits 126 or 127, as `env(1)` does.
    private static func reportExecFailure(_ name: String, errno code: Int32, sandboxed: Bool) -> Never {
        let notFound = code == ENOENT || code == ENOTDIR
        var hints: [String] = []
        if sandboxed && (code == EACCES || code == EPERM) {
            hints.append(
                "the sandbox may deny executing the binary, its interpreter (#! line or ELF loader) or its shared "
                    + "libraries: allow them with --rox (for example --rox /usr), or use the default policy")
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
