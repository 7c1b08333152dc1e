// SPDX-License-Identifier: Apache-2.0

/// A filesystem rule (`LANDLOCK_RULE_PATH_BENEATH`): allows rights on a file, or on a
/// directory and everything beneath it.
///
/// The path is opened (`O_PATH`) when the ruleset is created, so a rule names the object the
/// path designates at that moment; renaming it later does not change the rule.
public struct PathBeneath: Sendable, Hashable {
    /// The file or directory.
    public var path: String
    /// The rights allowed beneath ``path``.
    public var access: FileSystemAccess
    /// Skip this rule, and report it in ``RestrictionStatus/ignoredPaths``, if the path does
    /// not exist, instead of failing with ``LandlockError/Code/openPathFailed``.
    public var ignoreIfMissing: Bool
    /// Mark the object as quiet for audit in this layer (`LANDLOCK_ADD_RULE_QUIET`, ABI 10):
    /// denials of rights in the ruleset's quiet mask are not logged for it.
    public var quiet: Bool

    public init(_ path: String, _ access: FileSystemAccess, ignoreIfMissing: Bool = false, quiet: Bool = false) {
        self.path = path
        self.access = access
        self.ignoreIfMissing = ignoreIfMissing
        self.quiet = quiet
    }
}

/// A network rule (`LANDLOCK_RULE_NET_PORT`): allows rights on one TCP/UDP port, for IPv4
/// and IPv6 alike. For the bind rights, port 0 means "let the kernel pick an ephemeral port"
/// (and, for UDP, the kernel's automatic bind on first connect or send); it does not grant
/// any specific port.
public struct NetPort: Sendable, Hashable {
    /// The port, in host byte order. Valid ports are 0...65535; others are rejected with
    /// ``LandlockError/Code/invalidPort`` when the rule is added.
    public var port: Int
    /// The rights allowed on ``port``.
    public var access: NetworkAccess
    /// Mark the port as quiet for audit in this layer (ABI 10).
    public var quiet: Bool

    public init(_ access: NetworkAccess, port: Int, quiet: Bool = false) {
        self.port = port
        self.access = access
        self.quiet = quiet
    }

    /// The valid port numbers.
    public static let validPorts: ClosedRange<Int> = 0...65535
}
