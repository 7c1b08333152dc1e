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
            return call.context.domain.run(isolated: true, { [self] in
                guard call.performer.take() else { return reply(n.id, .error(EPERM)) }
                decideAndPerform()
            }, orElse: { [self] in reply(n.id, .error(EACCES)) })
        }
        guard let view = FileSystemView.capture(thread: n.tid, addresses: [address], kind: kind, creating: operation == .bind)
        else { return reply(n.id, .error(EACCES)) }
        guard isValid(n.id) else { return }
        call.context.domain.run(isolated: view?.changesRoot == true || !call.performer.isSupervisor, { [self] in
            call.prepareLookup(kind, view)
            guard view?.enter() ?? true, call.performer.take() else { return reply(n.id, .error(EACCES)) }
            guard kind.domain == AF_UNIX, let unixPaths = call.context.unixPaths else {
                return reply(n.id, perform(operation, call.socket, address))
            }
            // fs.resolve_unix, enforced here (UnixPathRules): connect looks the socket up;
            // bind creates a socket file of the sandbox.
            switch operation {
            case .connect:
                reply(n.id, unixPaths.resolving(
                    address, process: call.facts.process, thread: call.notification.tid, lookup: call.unixLookup
                ) { perform(.connect, call.socket, $0) })
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
