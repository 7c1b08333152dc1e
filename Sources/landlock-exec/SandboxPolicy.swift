// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor

/// A complete sandbox request, produced by the three front ends (command-line flags, the
/// kernel sample's `LL_*` variables, a landlockconfig file) and consumed by ``Launcher``.
///
/// Every restriction is either *explicit* (the user asked for it: a flag, a variable, a line
/// in a policy file) or *implicit* (a default of this tool). In strict mode an explicit request
/// the kernel cannot enforce stops the launch; an implicit one is reported as a warning.
struct SandboxPolicy {
    /// A filesystem grant.
    struct PathGrant {
        var path: String
        var access: FileSystemAccess
        var ignoreIfMissing: Bool
        /// Where it comes from, for messages: `--ro`, `LL_FS_RO`, `policy.toml:12`.
        var source: String
        /// The other places that grant the same path (composed policy files), up to a few.
        var otherSources = OtherSources()

        mutating func addSource(_ place: String) { otherSources.add(place) }
        var sources: String { otherSources.list(after: source) }
    }

    /// A network grant on one port.
    struct PortGrant {
        var port: Int
        var access: NetworkAccess
        var source: String
        var otherSources = OtherSources()

        mutating func addSource(_ place: String) { otherSources.add(place) }
        var sources: String { otherSources.list(after: source) }
    }

    /// Further places a merged rule comes from: the first few, and how many more.
    struct OtherSources {
        private(set) var places: [String] = []
        private(set) var omitted = 0

        mutating func add(_ place: String) {
            if places.count < 7 { places.append(place) } else { omitted += 1 }
        }

        func list(after first: String) -> String {
            ([first] + places).joined(separator: ", ") + (omitted > 0 ? " and \(omitted) more" : "")
        }
    }

    var explicitFileSystem: FileSystemAccess = []
    var implicitFileSystem: FileSystemAccess = []
    var explicitNetwork: NetworkAccess = []
    var implicitNetwork: NetworkAccess = []
    var explicitScopes: Scope = []
    var implicitScopes: Scope = []
    var paths: [PathGrant] = []
    var ports: [PortGrant] = []
    /// Objects whose denials this layer does not audit (`LANDLOCK_ADD_RULE_QUIET`, ABI 10):
    /// quiet rules that allow nothing, and the quiet masks that say which denials they hush.
    var quietPaths: [String] = []
    var quietPorts: [Int] = []
    var quietFileSystem: FileSystemAccess = []
    var quietNetwork: NetworkAccess = []
    var quietScopes: Scope = []
    /// The restrict-self flags asked for (the audit-log flags); no_new_privs is always set.
    var restrictFlags: RestrictSelfFlags = []
    /// Run even when part of the policy cannot be enforced, and say what was dropped.
    var bestEffort = false
    /// Even under best effort, refuse to run when Landlock itself is unavailable (the kernel
    /// sample's behaviour).
    var requireLandlock = false
    /// Who enforces the UDP rights on kernels without Landlock ABI 10.
    var udpSupervisor: UDPSupervisorMode = .auto
    /// Print the UDP calls the supervisor denies, in the shape of Landlock's audit records.
    var logDenials = false
    /// Keep CAP_NET_RAW and CAP_NET_ADMIN (`SandboxedCommand.keepsNetworkCapabilities`).
    var keepNetworkCapabilities = false
    /// Let MPTCP and SCTP sockets open (`SandboxedCommand.allowsUncoveredProtocols`).
    var allowUncoveredProtocols = false

    var handledFileSystem: FileSystemAccess { explicitFileSystem.union(implicitFileSystem) }
    var handledNetwork: NetworkAccess { explicitNetwork.union(implicitNetwork) }
    var scopes: Scope { explicitScopes.union(implicitScopes) }

    /// Whether the policy restricts anything at all.
    var restrictsSomething: Bool {
        !handledFileSystem.isEmpty || !handledNetwork.isEmpty || !scopes.isEmpty
    }

    /// The library's declarative ruleset for this policy. Rights of a grant that the policy
    /// does not handle are left out (a grant on an unhandled right allows nothing more).
    func ruleset() throws(LandlockError) -> Ruleset {
        var ruleset = Ruleset(compatibility: .bestEffort)
        if !handledFileSystem.isEmpty { ruleset = ruleset.handling(handledFileSystem) }
        if !handledNetwork.isEmpty { ruleset = ruleset.handling(handledNetwork) }
        if !scopes.isEmpty { ruleset = ruleset.scoping(scopes) }
        // One rule per path (a path given many times would hold as many descriptors).
        var rules: [(path: String, access: FileSystemAccess, ignoreIfMissing: Bool)] = []
        var ruleIndex: [String: Int] = [:]
        for grant in paths {
            let access = grant.access.intersection(handledFileSystem)
            guard !access.isEmpty else { continue }
            let key = (grant.ignoreIfMissing ? "?" : "!") + grant.path
            if let index = ruleIndex[key] {
                rules[index].access.formUnion(access)
            } else {
                ruleIndex[key] = rules.count
                rules.append((grant.path, access, grant.ignoreIfMissing))
            }
        }
        for rule in rules {
            // A path that is not valid UTF-8 is opened by its original bytes.
            try ruleset.add(PathBeneath(RawBytes.openablePath(rule.path), rule.access, ignoreIfMissing: rule.ignoreIfMissing))
        }
        for grant in ports {
            let access = grant.access.intersection(handledNetwork)
            guard !access.isEmpty else { continue }
            try ruleset.add(NetPort(access, port: grant.port))
        }
        // Quiet masks and rules are audit settings: on kernels without ABI 10 they are dropped
        // (best effort), as the kernel sample drops them.
        let quietFS = quietFileSystem.intersection(handledFileSystem)
        let quietNet = quietNetwork.intersection(handledNetwork)
        let quietScoped = quietScopes.intersection(scopes)
        if !quietFS.isEmpty || !quietNet.isEmpty || !quietScoped.isEmpty {
            ruleset = try ruleset.quieting(quietFS, network: quietNet, scopes: quietScoped, compatibility: .bestEffort)
        }
        if !quietFS.isEmpty {
            for path in quietPaths { try ruleset.add(PathBeneath(path, [], ignoreIfMissing: true, quiet: true)) }
        }
        if !quietNet.isEmpty {
            for port in quietPorts { try ruleset.add(NetPort([], port: port, quiet: true)) }
        }
        return ruleset
    }
}

/// The filesystem access of the command-line groups.
enum FileSystemGrant: String, CaseIterable {
    case ro, rox, rw, rwx

    /// The ABI whose rights the CLI handles by default: the newest the library knows. On an
    /// older kernel the rights it does not know are reported, never silently dropped.
    static let policyABI = LandlockABI.newest

    var access: FileSystemAccess {
        let read: FileSystemAccess = [.readFile, .readDir]
        let write = FileSystemAccess.all(in: FileSystemGrant.policyABI).subtracting(.execute).subtracting(read)
        switch self {
        case .ro: return read
        case .rox: return read.union(.execute)
        case .rw: return read.union(write)
        case .rwx: return FileSystemAccess.all(in: FileSystemGrant.policyABI)
        }
    }
}

/// The built-in policy used when no filesystem flag is given (and added by `--system`).
enum DefaultPolicy {
    /// Read and execute: the system's programs and libraries.
    static let readExecute = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt"]
    /// Read only: configuration.
    static let readOnly = ["/etc", "/dev/zero", "/dev/random", "/dev/urandom"]
    /// Read and write (device ioctls included): the null device, and the controlling terminal,
    /// for prompts (a password read with echo off) and full-screen programs. `/dev/tty` is the
    /// terminal the command's standard streams usually are already, opened before the
    /// sandbox with every right; it names no other terminal (`/dev/pts` and `/dev/ptmx`,
    /// which create and reach other terminals, stay denied).
    static let readWrite = ["/dev/null", "/dev/tty"]

    static let source = "default policy"

    static var grants: [SandboxPolicy.PathGrant] {
        readExecute.map { SandboxPolicy.PathGrant(path: $0, access: FileSystemGrant.rox.access, ignoreIfMissing: true, source: source) }
            + readOnly.map { SandboxPolicy.PathGrant(path: $0, access: FileSystemGrant.ro.access, ignoreIfMissing: true, source: source) }
            + readWrite.map { SandboxPolicy.PathGrant(path: $0, access: FileSystemGrant.rw.access, ignoreIfMissing: true, source: source) }
    }
}

/// What `--allow-dns` grants: the files a resolver reads and the ports it talks to.
enum DNSPolicy {
    static let files = ["/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf"]
    static let ports: [(Int, NetworkAccess)] = [(53, [.connectTCP, .connectSendUDP]), (0, .bindUDP)]
}

/// `--udp-supervisor`: when the user-space supervisor enforces the UDP rights.
enum UDPSupervisorMode: String, CaseIterable {
    /// When the kernel lacks Landlock ABI 10.
    case auto
    /// Always, even on ABI 10 (to compare both, or to test the supervisor).
    case always
    /// Never: on older kernels the UDP rights are not enforced (reported, or refused in
    /// strict mode when they were asked for).
    case never

    var enforcement: UDPEnforcement {
        switch self {
        case .auto: .automatic
        case .always: .supervisor
        case .never: .kernelOnly
        }
    }
}
