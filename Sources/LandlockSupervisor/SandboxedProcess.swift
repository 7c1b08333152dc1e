// SPDX-License-Identifier: Apache-2.0
//
// A started sandboxed program: its pid, how it ended.
internal import CLandlock
import Landlock
import SandboxSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// How a sandboxed process ended.
public enum TerminationStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    /// The status cannot be known: `waitpid` failed, or a nested sandbox's anchor (the
    /// program's parent) was killed before it could report it; the reason says which.
    case unknown(reason: String)

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        case .unknown(let reason): "ended with an unknown status: \(reason)"
        }
    }
}

/// A running sandboxed program.
public final class SandboxedProcess: Sendable {
    /// Its process id.
    public let pid: Int32
    /// A nested sandbox's anchor (the program's parent) and the pipe it reports the
    /// program's wait status on.
    private let anchor: (pid: pid_t, status: Int32)?

    /// The sandbox's denial log, written by a thread of its own: flushed before `wait()`
    /// returns, for at most a second (a log nobody reads must not hold the caller up).
    private let denials: DenialSink?

    init(pid: Int32, anchor: (pid: pid_t, status: Int32)? = nil, denials: DenialSink? = nil) {
        self.pid = pid
        self.anchor = anchor
        self.denials = denials
    }

    /// Waits for the program to end. The supervisor keeps serving the program's descendants
    /// that outlive it, for as long as the calling process lives. Call it once.
    public func wait() -> TerminationStatus {
        defer { denials?.flush(waitingAtMost: 1000) }
        var status: Int32 = 0
        if let anchor {
            // The program is the anchor's child: the anchor writes its wait status, then keeps
            // reaping the program's descendants; a detached thread reaps the anchor.
            var received = 0
            while received < 4 {
                let count = withUnsafeMutableBytes(of: &status) { read(anchor.status, $0.baseAddress! + received, 4 - received) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                received += count
            }
            close(anchor.status)
            let anchorPid = anchor.pid
            startDetachedThread {
                var ignored: Int32 = 0
                while waitpid(anchorPid, &ignored, 0) < 0 && errno == EINTR {}
            }
            guard received == 4 else {
                return .unknown(reason: "the nested sandbox's anchor process ended before the program (it was killed)")
            }
        } else {
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { return .unknown(reason: "waitpid failed: \(Errno(rawValue: errno).sentence)") }
            }
        }
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }
}
