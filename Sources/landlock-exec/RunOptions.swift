// SPDX-License-Identifier: Apache-2.0
import Landlock
import SandboxSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `run` subcommand's values as plain data, and what `run` does with them.
///
/// `RunOptions.spec` (RunCommand.swift) is the option table the command line is parsed with;
/// parsing fills this struct, `validate()` checks it, and `run()` launches the sandbox.
struct RunOptions: Equatable {
    var readOnly: [String] = []
    var readExecute: [String] = []
    var readWrite: [String] = []
    var readWriteExecute: [String] = []
    var system = false
    var ignoreMissing = false
    var bindTCP: [PortRange] = []
    var connectTCP: [PortRange] = []
    var bindUDP: [PortRange] = []
    var connectUDP: [PortRange] = []
    var allowDNS = false
    var unrestrictedNet = false
    var udpSupervisor: UDPSupervisorMode = .auto
    var logDenials = false
    var keepNetworkCapabilities = false
    var allowMPTCPAndSCTP = false
    var unrestricted: [NetworkRightName] = []
    var unscoped: [ScopeName] = []
    var logSameExecOff = false
    var logNewExecOn = false
    var logSubdomainsOff = false
    var clearEnv = false
    var env: [String] = []
    var config: [String] = []
    var printPolicy = false
    var json = false
    var bestEffort = false
    var verbose = false
    var quiet = false
    /// The command and its arguments, without the `--` that introduces them.
    var commandLine: [String] = []

    init() {}

    // MARK: Checks

    /// Every check across options, once the command line is parsed.
    func validate() throws {
        try Self.checkNetwork(
            explicit: Self.explicitAccess(bindTCP, connectTCP, bindUDP, connectUDP), unrestrictedNet: unrestrictedNet,
            unrestricted: unrestricted)
        try Self.checkEnvironment(env)
        try validateFlags()
        try validateCommand()
    }

    func validateFlags() throws {
        if json && !printPolicy { throw ValidationError("--json only applies to --print-policy.") }
        if printPolicy && !commandLine.isEmpty {
            throw ValidationError("--print-policy runs nothing; remove the command, or remove --print-policy to run it.")
        }
    }

    func validateCommand() throws {
        if commandLine.isEmpty && !printPolicy {
            throw ValidationError("Missing the command to run; write it after --, as in: landlock-exec --rox /usr -- ls")
        }
        if !config.isEmpty {
            if system { throw ValidationError("--system cannot be combined with --config; add the paths to the policy file instead.") }
            if unrestrictedNet || !unrestricted.isEmpty {
                throw ValidationError("--unrestricted-net and --unrestricted cannot be combined with --config; the policy file says which rights are handled.")
            }
            if !unscoped.isEmpty { throw ValidationError("--unscoped cannot be combined with --config; the policy file says which scopes apply.") }
            if allowDNS { throw ValidationError("--allow-dns cannot be combined with --config; add the DNS rules to the policy file instead.") }
        }
    }

    static func checkNetwork(explicit: NetworkAccess, unrestrictedNet: Bool, unrestricted: [NetworkRightName]) throws {
        let lifted = unrestrictedNet ? NetworkAccess.all(in: .newest) : unrestricted.reduce(NetworkAccess()) { $0.union($1.access) }
        let conflict = explicit.intersection(lifted)
        if let right = conflict.accessRights.first {
            let flag = ["bind_tcp": "--bind-tcp", "connect_tcp": "--connect-tcp", "bind_udp": "--bind-udp"][right.name] ?? "--connect-udp"
            let other = unrestrictedNet ? "--unrestricted-net" : "--unrestricted"
            throw ValidationError("\(flag) cannot be combined with \(other), which leaves \(right.auditName) unrestricted; remove one of them.")
        }
    }

    static func checkEnvironment(_ env: [String]) throws {
        for entry in env {
            let key = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard !key.isEmpty else { throw ValidationError("'--env \(entry)' has no variable name; write KEY=VALUE.") }
        }
    }

    // MARK: What the options mean

    static func explicitAccess(
        _ bindTCP: [PortRange], _ connectTCP: [PortRange], _ bindUDP: [PortRange], _ connectUDP: [PortRange]
    ) -> NetworkAccess {
        var access: NetworkAccess = []
        if !bindTCP.isEmpty { access.insert(.bindTCP) }
        if !connectTCP.isEmpty { access.insert(.connectTCP) }
        if !bindUDP.isEmpty { access.insert(.bindUDP) }
        if !connectUDP.isEmpty { access.insert(.connectSendUDP) }
        return access
    }

    var fileSystemIsEmpty: Bool {
        readOnly.isEmpty && readExecute.isEmpty && readWrite.isEmpty && readWriteExecute.isEmpty
    }

    var pathGrants: [SandboxPolicy.PathGrant] {
        func make(_ paths: [String], _ grant: FileSystemGrant) -> [SandboxPolicy.PathGrant] {
            paths.map { .init(path: $0, access: grant.access, ignoreIfMissing: ignoreMissing, source: "--\(grant.rawValue)") }
        }
        return make(readOnly, .ro) + make(readExecute, .rox) + make(readWrite, .rw) + make(readWriteExecute, .rwx)
    }

    var portGrants: [SandboxPolicy.PortGrant] {
        func make(_ ranges: [PortRange], _ access: NetworkAccess, _ flag: String) -> [SandboxPolicy.PortGrant] {
            ranges.flatMap { range in range.ports.map { .init(port: $0, access: access, source: flag) } }
        }
        return make(bindTCP, .bindTCP, "--bind-tcp") + make(connectTCP, .connectTCP, "--connect-tcp")
            + make(bindUDP, .bindUDP, "--bind-udp") + make(connectUDP, .connectSendUDP, "--connect-udp")
    }

    var scopes: Scope {
        Scope.all(in: .v6).subtracting(unscoped.reduce(Scope()) { $0.union($1.scope) })
    }

    var restrictFlags: RestrictSelfFlags {
        var flags: RestrictSelfFlags = []
        if logSameExecOff { flags.insert(.logSameExecOff) }
        if logNewExecOn { flags.insert(.logNewExecOn) }
        if logSubdomainsOff { flags.insert(.logSubdomainsOff) }
        return flags
    }

    /// The command's environment.
    func environment() -> [String] {
        // The entries as they are (no split into names and values and back: start-up time).
        var result = clearEnv ? [] : ProcessEnvironment.current
        for entry in env {
            let key = ProcessEnvironment.name(of: entry)
            let value: String
            if let equals = entry.firstIndex(of: "=") {
                value = String(entry[entry.index(after: equals)...])
            } else {
                guard let current = getenv(String(key)) else { continue }
                value = String(cString: current)
            }
            result.removeAll { ProcessEnvironment.name(of: $0) == key }
            result.append("\(key)=\(value)")
        }
        return result
    }

    // MARK: Running

    func run() throws {
        var policy: SandboxPolicy
        if !config.isEmpty {
            policy = try PolicyFile.load(paths: config)
            for grant in pathGrants {
                policy.implicitFileSystem.formUnion(grant.access.subtracting(policy.explicitFileSystem))
                policy.paths.append(grant)
            }
            for grant in portGrants {
                policy.explicitNetwork.formUnion(grant.access)
                policy.ports.append(grant)
            }
            if ignoreMissing { for index in policy.paths.indices { policy.paths[index].ignoreIfMissing = true } }
        } else {
            policy = flagPolicy()
        }
        policy.restrictFlags = restrictFlags
        policy.bestEffort = bestEffort
        policy.udpSupervisor = udpSupervisor
        policy.logDenials = logDenials
        policy.keepNetworkCapabilities = keepNetworkCapabilities
        policy.allowUncoveredProtocols = allowMPTCPAndSCTP
        if printPolicy {
            var environment = Enforcement.environment
            environment.errata = nil
            let report = PolicyReport(policy: policy, configs: config, environment: environment)
            print(json ? report.json : report.text, terminator: "")
            return
        }
        var request = LaunchRequest(
            policy: policy, command: commandLine, environment: environment(), verbose: verbose, quiet: quiet)
        request.replacedDefaultPolicy = config.isEmpty && !fileSystemIsEmpty && !system
        Launcher.launch(request)
    }

    /// The policy the flags describe.
    func flagPolicy() -> SandboxPolicy {
        var policy = SandboxPolicy()
        // Filesystem: everything is handled; the grants say what is allowed.
        policy.implicitFileSystem = FileSystemAccess.all(in: FileSystemGrant.policyABI)
        if fileSystemIsEmpty || system { policy.paths += DefaultPolicy.grants }
        policy.paths += pathGrants
        // A grant is an allowance, not a request to restrict: it never makes strict mode refuse.
        // Network: every right handled unless lifted; explicit when a port is given.
        var lifted: NetworkAccess = unrestrictedNet ? NetworkAccess.all(in: .newest) : []
        for name in unrestricted { lifted.formUnion(name.access) }
        policy.implicitNetwork = NetworkAccess.all(in: .newest).subtracting(lifted)
        policy.explicitNetwork = Self.explicitAccess(bindTCP, connectTCP, bindUDP, connectUDP)
        policy.ports = portGrants
        if allowDNS {
            for file in DNSPolicy.files {
                policy.paths.append(.init(path: file, access: [.readFile], ignoreIfMissing: true, source: "--allow-dns"))
            }
            for (port, access) in DNSPolicy.ports {
                policy.ports.append(.init(port: port, access: access, source: "--allow-dns"))
            }
        }
        policy.implicitScopes = scopes
        return policy
    }
}
