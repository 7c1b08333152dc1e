// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor

/// `run --print-policy`: the effective ruleset after composing the policy files and options,
/// each rule with where it comes from, and who enforces each handled right here.
struct PolicyReport {
    var policy: SandboxPolicy
    /// The `--config` arguments, in order.
    var configs: [String]
    /// Who enforces each handled right here; `nil` when the policy handles nothing.
    var plan: EnforcementPlan?
    var landlock: LandlockStatus

    /// The plan `run` would follow for `policy` in `environment` (as the launcher asks
    /// for it: best effort, a new single-threaded process, the policy's supervisor mode).
    init(policy: SandboxPolicy, configs: [String], environment: EnforcementPlan.Environment) {
        self.policy = policy
        self.configs = configs
        self.landlock = environment.landlock
        let request = (try? policy.ruleset()).map {
            EnforcementPlan.Request(
                ruleset: $0, flags: policy.restrictFlags.union(.noNewPrivileges), compatibility: .bestEffort,
                singleThreaded: true, supervisor: policy.udpSupervisor.enforcement.supervisorMode)
        }
        self.plan = request.flatMap { try? EnforcementPlan($0, in: environment) }
    }

    struct HandledRow {
        var right: AccessRight
        var explicit: Bool
        var enforcer: Enforcer
    }

    /// The handled rights and scopes (not the flags), each with who enforces it.
    var handledRows: [HandledRow] {
        (plan?.entries ?? []).compactMap { entry in
            let explicit: Bool
            switch entry.right.kind {
            case .fileSystem: explicit = policy.explicitFileSystem.contains(entry.right)
            case .network: explicit = policy.explicitNetwork.contains(entry.right)
            case .scope: explicit = policy.explicitScopes.contains(entry.right)
            case .restrictSelf: return nil
            }
            return HandledRow(right: entry.right, explicit: explicit, enforcer: entry.enforcer)
        }
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

    var text: String {
        var out = "Policy: " + (configs.isEmpty ? "command-line options" : configs.map { "\"\($0)\"" }.joined(separator: ", ")) + "\n"
        out += "Landlock: \(StatusReport.landlockLine(landlock))\n"
        let rows = handledRows
        let width = rows.map(\.right.auditName.count).max() ?? 0
        let titles: [(AccessKind, String)] = [(.fileSystem, "Handled filesystem rights"), (.network, "Handled network rights"), (.scope, "Scopes")]
        for (kind, title) in titles {
            let selected = rows.filter { $0.right.kind == kind }
            out += "\n\(title):\(selected.isEmpty ? " none" : "")\n"
            for row in selected {
                out += "  \(row.right.auditName.padding(to: width))  \(row.explicit ? "explicit" : "implicit")  \(Enforcement.text(row.enforcer, row.right, long: false))\n"
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
        switch landlock {
        case .notImplemented: fields.append("\"landlock\": {\"status\": \"not_implemented\"}")
        case .notEnabled: fields.append("\"landlock\": {\"status\": \"not_enabled\"}")
        case .available(let abi, let kernel):
            fields.append("\"landlock\": {\"status\": \"available\", \"abi\": \(abi.rawValue), \"kernelABI\": \(kernel)}")
        }
        let handled = handledRows.map { row in
            "    {\"name\": \"\(row.right.auditName)\", \"explicit\": \(row.explicit), \"enforcedBy\": \"\(Enforcement.jsonName(row.enforcer))\""
                + (Enforcement.jsonReason(row.enforcer, row.right).map { ", \"reason\": \(quoted($0))" } ?? "") + "}"
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
