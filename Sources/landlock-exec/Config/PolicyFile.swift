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
///
/// Several files (several `--config`, or a directory of `*.toml` and `*.json` files read in
/// name order) compose into one layer: every right or scope any file handles is handled, and
/// every rule of every file is kept, so the result allows what any of the files allows and
/// restricts what any of them restricts (never "last wins"). Variables are shared: a
/// variable's values are those of every file that defines it, as in landlockconfig.
enum PolicyFile {
    enum Format { case toml, json }

    /// Loads the `--config` arguments (files, or directories of policy files) and composes them.
    static func load(paths: [String]) throws(ToolFailure) -> SandboxPolicy {
        var documents: [PolicyDocument] = []
        for path in paths {
            for (file, bytes) in try read(path) {
                documents.append(try parse(bytes, format: format(of: file, bytes), file: file))
            }
        }
        return try compose(documents)
    }

    /// Parses one policy file (the variables are expanded when the files are composed).
    static func parse(_ bytes: [UInt8], format: Format, file: String) throws(ToolFailure) -> PolicyDocument {
        let root: ConfigTable
        do throws(ConfigSyntaxError) {
            switch format {
            case .toml:
                root = try TOMLParser.parse(bytes)
            case .json:
                let value = try JSONParser.parse(bytes)
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
        var interpreter = PolicyInterpreter(file: file, keys: format == .toml ? .toml : .json)
        return try interpreter.document(root)
    }

    /// The format a file's name says, or else its first character (`{` for JSON).
    static func format(of path: String, _ bytes: [UInt8]) -> Format {
        if path.hasSuffix(".json") { return .json }
        if path.hasSuffix(".toml") { return .toml }
        var rest = bytes[...]
        if rest.starts(with: [0xEF, 0xBB, 0xBF]) { rest = rest.dropFirst(3) }
        let first = rest.first { $0 != ascii(" ") && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }
        return first == ascii("{") ? .json : .toml
    }

    // MARK: Composition

    /// One layer from several files: the union of what each handles and of what each allows.
    static func compose(_ documents: [PolicyDocument]) throws(ToolFailure) -> SandboxPolicy {
        var variables = Variables()
        for document in documents {
            for variable in document.variables { variables.define(variable.name, values: variable.values) }
        }
        var policy = SandboxPolicy()
        var budget = ExpansionBudget()
        var pathIndex: [String: Int] = [:]
        var portIndex: [Int: Int] = [:]
        for document in documents {
            policy.explicitFileSystem.formUnion(document.handledFileSystem)
            policy.explicitNetwork.formUnion(document.handledNetwork)
            policy.explicitScopes.formUnion(document.scopes)
            for rule in document.pathRules {
                let source = "\(document.file):\(rule.line)"
                let paths: [String]
                do throws(ExpansionError) {
                    paths = try variables.expand(rule.template, budget: &budget)
                } catch {
                    throw document.failure(rule.line, document.keys.parent, error.message(rule.text), hint: error.hint(document.keys))
                }
                for path in paths where !path.isEmpty {
                    if let index = pathIndex[path] {
                        policy.paths[index].access.formUnion(rule.access)
                        policy.paths[index].addSource(source)
                    } else {
                        pathIndex[path] = policy.paths.count
                        policy.paths.append(.init(path: path, access: rule.access, ignoreIfMissing: false, source: source))
                    }
                }
            }
            for rule in document.portRules {
                let source = "\(document.file):\(rule.line)"
                if let index = portIndex[rule.port] {
                    policy.ports[index].access.formUnion(rule.access)
                    policy.ports[index].addSource(source)
                } else {
                    portIndex[rule.port] = policy.ports.count
                    policy.ports.append(.init(port: rule.port, access: rule.access, source: source))
                }
            }
        }
        guard policy.restrictsSomething else {
            let subject = documents.count == 1 ? "\(documents[0].file):1: the policy handles" : "the policy files handle"
            let keys = documents.first?.keys ?? .toml
            throw ToolFailure(
                "\(subject) no access right and no scope, so \(documents.count == 1 ? "it" : "they") would restrict nothing",
                hints: ["add a \(keys.table(keys.ruleset)) with \(keys.handledAccessFs), or a \(keys.table(keys.pathBeneath)) rule"],
                status: ExitStatus.usage)
        }
        return policy
    }

    // MARK: Reading

    /// The policy file at `path`, or the `*.toml` and `*.json` files of the directory at
    /// `path` in name order. Only regular files are read: a FIFO, a device or a socket is
    /// refused without blocking (the file is opened with `O_NONBLOCK` and checked with
    /// `fstat` before anything is read), and so is a file larger than
    /// ``ConfigLimits/maxFileSize``.
    static func read(_ path: String) throws(ToolFailure) -> [(String, [UInt8])] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let code = errno
            var info = stat()
            if code == ENXIO, stat(path, &info) == 0 {
                // A UNIX socket (or a device without a driver) cannot be opened at all.
                throw ToolFailure(
                    "Failed to read the policy file \"\(path)\": it is \(fileTypeName(info.st_mode)), not a regular file",
                    hints: ["give --config a policy file, or a directory of *.toml and *.json policy files"],
                    status: ExitStatus.usage)
            }
            throw ToolFailure(
                "Failed to open the policy file \"\(path)\": \(errnoSentence(code))",
                hints: [code == ENOENT ? "check the path given to --config" : "make the file readable"],
                status: ExitStatus.usage)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw ToolFailure("Failed to read the policy file \"\(path)\": \(errnoSentence(code))", status: ExitStatus.usage)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            return try readDirectory(fd, path: path)
        }
        defer { close(fd) }
        return [(path, try readRegular(fd, info: info, path: path))]
    }

    private static func readRegular(_ fd: Int32, info: stat, path: String) throws(ToolFailure) -> [UInt8] {
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ToolFailure(
                "Failed to read the policy file \"\(path)\": it is \(fileTypeName(info.st_mode)), not a regular file",
                hints: ["give --config a policy file, or a directory of *.toml and *.json policy files"],
                status: ExitStatus.usage)
        }
        let tooLarge = ToolFailure(
            "Failed to read the policy file \"\(path)\": it is larger than \(ConfigLimits.maxFileSize >> 20) MiB",
            hints: ["policy files are small; check that this is the right file"], status: ExitStatus.usage)
        guard info.st_size <= ConfigLimits.maxFileSize else { throw tooLarge }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ToolFailure("Failed to read the policy file \"\(path)\": \(errnoSentence(errno))", status: ExitStatus.usage)
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
            // The file may grow while it is read.
            guard bytes.count <= ConfigLimits.maxFileSize else { throw tooLarge }
        }
        return bytes
    }

    /// The `*.toml` and `*.json` files of a directory (not hidden ones), in name order.
    private static func readDirectory(_ fd: Int32, path: String) throws(ToolFailure) -> [(String, [UInt8])] {
        guard let directory = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw ToolFailure("Failed to list the policy directory \"\(path)\": \(errnoSentence(code))", status: ExitStatus.usage)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(".") || !(name.hasSuffix(".toml") || name.hasSuffix(".json")) { continue }
            names.append(name)
        }
        guard !names.isEmpty else {
            throw ToolFailure(
                "Failed to read the policy directory \"\(path)\": it has no *.toml or *.json file",
                hints: ["put the policy files in the directory, or give --config a file"], status: ExitStatus.usage)
        }
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        var result: [(String, [UInt8])] = []
        for name in names {
            let file = prefix + name
            let entryFD = openat(dirfd(directory), name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
            guard entryFD >= 0 else {
                let code = errno
                throw ToolFailure("Failed to open the policy file \"\(file)\": \(errnoSentence(code))", status: ExitStatus.usage)
            }
            defer { close(entryFD) }
            var info = stat()
            guard fstat(entryFD, &info) == 0 else {
                throw ToolFailure("Failed to read the policy file \"\(file)\": \(errnoSentence(errno))", status: ExitStatus.usage)
            }
            result.append((file, try readRegular(entryFD, info: info, path: file)))
        }
        return result
    }

    private static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFDIR: "a directory"
        default: "not a regular file"
        }
    }
}

/// The key spellings of the two forms.
struct PolicyKeys: Equatable {
    var ruleset = "ruleset", pathBeneath = "path_beneath", netPort = "net_port", variable = "variable"
    var handledAccessFs = "handled_access_fs", handledAccessNet = "handled_access_net", scoped = "scoped"
    var allowedAccess = "allowed_access", parent = "parent", port = "port", abi = "abi", name = "name", literal = "literal"

    static let toml = PolicyKeys()
    static let json = PolicyKeys(
        pathBeneath: "pathBeneath", netPort: "netPort", handledAccessFs: "handledAccessFs",
        handledAccessNet: "handledAccessNet", allowedAccess: "allowedAccess")

    var isTOML: Bool { self == .toml }

    func table(_ key: String) -> String { isTOML ? "[[\(key)]]" : "\"\(key)\"" }
}

/// One policy file, interpreted, with its variables not yet expanded.
struct PolicyDocument {
    struct PathRule {
        var template: PathTemplate
        var text: String
        var access: FileSystemAccess
        var line: Int
    }
    struct PortRule {
        var port: Int
        var access: NetworkAccess
        var line: Int
    }
    struct Variable {
        var name: String
        var values: [String]
    }

    var file: String
    var keys: PolicyKeys
    var abi: LandlockABI?
    var handledFileSystem: FileSystemAccess = []
    var handledNetwork: NetworkAccess = []
    var scopes: Scope = []
    var variables: [Variable] = []
    var pathRules: [PathRule] = []
    var portRules: [PortRule] = []

    func failure(_ line: Int, _ key: String, _ message: String, hint: String) -> ToolFailure {
        ToolFailure("\(file):\(line): key '\(printable(key))': \(message)", hints: [hint], status: ExitStatus.usage)
    }
}
