// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import Landlock
import Synchronization

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

/// What the supervisor knows about a socket (`getsockopt` on the duplicate).
struct SocketKind {
    var domain: Int32
    var type: Int32
    var proto: Int32

    init(domain: Int32, type: Int32, proto: Int32) {
        self.domain = domain
        self.type = type
        self.proto = proto
    }

    init?(_ fd: Int32) {
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(4)
            return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        guard let domain = option(SO_DOMAIN), let type = option(SO_TYPE), let proto = option(SO_PROTOCOL) else {
            return nil
        }
        self.domain = domain
        self.type = type
        self.proto = proto
    }

    /// `sk_is_udp()`: inet family, SOCK_DGRAM, IPPROTO_UDP.
    var udpFamily: UDPSocketFamily? {
        guard type == Int32(SOCK_DGRAM.rawValue), proto == Int32(IPPROTO_UDP) else { return nil }
        return domain == AF_INET ? .inet : domain == AF_INET6 ? .inet6 : nil
    }

    var isStream: Bool { type == Int32(SOCK_STREAM.rawValue) }
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

/// The supervisor of one sandboxed process tree: receives its notifications and performs the
/// calls it allows.
final class Supervisor: @unchecked Sendable {
    let listener: Int32
    /// Runs work in the program's Landlock domain (see `DomainThread`).
    let domain: DomainThread
    /// Serializes UDP decisions and the calls that follow, so that a bound/unbound state read
    /// for the autobind check still holds when the call runs.
    let udpLock = Mutex(())
    let numbers = SyscallNumbers()
    let supportsThreadPidfd: Bool
    /// The process the supervisor runs in: where the sandbox's parent chains end, and the pid
    /// the program's peers see.
    let supervisorProcess = getpid()
    /// Capabilities the program does not have (see `SandboxedCommand.keepsNetworkCapabilities`),
    /// dropped by the supervisor's own threads too, so that their credentials stay the
    /// program's.
    let droppedCapabilities: UInt64
    /// The credentials of the supervisor's threads, read by the monitor thread once it has
    /// dropped `droppedCapabilities` (the domain thread dropped them before the program
    /// started).
    private(set) var reference = Credentials()
    /// Nested sandboxes registered with this supervisor (monitor thread only).
    var nested = NestedLayerRegistry()
    /// What is known of the program's threads (monitor thread only).
    var threads: ThreadTable
    /// The sandbox's own context: its policy, its domain thread, its denial log for each
    /// layer. Built once: the fast path uses it for every call.
    let rootContext: CallContext

    init(listener: Int32, policy: UDPPolicy, denials: DenialSink?, domain: DomainThread, droppedCapabilities: UInt64) {
        self.listener = listener
        self.domain = domain
        self.droppedCapabilities = droppedCapabilities
        rootContext = CallContext(
            policy: policy, domain: domain, denials: Array(repeating: denials, count: policy.layers.count))
        let probe = clandlock_pidfd_open(getpid(), UInt32(O_EXCL))  // PIDFD_THREAD (6.9)
        supportsThreadPidfd = probe >= 0
        if probe >= 0 { close(probe) }
        threads = ThreadTable(threadPidfds: supportsThreadPidfd)
    }

    // MARK: The notification loop

    /// Receives notifications until every task under the filter is gone (POLLHUP).
    func run() {
        _ = clandlock_block_all_signals()
        if droppedCapabilities != 0 { _ = clandlock_drop_capabilities(droppedCapabilities) }
        // Unreadable (no /proc): no thread is ever taken to have the supervisor's credentials,
        // so every call is performed by an executor that takes the program's (fail closed).
        reference = ThreadFacts(thread: clandlock_gettid())?.credentials ?? Credentials()
        while true {
            // RECV blocks in the kernel (where SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP applies); poll
            // only after a failure, to tell "interrupted" from "every task is gone" (POLLHUP).
            var raw = clandlock_seccomp_notif()
            if clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_recv, &raw) != 0 {
                let error = lastErrno
                var pollfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                if poll(&pollfd, 1, 0) >= 0, pollfd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0,
                    pollfd.revents & Int16(POLLIN) == 0
                {
                    break
                }
                if error == EINTR || error == ENOENT { continue }
                break
            }
            if raw.data.nr == numbers.sendto && handleSendtoFast(raw) { continue }
            let args = withUnsafeBytes(of: raw.data.args) { Array($0.bindMemory(to: UInt64.self)) }
            handle(Notification(id: raw.id, tid: pid_t(raw.pid), nr: raw.data.nr, args: args))
        }
        close(listener)
        threads.removeAll()
        domain.stop()
    }

    func isValid(_ id: UInt64) -> Bool {
        var copy = id
        return clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_id_valid, &copy) == 0
    }

    /// Answers a notification. The kernel-internal restart codes (512...530: ERESTARTSYS,
    /// ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK, ...) are turned into EINTR unless
    /// `restartVerified`: the syscall exit path turns them into a restart or EINTR only when
    /// the thread has TIF_SIGPENDING set; otherwise the program would see errno 512.
    func reply(_ id: UInt64, _ outcome: Outcome, restartVerified: Bool = false) {
        var response = clandlock_seccomp_notif_resp(id: id, val: 0, error: 0, flags: 0)
        switch outcome {
        case .value(let value): response.val = value
        case .error(let error):
            response.error = -((512...530).contains(error) && !(restartVerified && error == errnoRestartSys) ? EINTR : error)
        }
        // ENOENT: the task was interrupted (killed) meanwhile; nothing to do.
        _ = clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_send, &response)
    }

    /// Lets a call the supervisor only observes run as the program made it.
    private func replyContinue(_ id: UInt64) {
        var response = clandlock_seccomp_notif_resp(
            id: id, val: 0, error: 0, flags: UInt32(CLANDLOCK_SECCOMP_USER_NOTIF_FLAG_CONTINUE))
        _ = clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_send, &response)
    }

    /// Who performs the calls of a thread with these facts: the supervisor's threads when its
    /// credentials are theirs, else an executor that takes them.
    func performer(for facts: ThreadFacts) -> Performer {
        facts.credentials == reference ? .supervisor : .adopting(facts.credentials.adoptable(from: reference))
    }

    // MARK: Dispatch

    func handle(_ n: Notification) {
        if isNestCall(n) { return handleNestCall(n) }
        if numbers.observed.contains(n.nr) { return observe(n) }
        // What the kernel refuses before it looks at the socket: sendmsg and sendmmsg with
        // MSG_CMSG_COMPAT, sendto with a buffer outside user space.
        let compatibility = UInt64(UInt32(bitPattern: compatibilityFlag))
        if n.nr == numbers.sendmsg && n.args[2] & compatibility != 0 { return reply(n.id, .error(EINVAL)) }
        if n.nr == numbers.sendmmsg && n.args[3] & compatibility != 0 { return reply(n.id, .error(EINVAL)) }
        if n.nr == numbers.sendto && !isUserRange(n.args[1], min(n.args[2], MessageLimits.transfer)) {
            return reply(n.id, .error(EFAULT))
        }
        guard let record = threads.record(of: n.tid, isWaiting: { isValid(n.id) }),
            let context = context(of: n.tid, record)
        else { return reply(n.id, .error(EACCES)) }
        let performer = performer(for: record.facts)
        // A pidfd for the task's process: PIDFD_THREAD where available, else through the Tgid.
        var pidfd = supportsThreadPidfd ? clandlock_pidfd_open(n.tid, UInt32(O_EXCL)) : -1
        if pidfd < 0 { pidfd = clandlock_pidfd_open(record.facts.process, 0) }
        guard pidfd >= 0 else { return reply(n.id, .error(EACCES)) }  // A missing pidfd fails this call only.
        guard isValid(n.id) else { close(pidfd); return }  // the tid may have been reused: the task is gone
        let duplicate = clandlock_pidfd_getfd(pidfd, Int32(truncatingIfNeeded: n.args[0]), 0)
        guard duplicate >= 0 else {
            let error = lastErrno
            close(pidfd)
            return reply(n.id, .error(error == EBADF ? EBADF : error == ESRCH ? ESRCH : EACCES))
        }
        let call = Call(n, socket: duplicate, pidfd: pidfd, context: context, facts: record.facts, performer: performer)
        guard let kind = SocketKind(call.socket) else {
            // connect(2) reads the address before it asks for the socket.
            if n.nr == numbers.connect, case .failure(let error) = copyAddress(n.tid, n.args[1], n.args[2]) {
                return reply(n.id, .error(error.value))
            }
            return reply(n.id, .error(ENOTSOCK))
        }
        if !performer.isSupervisor && kind.domain == AF_UNIX {
            // The peer would see the supervisor's pid, a process with other credentials: refused,
            // with the kernel's EPERM when the program forges credentials it may not claim.
            return reply(n.id, .error(forgesCredentials(n, kind, record.facts) ? EPERM : EACCES))
        }
        switch n.nr {
        case numbers.connect: handleAddressCall(.connect, call, kind)
        case numbers.bind: handleAddressCall(.bind, call, kind)
        case numbers.sendto: handleSendto(call, kind)
        case numbers.sendmsg:
            switch copyMessage(n.tid, n.args[1], kind) {
            case .success(let message):
                guard isValid(n.id) else { return }
                send([message], single: true, call, kind, flags: Int32(truncatingIfNeeded: n.args[2]))
            case .failure(let error):
                reply(n.id, .error(error.value))
            }
        case numbers.sendmmsg:
            switch copyMessages(n.tid, n.args[1], n.args[2], kind) {
            case .success(let messages):
                guard isValid(n.id) else { return }
                if messages.isEmpty { return reply(n.id, .value(0)) }
                send(messages, single: false, call, kind, flags: Int32(truncatingIfNeeded: n.args[3]))
            case .failure(let error):
                reply(n.id, .error(error.value))
            }
        default:
            reply(n.id, .error(ENOSYS))
        }
    }

    /// Whether a sendmsg or sendmmsg claims SCM_CREDENTIALS that the kernel's
    /// `scm_check_creds` refuses for a thread with `facts`.
    private func forgesCredentials(_ n: Notification, _ kind: SocketKind, _ facts: ThreadFacts) -> Bool {
        let messages: [CopiedMessage]
        switch n.nr {
        case numbers.sendmsg: messages = (try? copyMessage(n.tid, n.args[1], kind).get()).map { [$0] } ?? []
        case numbers.sendmmsg: messages = (try? copyMessages(n.tid, n.args[1], n.args[2], kind).get()) ?? []
        default: return false
        }
        return messages.contains { ControlMessages.claimsForbiddenCredentials($0.control, facts) }
    }

    /// A call that changes the thread's credentials, or execve: forget what is known of the
    /// thread (of its process, for execve), then let it run. Nothing is decided on it.
    private func observe(_ n: Notification) {
        if numbers.exec.contains(n.nr), let process = threadGroup(of: n.tid), isValid(n.id) {
            threads.forgetProcess(process, execingThread: n.tid)
        } else {
            threads.forget(n.tid)
        }
        replyContinue(n.id)
    }

    /// connect(2) and bind(2): on a UDP socket, decided and performed under the UDP lock; on
    /// another socket, performed by an executor in the program's domain (the kernel checks it).
    private func handleAddressCall(_ operation: AddressCall, _ call: Call, _ kind: SocketKind) {
        let n = call.notification
        let address: [UInt8]
        switch copyAddress(n.tid, n.args[1], n.args[2]) {
        case .success(let bytes): address = bytes
        case .failure(let error): return reply(n.id, .error(error.value))
        }
        guard isValid(n.id) else { return }
        if let family = kind.udpFamily {
            let decideAndPerform: @Sendable () -> Void = { [self] in
                let outcome = udpLock.withLock { _ -> Outcome in
                    let udp: UDPOperation = operation == .connect ? .connect : .bind
                    let decision = UDPDecision.check(
                        udp, family: family, address: address, isBound: isBound(call.socket), policy: call.context.policy)
                    if let error = decision.errno {
                        report(decision, operation: udp, call.context)
                        return .error(error)
                    }
                    return perform(operation, call.socket, address)
                }
                reply(n.id, outcome)
            }
            if call.performer.isSupervisor { return decideAndPerform() }
            return call.context.domain.run(isolated: true) { [self] in
                guard call.performer.take() else { return reply(n.id, .error(EPERM)) }
                decideAndPerform()
            }
        }
        guard let view = FileSystemView.capture(thread: n.tid, addresses: [address], kind: kind, creating: operation == .bind)
        else { return reply(n.id, .error(EACCES)) }
        guard isValid(n.id) else { return }
        call.context.domain.run(isolated: view?.changesRoot == true || !call.performer.isSupervisor) { [self] in
            guard view?.enter() ?? true, call.performer.take() else { return reply(n.id, .error(EACCES)) }
            reply(n.id, perform(operation, call.socket, address))
        }
    }

    /// sendto(2) with an address (the filter lets the others through).
    private func handleSendto(_ call: Call, _ kind: SocketKind) {
        let n = call.notification
        let address: [UInt8]
        switch copyAddress(n.tid, n.args[4], n.args[5]) {
        case .success(let bytes): address = bytes
        case .failure(let error): return reply(n.id, .error(error.value))
        }
        let cap = kind.udpFamily != nil ? MessageLimits.datagramCopy : MessageLimits.streamCopy
        let (data, missing) = copyData(n.tid, [(n.args[1], min(n.args[2], MessageLimits.transfer))], cap: cap)
        guard isValid(n.id) else { return }
        let message = CopiedMessage(address: address, data: data, missing: missing)
        // MSG_CMSG_COMPAT means something to sendmsg only: sendto passes it on, ignored.
        send([message], single: true, call, kind, flags: Int32(truncatingIfNeeded: n.args[3]) & ~compatibilityFlag)
    }

    // MARK: Performing calls on the duplicate

    enum AddressCall { case connect, bind }

    func perform(_ call: AddressCall, _ socket: Int32, _ address: [UInt8]) -> Outcome {
        let result = address.withUnsafeBytes { bytes -> Int32 in
            let pointer = bytes.baseAddress?.assumingMemoryBound(to: sockaddr.self)
            return call == .connect
                ? connect(socket, pointer, socklen_t(address.count)) : bind(socket, pointer, socklen_t(address.count))
        }
        return result == 0 ? .value(0) : .error(lastErrno)
    }

    func isBound(_ socket: Int32) -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) == 0 }
        }
        guard ok else { return true }  // Cannot tell: the kernel would see the socket as it is.
        return withUnsafeBytes(of: storage) { $0[2] != 0 || $0[3] != 0 }
    }

    /// Logs a denial where the layer that denied it asked for it (`--log-denials` of the
    /// sandbox or of a nested one). Never blocks: the sink queues it.
    func report(_ decision: UDPDecision, operation: UDPOperation, _ context: CallContext) {
        guard let layer = decision.layer, context.denials.indices.contains(layer) else { return }
        context.denials[layer]?.record(UDPDenial(decision: decision, operation: operation))
    }
}

/// The system call numbers the supervisor tells apart.
struct SyscallNumbers {
    let connect = syscallNumber("connect")
    let bind = syscallNumber("bind")
    let sendto = syscallNumber("sendto")
    let sendmsg = syscallNumber("sendmsg")
    let sendmmsg = syscallNumber("sendmmsg")
    /// Calls the filter reports only so that the supervisor forgets what they change.
    let observed: Set<Int32> = Set((SeccompFilter.credentialCalls + SeccompFilter.execCalls + ["unshare"]).map(syscallNumber))
    let exec: Set<Int32> = Set(SeccompFilter.execCalls.map(syscallNumber))
}

private func syscallNumber(_ name: String) -> Int32 { Int32(clandlock_syscall_number(name)) }

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

    deinit {
        close(socket)
        close(pidfd)
        if statusFD >= 0 { close(statusFD) }
    }
}

struct Errno32: Error { var value: Int32; init(_ value: Int32) { self.value = value } }

let msgDontWait: Int32 = 0x40
let msgNoSignal: Int32 = 0x4000
let msgZeroCopy: Int32 = 0x400_0000
let compatibilityFlag = Int32(bitPattern: 0x8000_0000)  // MSG_CMSG_COMPAT
let socketZeroCopy: Int32 = 60  // SO_ZEROCOPY
let oPath: Int32 = 0o10000000

func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
