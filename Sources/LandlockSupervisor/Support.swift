// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import SandboxSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The current errno as an `Int32`.
var lastErrno: Int32 { errno }

/// One `/proc/<pid>/status` (or fdinfo) text, read once, and its fields by name.
///
/// Parsed as bytes with plain loops: the supervisor reads these files on the program's
/// critical path (its first execve, every nested-sandbox lookup), where String algorithms
/// would cost the instantiation of their generic types at first use.
struct ProcStatus {
    let text: [UInt8]

    /// Reads `path` (at most 16 KiB); nil when it cannot be read (the task is gone).
    init?(_ path: String) {
        guard let text = readSmallFile(path, limit: 16384) else { return nil }
        self.text = text
    }

    init(text: [UInt8]) { self.text = text }

    /// The value of the line `name:\tvalue`, without the blanks around it.
    func field(_ name: StaticString) -> ArraySlice<UInt8>? {
        let key = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        var lineStart = 0
        while lineStart < text.count {
            var lineEnd = lineStart
            while lineEnd < text.count && text[lineEnd] != 0x0A { lineEnd += 1 }
            let colon = lineStart + key.count
            if colon < lineEnd, text[colon] == UInt8(ascii: ":"), text[lineStart..<colon].elementsEqual(key) {
                var start = colon + 1
                var end = lineEnd
                while start < end && (text[start] == 0x20 || text[start] == 0x09) { start += 1 }
                while end > start && (text[end - 1] == 0x20 || text[end - 1] == 0x09) { end -= 1 }
                return text[start..<end]
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    /// A field of several values separated by blanks (`Uid`, `Groups`, `NStgid`).
    func words(_ name: StaticString) -> [ArraySlice<UInt8>]? {
        field(name).map { $0.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }) }
    }

    /// A decimal field (`Tgid`, `PPid`, `Seccomp`).
    func decimal(_ name: StaticString) -> Int32? { field(name).flatMap { Int32(decimal: $0) } }

    /// A hexadecimal mask field (`SigPnd`, `CapEff`).
    func mask(_ name: StaticString) -> UInt64? { field(name).flatMap { UInt64(hex: $0) } }
}

/// The Tgid of a thread, from `/proc/<tid>/status` (kernels before 6.9 lack PIDFD_THREAD).
func threadGroup(of tid: pid_t) -> pid_t? { ProcStatus("/proc/\(tid)/status")?.decimal("Tgid") }

/// The Tgid of a thread, asking the kernel first whether it leads its process: `pidfd_open`
/// without PIDFD_THREAD succeeds only for a thread-group leader (two system calls instead of
/// formatting `/proc/<tid>/status`; a program's threads that call execve are mostly leaders).
/// As with ``threadGroup(of:)``, the caller checks afterwards that `tid` still names the thread.
func threadGroupAskingLeaderFirst(of tid: pid_t) -> pid_t? {
    let pidfd = clandlock_pidfd_open(tid, 0)
    guard pidfd >= 0 else { return threadGroup(of: tid) }
    close(pidfd)
    return tid
}

/// `PPid` of `/proc/<pid>/status`.
func parentProcess(of pid: pid_t) -> pid_t? { ProcStatus("/proc/\(pid)/status")?.decimal("PPid") }

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
    let status = ProcStatus(text: Array(bytes[0..<count]))
    let interrupting = ~(status.mask("SigBlk") ?? 0) & ~(status.mask("SigIgn") ?? 0) & (status.mask("SigCgt") ?? 0)
    if (status.mask("SigPnd") ?? 0) & interrupting != 0 { return .thread }
    if (status.mask("ShdPnd") ?? 0) & interrupting != 0 { return .process }
    return .none
}

/// `pipe2(O_CLOEXEC)` (Glibc does not export pipe2 to Swift): `[read, write]`, or `nil` with
/// errno set. Package API for the benchmarks and the probe.
package func closeOnExecPipe() -> [Int32]? {
    var fds: [Int32] = [-1, -1]
    return clandlock_pipe_cloexec(&fds) == 0 ? fds : nil
}
