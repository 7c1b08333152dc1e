// SPDX-License-Identifier: Apache-2.0
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Whether and how far the running kernel supports Landlock.
public enum LandlockStatus: Sendable, Hashable, CustomStringConvertible {
    /// The kernel has no Landlock syscalls (`ENOSYS`): built without `CONFIG_SECURITY_LANDLOCK`.
    case notImplemented
    /// Landlock is built in but not enabled at boot (`EOPNOTSUPP`): `landlock` is missing from
    /// the `lsm=` boot parameter (or from `CONFIG_LSM`).
    case notEnabled
    /// Landlock is available. `effective` is the newest ABI both the kernel and this library
    /// know; `kernel` is the version the kernel reported, which may be newer than the library.
    case available(effective: LandlockABI, kernel: Int)

    /// The status of the running kernel.
    public static var current: LandlockStatus { LandlockStatus(kernel: .system) }

    package init(kernel: LandlockKernel) {
        do throws(Errno) {
            let version = try kernel.abiVersion()
            guard let abi = LandlockABI(kernelVersion: version) else { self = .notImplemented; return }
            self = .available(effective: abi, kernel: version)
        } catch {
            self = error.rawValue == EOPNOTSUPP ? .notEnabled : .notImplemented
        }
    }

    /// The ABI in effect, or `nil` when Landlock cannot be used.
    public var abi: LandlockABI? {
        if case .available(let abi, _) = self { return abi }
        return nil
    }

    public var description: String {
        switch self {
        case .notImplemented: "Landlock is not implemented by this kernel (ENOSYS)"
        case .notEnabled: "Landlock is not enabled in this kernel (EOPNOTSUPP)"
        case .available(let abi, let kernel) where abi.rawValue == kernel: "Landlock \(abi) is available"
        case .available(let abi, let kernel): "Landlock ABI \(kernel) is available (used as \(abi))"
        }
    }
}

/// Fixed kernel bugs that Landlock reports as errata
/// (`landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_ERRATA)`).
///
/// Most programs should not look at errata, and never as a reason to give up sandboxing.
public struct Errata: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Erratum 1 (ABI 4): TCP rights no longer apply to other stream sockets (SMC, MPTCP, SCTP).
    public static let tcpSocketIdentification = Errata(rawValue: 1 << 0)
    /// Erratum 2 (ABI 6): the signal scope no longer blocks threads of the same process.
    public static let scopedSignalHandling = Errata(rawValue: 1 << 1)
    /// Erratum 3 (ABI 1): directories moved out of a bind mount can no longer widen rights.
    public static let disconnectedDirectoryHandling = Errata(rawValue: 1 << 2)
    /// Erratum 4 (ABI 1): OverlayFS whiteouts need ``FileSystemAccess/makeReg``.
    public static let whiteoutCreation = Errata(rawValue: 1 << 3)

    /// The errata fixed in the running kernel, or `nil` if it cannot tell (no Landlock, or
    /// a kernel older than the errata query).
    public static var current: Errata? {
        guard let bits = try? LandlockKernel.system.errata() else { return nil }
        return Errata(rawValue: bits)
    }
}

/// How much of a ruleset the kernel enforces.
public enum RulesetStatus: Sendable, Hashable, CustomStringConvertible {
    /// Every requested restriction is enforced.
    case fullyEnforced
    /// Some requested restrictions are enforced; ``RestrictionStatus/dropped`` lists the rest.
    case partiallyEnforced
    /// Nothing is enforced (no Landlock, or a soft requirement was not met).
    case notEnforced

    public var description: String {
        switch self {
        case .fullyEnforced: "fully enforced"
        case .partiallyEnforced: "partially enforced"
        case .notEnforced: "not enforced"
        }
    }
}

/// What the compatibility engine left out because the kernel does not know it.
public struct DroppedRequests: Sendable, Hashable, CustomStringConvertible {
    public var handledFileSystem: FileSystemAccess = []
    public var handledNetwork: NetworkAccess = []
    public var scopes: Scope = []
    public var quietFileSystem: FileSystemAccess = []
    public var quietNetwork: NetworkAccess = []
    public var quietScopes: Scope = []
    /// Rules whose quiet marking was dropped (ABI < 10).
    public var quietRules: Int = 0
    public var restrictSelfFlags: RestrictSelfFlags = []

    public init() {}

    /// True when nothing was dropped.
    public var isEmpty: Bool { self == DroppedRequests() }

    /// Every dropped restriction (not logging detail) by its audit name, e.g. `net.bind_udp`.
    public var restrictions: [String] {
        handledFileSystem.auditNames + handledNetwork.auditNames + scopes.auditNames
    }

    /// Everything dropped, by audit name; quiet masks are prefixed `quiet:`.
    public var auditNames: [String] {
        restrictions + restrictSelfFlags.auditNames
            + (quietFileSystem.auditNames + quietNetwork.auditNames + quietScopes.auditNames).map { "quiet:" + $0 }
            + (quietRules > 0 ? ["add_rule.quiet"] : [])
    }

    public var description: String { auditNames.isEmpty ? "nothing" : auditNames.joined(separator: ", ") }
}

/// The outcome of ``CreatedRuleset/restrictSelf(flags:compatibility:)``.
public struct RestrictionStatus: Sendable, Hashable, CustomStringConvertible {
    /// How much of the ruleset is enforced.
    public var ruleset: RulesetStatus
    /// The kernel's Landlock support.
    public var landlock: LandlockStatus
    /// Whether no_new_privs is set on the process.
    public var noNewPrivileges: Bool
    /// Whether every thread of the process is restricted (TSYNC, ABI 8), rather than only the
    /// calling thread and the threads and processes it starts afterwards. See <doc:Threads>.
    public var allThreads: Bool
    /// What was requested but is not enforced, because the kernel does not know it.
    public var dropped: DroppedRequests
    /// Paths of rules skipped because they do not exist (``PathBeneath/ignoreIfMissing``).
    public var ignoredPaths: [String]

    public init(
        ruleset: RulesetStatus, landlock: LandlockStatus, noNewPrivileges: Bool, allThreads: Bool,
        dropped: DroppedRequests = DroppedRequests(), ignoredPaths: [String] = []
    ) {
        self.ruleset = ruleset
        self.landlock = landlock
        self.noNewPrivileges = noNewPrivileges
        self.allThreads = allThreads
        self.dropped = dropped
        self.ignoredPaths = ignoredPaths
    }

    /// One line, e.g. `partially enforced at ABI 7 (dropped: net.bind_udp); all threads; no_new_privs`.
    public var description: String {
        var parts = ["\(ruleset)"]
        if let abi = landlock.abi { parts[0] += " at \(abi)" } else { parts[0] += " (\(landlock))" }
        if !dropped.isEmpty { parts[0] += " (dropped: \(dropped))" }
        parts.append(allThreads ? "all threads" : "calling thread only")
        if noNewPrivileges { parts.append("no_new_privs") }
        if !ignoredPaths.isEmpty { parts.append("ignored missing: " + ignoredPaths.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }
}
