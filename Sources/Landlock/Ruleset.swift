// SPDX-License-Identifier: Apache-2.0
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A Landlock policy being described: what it handles (denies unless allowed), the rules that
/// allow, and how to degrade on older kernels.
///
/// A `Ruleset` is a plain value: building one makes no system call, so it can be stored,
/// compared and passed around. ``create()`` hands it to the kernel and returns the
/// ``CreatedRuleset`` that owns the ruleset file descriptor; its
/// ``CreatedRuleset/restrictSelf(flags:compatibility:)`` enforces it.
///
/// ```swift
/// let status = try Ruleset()
///     .handling(FileSystemAccess.all(in: .v6))
///     .handling(NetworkAccess.all(in: .v6))
///     .scoping(Scope.all(in: .v6))
///     .adding(PathBeneath("/usr", FileSystemAccess.read(in: .v6)))
///     .adding(PathBeneath("/tmp", FileSystemAccess.all(in: .v6)))
///     .adding(NetPort(.connectTCP, port: 443))
///     .create()
///     .restrictSelf()
/// print(status) // on ABI 8 or later: fully enforced at ABI 8; all threads; no_new_privs
/// ```
public struct Ruleset: Sendable, Hashable {
    /// The level used by requests that do not name their own.
    public var compatibility: CompatibilityLevel

    private var handledFileSystemByLevel = ByLevel<FileSystemAccess>()
    private var handledNetworkByLevel = ByLevel<NetworkAccess>()
    private var scopesByLevel = ByLevel<Scope>()
    /// The quiet masks (ABI 10), as asked.
    public private(set) var quietFileSystem: FileSystemAccess = []
    public private(set) var quietNetwork: NetworkAccess = []
    public private(set) var quietScopes: Scope = []
    private var quietLevel: CompatibilityLevel = .bestEffort

    /// The rules, in the order they were added, each with its compatibility level.
    public private(set) var rules: [Rule] = []

    /// One rule of a ruleset.
    public enum Rule: Sendable, Hashable {
        case pathBeneath(PathBeneath, CompatibilityLevel)
        case netPort(NetPort, CompatibilityLevel)
    }

    /// A ruleset that handles nothing yet.
    public init(compatibility: CompatibilityLevel = .bestEffort) {
        self.compatibility = compatibility
    }

    /// Every filesystem right handled, at any level.
    public var handledFileSystem: FileSystemAccess { handledFileSystemByLevel.union }
    /// Every network right handled, at any level.
    public var handledNetwork: NetworkAccess { handledNetworkByLevel.union }
    /// Every scope asked for, at any level.
    public var scopes: Scope { scopesByLevel.union }

    // MARK: Building

    /// Handles filesystem rights: they are denied unless a ``PathBeneath`` rule allows them.
    public func handling(_ access: FileSystemAccess, compatibility: CompatibilityLevel? = nil) -> Ruleset {
        var copy = self
        copy.handledFileSystemByLevel[compatibility ?? self.compatibility].formUnion(access)
        return copy
    }

    /// Handles network rights: they are denied unless a ``NetPort`` rule allows them.
    public func handling(_ access: NetworkAccess, compatibility: CompatibilityLevel? = nil) -> Ruleset {
        var copy = self
        copy.handledNetworkByLevel[compatibility ?? self.compatibility].formUnion(access)
        return copy
    }

    /// Confines IPC mechanisms to the sandbox's domain.
    public func scoping(_ scopes: Scope, compatibility: CompatibilityLevel? = nil) -> Ruleset {
        var copy = self
        copy.scopesByLevel[compatibility ?? self.compatibility].formUnion(scopes)
        return copy
    }

    /// Sets the quiet masks (ABI 10): denials of these rights are not audited for objects
    /// added with `quiet: true`; denials of quiet scopes are never audited for this layer.
    /// Each mask must be part of what the ruleset handles.
    public func quieting(
        _ fileSystem: FileSystemAccess = [], network: NetworkAccess = [], scopes: Scope = [],
        compatibility: CompatibilityLevel? = nil
    ) throws(LandlockError) -> Ruleset {
        func check<Bits: LandlockBitmask>(_ quiet: Bits, _ handled: Bits) throws(LandlockError) {
            let extra = quiet.subtracting(handled)
            guard extra.isEmpty else {
                throw LandlockError(
                    .quietNotHandled, "Failed to set the quiet mask: \(extra) is not handled by the ruleset")
            }
        }
        try check(fileSystem, handledFileSystem)
        try check(network, handledNetwork)
        try check(scopes, self.scopes)
        var copy = self
        copy.quietFileSystem.formUnion(fileSystem)
        copy.quietNetwork.formUnion(network)
        copy.quietScopes.formUnion(scopes)
        copy.quietLevel = compatibility ?? self.compatibility
        return copy
    }

    /// Adds a filesystem rule. Its rights must be handled by the ruleset and not empty.
    public func adding(_ rule: PathBeneath, compatibility: CompatibilityLevel? = nil) throws(LandlockError) -> Ruleset {
        var copy = self
        try copy.add(rule, compatibility: compatibility)
        return copy
    }

    /// Adds a network rule. Its port must be in 0...65535 and its rights handled and not empty.
    public func adding(_ rule: NetPort, compatibility: CompatibilityLevel? = nil) throws(LandlockError) -> Ruleset {
        var copy = self
        try copy.add(rule, compatibility: compatibility)
        return copy
    }

    /// Adds a filesystem rule in place.
    public mutating func add(_ rule: PathBeneath, compatibility: CompatibilityLevel? = nil) throws(LandlockError) {
        let object = "\"\(rule.path)\""
        try Self.validate(rule.access, handled: handledFileSystem, quiet: rule.quiet, object: object)
        rules.append(.pathBeneath(rule, compatibility ?? self.compatibility))
    }

    /// Adds a network rule in place.
    public mutating func add(_ rule: NetPort, compatibility: CompatibilityLevel? = nil) throws(LandlockError) {
        guard NetPort.validPorts.contains(rule.port) else {
            throw LandlockError(
                .invalidPort, "Failed to add a rule for port \(rule.port): ports range from 0 to 65535")
        }
        try Self.validate(rule.access, handled: handledNetwork, quiet: rule.quiet, object: "port \(rule.port)")
        rules.append(.netPort(rule, compatibility ?? self.compatibility))
    }

    private static func validate<Bits: LandlockBitmask>(
        _ access: Bits, handled: Bits, quiet: Bool, object: String
    ) throws(LandlockError) {
        if access.isEmpty && !quiet {
            throw LandlockError(.emptyAccess, "Failed to add a rule for \(object): it allows no access right")
        }
        if access.unknownBits != 0 {
            throw LandlockError(
                .accessNotHandledByRuleset, "Failed to add a rule for \(object): \(access) has bits no ABI defines")
        }
        let unhandled = access.subtracting(handled)
        guard unhandled.isEmpty else {
            throw LandlockError(
                .accessNotHandledByRuleset,
                "Failed to add a rule for \(object): \(unhandled) is not handled by the ruleset; handle it before adding the rule")
        }
    }

    // MARK: For LandlockSupervisor (package access only)

    /// The handled network rights by compatibility level. Lets the UDP supervisor tell a
    /// strict (hard requirement) UDP request from a best-effort one.
    package var handledNetworkLevels: ByLevel<NetworkAccess> { handledNetworkByLevel }

    /// This ruleset without the given rights: removed from every handled level, from the
    /// quiet masks and from the rules (a rule left with no right is dropped). Used to hand the
    /// kernel the part of a policy it enforces when the supervisor enforces the rest.
    package func removingAccess(network: NetworkAccess, fileSystem: FileSystemAccess = []) -> Ruleset {
        var copy = self
        for level in CompatibilityLevel.allCases {
            copy.handledNetworkByLevel[level].subtract(network)
            copy.handledFileSystemByLevel[level].subtract(fileSystem)
        }
        copy.quietNetwork.subtract(network)
        copy.quietFileSystem.subtract(fileSystem)
        copy.rules = copy.rules.compactMap { rule in
            switch rule {
            case .netPort(var port, let level):
                port.access.subtract(network)
                return port.access.isEmpty ? nil : .netPort(port, level)
            case .pathBeneath(var beneath, let level):
                beneath.access.subtract(fileSystem)
                return beneath.access.isEmpty ? nil : .pathBeneath(beneath, level)
            }
        }
        return copy
    }

    // MARK: Creating

    /// Degrades the ruleset for the running kernel, opens the rules' paths and creates the
    /// kernel ruleset. Nothing is enforced yet.
    ///
    /// - Throws: ``LandlockError`` for a hard requirement the kernel does not meet, a path
    ///   that cannot be opened, a directory-only right on a file under a hard requirement, or
    ///   a failed system call. On error every file descriptor is closed: nothing changes.
    public func create() throws(LandlockError) -> CreatedRuleset {
        try create(kernel: .system)
    }

    package func create(kernel: LandlockKernel) throws(LandlockError) -> CreatedRuleset {
        let requested = (handledFileSystem, handledNetwork, scopes)
        let degraded = try degraded(for: LandlockStatus(kernel: kernel))
        let engine = degraded.engine
        guard let abi = engine.abi else {
            return CreatedRuleset(fd: -1, engine: engine, requested: requested, ignoredPaths: [], kernel: kernel)
        }
        let attributes = degraded.attributes

        // Rules: open every path first, so that a bad path fails before anything is created.
        var planned: [PlannedRule] = []
        var ignoredPaths: [String] = []
        func closeAll() { for rule in planned { if case .path(let fd, _, _, _) = rule { kernel.close(fd) } } }
        do throws(LandlockError) {
            for rule in degraded.rules {
                switch rule {
                case .pathBeneath(let rule, var access, let quiet, let level):
                    let opened: LandlockKernel.OpenedPath
                    do throws(Errno) {
                        opened = try kernel.openPath(rule.path)
                    } catch {
                        if error == .noSuchFileOrDirectory && rule.ignoreIfMissing {
                            ignoredPaths.append(rule.path)
                            continue
                        }
                        throw LandlockError(.openPathFailed, "Failed to open \"\(rule.path)\" for a rule", errno: error)
                    }
                    if !opened.isDirectory {
                        let directoryOnly = access.subtracting(.fileApplicable(in: abi))
                        if !directoryOnly.isEmpty {
                            if level == .hardRequirement {
                                kernel.close(opened.fd)
                                throw LandlockError(
                                    .directoryOnlyAccessOnFile,
                                    "Failed to add a rule for \"\(rule.path)\": \(directoryOnly) only applies to directories, and it is a file")
                            }
                            access.subtract(directoryOnly)
                        }
                    }
                    guard !access.isEmpty || quiet else { kernel.close(opened.fd); continue }
                    planned.append(.path(opened.fd, access.rawValue, quiet, rule.path))
                case .netPort(let rule, let access, let quiet):
                    planned.append(.port(UInt64(rule.port), access.rawValue, quiet))
                }
            }
        } catch {
            closeAll()
            throw error
        }
        defer { closeAll() }
        if engine.enforcesNothing {
            return CreatedRuleset(fd: -1, engine: engine, requested: requested, ignoredPaths: ignoredPaths, kernel: kernel)
        }

        let fd: Int32
        do throws(Errno) {
            fd = try kernel.createRuleset(attributes)
        } catch {
            switch error {
            case .invalidArgument, .tooManyArguments, .badAddress, .noMessage:
                throw LandlockError.bug("create the ruleset", errno: error)
            default:
                throw LandlockError(.createRulesetFailed, "Failed to create the ruleset", errno: error)
            }
        }
        let created = CreatedRuleset(fd: fd, engine: engine, requested: requested, ignoredPaths: ignoredPaths, kernel: kernel)
        for rule in planned {
            do throws(Errno) {
                switch rule {
                case .path(let parent, let access, let quiet, _):
                    try kernel.addPathBeneath(fd, access, parent, quiet ? 1 : 0)
                case .port(let port, let access, let quiet):
                    try kernel.addNetPort(fd, access, port, quiet ? 1 : 0)
                }
            } catch {
                let object: String
                switch rule {
                case .path(_, _, _, let path):
                    object = "\"\(path)\""
                case .port(let port, _, _):
                    object = "port \(port)"
                }
                switch error {
                case .invalidArgument, .badFileDescriptor, .noMessage, .badAddress, .notPermitted:
                    throw LandlockError.bug("add a rule for \(object)", errno: error)
                default:
                    throw LandlockError(.addRuleFailed, "Failed to add a rule for \(object)", errno: error)
                }
            }
        }
        return created
    }

    /// One rule after degradation, before its path is opened.
    enum DegradedRule {
        case pathBeneath(PathBeneath, FileSystemAccess, quiet: Bool, CompatibilityLevel)
        case netPort(NetPort, NetworkAccess, quiet: Bool)
    }

    /// The request as the kernel of `status` will get it: the handled masks, scopes and quiet
    /// masks with what the ABI lacks removed (or refused, or the whole ruleset disabled, by
    /// compatibility level), and each rule masked with what is left. Pure: no system call,
    /// no path opened. Rules on files lose their directory-only rights later, once opened.
    func degraded(for status: LandlockStatus) throws(LandlockError) -> (
        engine: CompatibilityEngine, attributes: LandlockKernel.RulesetAttributes, rules: [DegradedRule]
    ) {
        guard !(handledFileSystem.isEmpty && handledNetwork.isEmpty && scopes.isEmpty) else {
            throw LandlockError(
                .missingHandledAccess, "Failed to create the ruleset: it handles no access right and no scope")
        }
        var engine = CompatibilityEngine(status: status)
        guard engine.abi != nil else {
            let hard = CompatibilityLevel.hardRequirement
            if !handledFileSystemByLevel[hard].isEmpty || !handledNetworkByLevel[hard].isEmpty || !scopesByLevel[hard].isEmpty {
                throw engine.unavailable(what: "the ruleset")
            }
            engine.disabled = true
            engine.enforcesNothing = true
            return (engine, LandlockKernel.RulesetAttributes(), [])
        }

        // Handled masks and scopes, each level on its own.
        var attributes = LandlockKernel.RulesetAttributes()
        var handledFS: FileSystemAccess = []
        var handledNet: NetworkAccess = []
        var scoped: Scope = []
        for level in CompatibilityLevel.allCases where !handledFileSystemByLevel[level].isEmpty {
            let access = handledFileSystemByLevel[level]
            let kept = try engine.degrade(access, level: level, what: "the handled filesystem access")
            engine.dropped.handledFileSystem.formUnion(access.subtracting(kept))
            handledFS.formUnion(kept)
        }
        for level in CompatibilityLevel.allCases where !handledNetworkByLevel[level].isEmpty {
            let access = handledNetworkByLevel[level]
            let kept = try engine.degrade(access, level: level, what: "the handled network access")
            engine.dropped.handledNetwork.formUnion(access.subtracting(kept))
            handledNet.formUnion(kept)
        }
        for level in CompatibilityLevel.allCases where !scopesByLevel[level].isEmpty {
            let scope = scopesByLevel[level]
            let kept = try engine.degrade(scope, level: level, what: "the scopes")
            engine.dropped.scopes.formUnion(scope.subtracting(kept))
            scoped.formUnion(kept)
        }
        // The dropped handled rights are removed from the masks too: the kernel requires
        // quiet ⊆ handled.
        let quietFS = try engine.degrade(quietFileSystem, level: quietLevel, what: "the quiet mask", minimumABI: .v10)
            .intersection(handledFS)
        let quietNet = try engine.degrade(quietNetwork, level: quietLevel, what: "the quiet mask", minimumABI: .v10)
            .intersection(handledNet)
        let quietScopes = try engine.degrade(self.quietScopes, level: quietLevel, what: "the quiet mask", minimumABI: .v10)
            .intersection(scoped)
        engine.dropped.quietFileSystem = quietFileSystem.subtracting(quietFS)
        engine.dropped.quietNetwork = quietNetwork.subtracting(quietNet)
        engine.dropped.quietScopes = self.quietScopes.subtracting(quietScopes)
        attributes.handledFileSystem = handledFS.rawValue
        attributes.handledNetwork = handledNet.rawValue
        attributes.scoped = scoped.rawValue
        attributes.quietFileSystem = quietFS.rawValue
        attributes.quietNetwork = quietNet.rawValue
        attributes.quietScoped = quietScopes.rawValue

        var degradedRules: [DegradedRule] = []
        for rule in rules {
            switch rule {
            case .pathBeneath(let rule, let level):
                let what = "the rule for \"\(rule.path)\""
                let access = try engine.degrade(rule.access, level: level, what: what).intersection(handledFS)
                let quiet = try quietFlag(rule.quiet, level: level, what: what, engine: &engine)
                degradedRules.append(.pathBeneath(rule, access, quiet: quiet, level))
            case .netPort(let rule, let level):
                let what = "the rule for port \(rule.port)"
                let access = try engine.degrade(rule.access, level: level, what: what).intersection(handledNet)
                let quiet = try quietFlag(rule.quiet, level: level, what: what, engine: &engine)
                guard !access.isEmpty || quiet else { continue }
                degradedRules.append(.netPort(rule, access, quiet: quiet))
            }
        }
        if engine.disabled || attributes.handledFileSystem | attributes.handledNetwork | attributes.scoped == 0 {
            engine.enforcesNothing = true
        }
        return (engine, attributes, degradedRules)
    }

    private func quietFlag(
        _ quiet: Bool, level: CompatibilityLevel, what: String, engine: inout CompatibilityEngine
    ) throws(LandlockError) -> Bool {
        guard quiet else { return false }
        if let abi = engine.abi, abi >= .v10 { return true }
        switch level {
        case .bestEffort: break
        case .softRequirement: engine.disabled = true
        case .hardRequirement:
            throw LandlockError(
                .incompatible,
                "Failed to meet a hard requirement for \(what): quiet rules need Landlock ABI 10 (Linux 7.2) but the kernel provides \(engine.abi.map { "Landlock \($0)" } ?? "no Landlock")")
        }
        engine.dropped.quietRules += 1
        return false
    }

    private enum PlannedRule {
        case path(Int32, UInt64, Bool, String)
        case port(UInt64, UInt64, Bool)
    }
}

/// A ruleset the kernel knows, owning its file descriptor. Consume it with
/// ``restrictSelf(flags:compatibility:)``; dropping it closes the descriptor.
public struct CreatedRuleset: ~Copyable {
    /// The ruleset file descriptor, or -1 when nothing is to be enforced.
    private let fd: Int32
    private let engine: CompatibilityEngine
    private let requested: (FileSystemAccess, NetworkAccess, Scope)
    /// Paths of rules skipped because they did not exist.
    public let ignoredPaths: [String]
    private let kernel: LandlockKernel

    init(
        fd: Int32, engine: CompatibilityEngine, requested: (FileSystemAccess, NetworkAccess, Scope),
        ignoredPaths: [String], kernel: LandlockKernel
    ) {
        self.fd = fd
        self.engine = engine
        self.requested = requested
        self.ignoredPaths = ignoredPaths
        self.kernel = kernel
    }

    deinit {
        if fd >= 0 { kernel.close(fd) }
    }

    /// The kernel's ruleset file descriptor, or `nil` when nothing will be enforced (no
    /// Landlock, a soft requirement not met, or everything dropped). For code that passes the
    /// ruleset to a child process; the descriptor stays owned by this value.
    public var fileDescriptor: Int32? { fd >= 0 ? fd : nil }

    /// The ruleset descriptor and flags for a child process that restricts itself with them
    /// between fork and exec, announced to the kernel abstraction (a mock records it as a
    /// restriction). `nil` when nothing is to be enforced. The descriptor stays owned by this
    /// value: keep it alive until the child has exec'd.
    package borrowing func restrictionForChild(flags: RestrictSelfFlags) -> (ruleset: Int32, flags: UInt32)? {
        guard fd >= 0 else { return nil }
        let kernelFlags = UInt32(truncatingIfNeeded: flags.subtracting(.noNewPrivileges).rawValue)
        kernel.restrictChild(fd, kernelFlags)
        return (fd, kernelFlags)
    }

    /// How much of the ruleset will be enforced.
    public var enforcement: RulesetStatus { engine.rulesetStatus(requested: requested) }

    /// What was dropped so far.
    public var dropped: DroppedRequests { engine.dropped }

    /// The kernel's Landlock support.
    public var landlock: LandlockStatus { engine.status }

    /// The restrict-self flags to pass to the kernel for `flags`, after degradation, and the
    /// status that enforcing them will produce. ``RestrictSelfFlags/noNewPrivileges`` is never
    /// passed to the kernel: the caller sets no_new_privs with `prctl(2)`, which works on every
    /// ABI. Used by ``restrictSelf(flags:compatibility:)`` and by code that restricts a child
    /// process instead of the caller (where `allThreads` holds because the child has one thread).
    package func plan(
        flags: RestrictSelfFlags, compatibility: CompatibilityLevel, singleThreaded: Bool
    ) throws(LandlockError) -> (kernelFlags: UInt32, status: RestrictionStatus) {
        try engine.restriction(
            flags: flags, compatibility: compatibility, singleThreaded: singleThreaded, enforces: fd >= 0,
            requested: requested, ignoredPaths: ignoredPaths)
    }

    /// Enforces the ruleset on the calling process and consumes it.
    ///
    /// By default every thread is restricted where the kernel can (ABI 8) and no_new_privs is
    /// set. Under best effort, on older kernels only the calling thread (and what it starts
    /// afterwards) is restricted and ``RestrictionStatus/allThreads`` is `false`; ask for
    /// ``CompatibilityLevel/hardRequirement`` to fail instead. See <doc:Threads>.
    ///
    /// - Returns: what is enforced. Missing kernel support is reported here, not thrown,
    ///   unless a hard requirement is not met.
    public consuming func restrictSelf(
        flags: RestrictSelfFlags = [.allThreads, .noNewPrivileges], compatibility: CompatibilityLevel = .bestEffort
    ) throws(LandlockError) -> RestrictionStatus {
        let (kernelFlags, status) = try plan(flags: flags, compatibility: compatibility, singleThreaded: false)
        if flags.contains(.noNewPrivileges) {
            do throws(Errno) {
                try kernel.setNoNewPrivileges()
            } catch {
                throw LandlockError(.setNoNewPrivilegesFailed, "Failed to set no_new_privs", errno: error)
            }
        }
        guard fd >= 0 else { return status }
        do throws(Errno) {
            try kernel.restrictSelf(fd, kernelFlags)
        } catch {
            switch error {
            case .tooManyArguments:
                throw LandlockError(
                    .tooManyLayers, "Failed to restrict the process: it already has the maximum of 16 Landlock layers",
                    errno: error)
            case .notPermitted:
                throw LandlockError(
                    .restrictSelfFailed,
                    "Failed to restrict the process: it needs no_new_privs or CAP_SYS_ADMIN", errno: error)
            case .invalidArgument, .badFileDescriptor, .fileDescriptorInBadState:
                throw LandlockError.bug("restrict the process", errno: error)
            default:
                throw LandlockError(.restrictSelfFailed, "Failed to restrict the process", errno: error)
            }
        }
        return status
    }
}

extension Errno {
    fileprivate static var tooManyArguments: Errno { .argListTooLong }
    fileprivate static var fileDescriptorInBadState: Errno { Errno(rawValue: Glibc.EBADFD) }
}

/// One value per compatibility level: a fixed table of three.
///
/// Not a Dictionary: a ruleset is built on every launch of a sandboxed command, and the first
/// use of a dictionary keyed by a library type costs the Swift runtime a search of every
/// protocol conformance in the binary.
package struct ByLevel<Value: SetAlgebra & Sendable & Hashable>: Sendable, Hashable {
    private var bestEffort = Value()
    private var softRequirement = Value()
    private var hardRequirement = Value()

    package init() {}

    /// The value at `level` (empty when nothing was asked at that level).
    package subscript(level: CompatibilityLevel) -> Value {
        get {
            switch level {
            case .bestEffort: bestEffort
            case .softRequirement: softRequirement
            case .hardRequirement: hardRequirement
            }
        }
        set {
            switch level {
            case .bestEffort: bestEffort = newValue
            case .softRequirement: softRequirement = newValue
            case .hardRequirement: hardRequirement = newValue
            }
        }
    }

    /// Every level's value together.
    package var union: Value { bestEffort.union(softRequirement).union(hardRequirement) }
}
