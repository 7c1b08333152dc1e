// SPDX-License-Identifier: Apache-2.0

/// The four Landlock bitmasks an ``AccessRight`` can belong to, named by their audit prefix.
public enum AccessKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// ``FileSystemAccess`` (`fs.`).
    case fileSystem = "fs"
    /// ``NetworkAccess`` (`net.`).
    case network = "net"
    /// ``Scope`` (`scope.`).
    case scope = "scope"
    /// ``RestrictSelfFlags`` (`restrict_self.`).
    case restrictSelf = "restrict_self"

    public var description: String { rawValue }
}

/// One bit of a Landlock bitmask, as the kernel and its audit log name it.
///
/// A right knows its set (``kind``) and its bit, so it converts back to its bitmask without
/// comparing raw values: `NetworkAccess(right)` is `nil` for a right of another set, and
/// `set.contains(right)` is `false` for it.
public struct AccessRight: Sendable, Hashable, CustomStringConvertible {
    /// The bit in the kernel bitmask of ``kind``.
    public let rawValue: UInt64
    /// The bitmask this right belongs to.
    public let kind: AccessKind
    /// The token the kernel prints in audit records (`blockers=`), e.g. `net.bind_udp`.
    public let auditName: String
    /// The short name used by landlockconfig policy files and the CLI, e.g. `bind_udp`.
    public let name: String
    /// The C constant, e.g. `LANDLOCK_ACCESS_NET_BIND_UDP`.
    public let kernelName: String
    /// The ABI that introduced it.
    public let introduced: LandlockABI

    public var description: String { auditName }

    init(rawValue: UInt64, kind: AccessKind, auditName: String, name: String, kernelName: String, introduced: LandlockABI) {
        self.rawValue = rawValue
        self.kind = kind
        self.auditName = auditName
        self.name = name
        self.kernelName = kernelName
        self.introduced = introduced
    }

    /// Every right this library knows, set by set in kernel order.
    public static var all: [AccessRight] {
        FileSystemAccess.rights + NetworkAccess.rights + Scope.rights + RestrictSelfFlags.rights
    }
}

/// What all Landlock bitmasks share: filesystem and network rights, scopes and
/// restrict-self flags. The compatibility engine works on this protocol, so one mechanism
/// degrades every kind of request.
public protocol LandlockBitmask: OptionSet, Sendable, Hashable, CustomStringConvertible
where RawValue == UInt64, Element == Self {
    /// Every bit this library knows, in kernel order.
    static var rights: [AccessRight] { get }
    /// Which bitmask this is.
    static var kind: AccessKind { get }
}

extension LandlockBitmask {
    /// Every bit known to the given ABI.
    ///
    /// There is deliberately no unversioned "all": a program handling "all" rights would
    /// start denying new rights as soon as it is rebuilt with a newer library, without its
    /// authors testing that. Name the ABI your program was tested with.
    public static func all(in abi: LandlockABI) -> Self {
        Self(rawValue: rights.filter { $0.introduced <= abi }.reduce(0) { $0 | $1.rawValue })
    }

    /// The part of this set that the given ABI knows.
    public func supported(in abi: LandlockABI) -> Self { intersection(.all(in: abi)) }

    /// The part of this set that the given ABI does not know.
    public func unsupported(in abi: LandlockABI) -> Self { subtracting(.all(in: abi)) }

    /// The oldest ABI that knows every bit of this set, or `nil` if a bit is unknown.
    public var minimumABI: LandlockABI? {
        LandlockABI.allCases.first { isSubset(of: .all(in: $0)) }
    }

    /// The bits of this set, one ``AccessRight`` each, in kernel order.
    public var accessRights: [AccessRight] {
        Self.rights.filter { rawValue & $0.rawValue != 0 }
    }

    /// The one-bit set of `right`, or `nil` when `right` belongs to another bitmask.
    public init?(_ right: AccessRight) {
        guard right.kind == Self.kind else { return nil }
        self.init(rawValue: right.rawValue)
    }

    /// Whether `right` is one of this set's bits (`false` for a right of another bitmask).
    public func contains(_ right: AccessRight) -> Bool {
        right.kind == Self.kind && rawValue & right.rawValue != 0
    }

    /// The audit names of the bits, e.g. `["fs.read_file", "fs.read_dir"]`.
    public var auditNames: [String] { accessRights.map(\.auditName) }

    /// Bits that no ABI known to this library defines.
    public var unknownBits: UInt64 {
        rawValue & ~Self.rights.reduce(0) { $0 | $1.rawValue }
    }

    /// Looks a bit up by its short name (`read_file`), audit name (`fs.read_file`) or
    /// kernel name (`LANDLOCK_ACCESS_FS_READ_FILE`).
    public init?(name: String) {
        guard let right = Self.rights.first(where: { $0.name == name || $0.auditName == name || $0.kernelName == name })
        else { return nil }
        self.init(rawValue: right.rawValue)
    }

    public var description: String {
        let names = auditNames + (unknownBits == 0 ? [] : ["0x" + String(unknownBits, radix: 16)])
        return names.isEmpty ? "[]" : names.joined(separator: ",")
    }
}

private func right(
    _ bit: UInt64, _ name: String, _ kind: AccessKind, _ kernelPrefix: String, _ abi: LandlockABI
) -> AccessRight {
    AccessRight(
        rawValue: 1 << bit, kind: kind, auditName: kind.rawValue + "." + name, name: name,
        kernelName: kernelPrefix + name.uppercased(), introduced: abi)
}

/// Filesystem access rights (`handled_access_fs`, rules of type ``PathBeneath``).
public struct FileSystemAccess: LandlockBitmask {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static var kind: AccessKind { .fileSystem }

    /// Execute a file. The corresponding kernel constant is `LANDLOCK_ACCESS_FS_EXECUTE`.
    /// Introduced in ABI 1 (Linux 5.13).
    public static let execute = FileSystemAccess(rawValue: 1 << 0)
    /// Open a file with write access. `LANDLOCK_ACCESS_FS_WRITE_FILE`, ABI 1.
    public static let writeFile = FileSystemAccess(rawValue: 1 << 1)
    /// Open a file with read access. `LANDLOCK_ACCESS_FS_READ_FILE`, ABI 1.
    public static let readFile = FileSystemAccess(rawValue: 1 << 2)
    /// Open a directory or list its content. `LANDLOCK_ACCESS_FS_READ_DIR`, ABI 1.
    public static let readDir = FileSystemAccess(rawValue: 1 << 3)
    /// Remove an empty directory or rename one. `LANDLOCK_ACCESS_FS_REMOVE_DIR`, ABI 1.
    public static let removeDir = FileSystemAccess(rawValue: 1 << 4)
    /// Unlink or rename a file. `LANDLOCK_ACCESS_FS_REMOVE_FILE`, ABI 1.
    public static let removeFile = FileSystemAccess(rawValue: 1 << 5)
    /// Create (or rename or link) a character device. `LANDLOCK_ACCESS_FS_MAKE_CHAR`, ABI 1.
    public static let makeChar = FileSystemAccess(rawValue: 1 << 6)
    /// Create (or rename) a directory. `LANDLOCK_ACCESS_FS_MAKE_DIR`, ABI 1.
    public static let makeDir = FileSystemAccess(rawValue: 1 << 7)
    /// Create (or rename or link) a regular file. `LANDLOCK_ACCESS_FS_MAKE_REG`, ABI 1.
    public static let makeReg = FileSystemAccess(rawValue: 1 << 8)
    /// Create (or rename or link) a UNIX domain socket. `LANDLOCK_ACCESS_FS_MAKE_SOCK`, ABI 1.
    public static let makeSock = FileSystemAccess(rawValue: 1 << 9)
    /// Create (or rename or link) a named pipe. `LANDLOCK_ACCESS_FS_MAKE_FIFO`, ABI 1.
    public static let makeFifo = FileSystemAccess(rawValue: 1 << 10)
    /// Create (or rename or link) a block device. `LANDLOCK_ACCESS_FS_MAKE_BLOCK`, ABI 1.
    public static let makeBlock = FileSystemAccess(rawValue: 1 << 11)
    /// Create (or rename or link) a symbolic link. `LANDLOCK_ACCESS_FS_MAKE_SYM`, ABI 1.
    public static let makeSym = FileSystemAccess(rawValue: 1 << 12)
    /// Link or rename a file from or to a different directory. The kernel denies this by
    /// default even when it is not handled, as soon as a ruleset handles any filesystem
    /// right. `LANDLOCK_ACCESS_FS_REFER`, introduced in ABI 2 (Linux 5.19).
    public static let refer = FileSystemAccess(rawValue: 1 << 13)
    /// Truncate a file (`truncate(2)`, `ftruncate(2)`, `O_TRUNC`, `creat(2)`).
    /// `LANDLOCK_ACCESS_FS_TRUNCATE`, introduced in ABI 3 (Linux 6.2).
    public static let truncate = FileSystemAccess(rawValue: 1 << 14)
    /// `ioctl(2)` on character and block devices opened after enforcement.
    /// `LANDLOCK_ACCESS_FS_IOCTL_DEV`, introduced in ABI 5 (Linux 6.10).
    public static let ioctlDev = FileSystemAccess(rawValue: 1 << 15)
    /// Look up a pathname UNIX socket in `connect(2)` or `sendmsg(2)` with an address.
    /// `LANDLOCK_ACCESS_FS_RESOLVE_UNIX`, introduced in ABI 9 (Linux 7.1).
    public static let resolveUnix = FileSystemAccess(rawValue: 1 << 16)

    public static let rights: [AccessRight] = [
        ("execute", LandlockABI.v1), ("write_file", .v1), ("read_file", .v1), ("read_dir", .v1),
        ("remove_dir", .v1), ("remove_file", .v1), ("make_char", .v1), ("make_dir", .v1),
        ("make_reg", .v1), ("make_sock", .v1), ("make_fifo", .v1), ("make_block", .v1),
        ("make_sym", .v1), ("refer", .v2), ("truncate", .v3), ("ioctl_dev", .v5),
        ("resolve_unix", .v9),
    ].enumerated().map { right(UInt64($0.offset), $0.element.0, .fileSystem, "LANDLOCK_ACCESS_FS_", $0.element.1) }

    /// Reading: execute, read files, list directories (rust-landlock's `from_read`).
    public static func read(in abi: LandlockABI) -> FileSystemAccess {
        [.execute, .readFile, .readDir]
    }

    /// Everything but ``read(in:)``: writing, creating, removing, linking, truncating,
    /// device ioctls and UNIX socket lookups, as known to `abi`.
    public static func write(in abi: LandlockABI) -> FileSystemAccess {
        all(in: abi).subtracting(read(in: abi))
    }

    /// The rights that make sense on a file (not a directory), as known to `abi`. The kernel
    /// rejects a rule on a file that grants any other right (EINVAL).
    public static func fileApplicable(in abi: LandlockABI) -> FileSystemAccess {
        FileSystemAccess([.execute, .writeFile, .readFile, .truncate, .ioctlDev, .resolveUnix]).supported(in: abi)
    }
}

/// Network access rights (`handled_access_net`, rules of type ``NetPort``).
///
/// Rules match on the port only: the address and the address family (IPv4 or IPv6) are not
/// considered. Denials fail with `EACCES`.
public struct NetworkAccess: LandlockBitmask {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static var kind: AccessKind { .network }

    /// Bind a TCP socket to a local port. Port 0 means "let the kernel choose an ephemeral
    /// port". `LANDLOCK_ACCESS_NET_BIND_TCP`, introduced in ABI 4 (Linux 6.7).
    public static let bindTCP = NetworkAccess(rawValue: 1 << 0)
    /// Connect a TCP socket to a remote port (also `MSG_FASTOPEN` sends).
    /// `LANDLOCK_ACCESS_NET_CONNECT_TCP`, introduced in ABI 4 (Linux 6.7).
    public static let connectTCP = NetworkAccess(rawValue: 1 << 1)
    /// Set the local port of a UDP socket with `bind(2)`. The kernel's automatic bind of an
    /// unbound socket on its first `connect(2)` or send is checked as a bind to port 0.
    /// `LANDLOCK_ACCESS_NET_BIND_UDP`, introduced in ABI 10 (Linux 7.2).
    public static let bindUDP = NetworkAccess(rawValue: 1 << 2)
    /// Set the remote port of a UDP socket with `connect(2)`, or send a datagram to an
    /// explicit destination (`sendto(2)`, `sendmsg(2)`, `sendmmsg(2)` with an address).
    /// Sends without an address on a connected socket are not checked.
    /// `LANDLOCK_ACCESS_NET_CONNECT_SEND_UDP`, introduced in ABI 10 (Linux 7.2).
    public static let connectSendUDP = NetworkAccess(rawValue: 1 << 3)

    public static let rights: [AccessRight] = [
        right(0, "bind_tcp", .network, "LANDLOCK_ACCESS_NET_", .v4),
        right(1, "connect_tcp", .network, "LANDLOCK_ACCESS_NET_", .v4),
        right(2, "bind_udp", .network, "LANDLOCK_ACCESS_NET_", .v10),
        right(3, "connect_send_udp", .network, "LANDLOCK_ACCESS_NET_", .v10),
    ]

    /// Both TCP rights.
    public static let tcp: NetworkAccess = [.bindTCP, .connectTCP]
    /// Both UDP rights.
    public static let udp: NetworkAccess = [.bindUDP, .connectSendUDP]
}

/// IPC scopes (`scoped`). A scope has no rules: it confines an IPC mechanism to the
/// sandbox's own domain (and domains nested in it). Denials fail with `EPERM`.
public struct Scope: LandlockBitmask {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static var kind: AccessKind { .scope }

    /// No `connect(2)`/`sendto(2)` to abstract UNIX sockets created outside the domain.
    /// `LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET`, introduced in ABI 6 (Linux 6.12).
    public static let abstractUnixSocket = Scope(rawValue: 1 << 0)
    /// No signals to processes outside the domain. `LANDLOCK_SCOPE_SIGNAL`, ABI 6.
    public static let signal = Scope(rawValue: 1 << 1)

    public static let rights: [AccessRight] = [
        right(0, "abstract_unix_socket", .scope, "LANDLOCK_SCOPE_", .v6),
        right(1, "signal", .scope, "LANDLOCK_SCOPE_", .v6),
    ]
}

/// Flags of `landlock_restrict_self(2)`.
public struct RestrictSelfFlags: LandlockBitmask {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static var kind: AccessKind { .restrictSelf }

    /// Do not audit denials of the program that restricts itself until it calls `execve(2)`.
    /// `LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF`, introduced in ABI 7 (Linux 6.15).
    public static let logSameExecOff = RestrictSelfFlags(rawValue: 1 << 0)
    /// Also audit denials after an `execve(2)` inside the new domain.
    /// `LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON`, introduced in ABI 7 (Linux 6.15).
    public static let logNewExecOn = RestrictSelfFlags(rawValue: 1 << 1)
    /// Do not audit the domains nested in this one.
    /// `LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF`, introduced in ABI 7 (Linux 6.15).
    public static let logSubdomainsOff = RestrictSelfFlags(rawValue: 1 << 2)
    /// Restrict every thread of the process, not only the calling one.
    /// `LANDLOCK_RESTRICT_SELF_TSYNC`, introduced in ABI 8 (Linux 7.0). See <doc:Threads>.
    public static let allThreads = RestrictSelfFlags(rawValue: 1 << 3)
    /// Let the kernel set no_new_privs as part of the call.
    /// `LANDLOCK_RESTRICT_SELF_NO_NEW_PRIVS`, introduced in ABI 11 (Linux 7.3). On older
    /// kernels the library sets no_new_privs with `prctl(2)` instead, so this flag is never
    /// reported as dropped when no_new_privs could be set.
    public static let noNewPrivileges = RestrictSelfFlags(rawValue: 1 << 4)

    public static let rights: [AccessRight] = [
        AccessRight(rawValue: 1 << 0, kind: .restrictSelf, auditName: "restrict_self.log_same_exec_off", name: "log_same_exec_off",
                    kernelName: "LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF", introduced: .v7),
        AccessRight(rawValue: 1 << 1, kind: .restrictSelf, auditName: "restrict_self.log_new_exec_on", name: "log_new_exec_on",
                    kernelName: "LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON", introduced: .v7),
        AccessRight(rawValue: 1 << 2, kind: .restrictSelf, auditName: "restrict_self.log_subdomains_off", name: "log_subdomains_off",
                    kernelName: "LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF", introduced: .v7),
        AccessRight(rawValue: 1 << 3, kind: .restrictSelf, auditName: "restrict_self.tsync", name: "tsync",
                    kernelName: "LANDLOCK_RESTRICT_SELF_TSYNC", introduced: .v8),
        AccessRight(rawValue: 1 << 4, kind: .restrictSelf, auditName: "restrict_self.no_new_privs", name: "no_new_privs",
                    kernelName: "LANDLOCK_RESTRICT_SELF_NO_NEW_PRIVS", introduced: .v11),
    ]

    /// The three audit-log flags.
    public static let logging: RestrictSelfFlags = [.logSameExecOff, .logNewExecOn, .logSubdomainsOff]
}
