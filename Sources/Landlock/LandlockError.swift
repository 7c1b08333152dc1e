// SPDX-License-Identifier: Apache-2.0
public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of the `Landlock` module.
///
/// ``code`` says what went wrong in a way programs can switch on (new codes may be added, so
/// keep a `default` case); ``description`` is a complete sentence for people, e.g.
/// `Failed to open "/srv/data" for a rule: No such file or directory (ENOENT)`.
public struct LandlockError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier of the failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Storage: String, Sendable, Hashable {
            case createRulesetFailed, addRuleFailed, restrictSelfFailed, setNoNewPrivilegesFailed
            case openPathFailed, statFailed
            case emptyAccess, missingHandledAccess, accessNotHandledByRuleset, directoryOnlyAccessOnFile
            case invalidPort, quietNotHandled
            case incompatible, tooManyLayers, internalInconsistency
        }
        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// `landlock_create_ruleset(2)` failed.
        public static let createRulesetFailed = Code(.createRulesetFailed)
        /// `landlock_add_rule(2)` failed.
        public static let addRuleFailed = Code(.addRuleFailed)
        /// `landlock_restrict_self(2)` failed.
        public static let restrictSelfFailed = Code(.restrictSelfFailed)
        /// `prctl(PR_SET_NO_NEW_PRIVS)` failed.
        public static let setNoNewPrivilegesFailed = Code(.setNoNewPrivilegesFailed)
        /// A rule's path could not be opened (missing, or not accessible).
        public static let openPathFailed = Code(.openPathFailed)
        /// A rule's path could not be examined.
        public static let statFailed = Code(.statFailed)
        /// A rule allows no right at all.
        public static let emptyAccess = Code(.emptyAccess)
        /// The ruleset handles nothing: it would restrict nothing.
        public static let missingHandledAccess = Code(.missingHandledAccess)
        /// A rule allows a right that the ruleset does not handle.
        public static let accessNotHandledByRuleset = Code(.accessNotHandledByRuleset)
        /// A rule on a file (not a directory) allows rights that only apply to directories,
        /// under a hard requirement (otherwise they are dropped, as the kernel demands).
        public static let directoryOnlyAccessOnFile = Code(.directoryOnlyAccessOnFile)
        /// A port outside 0...65535.
        public static let invalidPort = Code(.invalidPort)
        /// A quiet mask names rights the ruleset does not handle.
        public static let quietNotHandled = Code(.quietNotHandled)
        /// A hard requirement is not met by the running kernel.
        public static let incompatible = Code(.incompatible)
        /// The process already has the maximum of 16 Landlock layers (`E2BIG`).
        public static let tooManyLayers = Code(.tooManyLayers)
        /// The kernel reported an error that only a bug in this library can cause.
        public static let internalInconsistency = Code(.internalInconsistency)

        public var description: String { storage.rawValue }
    }

    public let code: Code
    /// The errno the kernel reported, when a system call failed.
    public let underlyingError: Errno?
    /// The sentence that describes the failure (without the errno part).
    private let message: String

    init(_ code: Code, _ message: String, errno: Errno? = nil) {
        self.code = code
        self.message = message
        self.underlyingError = errno
    }

    public var description: String {
        guard let errno = underlyingError else { return message }
        return "\(message): \(errno.sentence) (\(errno.symbol))"
    }

    /// An errno that only a bug of this library can cause (EINVAL on flags it computed, EBADF
    /// on its own descriptor...). Reported, never hidden, so that users can file it.
    static func bug(_ operation: String, errno: Errno) -> LandlockError {
        return LandlockError(
            .internalInconsistency,
            "Failed to \(operation): the kernel rejected arguments this library computed (\(errno.symbol)). "
                + "This is a bug in swift-landlock; please report it")
    }
}

extension Errno {
    /// The C name of the errno, e.g. `EACCES`.
    public var symbol: String {
        return errnoNames[rawValue] ?? "errno \(rawValue)"
    }

    /// The C library's text for the errno, e.g. `Permission denied`.
    public var sentence: String { String(cString: strerror(rawValue)) }
}

/// The C names of the errnos this project can meet.
private let errnoNames: [Int32: String] = [
    EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", E2BIG: "E2BIG",
    EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
    EBUSY: "EBUSY", EEXIST: "EEXIST", EXDEV: "EXDEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR",
    EINVAL: "EINVAL", EMFILE: "EMFILE", ENOSPC: "ENOSPC", EROFS: "EROFS", ENAMETOOLONG: "ENAMETOOLONG",
    ENOSYS: "ENOSYS", ELOOP: "ELOOP", ENOMSG: "ENOMSG", EBADFD: "EBADFD", EOPNOTSUPP: "EOPNOTSUPP",
    EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE", EADDRNOTAVAIL: "EADDRNOTAVAIL",
    ECONNREFUSED: "ECONNREFUSED", EDESTADDRREQ: "EDESTADDRREQ", EISCONN: "EISCONN",
    ENOTCONN: "ENOTCONN", ENOTSOCK: "ENOTSOCK", EMSGSIZE: "EMSGSIZE", ENOEXEC: "ENOEXEC",
    ETXTBSY: "ETXTBSY", ECHILD: "ECHILD", EPIPE: "EPIPE", ENETUNREACH: "ENETUNREACH",
    EHOSTUNREACH: "EHOSTUNREACH", EINPROGRESS: "EINPROGRESS", EALREADY: "EALREADY",
    EPROTONOSUPPORT: "EPROTONOSUPPORT", ESOCKTNOSUPPORT: "ESOCKTNOSUPPORT", ENOTTY: "ENOTTY",
]
