// SPDX-License-Identifier: Apache-2.0
import Landlock

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

    /// The `landlock-exec` option that would allow the call, e.g. `--connect-udp 53`, or
    /// `--bind-udp 0` for an automatic bind.
    public var allowingOption: String {
        decision.blocker == .bindUDP ? "--bind-udp \(decision.port ?? 0)" : "--connect-udp \(decision.port ?? 0)"
    }

    /// `<audit record> (allowed by <option>)`.
    public var description: String { "\(auditRecord) (allowed by \(allowingOption))" }

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
    /// One line per denial, `landlock: <audit record> (allowed by <option>)`, written to this
    /// file descriptor (not closed by the library).
    case fileDescriptor(Int32)
    /// A handler, called on a supervisor thread; keep it short and non-blocking.
    case handler(@Sendable (UDPDenial) -> Void)
}

struct DenialSink: Sendable {
    let log: DenialLog

    func record(_ denial: UDPDenial) {
        switch log {
        case .fileDescriptor(let fd):
            let line = Array("landlock: \(denial)\n".utf8)
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        case .handler(let handler):
            handler(denial)
        }
    }
}
