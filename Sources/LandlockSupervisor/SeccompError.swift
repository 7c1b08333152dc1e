// SPDX-License-Identifier: Apache-2.0
public import SystemPackage
import Landlock

/// The one error type of the `LandlockSupervisor` module.
///
/// ``code`` is stable and can be switched on (keep a `default` case: codes may be added);
/// ``description`` is one sentence, e.g.
/// `Failed to start the UDP supervisor: pidfd_getfd is not available: Function not implemented (ENOSYS)`.
public struct SeccompError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier of the failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Storage: String, Sendable, Hashable {
            case supervisorUnavailable, spawnFailed, executableNotFound, supervisorRequired, internalInconsistency
            case outerSupervisor
        }
        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// The UDP rules need the supervisor (the kernel lacks Landlock ABI 10) and it cannot run
        /// here; raised for strict requests only. Best effort reports it in ``SandboxStatus``.
        public static let supervisorUnavailable = Code(.supervisorUnavailable)
        /// Starting the sandboxed program failed; the message names the stage (`execve`,
        /// `seccomp`, `landlock_restrict_self`...).
        public static let spawnFailed = Code(.spawnFailed)
        /// The executable was not found in `PATH`.
        public static let executableNotFound = Code(.executableNotFound)
        /// ``PreparedSandbox/execReplacingCurrentProcess()`` was called for a policy that needs
        /// the supervisor, which cannot supervise the process it replaces.
        public static let supervisorRequired = Code(.supervisorRequired)
        /// A failure only a bug in this library can cause.
        public static let internalInconsistency = Code(.internalInconsistency)
        /// A strict policy with network rules, inside a sandbox whose seccomp supervisor performs
        /// socket calls outside this policy's Landlock layer (see
        /// ``SupervisorAvailability/outerListener``).
        public static let outerSupervisor = Code(.outerSupervisor)

        public var description: String { storage.rawValue }
    }

    public let code: Code
    /// The errno, when a system call failed.
    public let underlyingError: Errno?
    private let message: String
    /// For ``Code/spawnFailed``: the child's stage (`CLANDLOCK_SPAWN_STAGE_*`), or 0.
    var stage: Int32 = 0

    init(_ code: Code, _ message: String, errno: Errno? = nil) {
        self.code = code
        self.message = message
        self.underlyingError = errno
    }

    public var description: String {
        guard let errno = underlyingError else { return message }
        return "\(message): \(errno.sentence) (\(errno.symbol))"
    }
}
