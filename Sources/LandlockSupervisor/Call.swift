// SPDX-License-Identifier: Apache-2.0
//
// One notified call and what it carries: the notification, the duplicate of the program's
// socket, the calling thread's facts and who performs the call.
internal import CLandlock
import Landlock

#if canImport(Glibc)
import Glibc
#endif

/// The result of an emulated call: the syscall's return value or an errno.
enum Outcome: Equatable {
    case value(Int64)
    case error(Int32)
}

/// The kernel's "restart the call if the handler allows it, else EINTR" code. Returned when a
/// signal is pending for a thread whose blocking call the supervisor is performing.
let errnoRestartSys: Int32 = 512

/// One notification, copied out of the kernel's struct.
struct Notification: Sendable {
    var id: UInt64
    var tid: pid_t
    var nr: Int32
    var args: [UInt64]
}

/// Who performs a call for the program's thread (see Credentials.swift).
enum Performer: Sendable {
    /// A supervisor thread as it is: its credentials are the program thread's.
    case supervisor
    /// An executor thread that first takes these credentials.
    case adopting(Credentials)

    /// Takes the credentials on the calling (executor) thread; `false`: refuse the call.
    func take() -> Bool {
        guard case .adopting(let credentials) = self else { return true }
        return credentials.adopt()
    }

    var isSupervisor: Bool { if case .supervisor = self { true } else { false } }
}

/// The system call numbers the supervisor tells apart.
struct SyscallNumbers {
    let connect = syscallNumber("connect")
    let bind = syscallNumber("bind")
    let sendto = syscallNumber("sendto")
    let sendmsg = syscallNumber("sendmsg")
    let sendmmsg = syscallNumber("sendmmsg")
    /// Calls the filter reports only so that the supervisor forgets what they change.
    /// (A few numbers: arrays, searched in order; a Set would cost its generic metadata at the
    /// supervisor's start, on the program's critical path.)
    let observed: [Int32] = (SeccompFilter.credentialCalls + SeccompFilter.execCalls + ["unshare"]).map(syscallNumber)
    let exec: [Int32] = SeccompFilter.execCalls.map(syscallNumber)
}

private func syscallNumber(_ name: String) -> Int32 { Int32(clandlock_syscall_number(name)) }

/// The UDP layers, the executor domain and the denial logs that apply to one call.
struct CallContext: @unchecked Sendable {
    let policy: UDPPolicy
    let domain: DomainThread
    /// One per layer of `policy`.
    let denials: [DenialSink?]
    /// The sandbox's fs.resolve_unix layer when the supervisor enforces it (UnixPathRules):
    /// nested layers are inside the sandbox, so it applies to their members too.
    let unixPaths: UnixPathRules?
}

/// One notified call being handled: owns the duplicate of the program's socket and the pidfd
/// of its process, closed when the last job working on the call is done.
final class Call: @unchecked Sendable {
    let notification: Notification
    let socket: Int32
    let pidfd: Int32
    /// The UDP layers and the executor domain for the calling thread.
    let context: CallContext
    /// The calling thread's process, pids and credentials.
    let facts: ThreadFacts
    let performer: Performer
    /// `/proc/<tid>/status` of the calling thread, opened on the (unrestricted) monitor thread
    /// before a blocking send leaves it, so that an executor thread whose Landlock domain
    /// cannot open `/proc` still watches the thread's signals; -1 if not opened. The open
    /// file names the task: if it exits, reads fail instead of describing a reused thread id.
    private(set) var statusFD: Int32 = -1

    /// The fs.resolve_unix lookup of the call (`prepareLookup`).
    private(set) var unixLookup: UnixLookup?

    /// On the executor thread, with the program's filesystem view it enters: what the
    /// fs.resolve_unix lookups of the call need, when the supervisor enforces that right and
    /// the socket is a UNIX socket.
    func prepareLookup(_ kind: SocketKind, _ view: FileSystemView?) {
        guard kind.domain == AF_UNIX, let descriptors = context.unixPaths?.descriptors else { return }
        unixLookup = UnixLookup(descriptors: descriptors, rootName: view?.rootName, changesRoot: view?.changesRoot == true)
    }

    /// Opens `statusFD` (monitor thread only, before the call is handed to another thread).
    func openStatus() {
        guard statusFD < 0 else { return }
        statusFD = open("/proc/\(notification.tid)/status", O_RDONLY | O_CLOEXEC)
    }

    init(
        _ notification: Notification, socket: Int32, pidfd: Int32, context: CallContext, facts: ThreadFacts,
        performer: Performer
    ) {
        self.notification = notification
        self.socket = socket
        self.pidfd = pidfd
        self.context = context
        self.facts = facts
        self.performer = performer
    }

    /// Whether closing the duplicate may wait (see `Closer`); set once the socket is known.
    var closeMayWait = true

    deinit {
        Closer.close(socket, mayWait: closeMayWait)
        close(pidfd)
        if statusFD >= 0 { close(statusFD) }
    }
}

let msgDontWait: Int32 = 0x40
let msgNoSignal: Int32 = 0x4000
let msgZeroCopy: Int32 = 0x400_0000
let compatibilityFlag = Int32(bitPattern: 0x8000_0000)  // MSG_CMSG_COMPAT
let socketZeroCopy: Int32 = 60  // SO_ZEROCOPY
let oPath: Int32 = 0o10000000

