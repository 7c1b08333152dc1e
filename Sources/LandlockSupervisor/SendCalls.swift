// SPDX-License-Identifier: Apache-2.0
//
// The send calls: sendto with an address, sendmsg, sendmmsg. Each message is decided (UDP:
// UDPDecision, under the UDP lock, with the socket's bound state read then) and performed on
// the duplicate of the program's socket. A send that would block on a blocking socket is
// finished off the notification loop; signals for the program's thread are watched meanwhile.
internal import CLandlock
import SandboxSupport
import Landlock
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    // MARK: The general path

    /// sendto(2) with an address (the filter lets the others through).
    func handleSendto(_ call: Call, _ kind: SocketKind) {
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


    /// Sends the messages in order, as sendto/sendmsg (`single`) or sendmmsg, then replies.
    /// Tries without blocking on the monitor; if a blocking socket would block, the rest runs
    /// on its own thread. Calls with an address on sockets other than UDP, and every call of a
    /// thread with other credentials, run on an executor thread in the program's domain.
    func send(_ messages: [CopiedMessage], single: Bool, _ call: Call, _ kind: SocketKind, flags: Int32) {
        let n = call.notification
        let socket = call.socket
        let blocking = flags & msgDontWait == 0 && clandlock_fcntl_getfl(socket) & O_NONBLOCK == 0
        if flags & msgZeroCopy != 0 {  // Completions would concern the supervisor's copy.
            var enabled: Int32 = 0
            var length = socklen_t(4)
            if getsockopt(socket, SOL_SOCKET, socketZeroCopy, &enabled, &length) == 0, enabled != 0 {
                return reply(n.id, .error(EOPNOTSUPP))
            }
        }
        let needsDomain = kind.udpFamily == nil && messages.contains { $0.address != nil }
        var view: FileSystemView? = nil
        if needsDomain {
            let addresses = messages.compactMap(\.address)
            guard let captured = FileSystemView.capture(thread: n.tid, addresses: addresses, kind: kind, creating: false)
            else { return reply(n.id, .error(EACCES)) }
            guard isValid(n.id) else { return }
            view = captured
        }
        if needsDomain || !call.performer.isSupervisor {
            // An executor's domain may not reach /proc: the thread's signals are watched
            // through a file opened here, on the monitor, in case the send blocks.
            if blocking {
                call.openStatus()
                guard isValid(n.id) else { return }  // The thread id was the caller's when opened.
            }
            call.context.domain.run(isolated: view?.changesRoot == true || !call.performer.isSupervisor, { [self, view] in
                call.prepareLookup(kind, view)
                guard view?.enter() ?? true, call.performer.take() else { return reply(n.id, .error(EACCES)) }
                transmit(messages, from: 0, sent: 0, single: single, call, kind, flags: flags, blocking: blocking, mayBlock: true)
            }, orElse: { [self] in reply(n.id, .error(EACCES)) })
        } else {
            transmit(messages, from: 0, sent: 0, single: single, call, kind, flags: flags, blocking: blocking, mayBlock: false)
        }
    }

    private func transmit(
        _ messages: [CopiedMessage], from start: Int, sent: Int, single: Bool, _ call: Call,
        _ kind: SocketKind, flags: Int32, blocking: Bool, mayBlock: Bool
    ) {
        let n = call.notification
        var sentCount = sent
        var lastValue: Int64 = 0
        var bound = BoundSince()
        for index in start..<messages.count {
            var outcome: Outcome
            var restartVerified = false
            var deadline: Int64? = nil
            var processSignalSlices = 0
            while true {
                outcome = sendOne(messages[index], call, kind, flags: flags | msgDontWait, bound: &bound)
                guard outcome == .error(EAGAIN), blocking else { break }
                guard mayBlock else {
                    // Finish off the notification loop; the monitor goes on with others. The
                    // monitor opens the thread's status file first (only it reaches /proc).
                    call.openStatus()
                    guard isValid(n.id) else { return }  // The thread id was the caller's when opened.
                    let sentSoFar = sentCount
                    call.context.domain.run({ [self] in
                        transmit(messages, from: index, sent: sentSoFar, single: single, call, kind, flags: flags,
                                 blocking: blocking, mayBlock: true)
                    }, orElse: { [self] in
                        reply(n.id, sentSoFar == 0 ? .error(EACCES) : .value(Int64(sentSoFar)))
                    })
                    return
                }
                if deadline == nil { deadline = sendTimeout(call.socket).map { MonotonicClock.milliseconds + $0 } }
                var pollfd = pollfd(fd: call.socket, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pollfd, 1, 20)
                guard isValid(n.id) else { return }
                switch pendingSignal(call.statusFD) {
                case .thread:
                    // Directed at this thread, unblocked: TIF_SIGPENDING is set and stays set
                    // until the thread returns to user mode, so ERESTARTSYS becomes a restart
                    // (SA_RESTART, or the signal went away) or EINTR, as in the kernel.
                    restartVerified = true
                    outcome = .error(errnoRestartSys)
                case .process:
                    // Process-directed: another thread may take it. After a grace of about
                    // 60 ms still pending: EINTR (ERESTARTSYS could leak as errno 512 if this
                    // thread was not the one woken).
                    processSignalSlices += 1
                    if processSignalSlices >= 3 { outcome = .error(EINTR) }
                case .none:
                    processSignalSlices = 0
                }
                if outcome == .error(errnoRestartSys) || outcome == .error(EINTR) { break }
                if let deadline, MonotonicClock.milliseconds >= deadline { outcome = .error(EAGAIN); break }
            }
            switch outcome {
            case .value(let value):
                lastValue = value
                if !single {
                    // __sys_sendmmsg: msg_len is written back right after the send (another
                    // thread may change what can be written meanwhile), or the batch ends with
                    // EFAULT (reported if nothing was counted yet); a message not sent whole ends it.
                    let written = withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) {
                        writeRemote(n.tid, messages[index].lengthAddress, Array($0))
                    }
                    guard written else { return reply(n.id, sentCount == 0 ? .error(EFAULT) : .value(Int64(sentCount))) }
                    sentCount += 1
                    // MSG_PROBE sends without consuming the data: there is always some left.
                    let probe: Int32 = 0x10
                    let probing = flags & probe != 0 && kind.udpFamily != nil && messages[index].length > 0
                    if UInt64(value) < messages[index].length || probing {
                        return reply(n.id, .value(Int64(sentCount)))
                    }
                }
            case .error(let error):
                if error == EPIPE && flags & msgNoSignal == 0 {
                    _ = clandlock_pidfd_send_signal(call.pidfd, SIGPIPE)  // The kernel signals the sender.
                }
                if single || sentCount == 0 { return reply(n.id, .error(error), restartVerified: restartVerified) }
                return reply(n.id, .value(Int64(sentCount)))
            }
        }
        reply(n.id, .value(single ? lastValue : Int64(sentCount)))
    }

    /// One message: on a UDP socket the decision and the send under the UDP lock, on another
    /// socket the send alone (the kernel checks it in the executor's domain).
    private func sendOne(
        _ message: CopiedMessage, _ call: Call, _ kind: SocketKind, flags: Int32, bound: inout BoundSince
    ) -> Outcome {
        let perform = { [self] () -> Outcome in
            guard kind.domain == AF_UNIX, !message.control.isEmpty else {
                return sendResolving(message, call, kind, control: message.control, flags: flags)
            }
            var control = message.control
            let duplicates: [Int32]
            switch ControlMessages.prepare(&control, pidfd: call.pidfd, facts: call.facts, supervisorPid: supervisorProcess) {
            case .success(let fds): duplicates = fds
            case .failure(let error): return .error(error.value)
            }
            defer { for fd in duplicates { Closer.close(fd, mayWait: true) } }  // Any file may be passed.
            return sendResolving(message, call, kind, control: control, flags: flags)
        }
        if let family = kind.udpFamily {
            return udpLock.withLock { connects in
                decideAndSend(
                    message, family: family, socket: call.socket, context: call.context, flags: flags, bound: &bound,
                    connects: connects, perform: perform)
            }
        }
        return perform()
    }

    /// A message to a pathname UNIX socket where the supervisor enforces fs.resolve_unix
    /// (UnixPathRules): sent to the socket the lookup reached, if allowed. Others as they are.
    private func sendResolving(
        _ message: CopiedMessage, _ call: Call, _ kind: SocketKind, control: [UInt8], flags: Int32
    ) -> Outcome {
        // Only datagram sockets look the destination up (stream and seqpacket sockets ignore
        // or refuse it).
        guard kind.domain == AF_UNIX, kind.type == Int32(SOCK_DGRAM.rawValue), let unixPaths = call.context.unixPaths,
            let address = message.address
        else {
            return sendMessage(call.socket, message, control: control, flags: flags)
        }
        return unixPaths.resolving(
            address, process: call.facts.process, thread: call.notification.tid, lookup: call.unixLookup
        ) { resolved in
            var redirected = message
            redirected.address = resolved
            return sendMessage(call.socket, redirected, control: control, flags: flags)
        }
    }

    /// The UDP decision for one message on `socket` (the UDP lock held, `connects` its count),
    /// then `perform`. The socket's bound state is read unless `bound` says a send of ours bound
    /// it since the last UDP connect.
    func decideAndSend(
        _ message: CopiedMessage, family knownFamily: UDPSocketFamily?, socket: Int32, context: CallContext, flags: Int32,
        bound: inout BoundSince, connects: UInt64, perform: () -> Outcome
    ) -> Outcome {
        let operation = UDPOperation.send(hasAddress: message.address != nil)
        let local = bound.connects == connects && knownFamily != nil
            ? (family: knownFamily, isBound: true) : SocketKind.localState(of: socket)
        guard let family = local.family ?? knownFamily else { return .error(EACCES) }  // Cannot decide: refuse.
        let decision = UDPDecision.check(
            operation, family: family, address: message.address ?? [], isBound: local.isBound, policy: context.policy)
        if let error = decision.errno {
            report(decision, operation: operation, context)
            return .error(error)
        }
        let outcome = perform()
        // A datagram sent: the socket is bound (automatically if it was not).
        if case .value = outcome { bound.connects = connects }
        return outcome
    }

    /// The message as the program passed it: its copied data, then its missing bytes as
    /// unreadable memory. `sendto` without control data (it ignores flags `sendmsg` refuses,
    /// such as MSG_CMSG_COMPAT), `sendmsg` with it.
    func sendMessage(_ socket: Int32, _ message: CopiedMessage, control: [UInt8], flags: Int32) -> Outcome {
        let flags = flags | msgNoSignal
        var data = message.data
        var address = message.address ?? []
        var control = control
        let result: Int = data.withUnsafeMutableBytes { dataBytes in
            address.withUnsafeMutableBytes { addressBytes in
                let name = message.address == nil ? nil : addressBytes.baseAddress?.assumingMemoryBound(to: sockaddr.self)
                if message.missing == 0 && control.isEmpty {
                    return sendto(
                        socket, dataBytes.baseAddress ?? FaultRegion.base, dataBytes.count, flags, name,
                        socklen_t(addressBytes.count))
                }
                return control.withUnsafeMutableBytes { controlBytes in
                    var vectors = [iovec(iov_base: dataBytes.baseAddress ?? FaultRegion.base, iov_len: dataBytes.count)]
                    if message.missing > 0 { vectors.append(iovec(iov_base: FaultRegion.base, iov_len: Int(message.missing))) }
                    return vectors.withUnsafeMutableBufferPointer { vectorPointer in
                        var header = msghdr()
                        if message.address != nil {
                            header.msg_name = addressBytes.baseAddress
                            header.msg_namelen = socklen_t(addressBytes.count)
                        }
                        header.msg_iov = vectorPointer.baseAddress
                        header.msg_iovlen = vectorPointer.count
                        if !controlBytes.isEmpty {
                            header.msg_control = controlBytes.baseAddress
                            header.msg_controllen = controlBytes.count
                        }
                        return sendmsg(socket, &header, flags)
                    }
                }
            }
        }
        if result < 0 { return .error(lastErrno == EWOULDBLOCK ? EAGAIN : lastErrno) }
        return .value(Int64(result))
    }

    /// SO_SNDTIMEO in milliseconds (which bounds blocking sends and connects), `nil` if none.
    func sendTimeout(_ socket: Int32) -> Int64? {
        var value = timeval()
        var length = socklen_t(MemoryLayout<timeval>.size)
        guard getsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &value, &length) == 0 else { return nil }
        let milliseconds = Int64(value.tv_sec) * 1000 + Int64(value.tv_usec) / 1000
        return milliseconds == 0 ? nil : milliseconds
    }
}

/// A UDP socket a send of ours bound, with the number of UDP connects at that moment (see
/// `Supervisor.udpLock`); `nil` until then.
struct BoundSince {
    var connects: UInt64? = nil
}
