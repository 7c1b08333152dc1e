// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import SandboxSupport
public import Landlock
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A UDP call the supervisor denied, for logging.
public struct UDPDenial: Sendable, Hashable, CustomStringConvertible {
    /// The decision (its ``UDPDecision/blocker`` is set).
    public var decision: UDPDecision
    public var operation: UDPOperation

    /// The denial in the shape of Landlock's audit record, e.g.
    /// `blockers=net.connect_send_udp daddr=192.0.2.7 dest=53`, `blockers=net.bind_udp src=5353`,
    /// or `blockers=net.bind_udp` for an automatic bind. Zero addresses and ports are left out,
    /// as the kernel's audit helper does.
    public var auditRecord: String {
        var parts = ["blockers=" + (decision.blocker?.auditNames.first ?? "net.unknown")]
        let isBind = decision.blocker == .bindUDP
        if let address = Self.text(decision.address) { parts.append((isBind ? "saddr=" : "daddr=") + address) }
        if let port = decision.port, port != 0 { parts.append((isBind ? "src=" : "dest=") + String(port)) }
        return parts.joined(separator: " ")
    }

    /// The rule that would allow the call, e.g. `NetPort(.connectSendUDP, port: 53)`, or
    /// `NetPort(.bindUDP, port: 0)` for an automatic bind.
    public var allowingRule: NetPort {
        NetPort(decision.blocker == .bindUDP ? .bindUDP : .connectSendUDP, port: Int(decision.port ?? 0))
    }

    /// `<audit record> (allowed by <rule>)`, the rule worded by
    /// ``DenialLog/wordAllowingRules(_:)`` (by default `net.connect_send_udp on port 53`).
    public var description: String { "\(auditRecord) (allowed by \(DenialLog.wording(allowingRule)))" }

    private static func text(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 4 || bytes.count == 16, bytes.contains(where: { $0 != 0 }) else { return nil }
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, 64) } != nil
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}

/// Where the supervisor reports denials.
public enum DenialLog: Sendable {
    /// One line per denial, `landlock: <audit record> (allowed by <rule>)`, written to this
    /// file descriptor (not closed by the library).
    case fileDescriptor(Int32)
    /// A handler, called on a supervisor thread; keep it short and non-blocking.
    case handler(@Sendable (UDPDenial) -> Void)

    /// How the lines written to a file descriptor name the rule that would allow a denied
    /// call, after "allowed by". By default the right's audit name and the port
    /// (`net.connect_send_udp on port 53`); a program with its own vocabulary, such as a
    /// command-line tool naming its options, sets it once before starting sandboxes. It
    /// applies to every line this process writes, those of sandboxes nested in its own
    /// included (their supervisor is this process's).
    public static func wordAllowingRules(_ wording: @escaping @Sendable (NetPort) -> String) {
        ruleWording.withLock { $0 = wording }
    }

    private static let ruleWording = Mutex<(@Sendable (NetPort) -> String)?>(nil)

    static func wording(_ rule: NetPort) -> String {
        if let wording = ruleWording.withLock({ $0 }) { return wording(rule) }
        return rule.access.auditNames.joined(separator: ", ") + " on port \(rule.port)"
    }
}

/// Where one layer's denials go. The monitor thread never waits on it (the log may be a pipe
/// the program fills and never drains, or a terminal stopped with Ctrl-S): it only queues the
/// denial, and one writer thread of the sink, started when there is something to write, does
/// the blocking part. When `capacity` lines are waiting, further denials are counted instead
/// of queued, and the count is written once the writer catches up.
final class DenialSink: @unchecked Sendable {
    let log: DenialLog
    /// Close the descriptor when the sink goes (a nested layer's duplicate).
    private let ownsDescriptor: Bool
    private let state = Mutex(State())
    static let capacity = 1024

    /// A UDP denial the supervisor decided, or a line of the denial log's observer
    /// (`SandboxedCommand.explainDenials`), written after `landlock: `.
    enum Entry {
        case udp(UDPDenial)
        case line(String)
    }

    private struct State {
        var queue: [Entry] = []
        var dropped = 0
        var writing = false
        var stalled = false
    }

    init(log: DenialLog, ownsDescriptor: Bool = false) {
        self.log = log
        self.ownsDescriptor = ownsDescriptor
    }

    /// Queues `denial` (monitor and executor threads): never blocks on the log.
    func record(_ denial: UDPDenial) { record(entry: .udp(denial)) }

    /// Queues a line of the observer (written to a file descriptor log only).
    func record(line: String) { record(entry: .line(line)) }

    private func record(entry: Entry) {
        let startWriter = state.withLock { state -> Bool in
            if state.queue.count >= Self.capacity {
                state.dropped += 1
            } else {
                state.queue.append(entry)
            }
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if startWriter && !startDetachedThread({ [self] in drain() }) {
            state.withLock { $0.writing = false }
        }
    }

    /// Waits until every queued line is written, for at most `milliseconds`.
    func flush(waitingAtMost milliseconds: Int64) {
        let deadline = MonotonicClock.milliseconds + milliseconds
        while state.withLock({ $0.writing }) && MonotonicClock.milliseconds < deadline {
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        }
    }

    /// Waits up to `milliseconds` for the queued lines to be written, unless an earlier wait
    /// timed out (the log is not being read: never wait on it again). For the observer's
    /// lines, so that a denial's line comes before the program's own complaint about it.
    func flushUnlessStalled(waitingAtMost milliseconds: Int64) {
        guard !state.withLock({ $0.stalled }) else { return }
        flush(waitingAtMost: milliseconds)
        if state.withLock({ $0.writing }) { state.withLock { $0.stalled = true } }
    }

    /// The writer: empties the queue, then ends.
    private func drain() {
        _ = clandlock_block_all_signals()
        while true {
            let (batch, dropped) = state.withLock { state -> ([Entry], Int) in
                defer { state.queue = []; state.dropped = 0 }
                if state.queue.isEmpty && state.dropped == 0 { state.writing = false }
                return (state.queue, state.dropped)
            }
            if batch.isEmpty && dropped == 0 { return }
            for denial in batch { deliver(denial) }
            if dropped > 0, case .fileDescriptor(let fd) = log {
                writeLine(fd, "landlock: \(dropped) more denials not logged: the log was not read fast enough\n")
            }
        }
    }

    private func deliver(_ entry: Entry) {
        switch (log, entry) {
        case (.fileDescriptor(let fd), .udp(let denial)): writeLine(fd, "landlock: \(denial)\n")
        case (.fileDescriptor(let fd), .line(let line)): writeLine(fd, "landlock: \(line)\n")
        case (.handler(let handler), .udp(let denial)): handler(denial)
        case (.handler, .line): break
        }
    }

    private func writeLine(_ fd: Int32, _ text: String) {
        var line = Array(text.utf8)[...]
        while !line.isEmpty {
            let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            line = line.dropFirst(written)
        }
    }

    deinit {
        if ownsDescriptor, case .fileDescriptor(let fd) = log { Closer.close(fd, mayWait: true) }
    }
}
