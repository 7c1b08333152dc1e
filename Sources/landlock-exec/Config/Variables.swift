// SPDX-License-Identifier: Apache-2.0

/// A `parent` string split into text and `${name}` references, as landlockconfig reads it:
/// `$$` is a `$`, and a `$` not followed by `{` or `$` is itself.
struct PathTemplate {
    enum Token {
        case text(String)
        case variable(String)
    }
    var tokens: [Token] = []

    /// Reads `text` in one pass.
    init(_ text: String) throws(TemplateError) {
        let bytes = Array(text.utf8)
        var literal: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b == ascii("$"), i + 1 < bytes.count, bytes[i + 1] == ascii("$") || bytes[i + 1] == ascii("{") else {
                literal.append(b)
                i += 1
                continue
            }
            if bytes[i + 1] == ascii("$") {
                literal.append(b)
                i += 2
                continue
            }
            guard let end = bytes[(i + 2)...].firstIndex(of: ascii("}")) else { throw .unclosed }
            let name = String(decoding: bytes[(i + 2)..<end], as: UTF8.self)
            guard Variables.isValidName(name) else { throw .invalidName(name) }
            if !literal.isEmpty {
                tokens.append(.text(String(decoding: literal, as: UTF8.self)))
                literal.removeAll()
            }
            tokens.append(.variable(name))
            i = end + 1
        }
        if !literal.isEmpty { tokens.append(.text(String(decoding: literal, as: UTF8.self))) }
    }
}

enum TemplateError: Error {
    case unclosed
    case invalidName(String)
}

/// What variable expansion may still produce, over all the files of a composition.
struct ExpansionBudget {
    var paths = ConfigLimits.maxExpandedPaths
    var bytes = ConfigLimits.maxExpandedBytes
}

enum ExpansionError: Error {
    case unknownVariable(String)
    case tooLong(Int)
    case tooMany(paths: Int?, bytes: Int?)

    func message(_ text: String) -> String {
        switch self {
        case .unknownVariable(let name):
            return "unknown variable '\(name)' in \"\(abbreviated(text))\""
        case .tooLong(let length):
            return "\"\(abbreviated(text))\" \(text.contains("${") ? "expands to" : "is") a path of \(length) bytes, longer than Linux allows (\(ConfigLimits.maxPathLength))"
        case .tooMany(let paths, let bytes):
            let amount = paths.map { "\($0) paths" } ?? bytes.map { "\($0) bytes of paths" } ?? "more paths than a 64-bit count holds"
            return "\"\(abbreviated(text))\" would expand to \(amount); the limit over all policy files is \(ConfigLimits.maxExpandedPaths) paths and \(ConfigLimits.maxExpandedBytes >> 20) MiB"
        }
    }

    func hint(_ keys: PolicyKeys) -> String {
        switch self {
        case .unknownVariable(let name): "define it in a \(keys.table(keys.variable)) with name = \"\(name)\""
        case .tooLong: "check the path; each path component is at most 255 bytes and a whole path 4095"
        case .tooMany: "each ${name} multiplies the paths by the number of the variable's values; use fewer references or values"
        }
    }
}

/// `text` cut to a length that fits in a message.
func abbreviated(_ text: String) -> String { printable(text) }

/// The variables of all composed files: each name's values, in the order first defined,
/// without duplicates.
struct Variables {
    private var values: [String: [String]] = [:]
    private var seen: [String: Set<String>] = [:]

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (first >= ascii("a") && first <= ascii("z")) || (first >= ascii("A") && first <= ascii("Z"))
        else { return false }
        return name.utf8.allSatisfy { $0.isASCIIWordByte }
    }

    /// Adds values in place (a variable defined in many tables stays linear).
    mutating func define(_ name: String, values new: [String]) {
        if values[name] == nil { values[name] = [] }
        for value in new where seen[name, default: []].insert(value).inserted { values[name]!.append(value) }
    }

    /// Every path `template` stands for: one per combination of the values of its variables.
    /// The sizes are computed first, so an expansion beyond the budget is refused before any
    /// memory is spent on it; then the paths are built in time linear in their total size.
    func expand(_ template: PathTemplate, budget: inout ExpansionBudget) throws(ExpansionError) -> [String] {
        var lists: [[String]] = []
        for token in template.tokens {
            switch token {
            case .text(let text): lists.append([text])
            case .variable(let name):
                guard let list = values[name] else { throw .unknownVariable(name) }
                lists.append(list)
            }
        }
        if lists.contains(where: \.isEmpty) { return [] }
        var count: Int? = 1
        var longest = 0
        for list in lists {
            if let known = count {
                let (product, overflow) = known.multipliedReportingOverflow(by: list.count)
                count = overflow ? nil : product
            }
            longest += list.map(\.utf8.count).max() ?? 0
        }
        guard let count, count <= budget.paths else { throw .tooMany(paths: count, bytes: nil) }
        if longest > ConfigLimits.maxPathLength { throw .tooLong(longest) }
        var bytes = 0
        for list in lists {
            let total = list.reduce(0) { $0 + $1.utf8.count }
            let (share, o1) = total.multipliedReportingOverflow(by: count / list.count)
            let (sum, o2) = bytes.addingReportingOverflow(share)
            if o1 || o2 || sum > budget.bytes { throw .tooMany(paths: nil, bytes: o1 || o2 ? nil : sum) }
            bytes = sum
        }
        budget.paths -= count
        budget.bytes -= bytes
        if lists.count == 1 { return lists[0] }
        // An odometer over the lists.
        var result: [String] = []
        result.reserveCapacity(count)
        var digits = [Int](repeating: 0, count: lists.count)
        for _ in 0..<count {
            var path = ""
            for (list, digit) in zip(lists, digits) { path += list[digit] }
            result.append(path)
            var position = lists.count - 1
            while position >= 0 {
                digits[position] += 1
                if digits[position] < lists[position].count { break }
                digits[position] = 0
                position -= 1
            }
        }
        return result
    }
}
