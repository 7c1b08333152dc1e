// SPDX-License-Identifier: Apache-2.0
import Landlock

/// Turns a parsed document into a ``PolicyDocument``, with `FILE:LINE: key 'xyz': message`
/// errors.
struct PolicyInterpreter {
    let file: String
    let keys: PolicyKeys
    var abi: LandlockABI?

    init(file: String, keys: PolicyKeys) {
        self.file = file
        self.keys = keys
    }

    func failure(_ line: Int, _ key: String, _ message: String, hint: String) -> ToolFailure {
        ToolFailure("\(file):\(line): key '\(printable(key))': \(message)", hints: [hint], status: ExitStatus.usage)
    }

    mutating func document(_ root: ConfigTable) throws(ToolFailure) -> PolicyDocument {
        var document = PolicyDocument(file: file, keys: keys)
        let known = [keys.abi, keys.variable, keys.ruleset, keys.pathBeneath, keys.netPort]
        try checkKeys(root, known: known, in: "the top level")
        if let value = root[keys.abi] {
            let number = try integer(value, key: keys.abi)
            guard number >= 1 else {
                throw failure(value.line, keys.abi, "\(number) is not a Landlock ABI version", hint: "ABI versions start at 1")
            }
            guard let abi = LandlockABI(rawValue: Int(clamping: number)) else {
                throw failure(
                    value.line, keys.abi, "ABI \(number) is newer than this tool knows (ABI \(LandlockABI.newest.rawValue))",
                    hint: "update landlock-exec, or set \(keys.abi) = \(LandlockABI.newest.rawValue) or lower")
            }
            self.abi = abi
            document.abi = abi
        }
        // As in landlockconfig, a file must say something besides its ABI.
        guard known.dropFirst().contains(where: root.contains) else {
            let names = [keys.ruleset, keys.pathBeneath, keys.netPort, keys.variable].map(keys.table)
            throw ToolFailure(
                "\(file):1: the policy file is empty: it has no \(names[0..<3].joined(separator: ", ")) or \(names[3])",
                hints: ["add a \(keys.table(keys.ruleset)) with \(keys.handledAccessFs), or a \(keys.table(keys.pathBeneath)) rule"],
                status: ExitStatus.usage)
        }
        for (table, line) in try tables(root, keys.variable) {
            try checkKeys(table, known: [keys.name, keys.literal], in: keys.table(keys.variable))
            guard let nameValue = table[keys.name] else {
                throw failure(line, keys.name, "missing in \(keys.table(keys.variable))", hint: "give the variable a name, as in name = \"home\"")
            }
            let name = try string(nameValue, key: keys.name)
            guard Variables.isValidName(name) else {
                throw failure(nameValue.line, keys.name, "'\(name)' is not a valid variable name", hint: Self.nameHint)
            }
            let literal = try table[keys.literal].map { value throws(ToolFailure) in try strings(value, key: keys.literal) } ?? []
            document.variables.append(.init(name: name, values: literal))
        }
        for (table, line) in try tables(root, keys.ruleset) {
            try checkKeys(table, known: [keys.handledAccessFs, keys.handledAccessNet, keys.scoped], in: keys.table(keys.ruleset))
            if table.entries.isEmpty {
                throw failure(line, keys.ruleset, "the table is empty", hint: "name at least one of \(keys.handledAccessFs), \(keys.handledAccessNet), \(keys.scoped)")
            }
            if let value = table[keys.handledAccessFs] { document.handledFileSystem.formUnion(try access(value, key: keys.handledAccessFs, FileSystemAccess.self)) }
            if let value = table[keys.handledAccessNet] { document.handledNetwork.formUnion(try access(value, key: keys.handledAccessNet, NetworkAccess.self)) }
            if let value = table[keys.scoped] { document.scopes.formUnion(try access(value, key: keys.scoped, Scope.self)) }
        }
        for (table, line) in try tables(root, keys.pathBeneath) {
            try checkKeys(table, known: [keys.allowedAccess, keys.parent], in: keys.table(keys.pathBeneath))
            let allowed = try required(table, keys.allowedAccess, line: line, in: keys.pathBeneath)
            let parents = try required(table, keys.parent, line: line, in: keys.pathBeneath)
            let rights = try access(allowed, key: keys.allowedAccess, FileSystemAccess.self)
            var rules: [PolicyDocument.PathRule] = []
            for (text, parentLine) in try stringsWithLines(parents, key: keys.parent) {
                let template: PathTemplate
                do throws(TemplateError) {
                    template = try PathTemplate(text)
                } catch {
                    switch error {
                    case .unclosed:
                        throw failure(parentLine, keys.parent, "unclosed variable reference in \"\(abbreviated(text))\"", hint: "write ${name}, or $$ for a literal $")
                    case .invalidName(let name):
                        throw failure(
                            parentLine, keys.parent, "'\(name)' is not a valid variable name in \"\(abbreviated(text))\"",
                            hint: Self.nameHint + "; write $$ for a literal $")
                    }
                }
                rules.append(.init(template: template, text: text, access: rights, line: parentLine))
            }
            // As in landlockconfig, a rule whose rights resolve to nothing is dropped.
            guard !rights.isEmpty else { continue }
            document.handledFileSystem.formUnion(rights)
            document.pathRules += rules
        }
        for (table, line) in try tables(root, keys.netPort) {
            try checkKeys(table, known: [keys.allowedAccess, keys.port], in: keys.table(keys.netPort))
            let allowed = try required(table, keys.allowedAccess, line: line, in: keys.netPort)
            let ports = try required(table, keys.port, line: line, in: keys.netPort)
            let rights = try access(allowed, key: keys.allowedAccess, NetworkAccess.self)
            guard case .array(let items) = ports.kind, !items.isEmpty else {
                throw failure(ports.line, keys.port, "expected a non-empty array of port numbers, found \(describe(ports))", hint: "write \(keys.port) = [80, 443]")
            }
            var rules: [PolicyDocument.PortRule] = []
            for item in items {
                let port = try integer(item, key: keys.port)
                guard NetPort.validPorts.contains(Int(clamping: port)) else {
                    throw failure(item.line, keys.port, "\(port) is not a valid port", hint: "ports range from 0 to 65535")
                }
                rules.append(.init(port: Int(port), access: rights, line: item.line))
            }
            guard !rights.isEmpty else { continue }
            document.handledNetwork.formUnion(rights)
            document.portRules += rules
        }
        return document
    }

    static let nameHint = "variable names start with an ASCII letter and contain only ASCII letters, digits and '_'"

    // MARK: Shapes

    func checkKeys(_ table: ConfigTable, known: [String], in place: String) throws(ToolFailure) {
        for entry in table.entries where !known.contains(entry.key) {
            let hint = "the keys of \(place) are " + known.map { "'\($0)'" }.joined(separator: ", ")
            throw failure(entry.line, entry.key, "unknown key in \(place)", hint: hint)
        }
    }

    func tables(_ root: ConfigTable, _ key: String) throws(ToolFailure) -> [(ConfigTable, Int)] {
        guard let value = root[key] else { return [] }
        let hint = keys.isTOML ? "write it as [[\(key)]]" : "write \"\(key)\": [{...}]"
        guard case .array(let items) = value.kind, !items.isEmpty else {
            throw failure(value.line, key, "expected a non-empty array of tables, found \(describe(value))", hint: hint)
        }
        var result: [(ConfigTable, Int)] = []
        for item in items {
            guard case .table(let table) = item.kind else {
                throw failure(item.line, key, "expected a table, found \(item.typeName)", hint: hint)
            }
            result.append((table, item.line))
        }
        return result
    }

    func describe(_ value: ConfigValue) -> String {
        if case .array(let items) = value.kind, items.isEmpty { return "an empty array" }
        return value.typeName
    }

    func required(_ table: ConfigTable, _ key: String, line: Int, in place: String) throws(ToolFailure) -> ConfigValue {
        guard let value = table[key] else {
            throw failure(line, key, "missing in \(keys.table(place))", hint: "every \(keys.table(place)) needs '\(keys.allowedAccess)' and '\(place == keys.netPort ? keys.port : keys.parent)'")
        }
        return value
    }

    func integer(_ value: ConfigValue, key: String) throws(ToolFailure) -> Int64 {
        guard case .integer(let number) = value.kind else {
            throw failure(value.line, key, "expected an integer, found \(value.typeName)", hint: "write a number without quotes")
        }
        return number
    }

    /// A string without control characters: a NUL would cut a path short in the kernel (the
    /// rule would grant a different directory than the one written), and the others have no
    /// business in paths, names or rights.
    func string(_ value: ConfigValue, key: String) throws(ToolFailure) -> String {
        guard case .string(let text) = value.kind else {
            throw failure(value.line, key, "expected a string, found \(value.typeName)", hint: "put the value in double quotes")
        }
        if let control = text.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            throw failure(
                value.line, key, "the string contains the control character U+\(hex4(control.value))",
                hint: "paths, names and rights cannot contain control characters (a NUL would cut a path short)")
        }
        return text
    }

    func stringsWithLines(_ value: ConfigValue, key: String) throws(ToolFailure) -> [(String, Int)] {
        guard case .array(let items) = value.kind, !items.isEmpty else {
            throw failure(value.line, key, "expected a non-empty array of strings, found \(describe(value))", hint: "write \(key) = [\"...\"]")
        }
        var result: [(String, Int)] = []
        for item in items { result.append((try string(item, key: key), item.line)) }
        return result
    }

    func strings(_ value: ConfigValue, key: String) throws(ToolFailure) -> [String] {
        try stringsWithLines(value, key: key).map(\.0)
    }

    // MARK: Rights

    func access<Bits: LandlockBitmask>(_ value: ConfigValue, key: String, _: Bits.Type) throws(ToolFailure) -> Bits {
        var result: Bits = []
        for (name, line) in try stringsWithLines(value, key: key) {
            if name.hasPrefix("abi.") {
                guard let abi else {
                    throw failure(line, key, "'\(name)' depends on the ABI, but the file has no '\(keys.abi)'", hint: "add \(keys.isTOML ? "abi = 5" : "\"abi\": 5") (the ABI the policy was written for) at the top of the file")
                }
                guard let group = Self.group(name, Bits.self, abi: abi) else {
                    throw failure(line, key, "unknown access group '\(name)'", hint: Self.groupHint(Bits.self))
                }
                result.formUnion(group)
            } else {
                guard let right = Bits.rights.first(where: { $0.name == name }) else {
                    let names = Bits.rights.map(\.name).joined(separator: ", ")
                    throw failure(line, key, "unknown access right '\(name)'", hint: "known rights here: \(names), and \(Self.groupHint(Bits.self))")
                }
                result.formUnion(Bits(right)!)
            }
        }
        return result
    }

    static func group<Bits: LandlockBitmask>(_ name: String, _: Bits.Type, abi: LandlockABI) -> Bits? {
        if name == "abi.all" { return .all(in: abi) }
        let all = FileSystemAccess.all(in: abi)
        switch name {
        case "abi.read_execute":
            return FileSystemAccess.read(in: abi).union(all.intersection(.refer)) as? Bits
        case "abi.read_write":
            return all.subtracting(.execute) as? Bits
        default:
            return nil
        }
    }

    static func groupHint<Bits: LandlockBitmask>(_: Bits.Type) -> String {
        Bits.self == FileSystemAccess.self ? "the groups abi.all, abi.read_execute, abi.read_write" : "the group abi.all"
    }
}
