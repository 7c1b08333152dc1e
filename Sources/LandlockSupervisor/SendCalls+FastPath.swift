// SPDX-License-Identifier: Apache-2.0
//
// The send calls' fast path, taken on the monitor thread before a notification is handled
// from scratch: the same decision and the same performing as the general path (SendCalls.swift:
// `decideAndSend`, `sendMessage`), with fewer system calls for the most common shape.
internal import CLandlock
import SandboxSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    // MARK: The fast path: sendto with an address on a UDP socket

    /// `sendto(fd, buf, len, flags, addr, addrlen)` with a non-NULL `addr` on a UDP socket of a
    /// thread whose credentials are the supervisor's, with about ten system calls. Returns
    /// `false`, having replied nothing, for anything else (another socket, large, zero-copy or
    /// blocking sends, another thread's credentials, failures to classify): the general path
    /// then handles the notification from scratch.
    func handleSendtoFast(_ raw: clandlock_seccomp_notif) -> Bool {
        guard supportsThreadPidfd else { return false }
        let tid = pid_t(raw.pid)
        let (a0, a1, a2, a3, a4, a5) = raw.data.args
        let fd = Int32(truncatingIfNeeded: a0)
        let addressLength = Int32(truncatingIfNeeded: a5)
        let flags = Int32(truncatingIfNeeded: a3) & ~compatibilityFlag  // MSG_CMSG_COMPAT means nothing to sendto
        guard a0 >> 31 == 0, addressLength >= 0, Int(addressLength) <= MessageLimits.address,
            a2 <= UInt64(MessageLimits.datagramCopy), isUserRange(a1, a2), flags & msgZeroCopy == 0, a4 != 0
        else { return false }
        // A remembered thread only, validated by pidfd_getfd itself: it succeeds only while the
        // thread its pidfd names lives, and then the thread id names that thread (ThreadTable).
        guard let record = threads.remembered(tid), performer(for: record.facts).isSupervisor,
            let context = context(of: tid, record)
        else { return false }
        let duplicate = clandlock_pidfd_getfd(record.pidfd, fd, 0)
        guard duplicate >= 0 else { return false }
        defer { close(duplicate) }
        guard SocketKind.isUDP(duplicate) else { return false }
        // Address and data in one copy; data that cannot be read goes on as missing bytes.
        let length = Int(a2)
        var address = [UInt8](repeating: 0, count: Int(addressLength))
        var data = [UInt8](repeating: 0, count: length)
        let copied = address.withUnsafeMutableBytes { addressBytes in
            data.withUnsafeMutableBytes { dataBytes in
                clandlock_read_memory2(
                    tid, a4, addressBytes.baseAddress ?? FaultRegion.base, addressBytes.count, a1,
                    dataBytes.baseAddress ?? FaultRegion.base, dataBytes.count)
            }
        }
        guard isValid(raw.id) else { return true }
        guard copied >= Int(addressLength) else {
            reply(raw.id, .error(EFAULT))
            return true
        }
        var message = CopiedMessage(address: address, data: data)
        if copied < Int(addressLength) + length {
            (message.data, message.missing) = copyData(tid, [(a1, a2)], cap: MessageLimits.datagramCopy)
            guard isValid(raw.id) else { return true }
        }
        let outcome = udpLock.withLock { connects -> Outcome in
            var bound = BoundSince()
            return decideAndSend(
                message, family: nil, socket: duplicate, context: context, flags: flags | msgDontWait, bound: &bound,
                connects: connects
            ) {
                sendMessage(duplicate, message, control: [], flags: flags | msgDontWait)
            }
        }
        if outcome == .error(EAGAIN), flags & msgDontWait == 0, clandlock_fcntl_getfl(duplicate) & O_NONBLOCK == 0 {
            return false  // A blocking socket that would block: the general path waits for it.
        }
        if case .error(EPIPE) = outcome, flags & msgNoSignal == 0 {
            _ = clandlock_pidfd_send_signal(record.pidfd, SIGPIPE)  // The kernel signals the sending thread.
        }
        reply(raw.id, outcome)
        return true
    }
}
