// SPDX-License-Identifier: Apache-2.0
//
// The supervisor: one monitor thread receives the notifications of the sandboxed process tree
// and dispatches each to the unit of its system call (AddressCalls: connect, bind; SendCalls:
// sendto, sendmsg, sendmmsg; NestedLayers: registrations), after finding what applies to the
// calling thread (ThreadTable: its credentials and layers). Calls that change credentials or
// execute are only observed. Decisions are UDPDecision's; performing is done on the duplicate
// of the program's socket, by the monitor or by an executor of the program's domain.
internal import CLandlock
import SandboxSupport
import Landlock
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor of one sandboxed process tree: receives its notifications and performs the
/// calls it allows.
final class Supervisor: @unchecked Sendable {
    let listener: Int32
    /// Observes the calls for the denial log (`--log-denials`), when asked.
    let observer: CallObserver?
    /// Runs work in the program's Landlock domain (see `DomainThread`).
    let domain: DomainThread
    /// Serializes UDP decisions and the calls that follow, so that a bound/unbound state read
    /// for the autobind check still holds when the call runs. It holds the number of connects
    /// performed on UDP sockets, the one call of the program's that can unbind one (a
    /// disconnect drops an automatic bind): a socket a send of ours bound stays bound while
    /// that number is unchanged, so a batch reads its bound state once (`BoundSince`).
    let udpLock = Mutex<UInt64>(0)
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
    let reference: Credentials
    /// The credentials of this process's main thread, which a UNIX socket's peer finds through
    /// the pid it sees (`SO_PEERCRED`, `/proc/<pid>`) for the connections the supervisor makes.
    let peerReference: Credentials
    /// Nested sandboxes registered with this supervisor (monitor thread only).
    var nested = NestedLayerRegistry()
    /// What is known of the program's threads (monitor thread only).
    var threads: ThreadTable
    /// The socket files the sandbox's processes bound, for the fs.resolve_unix same-domain
    /// exception of every layer (UnixPathRules).
    let sandboxSockets: SandboxSockets
    /// The supervisor's fd directory and root for those lookups (opened here, unrestricted).
    let lookupDescriptors: LookupDescriptors?
    /// The sandbox's own context: its policy, its domain thread, its denial log for each
    /// layer. Built once: the fast path uses it for every call.
    let rootContext: CallContext

    /// What the monitor thread sets up for itself before the listener arrives, while the domain
    /// thread forks the program: the program's first notified calls (its execve) then find the
    /// loop running instead of waiting for this set-up. Made on the monitor thread.
    struct MonitorSetup {
        let droppedCapabilities: UInt64
        let reference: Credentials
        let peerReference: Credentials
        let lookupDescriptors: LookupDescriptors?
        let supportsThreadPidfd: Bool

        init(droppedCapabilities: UInt64) {
            _ = clandlock_block_all_signals()
            if droppedCapabilities != 0 { _ = clandlock_drop_capabilities(droppedCapabilities) }
            self.droppedCapabilities = droppedCapabilities
            // Unreadable (no /proc): no thread is ever taken to have the supervisor's
            // credentials, so every call is performed by an executor that takes the program's
            // (fail closed).
            reference = ThreadFacts(thread: clandlock_gettid())?.credentials ?? Credentials()
            // Less the capabilities the program was denied: `landlock-exec` drops them from its
            // main thread too (PreparedSandbox.dropCapabilitiesFromCallingThread); a host
            // process using the library may keep them, and its peers then see them (documented).
            peerReference = ThreadFacts(thread: getpid())?.credentials.without(droppedCapabilities) ?? Credentials()
            lookupDescriptors = LookupDescriptors()
            let probe = clandlock_pidfd_open(getpid(), UInt32(O_EXCL))  // PIDFD_THREAD (6.9)
            supportsThreadPidfd = probe >= 0
            if probe >= 0 { close(probe) }
        }
    }

    init(
        listener: Int32, policy: UDPPolicy, unixLayer: UnixPathLayer?, denials: DenialSink?, domain: DomainThread,
        setup: MonitorSetup, observer: CallObserver? = nil
    ) {
        self.observer = observer
        self.listener = listener
        self.domain = domain
        droppedCapabilities = setup.droppedCapabilities
        reference = setup.reference
        peerReference = setup.peerReference
        let sockets = SandboxSockets()
        sandboxSockets = sockets
        let descriptors = setup.lookupDescriptors
        lookupDescriptors = descriptors
        var layerDenials: [DenialSink?] = []
        for _ in policy.layers { layerDenials.append(denials) }
        rootContext = CallContext(
            policy: policy, domain: domain, denials: layerDenials,
            unixPaths: unixLayer.map { UnixPathRules(layers: [$0], sockets: sockets, descriptors: descriptors) })
        supportsThreadPidfd = setup.supportsThreadPidfd
        threads = ThreadTable(threadPidfds: supportsThreadPidfd)
    }

    // MARK: The notification loop

    /// Receives notifications until every task under the filter is gone (POLLHUP).
    /// Runs on the monitor thread that made the ``MonitorSetup``.
    func run() {
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
        if let observer {
            // The denial log's observation: read only, then the call goes on as it would.
            observer.observe(number: n.nr, tid: n.tid, n.args)
            if CallObserver.observerOnlyNumbers.contains(n.nr) { return replyContinue(n.id) }
        }
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
        // A pidfd for the task's process, owned by the call: a duplicate of the remembered
        // thread's PIDFD_THREAD (it names this live thread: ThreadTable), else a new one,
        // PIDFD_THREAD where available, else through the Tgid, checked against a reused tid.
        var pidfd = record.pidfd >= 0 ? clandlock_dup_cloexec(record.pidfd) : -1
        if pidfd < 0 {
            pidfd = supportsThreadPidfd ? clandlock_pidfd_open(n.tid, UInt32(O_EXCL)) : -1
            if pidfd < 0 { pidfd = clandlock_pidfd_open(record.facts.process, 0) }
            guard pidfd >= 0 else { return reply(n.id, .error(EACCES)) }  // A missing pidfd fails this call only.
            guard isValid(n.id) else { close(pidfd); return }  // the tid may have been reused: the task is gone
        }
        let duplicate = clandlock_pidfd_getfd(pidfd, Int32(truncatingIfNeeded: n.args[0]), 0)
        guard duplicate >= 0 else {
            let error = lastErrno
            close(pidfd)
            return reply(n.id, .error(error == EBADF ? EBADF : error == ESRCH ? ESRCH : EACCES))
        }
        let call = Call(n, socket: duplicate, pidfd: pidfd, context: context, facts: record.facts, performer: performer)
        let kind = SocketKind(call.socket)
        call.closeMayWait = Closer.mayWait(kind)
        guard let kind else {
            // connect(2) reads the address before it asks for the socket.
            if n.nr == numbers.connect, case .failure(let error) = copyAddress(n.tid, n.args[1], n.args[2]) {
                return reply(n.id, .error(error.value))
            }
            return reply(n.id, .error(ENOTSOCK))
        }
        if kind.domain == AF_UNIX && (!performer.isSupervisor || record.facts.credentials != peerReference) {
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
        if numbers.exec.contains(n.nr), let process = threadGroupAskingLeaderFirst(of: n.tid), isValid(n.id) {
            threads.forgetProcess(process, execingThread: n.tid)
        } else {
            threads.forget(n.tid)
        }
        replyContinue(n.id)
    }

    /// Logs a denial where the layer that denied it asked for it (`--log-denials` of the
    /// sandbox or of a nested one). Never blocks: the sink queues it.
    func report(_ decision: UDPDecision, operation: UDPOperation, _ context: CallContext) {
        guard let layer = decision.layer, context.denials.indices.contains(layer) else { return }
        context.denials[layer]?.record(UDPDenial(decision: decision, operation: operation))
    }
}
