// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The current errno as an `Int32`.
var lastErrno: Int32 { errno }

/// The Tgid of a thread, from `/proc/<tid>/status` (kernels before 6.9 lack PIDFD_THREAD).
func threadGroup(of tid: pid_t) -> pid_t? {
    guard let text = readSmallFile("/proc/\(tid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("Tgid:") {
        return pid_t(line.dropFirst(5).trimmingCharacters())
    }
    return nil
}

func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 4096)
    let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
    guard count > 0 else { return nil }
    return String(decoding: bytes[0..<count], as: UTF8.self)
}

extension Substring {
    func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// A signal pending for a thread that interrupts a blocking call: one it neither blocks nor
/// ignores, and catches with a handler. Signals whose default action applies do not: a stop or
/// continue signal (SIGSTOP, SIGTSTP, SIGCONT: Ctrl-Z and `fg`) is handled by the kernel, which
/// restarts the call transparently, and a fatal one kills the thread (the notification then
/// goes stale).
enum PendingSignal {
    case none
    /// Directed at the thread (`SigPnd`): only this thread can take it.
    case thread
    /// Directed at the process (`ShdPnd`) only: any thread not blocking it may take it.
    case process
}

/// Reads a `/proc/<tid>/status` opened earlier (`.none` when it cannot be read: the thread is
/// gone, or the file was never opened).
func pendingSignal(_ statusFD: Int32) -> PendingSignal {
    guard statusFD >= 0 else { return .none }
    var bytes = [UInt8](repeating: 0, count: 4096)
    let count = bytes.withUnsafeMutableBytes { pread(statusFD, $0.baseAddress, 4096, 0) }
    guard count > 0 else { return .none }
    var fields: [String: UInt64] = [:]
    for line in bytes[0..<count].split(separator: UInt8(ascii: "\n")) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
        let key = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
        guard ["SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"].contains(key) else { continue }
        fields[key] = UInt64(hex: line[(colon + 1)...].filter { $0 != 0x20 && $0 != 0x09 })
    }
    let interrupting = ~(fields["SigBlk"] ?? 0) & ~(fields["SigIgn"] ?? 0) & (fields["SigCgt"] ?? 0)
    if (fields["SigPnd"] ?? 0) & interrupting != 0 { return .thread }
    if (fields["ShdPnd"] ?? 0) & interrupting != 0 { return .process }
    return .none
}

/// `pipe2(O_CLOEXEC)` (Glibc does not export pipe2 to Swift): `[read, write]`, or `nil` with
/// errno set. Package API for the benchmarks and the probe.
package func closeOnExecPipe() -> [Int32]? {
    var fds: [Int32] = [-1, -1]
    return clandlock_pipe_cloexec(&fds) == 0 ? fds : nil
}
