// SPDX-License-Identifier: Apache-2.0
import Landlock

/// A learned policy as a landlockconfig TOML file: only the keys ``PolicyInterpreter`` reads
/// (`abi`, `[[variable]]`, `[[ruleset]]`, `[[path_beneath]]`, `[[net_port]]`), rights by
/// name, and a comment above each rule saying what used it.
struct LearnedPolicyFile {
    struct PathEntry: Equatable {
        /// The `parent` string: `${home}`/`${cwd}` substituted, `$` written `$$`.
        var parent: String
        var access: FileSystemAccess
        var comments: [String]
    }

    struct PortEntry: Equatable {
        var ports: [Int]
        var access: NetworkAccess
        var comments: [String]
    }

    var command: [String] = []
    var abi: LandlockABI
    var handledFileSystem: FileSystemAccess
    var handledNetwork: NetworkAccess
    var scopes: Scope
    /// Name and value, in order: `home`, `cwd`.
    var variables: [(name: String, value: String)] = []
    var paths: [PathEntry] = []
    var ports: [PortEntry] = []
    /// Lines for the file's header (what was seen but cannot be expressed here).
    var notes: [String] = []

    /// What the run needs and the kernel/tool can enforce: `abi` is the ABI whose rights are
    /// handled; with `supervisor` (it can run here), also the rights it enforces where the
    /// kernel lacks them: UDP (ABI 10) and fs.resolve_unix (ABI 9).
    init(learner: PolicyLearner, abi: LandlockABI, supervisor: Bool, variables: [(name: String, value: String)]) {
        self.abi = abi
        handledFileSystem = FileSystemAccess.all(in: abi).union(supervisor ? .resolveUnix : [])
        handledNetwork = NetworkAccess.all(in: abi).union(supervisor ? NetworkAccess.udp : [])
        scopes = Scope.all(in: abi).subtracting(learner.crossed)
        self.variables = variables.filter { $0.value != "/" && !$0.value.isEmpty }
        var dropped: FileSystemAccess = []
        for rule in learner.pathRules {
            let access = rule.access.intersection(handledFileSystem)
            dropped.formUnion(rule.access.subtracting(access))
            guard !access.isEmpty else { continue }
            if rule.path.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
                notes.append("skipped a path with control characters (policy files cannot name it): \(rule.path.debugDescription)")
                continue
            }
            paths.append(PathEntry(parent: template(rule.path), access: access, comments: [Self.comment(rule)]))
        }
        if !dropped.isEmpty {
            notes.append("used but not handled here (kernel ABI \(abi.rawValue)), so not restricted: \(dropped.accessRights.map(\.name).joined(separator: ", "))")
        }
        var droppedNet: NetworkAccess = []
        var byAccess: [(NetworkAccess, [PolicyLearner.PortRule])] = []
        for rule in learner.portRules {
            let access = rule.access.intersection(handledNetwork)
            droppedNet.formUnion(rule.access.subtracting(access))
            guard !access.isEmpty else { continue }
            if let index = byAccess.firstIndex(where: { $0.0 == access }) { byAccess[index].1.append(rule) } else { byAccess.append((access, [rule])) }
        }
        if !droppedNet.isEmpty {
            notes.append("used but not handled here, so not restricted: \(droppedNet.accessRights.map(\.name).joined(separator: ", "))")
        }
        for (access, rules) in byAccess {
            let comments = rules.map { rule in
                "port \(rule.port): " + rule.users.keys.sorted().map { "\(Self.programName($0)) (\(rule.users[$0]!.accessRights.map(\.name).joined(separator: ", ")))" }.joined(separator: ", ")
            }
            ports.append(PortEntry(ports: rules.map(\.port), access: access, comments: comments))
        }
    }

    static func comment(_ rule: PolicyLearner.PathRule) -> String {
        var text = "used by " + rule.users.keys.sorted().map { user in
            "\(programName(user)) (\(rule.users[user]!.accessRights.map(\.name).joined(separator: ", ")))"
        }.joined(separator: ", ")
        if !rule.notes.isEmpty { text += "; " + rule.notes.sorted().map(\.rawValue).joined(separator: "; ") }
        return text
    }

    /// `path` with the longest matching variable substituted and `$` escaped.
    func template(_ path: String) -> String {
        let escaped = { (text: String) in text.replacingAll("$", with: "$$") }
        var best: (name: String, value: String)? = nil
        for variable in variables where path == variable.value || path.hasPrefix(variable.value + "/") {
            if best == nil || variable.value.count > best!.value.count { best = variable }
        }
        guard let best else { return escaped(path) }
        return "${\(best.name)}" + escaped(String(path.dropFirst(best.value.count)))
    }

    // MARK: Merging (--append)

    /// Adds the rules of a previous file: rights, rules and comments are unioned; a scope
    /// stays on only if both runs kept it; the previous file's variable values win.
    mutating func merge(previous document: PolicyDocument, comments: [Int: [String]]) {
        abi = max(abi, document.abi ?? abi)
        handledFileSystem.formUnion(document.handledFileSystem)
        handledNetwork.formUnion(document.handledNetwork)
        scopes.formIntersection(document.scopes)
        for rule in document.pathRules {
            let lines = comments[rule.line] ?? []
            if let index = paths.firstIndex(where: { $0.parent == rule.text }) {
                paths[index].access.formUnion(rule.access)
                for line in lines where !paths[index].comments.contains(line) { paths[index].comments.insert(line, at: 0) }
            } else {
                paths.append(PathEntry(parent: rule.text, access: rule.access, comments: lines))
            }
        }
        for rule in document.portRules {
            let lines = comments[rule.line] ?? []
            if let index = ports.firstIndex(where: { $0.ports.contains(rule.port) }), ports[index].access.isSuperset(of: rule.access) {
                for line in lines where !ports[index].comments.contains(line) { ports[index].comments.insert(line, at: 0) }
                continue
            }
            if let index = ports.firstIndex(where: { $0.access == rule.access }) {
                if !ports[index].ports.contains(rule.port) { ports[index].ports.append(rule.port) }
                for line in lines where !ports[index].comments.contains(line) { ports[index].comments.append(line) }
            } else {
                ports.append(PortEntry(ports: [rule.port], access: rule.access, comments: lines))
            }
        }
        paths.sort { $0.parent < $1.parent }
    }

    /// The variables of a learned file: this run's home and working directory, except that
    /// a previous file's single-valued variable of the same name wins (its rules use it).
    static func variables(
        home: String?, workingDirectory: String?, previous: [PolicyDocument.Variable] = []
    ) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        if let home { result.append(("home", home)) }
        if let workingDirectory { result.append(("cwd", workingDirectory)) }
        for variable in previous where variable.values.count == 1 {
            result.removeAll { $0.name == variable.name }
            result.append((variable.name, variable.values[0]))
        }
        return result
    }

    /// The comment lines above each rule's `parent`/`port` lines of a previously written file,
    /// by the line of each value: the `# ...` lines just above the rule's table header.
    static func comments(in text: String) -> [Int: [String]] {
        var result: [Int: [String]] = [:]
        var pending: [String] = []
        var current: [String] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("# ") {
                pending.append(String(trimmed.dropFirst(2)))
            } else if trimmed.hasPrefix("[[") {
                current = pending
                pending = []
            } else {
                if !trimmed.isEmpty { result[index + 1] = current }
                if trimmed.isEmpty { pending = [] }
            }
        }
        return result
    }

    // MARK: Writing

    var text: String {
        var out = "# A landlockconfig policy written by `landlock-exec learn`"
        if !command.isEmpty { out += " from a run of:\n#   " + command.map(Self.commentWord).joined(separator: " ") }
        out += "\n# Run the command under it with: landlock-exec --config FILE -- COMMAND...\n"
        for note in notes { out += "# Note: \(note)\n" }
        out += "abi = \(abi.rawValue)\n"
        for variable in variables where paths.contains(where: { $0.parent.hasPrefix("${\(variable.name)}") }) {
            out += "\n[[variable]]\nname = \"\(variable.name)\"\nliteral = [\(quoted(variable.value))]\n"
        }
        out += "\n[[ruleset]]\n"
        out += "handled_access_fs = \(Self.names(handledFileSystem.accessRights))\n"
        if !handledNetwork.isEmpty { out += "handled_access_net = \(Self.names(handledNetwork.accessRights))\n" }
        if !scopes.isEmpty { out += "scoped = \(Self.names(scopes.accessRights))\n" }
        for entry in paths {
            out += "\n"
            for comment in entry.comments { out += "# \(comment)\n" }
            out += "[[path_beneath]]\nallowed_access = \(Self.names(entry.access.accessRights))\nparent = [\(quoted(entry.parent))]\n"
        }
        for entry in ports {
            out += "\n"
            for comment in entry.comments { out += "# \(comment)\n" }
            out += "[[net_port]]\nallowed_access = \(Self.names(entry.access.accessRights))\nport = [\(entry.ports.map(String.init).joined(separator: ", "))]\n"
        }
        return out
    }

    /// A program name (its `comm`, which the program sets) fit for a comment line: control
    /// characters, which TOML forbids in comments, become `?`.
    static func programName(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map {
            $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "?" : $0
        }))
    }

    /// An argument as one word on one comment line: as it is when plain, else as a quoted
    /// string with escapes (a newline would end the comment).
    static func commentWord(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic && $0.isASCII) || "0123456789_./=:,@%+-".unicodeScalars.contains($0)
        }
        return plain ? word : quoted(word)
    }

    static func names(_ rights: [AccessRight]) -> String {
        "[" + rights.map { quoted($0.name) }.joined(separator: ", ") + "]"
    }
}

extension String {
    func replacingAll(_ old: String, with new: String) -> String {
        guard !old.isEmpty else { return self }
        var result = ""
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(old) {
                result += new
                index = self.index(index, offsetBy: old.count)
            } else {
                result.append(self[index])
                index = self.index(after: index)
            }
        }
        return result
    }
}
