// SPDX-License-Identifier: Apache-2.0
import Landlock

/// `run --print-policy`: the effective ruleset after composing the policy files and options,
/// each rule with where it comes from, and who enforces each handled right here.
struct PolicyReport {
    var policy: SandboxPolicy
    /// The status report of this machine (who enforces what).
    var status: StatusReport
    /// The `--config` arguments, in order.
    var configs: [String]

    struct HandledRow {
        var right: AccessRight
        var kind: RightKind
        var explicit: Bool
        var enforcer: Enforcer
        var reason: String?
    }

    var handledRows: [HandledRow] {
        var result: [HandledRow] = []
        for row in status.rows {
            let (handled, explicit): (UInt64, UInt64) = switch row.kind {
            case .fileSystem: (policy.handledFileSystem.rawValue, policy.explicitFileSystem.rawValue)
            case .network: (policy.handledNetwork.rawValue, policy.explicitNetwork.rawValue)
            case .scope: (policy.scopes.rawValue, policy.explicitScopes.rawValue)
            case .restrictSelf: (0, 0)
            }
            guard handled & row.right.rawValue != 0 else { continue }
            var enforcer = row.enforcer
            var reason = row.reason
            let isUDP = row.kind == .network && row.right.rawValue & NetworkAccess.udp.rawValue != 0
            if isUDP && policy.udpSupervisor == .never && enforcer == .supervisor {
                enforcer = .none
                reason = "not enforced: the kernel lacks ABI 10 and --udp-supervisor is never"
            } else if isUDP && policy.udpSupervisor == .always && enforcer == .kernel {
                enforcer = .supervisor
                reason = nil
            }
            result.append(HandledRow(right: row.right, kind: row.kind, explicit: explicit & row.right.rawValue != 0, enforcer: enforcer, reason: reason))
        }
        return result
    }

    /// The rights a rule passes to the kernel: those of the grant that the policy handles.
    func names<Bits: LandlockBitmask>(_ access: Bits, handled: Bits) -> [String] {
        access.intersection(handled).accessRights.map(\.auditName)
    }

    var pathRules: [(grant: SandboxPolicy.PathGrant, rights: [String])] {
        policy.paths.compactMap { grant in
            let rights = names(grant.access, handled: policy.handledFileSystem)
            return rights.isEmpty ? nil : (grant, rights)
        }
    }

    var portRules: [(grant: SandboxPolicy.PortGrant, rights: [String])] {
        policy.ports.compactMap { grant in
            let rights = names(grant.access, handled: policy.handledNetwork)
            return rights.isEmpty ? nil : (grant, rights)
        }
    }

    func enforcement(_ row: HandledRow) -> String {
        switch row.enforcer {
        case .kernel where row.reason != nil: "enforced by the kernel: \(row.reason!)"
        case .kernel: "enforced by the kernel (ABI \(row.right.introduced.rawValue))"
        case .supervisor where status.outerSupervisor == .registering: "enforced by the supervisor of the enclosing sandbox"
        case .supervisor: "enforced by the supervisor (seccomp user notification)"
        case .none: row.reason ?? "not enforced"
        }
    }

    var text: String {
        var out = "Policy: " + (configs.isEmpty ? "command-line options" : configs.map { "\"\($0)\"" }.joined(separator: ", ")) + "\n"
        out += "Landlock: \(status.landlockLine)\n"
        let rows = handledRows
        let width = rows.map(\.right.auditName.count).max() ?? 0
        let titles: [(RightKind, String)] = [(.fileSystem, "Handled filesystem rights"), (.network, "Handled network rights"), (.scope, "Scopes")]
        for (kind, title) in titles {
            let selected = rows.filter { $0.kind == kind }
            out += "\n\(title):\(selected.isEmpty ? " none" : "")\n"
            for row in selected {
                out += "  \(row.right.auditName.padding(to: width))  \(row.explicit ? "explicit" : "implicit")  \(enforcement(row))\n"
            }
        }
        let paths = pathRules, ports = portRules
        out += "\nRules:\(paths.isEmpty && ports.isEmpty ? " none" : "")\n"
        for (grant, rights) in paths {
            out += "  \(quoted(grant.path)): \(rights.joined(separator: ", "))  (\(grant.sources))\(grant.ignoreIfMissing ? " [skipped if missing]" : "")\n"
        }
        for (grant, rights) in ports {
            out += "  port \(grant.port): \(rights.joined(separator: ", "))  (\(grant.sources))\n"
        }
        return out
    }

    var json: String {
        var fields: [String] = []
        fields.append("\"configs\": [" + configs.map(quoted).joined(separator: ", ") + "]")
        switch status.landlock {
        case .notImplemented: fields.append("\"landlock\": {\"status\": \"not_implemented\"}")
        case .notEnabled: fields.append("\"landlock\": {\"status\": \"not_enabled\"}")
        case .available(let abi, let kernel):
            fields.append("\"landlock\": {\"status\": \"available\", \"abi\": \(abi.rawValue), \"kernelABI\": \(kernel)}")
        }
        let handled = handledRows.map { row in
            "    {\"name\": \"\(row.right.auditName)\", \"explicit\": \(row.explicit), \"enforcedBy\": \"\(row.enforcer.rawValue)\""
                + (row.reason.map { ", \"reason\": \(quoted($0))" } ?? "") + "}"
        }
        fields.append("\"handled\": [\n" + handled.joined(separator: ",\n") + (handled.isEmpty ? "]" : "\n  ]"))
        func sources(_ first: String, _ others: SandboxPolicy.OtherSources) -> String {
            "[" + ([first] + others.places).map(quoted).joined(separator: ", ") + "]"
                + (others.omitted > 0 ? ", \"moreSources\": \(others.omitted)" : "")
        }
        var rules: [String] = []
        for (grant, rights) in pathRules {
            rules.append(
                "    {\"pathBeneath\": \(quoted(grant.path)), \"allowedAccess\": [" + rights.map(quoted).joined(separator: ", ")
                    + "], \"ignoreIfMissing\": \(grant.ignoreIfMissing), \"sources\": \(sources(grant.source, grant.otherSources))}")
        }
        for (grant, rights) in portRules {
            rules.append(
                "    {\"netPort\": \(grant.port), \"allowedAccess\": [" + rights.map(quoted).joined(separator: ", ")
                    + "], \"sources\": \(sources(grant.source, grant.otherSources))}")
        }
        fields.append("\"rules\": [\n" + rules.joined(separator: ",\n") + (rules.isEmpty ? "]" : "\n  ]"))
        return "{\n  " + fields.joined(separator: ",\n  ") + "\n}\n"
    }
}

/// `text` as a JSON string (also used for paths in the text report).
func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                result += "\\u" + hex4(scalar.value)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
