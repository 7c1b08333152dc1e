// SPDX-License-Identifier: Apache-2.0
//
// The same-domain exception of fs.resolve_unix before ABI 9 (step 3 in UnixPathRules.swift):
// the socket files the sandbox's processes bound, taken from the kernel, never looked up again.
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The socket files the sandbox bound (the same-domain exception), each pinned open with the
/// layers its binder was in. One per supervisor.
final class SandboxSockets: @unchecked Sendable {
    private let records = Mutex<[FileIdentity: (pin: Int32, layers: Set<UInt64>)]>([:])
    /// At most this many bound socket files are remembered; beyond, unlinked ones are
    /// forgotten, and if none is, new ones are not remembered (connecting to them is then
    /// refused: fail closed).
    static let limit = 1024

    deinit {
        records.withLock { records in
            // (Empty in most sandboxes: iterating would cost the generic types' metadata at exit.)
            guard !records.isEmpty else { return }
            for record in records.values { close(record.pin) }
        }
    }

    /// Takes `pin` (O_PATH, the socket file with `identity`) for a socket bound by a process
    /// in `layers`.
    func record(_ identity: FileIdentity, pin: Int32, layers: Set<UInt64>) {
        let kept = records.withLock { records -> Bool in
            if let old = records.removeValue(forKey: identity) { close(old.pin) }
            if records.count >= Self.limit {
                for (key, record) in records where !Self.isLinked(record.pin) {
                    records[key] = nil
                    close(record.pin)
                }
                if records.count >= Self.limit { return false }
            }
            records[identity] = (pin, layers)
            return true
        }
        if !kept { close(pin) }
    }

    /// The layers whose process bound the socket file with `identity`, if one of the sandbox
    /// did and the file is still linked (an unlinked file's inode number may name another).
    func binderLayers(of identity: FileIdentity) -> Set<UInt64>? {
        records.withLock { records in
            guard let record = records[identity] else { return nil }
            if Self.isLinked(record.pin) { return record.layers }
            records[identity] = nil
            close(record.pin)
            return nil
        }
    }

    private static func isLinked(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && info.st_nlink > 0
    }
}
