// SPDX-License-Identifier: Apache-2.0
//
// connect(2) and bind(2): the address is copied once; on a UDP
// socket the call is decided and performed under the UDP lock, on another socket it is
// performed by an executor in the program's Landlock domain, which the kernel checks.
internal import CLandlock
import SandboxSupport
import Landlock
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    /// connect(2) and bind(2): on a UDP socket, decided and performed under the UDP lock; on
    /// another socket, performed by an executor in the program's domain (the kernel checks it).
    func handleAddressCall(_ operation: AddressCall, _ call: Call, _ kind: SocketKind) {
        let n = call.notification
        let address: [UInt8]
        switch copyAddress(n.tid, n.args[1], n.args[2]) {
        case .success(let bytes): address = bytes
        case .failure(let error): return reply(n.id, .error(error.value))
        }
        guard isValid(n.id) else { return }
        if let family = kind.udpFamily {
            let decideAndPerform: @Sendable () -> Void = { [self] in
                let outcome = udpLock.withLock { connects -> Outcome in
                    if operation == .connect { connects &+= 1 }
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
            return call.context.domain.run(isolated: true, { [self] in
                guard call.performer.take() else { return reply(n.id, .error(EPERM)) }
                decideAndPerform()
            }, orElse: { [self] in reply(n.id, .error(EACCES)) })
        }
        guard let view = FileSystemView.capture(thread: n.tid, addresses: [address], kind: kind, creating: operation == .bind)
        else { return reply(n.id, .error(EACCES)) }
        // A connect that may wait (stream sockets without O_NONBLOCK) watches the thread's
        // signals, through a file the monitor opens (an executor's domain may not reach /proc).
        if operation == .connect && kind.type != Int32(SOCK_DGRAM.rawValue)
            && clandlock_fcntl_getfl(call.socket) & O_NONBLOCK == 0
        {
            call.openStatus()
        }
        guard isValid(n.id) else { return }
        call.context.domain.run(isolated: view?.changesRoot == true || !call.performer.isSupervisor, { [self] in
            call.prepareLookup(kind, view)
            guard view?.enter() ?? true, call.performer.take() else { return reply(n.id, .error(EACCES)) }
            guard kind.domain == AF_UNIX, let unixPaths = call.context.unixPaths else {
                if operation == .connect { return replyConnect(call, address) }
                return reply(n.id, perform(operation, call.socket, address))
            }
            // fs.resolve_unix, enforced here (UnixPathRules): connect looks the socket up;
            // bind creates a socket file of the sandbox.
            switch operation {
            case .connect:
                var restartVerified = false
                let outcome = unixPaths.resolving(
                    address, process: call.facts.process, thread: call.notification.tid, lookup: call.unixLookup
                ) { resolved in
                    let (outcome, verified) = connectWatchingSignals(call, resolved)
                    restartVerified = verified
                    return outcome
                }
                reply(n.id, outcome, restartVerified: restartVerified)
            case .bind:
                let place = BindPlace(address)  // before the bind: see BoundSocketFile.swift
                let outcome = perform(.bind, call.socket, address)
                if outcome == .value(0), let place { unixPaths.recordBind(place, socket: call.socket) }
                reply(n.id, outcome)
            }
        }, orElse: { [self] in reply(n.id, .error(EACCES)) })
    }

    // MARK: Performing calls on the duplicate

    enum AddressCall { case connect, bind }

    private func replyConnect(_ call: Call, _ address: [UInt8]) {
        let (outcome, restartVerified) = connectWatchingSignals(call, address)
        reply(call.notification.id, outcome, restartVerified: restartVerified)
    }

    /// connect(2) on an executor thread as the kernel makes it for the program: a wait for the
    /// connection is interrupted by a signal for the program's thread (ERESTARTSYS, which the
    /// kernel turns into a restart or EINTR), not only by SIGKILL. It waits in slices of 20 ms,
    /// looking at the thread's pending signals between them (as blocking sends do); a connect
    /// made again goes on waiting for the same connection, until SO_SNDTIMEO if the program
    /// set one (then the kernel's EINPROGRESS, or EAGAIN for a UNIX socket). `restartVerified`:
    /// see `reply`.
    func connectWatchingSignals(_ call: Call, _ address: [UInt8]) -> (Outcome, restartVerified: Bool) {
        var slices = 0, processSignalSlices = 0
        var deadline: Int64? = nil
        while true {
            let result = address.withUnsafeBytes { bytes in
                clandlock_connect_slice(call.socket, bytes.baseAddress, UInt32(bytes.count), 20)
            }
            if result == 0 { return (.value(0), false) }
            let error = lastErrno
            // Made again after an interrupted wait: the connection came meanwhile.
            if error == EISCONN && slices > 0 { return (.value(0), false) }
            guard error == EINTR, isValid(call.notification.id) else { return (.error(error), false) }
            if slices == 0 { deadline = sendTimeout(call.socket).map { MonotonicClock.milliseconds + $0 - 20 } }
            slices += 1
            switch pendingSignal(call.statusFD) {
            case .thread: return (.error(errnoRestartSys), true)
            case .process:
                // Process-directed: another thread may take it (as in transmit).
                processSignalSlices += 1
                if processSignalSlices >= 3 { return (.error(EINTR), false) }
            case .none:
                processSignalSlices = 0
            }
            if let deadline, MonotonicClock.milliseconds >= deadline {
                return (.error(SocketKind(call.socket)?.domain == AF_UNIX ? EAGAIN : EINPROGRESS), false)
            }
        }
    }

    func perform(_ call: AddressCall, _ socket: Int32, _ address: [UInt8]) -> Outcome {
        let result = address.withUnsafeBytes { bytes -> Int32 in
            let pointer = bytes.baseAddress?.assumingMemoryBound(to: sockaddr.self)
            return call == .connect
                ? connect(socket, pointer, socklen_t(address.count)) : bind(socket, pointer, socklen_t(address.count))
        }
        return result == 0 ? .value(0) : .error(lastErrno)
    }

    func isBound(_ socket: Int32) -> Bool { SocketKind.localState(of: socket).isBound }
}
