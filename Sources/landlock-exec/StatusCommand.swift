// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor

extension LandlockExec {
    /// What this machine enforces, right by right.
    struct Status: Equatable {
        var json = false

        static let spec = CommandSpec<Status>(
            name: "status",
            abstract: "Show the kernel's Landlock ABI and errata, and who enforces each right here.",
            discussion: """
                For every right, scope and restrict-self flag: "kernel" when the running kernel \
                enforces it, "supervisor" when landlock-exec's user-space supervisor does, or "none" \
                with the reason; then what landlock-exec does about what Landlock does not cover \
                (raw and packet sockets, the supervisor's own limits).
                """,
            options: [.flag("json", "Print the report as JSON.") { $0.json = true }],
            operands: .none)

        func run() throws {
            let report = StatusReport(plan: Enforcement.machinePlan(in: Enforcement.environment))
            print(json ? report.json : report.text, terminator: "")
        }
    }
}

/// The `status` report: the plan of a ruleset handling every right, read row by row, so it
/// can be tested with any kernel.
struct StatusReport {
    var plan: EnforcementPlan

    var landlock: LandlockStatus { plan.environment.landlock }
    var errata: Errata? { plan.environment.errata }

    /// Every right, scope and flag this tool knows, in kernel order, with who enforces it.
    var rows: [EnforcementPlan.Entry] { plan.entries }

    static let errataNames: [(Errata, String)] = [
        (.tcpSocketIdentification, "tcp_socket_identification"), (.scopedSignalHandling, "scoped_signal_handling"),
        (.disconnectedDirectoryHandling, "disconnected_directory_handling"), (.whiteoutCreation, "whiteout_creation"),
    ]

    var landlockLine: String { Self.landlockLine(landlock) }

    static func landlockLine(_ landlock: LandlockStatus) -> String {
        switch landlock {
        case .notImplemented: "not implemented by this kernel (ENOSYS)"
        case .notEnabled: "not enabled in this kernel (EOPNOTSUPP)"
        case .available(let abi, let kernel) where abi.rawValue == kernel: "ABI \(kernel)"
        case .available(let abi, let kernel): "ABI \(kernel) (used as ABI \(abi.rawValue), the newest this tool knows)"
        }
    }

    var errataLine: String {
        guard let errata else { return "unknown (the kernel does not report errata)" }
        let fixed = Self.errataNames.enumerated().filter { errata.contains($0.element.0) }
            .map { "\($0.offset + 1) \($0.element.1)" }
        return fixed.isEmpty ? "none fixed" : "fixed " + fixed.joined(separator: ", ")
    }

    var text: String {
        var out = "Landlock: \(landlockLine)\n"
        out += "Errata: \(errataLine)\n"
        for hint in KernelHints.forStatus(landlock) { out += "Hint: \(hint)\n" }
        let titles: [AccessKind: String] = [
            .fileSystem: "Filesystem rights", .network: "Network rights", .scope: "Scopes",
            .restrictSelf: "Restrict-self flags",
        ]
        var current: AccessKind?
        let width = rows.map(\.right.auditName.count).max() ?? 0
        for row in rows {
            if row.right.kind != current {
                out += "\n\(titles[row.right.kind]!):\n"
                current = row.right.kind
            }
            out += "  \(row.right.auditName.padding(to: width))  \(Enforcement.text(row.enforcer, row.right, long: true))\n"
        }
        out += "\nBeyond Landlock:\n"
        for (name, what) in Self.beyondLandlock { out += "  \(name.padding(to: width))  \(what)\n" }
        return out
    }

    /// What landlock-exec does about what no Landlock right covers (the same on every kernel).
    static let beyondLandlock = [
        ("raw_and_packet_sockets", "not restricted by Landlock: CAP_NET_RAW and CAP_NET_ADMIN are dropped from the command when a network right is handled (--keep-network-capabilities keeps them)"),
        ("mptcp_and_sctp_sockets", "not checked by Landlock's TCP rights: refused (EPROTONOSUPPORT) by a seccomp filter while TCP rights are handled (--allow-mptcp-sctp lets them open)"),
        ("supervisor_reach", "the supervised command cannot change the supervisor's resource limits or scheduling (prlimit, setpriority, ioprio_set, sched_set* on another process: EPERM)"),
    ]

    var json: String {
        var fields: [String] = []
        switch landlock {
        case .notImplemented: fields.append("\"landlock\": {\"status\": \"not_implemented\"}")
        case .notEnabled: fields.append("\"landlock\": {\"status\": \"not_enabled\"}")
        case .available(let abi, let kernel):
            fields.append("\"landlock\": {\"status\": \"available\", \"abi\": \(abi.rawValue), \"kernelABI\": \(kernel)}")
        }
        if let errata {
            let fixed = Self.errataNames.enumerated().filter { errata.contains($0.element.0) }
            fields.append("\"errata\": [" + fixed.map { "{\"id\": \($0.offset + 1), \"name\": \"\($0.element.1)\"}" }.joined(separator: ", ") + "]")
        } else {
            fields.append("\"errata\": null")
        }
        let rights = rows.map { row in
            "    {\"name\": \"\(row.right.auditName)\", \"kernelName\": \"\(row.right.kernelName)\", "
                + "\"introduced\": \(row.right.introduced.rawValue), \"enforcedBy\": \"\(Enforcement.jsonName(row.enforcer))\""
                + (Enforcement.jsonReason(row.enforcer, row.right).map { ", \"reason\": \(quoted($0))" } ?? "") + "}"
        }
        fields.append("\"rights\": [\n" + rights.joined(separator: ",\n") + "\n  ]")
        let beyond = Self.beyondLandlock.map { "    {\"name\": \"\($0.0)\", \"handling\": \"\($0.1)\"}" }
        fields.append("\"beyondLandlock\": [\n" + beyond.joined(separator: ",\n") + "\n  ]")
        return "{\n  " + fields.joined(separator: ",\n  ") + "\n}\n"
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
