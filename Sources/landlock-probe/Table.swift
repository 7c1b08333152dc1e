// SPDX-License-Identifier: Apache-2.0
// The conformance table: a line-oriented format documented at the top of
// Conformance/network.table. This file only parses it.
import Landlock

/// A port as the table names it: a number, or the name of a `port`, `recv` or `listen`
/// declaration, whose number the parent chooses at run time.
enum PortRef: Hashable {
    case number(Int)
    case name(String)

    init(_ token: String) {
        if let value = Int(token) { self = .number(value) } else { self = .name(token) }
    }
}

/// One Landlock layer of a row.
struct LayerSpec {
    var network: NetworkAccess = []
    var fileSystem: FileSystemAccess = []
    var ports: [(PortRef, NetworkAccess)] = []
    var paths: [(String, FileSystemAccess)] = []
    /// The directive's text after `layer`, passed as is to the sandboxed process for inner layers.
    var text: String
}

/// One operation: its text (passed to the sandboxed process) and its expectation.
struct OperationSpec {
    /// The operation, e.g. `sendto s in:127.0.0.1:A`.
    var words: [String]
    /// `0` (success), a count (sendmmsg), or an errno name.
    var expected: String
    /// Per message, the receiver its datagram must reach (`-` for none); `nil`: none arrives.
    var arrivals: [String]?
    var line: Int

    var text: String { words.joined(separator: " ") }
}

enum ExecutionContext: String, CaseIterable {
    case main, thread, fork, exec
}

struct Declaration {
    var name: String
    var kind: String
    var on: String?
}

struct RowSpec {
    var name: String
    var line: Int
    var abi: Int = 0
    var supervisorABI: Int?
    var contexts: [ExecutionContext] = []
    var divergence: String?
    var layers: [LayerSpec] = []
    var ports: [String] = []
    var receivers: [Declaration] = []
    var listeners: [Declaration] = []
    var directories: [String] = []
    var pre: [OperationSpec] = []
    var operations: [OperationSpec] = []

    /// Every network right handled by some layer.
    var handledNetwork: NetworkAccess { layers.reduce([]) { $0.union($1.network) } }
    var handledFileSystem: FileSystemAccess { layers.reduce([]) { $0.union($1.fileSystem) } }

    /// The lowest kernel ABI for supervisor mode: stated, or the newest ABI among the handled
    /// rights the kernel still enforces there (everything but the supervised ones: UDP and
    /// fs.resolve_unix).
    var effectiveSupervisorABI: Int {
        if let supervisorABI { return supervisorABI }
        let kernelNetwork = handledNetwork.subtracting(EnforcementPlan.supervisedRights)
        let kernelFileSystem = handledFileSystem.subtracting(EnforcementPlan.supervisedFileSystemRights)
        return max(kernelNetwork.minimumABI?.rawValue ?? 1, kernelFileSystem.minimumABI?.rawValue ?? 1)
    }
}

struct TableError: Error, CustomStringConvertible {
    var description: String
}

/// Splits a line into words, dropping a `#` comment.
func words(_ line: Substring) -> [String] {
    let body = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    return body.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
}

/// Parses `layer` words: `net=R,R fs=R,R port=P:R,R path=PATH:R,R`.
func parseLayer(_ items: [String]) throws(TableError) -> LayerSpec {
    var layer = LayerSpec(text: items.joined(separator: " "))
    func rights<Bits: LandlockBitmask>(_ list: Substring, _: Bits.Type) throws(TableError) -> Bits {
        var result: Bits = []
        for name in list.split(separator: ",") {
            guard let right = Bits(name: String(name)) else { throw TableError(description: "unknown right '\(name)'") }
            result.formUnion(right)
        }
        return result
    }
    for item in items {
        guard let equals = item.firstIndex(of: "=") else { throw TableError(description: "layer item '\(item)' lacks '='") }
        let key = item[..<equals]
        let value = item[item.index(after: equals)...]
        switch key {
        case "net": layer.network.formUnion(try rights(value, NetworkAccess.self))
        case "fs": layer.fileSystem.formUnion(try rights(value, FileSystemAccess.self))
        case "port", "path":
            guard let colon = value.lastIndex(of: ":") else { throw TableError(description: "'\(item)' lacks ':RIGHTS'") }
            let object = String(value[..<colon])
            let list = value[value.index(after: colon)...]
            if key == "port" {
                layer.ports.append((PortRef(object), try rights(list, NetworkAccess.self)))
            } else {
                layer.paths.append((object, try rights(list, FileSystemAccess.self)))
            }
        default: throw TableError(description: "unknown layer item '\(key)'")
        }
    }
    return layer
}

/// Parses `OP... => RESULT [arrive=R,-,R]`.
func parseOperation(_ items: [String], line: Int) throws(TableError) -> OperationSpec {
    guard let arrow = items.firstIndex(of: "=>"), arrow > 0, arrow + 1 < items.count else {
        throw TableError(description: "line \(line): expected 'OPERATION => RESULT'")
    }
    var operation = OperationSpec(words: Array(items[..<arrow]), expected: items[arrow + 1], line: line)
    for extra in items[(arrow + 2)...] {
        guard extra.hasPrefix("arrive=") else { throw TableError(description: "line \(line): unknown '\(extra)'") }
        operation.arrivals = extra.dropFirst(7).split(separator: ",").map(String.init)
    }
    guard operationVerbs.contains(operation.words[0]) else {
        throw TableError(description: "line \(line): unknown operation '\(operation.words[0])'")
    }
    return operation
}

let operationVerbs: Set<String> = [
    "socket", "bind", "connect", "sendto", "send", "write", "sendmsg", "sendmmsg", "create", "truncate", "listen", "symlink", "chdir",
]

func parseTable(_ text: String) throws(TableError) -> [RowSpec] {
    var rows: [RowSpec] = []
    var current: RowSpec?
    var names: Set<String> = []
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = index + 1
        let items = words(rawLine)
        guard let keyword = items.first else { continue }
        let rest = Array(items.dropFirst())
        func fail(_ message: String) -> TableError { TableError(description: "line \(line): \(message)") }
        if keyword == "row" {
            guard current == nil else { throw fail("'row' inside row \(current!.name) (missing 'end')") }
            guard rest.count == 1 else { throw fail("expected 'row NAME'") }
            guard names.insert(rest[0]).inserted else { throw fail("duplicate row name \(rest[0])") }
            current = RowSpec(name: rest[0], line: line)
            continue
        }
        guard var row = current else { throw fail("'\(keyword)' outside a row") }
        switch keyword {
        case "abi":
            guard rest.count == 1, let value = Int(rest[0]) else { throw fail("expected 'abi N'") }
            row.abi = value
        case "supervisor-abi":
            guard rest.count == 1, let value = Int(rest[0]) else { throw fail("expected 'supervisor-abi N'") }
            row.supervisorABI = value
        case "context":
            for word in rest {
                guard let context = ExecutionContext(rawValue: word) else { throw fail("unknown context '\(word)'") }
                row.contexts.append(context)
            }
        case "divergence":
            guard rest.first == "supervisor", rest.count > 1 else { throw fail("expected 'divergence supervisor REASON'") }
            row.divergence = rest.dropFirst().joined(separator: " ")
        case "layer":
            do throws(TableError) { row.layers.append(try parseLayer(rest)) } catch { throw fail(error.description) }
        case "port":
            guard rest.count == 1 else { throw fail("expected 'port NAME'") }
            row.ports.append(rest[0])
        case "recv", "listen":
            guard rest.count >= 2, rest.count <= 3 else { throw fail("expected '\(keyword) NAME KIND [on=PORT]'") }
            var declaration = Declaration(name: rest[0], kind: rest[1])
            if rest.count == 3 {
                guard rest[2].hasPrefix("on=") else { throw fail("expected on=PORT") }
                declaration.on = String(rest[2].dropFirst(3))
            }
            let kinds = keyword == "recv" ? ["udp4", "udp6"] : ["tcp4", "tcp6"]
            guard kinds.contains(declaration.kind) else { throw fail("\(keyword) kind must be one of \(kinds)") }
            if keyword == "recv" { row.receivers.append(declaration) } else { row.listeners.append(declaration) }
        case "dir":
            guard rest.count == 1 else { throw fail("expected 'dir NAME'") }
            row.directories.append(rest[0])
        case "pre":
            row.pre.append(try parseOperation(rest, line: line))
        case "op":
            row.operations.append(try parseOperation(rest, line: line))
        case "end":
            guard row.abi > 0 else { throw fail("row \(row.name) has no 'abi'") }
            guard !row.layers.isEmpty else { throw fail("row \(row.name) has no layer") }
            guard !row.operations.isEmpty else { throw fail("row \(row.name) has no operation") }
            if row.contexts.isEmpty { row.contexts = [.main] }
            let needed = max(
                row.handledNetwork.minimumABI?.rawValue ?? 1, row.handledFileSystem.minimumABI?.rawValue ?? 1)
            guard row.abi >= needed else {
                throw fail("row \(row.name) declares abi \(row.abi) but handles rights of ABI \(needed)")
            }
            rows.append(row)
            current = nil
            continue
        default:
            throw fail("unknown directive '\(keyword)'")
        }
        current = row
    }
    if let current { throw TableError(description: "row \(current.name) (line \(current.line)) lacks 'end'") }
    return rows
}
