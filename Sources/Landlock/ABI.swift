// SPDX-License-Identifier: Apache-2.0

/// A version of the Landlock kernel ABI.
///
/// Each version adds rights or flags. A program states the ABI it was *written and tested*
/// for (for example `FileSystemAccess.all(in: .v5)`) and lets the compatibility engine
/// degrade on older kernels; see <doc:CompatibilityAndBestEffort>.
///
/// - Warning: Never derive the rights you handle from the running kernel's ABI. A newer
///   kernel would then silently deny rights your program was never tested without, and an
///   older one would silently allow what you meant to deny. Pick the ABI in your source code.
public enum LandlockABI: Int, Sendable, CaseIterable, Comparable, Hashable, CustomStringConvertible {
    /// Linux 5.13: the three syscalls and thirteen filesystem rights.
    case v1 = 1
    /// Linux 5.19: ``FileSystemAccess/refer``.
    case v2
    /// Linux 6.2: ``FileSystemAccess/truncate``.
    case v3
    /// Linux 6.7: TCP ``NetworkAccess/bindTCP`` and ``NetworkAccess/connectTCP``.
    case v4
    /// Linux 6.10: ``FileSystemAccess/ioctlDev``.
    case v5
    /// Linux 6.12: the IPC scopes ``Scope/abstractUnixSocket`` and ``Scope/signal``.
    case v6
    /// Linux 6.15: audit logging and the three log flags of ``RestrictSelfFlags``.
    case v7
    /// Linux 7.0: ``RestrictSelfFlags/allThreads`` (TSYNC).
    case v8
    /// Linux 7.1: ``FileSystemAccess/resolveUnix``.
    case v9
    /// Linux 7.2: UDP ``NetworkAccess/bindUDP`` and ``NetworkAccess/connectSendUDP``, and the
    /// quiet masks with ``PathBeneath/quiet`` / ``NetPort/quiet``.
    case v10
    /// Linux 7.3: ``RestrictSelfFlags/noNewPrivileges``.
    case v11

    /// The newest ABI this version of the library knows.
    public static var newest: LandlockABI { .v11 }

    /// The ABI a kernel reporting `version` provides, as far as this library knows:
    /// `nil` below 1, ``newest`` for any version newer than the library.
    public init?(kernelVersion version: Int) {
        guard version >= 1 else { return nil }
        self = LandlockABI(rawValue: min(version, LandlockABI.newest.rawValue))!
    }

    /// The first mainline Linux release with this ABI.
    public var linuxVersion: String {
        switch self {
        case .v1: "5.13"
        case .v2: "5.19"
        case .v3: "6.2"
        case .v4: "6.7"
        case .v5: "6.10"
        case .v6: "6.12"
        case .v7: "6.15"
        case .v8: "7.0"
        case .v9: "7.1"
        case .v10: "7.2"
        case .v11: "7.3"
        }
    }

    public var description: String { "ABI \(rawValue)" }

    public static func < (lhs: LandlockABI, rhs: LandlockABI) -> Bool { lhs.rawValue < rhs.rawValue }
}
