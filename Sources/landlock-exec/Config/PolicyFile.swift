// SPDX-License-Identifier: Apache-2.0
import Landlock

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Policy files in the Landlock maintainers' landlockconfig format
/// (https://github.com/landlock-lsm/landlockconfig): TOML with snake_case keys, or its JSON form
/// with camelCase keys.
///
/// - `abi`: the ABI the file was written for; the `abi.*` groups resolve against it.
/// - `[[ruleset]]`: `handled_access_fs`, `handled_access_net`, `scoped` (several tables are
///   unioned into one layer).
/// - `[[path_beneath]]`: `allowed_access`, `parent` (paths; `${name}` expands a variable).
/// - `[[net_port]]`: `allowed_access`, `port`.
/// - `[[variable]]`: `name`, `literal` (a list of strings).
///
/// As in landlockconfig, the rights a rule allows are handled even if no `[[ruleset]]` names
/// them.
enum PolicyFile {
    enum Format { case toml, json }

    static func load(path: String) throws(ToolFailure) -> SandboxPolicy {
        let text = try read(path)
        let format: Format
        if path.hasSuffix(".json") {
            format = .json
        } else if path.hasSuffix(".toml") {
            format = .toml
        } else {
            format = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }.first == "{" ? .json : .toml
        }
        return try parse(text, format: format, file: path)
    }

    static func parse(_ text: String, format: Format, file: String) throws(ToolFailure) -> SandboxPolicy {
        let root: ConfigTable
        do throws(ConfigSyntaxError) {
            switch format {
            case .toml:
                root = try TOMLParser.parse(text)
            case .json:
                let value = try JSONParser.parse(text)
                guard case .table(let table) = value.kind else {
                    throw ConfigSyntaxError(line: value.line, message: "the policy must be a JSON object, not \(value.typeName)")
                }
                root = table
            }
        } catch {
            throw ToolFailure(
                "\(file):\(error.line): \(error.message)",
                hints: [error.hint ?? "see the landlockconfig format in 'landlock-exec run --help' and landlock-exec(1)"],
                status: ExitStatus.usage)
        }
        var interpreter = Interpreter(file: file, keys: format == .toml ? .toml : .json)
        return try interpreter.policy(root)
    }

    private static func read(_ path: String) throws(ToolFailure) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw ToolFailure(
                "Failed to open the policy file \"\(path)\": \(errnoSentence(code))",
                hints: [code == ENOENT ? "check the path given to --config" : "make the file readable"],
                status: ExitStatus.usage)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ToolFailure("Failed to read the policy file \"\(path)\": \(errnoSentence(errno))", status: ExitStatus.usage)
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
            if bytes.count > 16 << 20 {
                throw ToolFailure("Failed to read the policy file \"\(path)\": it is larger than 16 MiB", status: ExitStatus.usage)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The key spellings of the two forms.
struct PolicyKeys {
    var ruleset = "ruleset", pathBeneath = "path_beneath", netPort = "net_port", variable = "variable"
    var handledAccessFs = "handled_access_fs", handledAccessNet = "handled_access_net", scoped = "scoped"
    var allowedAccess = "allowed_access", parent = "parent", port = "port", abi = "abi", name = "name", literal = "literal"

    static let toml = PolicyKeys()
    static let json = PolicyKeys(
        pathBeneath: "pathBeneath", netPort: "netPort", handledAccessFs: "handledAccessFs",
        handledAccessNet: "handledAccessNet", allowedAccess: "allowedAccess")

    func table(_ key: String) -> String { self === .toml ? "[[\(key)]]" : "\"\(key)\"" }
    static func === (lhs: PolicyKeys, rhs: PolicyKeys) -> Bool { lhs.pathBeneath == rhs.pathBeneath }
}

/// Turns a parsed document into a policy, with `FILE:LINE: key 'xyz': message` errors.
private struct Interpreter {
    let file: String
    let keys: PolicyKeys
    var abi: LandlockABI?
    var variables: [String: [String]] = [:]

    init(file: String, keys: PolicyKeys) {
        self.file = file
        self.keys = keys
    }

    func failure(_ line: Int, _ key: String, _ message: String, hint: String) -> ToolFailure {
        ToolFailure("\(file):\(line): key '\(key)': \(message)", hints: [hint], status: ExitStatus.usage)
    }

    mutating func policy(_ root: ConfigTable) throws(ToolFailure) -> SandboxPolicy {
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
        }
        for (table, line) in try tables(root, keys.variable) {
            try checkKeys(table, known: [keys.name, keys.literal], in: keys.table(keys.variable))
            guard let nameValue = table[keys.name] else {
                throw failure(line, keys.name, "missing in \(keys.table(keys.variable))", hint: "give the variable a name, as in name = \"home\"")
            }
            let name = try string(nameValue, key: keys.name)
            guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first),
                !("0"..."9").contains(first), name.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)) })
            else {
                throw failure(nameValue.line, keys.name, "'\(name)' is not a valid variable name", hint: "names start with a letter and contain letters, digits and '_'")
            }
            let literal = try table[keys.literal].map { value throws(ToolFailure) in try strings(value, key: keys.literal) } ?? []
            variables[name, default: []] += literal
        }

        var policy = SandboxPolicy()
        for (table, line) in try tables(root, keys.ruleset) {
            try checkKeys(table, known: [keys.handledAccessFs, keys.handledAccessNet, keys.scoped], in: keys.table(keys.ruleset))
            if table.entries.isEmpty {
                throw failure(line, keys.ruleset, "the table is empty", hint: "name at least one of \(keys.handledAccessFs), \(keys.handledAccessNet), \(keys.scoped)")
            }
            if let value = table[keys.handledAccessFs] { policy.explicitFileSystem.formUnion(try access(value, key: keys.handledAccessFs, FileSystemAccess.self)) }
            if let value = table[keys.handledAccessNet] { policy.explicitNetwork.formUnion(try access(value, key: keys.handledAccessNet, NetworkAccess.self)) }
            if let value = table[keys.scoped] { policy.explicitScopes.formUnion(try access(value, key: keys.scoped, Scope.self)) }
        }
        for (table, line) in try tables(root, keys.pathBeneath) {
            try checkKeys(table, known: [keys.allowedAccess, keys.parent], in: keys.table(keys.pathBeneath))
            let allowed = try required(table, keys.allowedAccess, line: line, in: keys.pathBeneath)
            let parents = try required(table, keys.parent, line: line, in: keys.pathBeneath)
            let rights = try access(allowed, key: keys.allowedAccess, FileSystemAccess.self)
            policy.explicitFileSystem.formUnion(rights)
            for (text, parentLine) in try stringsWithLines(parents, key: keys.parent) {
                for path in try expand(text, line: parentLine) {
                    policy.paths.append(.init(path: path, access: rights, ignoreIfMissing: false, source: "\(file):\(parentLine)"))
                }
            }
        }
        for (table, line) in try tables(root, keys.netPort) {
            try checkKeys(table, known: [keys.allowedAccess, keys.port], in: keys.table(keys.netPort))
            let allowed = try required(table, keys.allowedAccess, line: line, in: keys.netPort)
            let ports = try required(table, keys.port, line: line, in: keys.netPort)
            let rights = try access(allowed, key: keys.allowedAccess, NetworkAccess.self)
            policy.explicitNetwork.formUnion(rights)
            guard case .array(let items) = ports.kind, !items.isEmpty else {
                throw failure(ports.line, keys.port, "expected a non-empty array of port numbers, found \(ports.typeName)", hint: "write \(keys.port) = [80, 443]")
            }
            for item in items {
                let port = try integer(item, key: keys.port)
                guard NetPort.validPorts.contains(Int(clamping: port)) else {
                    throw failure(item.line, keys.port, "\(port) is not a valid port", hint: "ports range from 0 to 65535")
                }
                policy.ports.append(.init(port: Int(port), access: rights, source: "\(file):\(item.line)"))
            }
        }
        guard policy.restrictsSomething else {
            throw ToolFailure(
                "\(file):1: the policy handles no access right and no scope, so it would restrict nothing",
                hints: ["add a \(keys.table(keys.ruleset)) with \(keys.handledAccessFs), or a \(keys.table(keys.pathBeneath)) rule"],
                status: ExitStatus.usage)
        }
        return policy
    }

    // MARK: Shapes

    func checkKeys(_ table: ConfigTable, known: [String], in place: String) throws(ToolFailure) {
        for entry in table.entries where !known.contains(entry.key) {
            let hint = "the keys of \(place) are " + known.map { "'\($0)'" }.joined(separator: ", ")
            throw failure(entry.line, entry.key, "unknown key in \(place)", hint: hint)
        }
    }

    func tables(_ root: ConfigTable, _ key: String) throws(ToolFailure) -> [(ConfigTable, Int)] {
        guard let value = root[key] else { return [] }
        guard case .array(let items) = value.kind else {
            throw failure(value.line, key, "expected an array of tables, found \(value.typeName)", hint: keys === .toml ? "write it as [[\(key)]]" : "write \"\(key)\": [{...}]")
        }
        var result: [(ConfigTable, Int)] = []
        for item in items {
            guard case .table(let table) = item.kind else {
                throw failure(item.line, key, "expected a table, found \(item.typeName)", hint: keys === .toml ? "write it as [[\(key)]]" : "write \"\(key)\": [{...}]")
            }
            result.append((table, item.line))
        }
        return result
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

    func string(_ value: ConfigValue, key: String) throws(ToolFailure) -> String {
        guard case .string(let text) = value.kind else {
            throw failure(value.line, key, "expected a string, found \(value.typeName)", hint: "put the value in double quotes")
        }
        return text
    }

    func stringsWithLines(_ value: ConfigValue, key: String) throws(ToolFailure) -> [(String, Int)] {
        guard case .array(let items) = value.kind, !items.isEmpty else {
            throw failure(value.line, key, "expected a non-empty array of strings, found \(value.typeName)", hint: "write \(key) = [\"...\"]")
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
                    throw failure(line, key, "'\(name)' depends on the ABI, but the file has no '\(keys.abi)'", hint: "add \(keys === .toml ? "abi = 5" : "\"abi\": 5") (the ABI the policy was written for) at the top of the file")
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
                result.insert(Bits(rawValue: right.rawValue))
            }
        }
        return result
    }

    static func group<Bits: LandlockBitmask>(_ name: String, _: Bits.Type, abi: LandlockABI) -> Bits? {
        if name == "abi.all" { return .all(in: abi) }
        guard Bits.self == FileSystemAccess.self else { return nil }
        let all = FileSystemAccess.all(in: abi)
        switch name {
        case "abi.read_execute":
            return Bits(rawValue: FileSystemAccess.read(in: abi).union(all.intersection(.refer)).rawValue)
        case "abi.read_write":
            return Bits(rawValue: all.subtracting(.execute).rawValue)
        default:
            return nil
        }
    }

    static func groupHint<Bits: LandlockBitmask>(_: Bits.Type) -> String {
        Bits.self == FileSystemAccess.self ? "the groups abi.all, abi.read_execute, abi.read_write" : "the group abi.all"
    }

    // MARK: Variables

    /// Expands `${name}` references (one path per value of each variable); `$$` is a `$`.
    func expand(_ text: String, line: Int) throws(ToolFailure) -> [String] {
        var results = [""]
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.first {
            scalars = scalars.dropFirst()
            if c == "$" && scalars.first == "$" {
                scalars = scalars.dropFirst()
                results = results.map { $0 + "$" }
            } else if c == "$" && scalars.first == "{" {
                guard let end = scalars.firstIndex(of: "}") else {
                    throw failure(line, keys.parent, "unclosed variable reference in \"\(text)\"", hint: "write ${name}")
                }
                let name = String(String.UnicodeScalarView(scalars[scalars.index(after: scalars.startIndex)..<end]))
                scalars = scalars[scalars.index(after: end)...]
                guard let values = variables[name] else {
                    throw failure(line, keys.parent, "unknown variable '\(name)' in \"\(text)\"", hint: "define it in a \(keys.table(keys.variable)) with name = \"\(name)\"")
                }
                results = results.flatMap { prefix in values.map { prefix + $0 } }
            } else {
                results = results.map { $0 + String(Character(c)) }
            }
        }
        return results
    }
}
