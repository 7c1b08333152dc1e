// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import SandboxSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Closes descriptors whose close may wait. The supervisor's duplicate of a program's TCP
/// socket is the socket's last reference once the program has closed its own descriptor; with
/// `SO_LINGER` set and unsent data, closing it waits up to the linger time (up to 2^31
/// seconds), which must never hold the monitor or an executor. Such descriptors go to closer
/// threads (at most `threads`, started on demand and kept); a close stuck on one holds only
/// that closer.
enum Closer {
    static let threads = 4

    private struct State {
        var queue: [Int32] = []
        var idle = 0
        var running = 0
    }

    private static let state = Mutex(State())
    private static let ready: [Int32] = closeOnExecPipe() ?? [-1, -1]

    /// Closes `fd` now, or on a closer thread when `mayWait` (an internet stream socket, or a
    /// descriptor whose kind is unknown).
    static func close(_ fd: Int32, mayWait: Bool) {
        guard fd >= 0 else { return }
        guard mayWait, ready[1] >= 0 else { _ = Glibc.close(fd); return }
        let start = state.withLock { state -> Bool in
            state.queue.append(fd)
            guard state.idle == 0, state.running < threads else { return false }
            state.running += 1
            return true
        }
        if start && !startDetachedThread({ loop() }) {
            state.withLock { $0.running -= 1 }
        }
        var byte: UInt8 = 1
        _ = write(ready[1], &byte, 1)
    }

    /// Whether closing `fd` may wait (`SO_LINGER` applies to internet stream sockets only).
    static func mayWait(_ kind: SocketKind?) -> Bool {
        guard let kind else { return true }
        return kind.isStream && (kind.domain == AF_INET || kind.domain == AF_INET6)
    }

    private static func loop() {
        _ = clandlock_block_all_signals()
        while true {
            state.withLock { $0.idle += 1 }
            var byte: UInt8 = 0
            while read(ready[0], &byte, 1) < 0 && errno == EINTR {}
            let fd = state.withLock { state -> Int32? in
                state.idle -= 1
                return state.queue.isEmpty ? nil : state.queue.removeFirst()
            }
            if let fd { _ = Glibc.close(fd) }
        }
    }
}
