// SPDX-License-Identifier: Apache-2.0

/// A parser for the subset of TOML that policy files use: `key = value` pairs, `[table]` and
/// `[[array.of.tables]]` headers with bare or quoted keys, basic and literal strings, integers,
/// booleans and (multi-line) arrays, and `#` comments. Everything else is rejected with its line.
struct TOMLParser {
    private var scanner: Scanner

    init(_ text: String) { scanner = Scanner(text) }

    static func parse(_ text: String) throws(ConfigSyntaxError) -> ConfigTable {
        var parser = TOMLParser(text)
        return try parser.document()
    }

    /// Where `key = value` lines go: the root, or a table named by a header.
    private enum Target { case root, table(String), arrayElement(String) }

    private mutating func document() throws(ConfigSyntaxError) -> ConfigTable {
        var root = ConfigTable()
        var target = Target.root
        while true {
            skipBlankAndComments()
            guard let c = scanner.current else { break }
            if c == "[" {
                let line = scanner.line
                scanner.advance()
                let isArray = scanner.current == "["
                if isArray { scanner.advance() }
                skipSpaces()
                let name = try key()
                skipSpaces()
                if scanner.current == "." { throw scanner.error("dotted table names are not supported") }
                guard scanner.current == "]" else { throw scanner.error("expected ']' after the table name '\(name)'") }
                scanner.advance()
                if isArray {
                    guard scanner.current == "]" else { throw scanner.error("expected ']]' after the table name '\(name)'") }
                    scanner.advance()
                    if let index = root.entries.firstIndex(where: { $0.key == name }) {
                        guard case .array(var items) = root.entries[index].value.kind else {
                            throw ConfigSyntaxError(line: line, message: "'\(name)' is already defined as \(root.entries[index].value.typeName)")
                        }
                        items.append(ConfigValue(kind: .table(ConfigTable()), line: line))
                        root.entries[index].value.kind = .array(items)
                    } else {
                        root.entries.append((name, line, ConfigValue(kind: .array([ConfigValue(kind: .table(ConfigTable()), line: line)]), line: line)))
                    }
                    target = .arrayElement(name)
                } else {
                    if root.contains(name) { throw ConfigSyntaxError(line: line, message: "the table '\(name)' is defined twice") }
                    root.entries.append((name, line, ConfigValue(kind: .table(ConfigTable()), line: line)))
                    target = .table(name)
                }
                try endOfLine()
                continue
            }
            let line = scanner.line
            let name = try key()
            skipSpaces()
            if scanner.current == "." { throw scanner.error("dotted keys are not supported", hint: "write the key inside its [table]") }
            guard scanner.current == "=" else { throw scanner.error("expected '=' after the key '\(name)'") }
            scanner.advance()
            skipSpaces()
            let value = try self.value()
            try endOfLine()
            try insert(name, line: line, value: value, into: &root, target: target)
        }
        return root
    }

    private func insert(
        _ key: String, line: Int, value: ConfigValue, into root: inout ConfigTable, target: Target
    ) throws(ConfigSyntaxError) {
        func add(_ table: inout ConfigTable) throws(ConfigSyntaxError) {
            if table.contains(key) { throw ConfigSyntaxError(line: line, message: "key '\(key)' is defined twice") }
            table.entries.append((key, line, value))
        }
        switch target {
        case .root:
            try add(&root)
        case .table(let name):
            let index = root.entries.firstIndex { $0.key == name }!
            guard case .table(var table) = root.entries[index].value.kind else { return }
            try add(&table)
            root.entries[index].value.kind = .table(table)
        case .arrayElement(let name):
            let index = root.entries.firstIndex { $0.key == name }!
            guard case .array(var items) = root.entries[index].value.kind,
                case .table(var table) = items[items.count - 1].kind
            else { return }
            try add(&table)
            items[items.count - 1].kind = .table(table)
            root.entries[index].value.kind = .array(items)
        }
    }

    private mutating func key() throws(ConfigSyntaxError) -> String {
        if scanner.current == "\"" || scanner.current == "'" { return try string() }
        var name = ""
        while let c = scanner.current, ("a"..."z").contains(c) || ("A"..."Z").contains(c)
            || ("0"..."9").contains(c) || c == "_" || c == "-"
        {
            name.unicodeScalars.append(c)
            scanner.advance()
        }
        guard !name.isEmpty else {
            throw scanner.error("expected a key, found \(describe(scanner.current))")
        }
        return name
    }

    private mutating func value() throws(ConfigSyntaxError) -> ConfigValue {
        let line = scanner.line
        guard let c = scanner.current else { throw scanner.error("expected a value at the end of the file") }
        switch c {
        case "\"", "'":
            return ConfigValue(kind: .string(try string()), line: line)
        case "[":
            scanner.advance()
            var items: [ConfigValue] = []
            while true {
                skipBlankAndComments()
                if scanner.current == "]" { scanner.advance(); break }
                items.append(try value())
                skipBlankAndComments()
                if scanner.current == "," { scanner.advance(); continue }
                if scanner.current == "]" { scanner.advance(); break }
                throw scanner.error("expected ',' or ']' in the array, found \(describe(scanner.current))")
            }
            return ConfigValue(kind: .array(items), line: line)
        case "{":
            throw scanner.error("inline tables are not supported", hint: "use a [[table]] header instead")
        case "t", "f":
            var word = ""
            while let c = scanner.current, ("a"..."z").contains(c) { word.unicodeScalars.append(c); scanner.advance() }
            if word == "true" { return ConfigValue(kind: .bool(true), line: line) }
            if word == "false" { return ConfigValue(kind: .bool(false), line: line) }
            throw ConfigSyntaxError(line: line, message: "unexpected '\(word)'", hint: "strings need quotes, as in \"\(word)\"")
        default:
            var text = ""
            while let c = scanner.current, c != ",", c != "]", c != "#", c != " ", c != "\t", c != "\n", c != "\r" {
                text.unicodeScalars.append(c)
                scanner.advance()
            }
            var digits = text.filter { $0 != "_" }
            var sign: Int64 = 1
            if digits.hasPrefix("+") { digits.removeFirst() } else if digits.hasPrefix("-") { digits.removeFirst(); sign = -1 }
            let number: Int64?
            if digits.hasPrefix("0x") { number = Int64(digits.dropFirst(2), radix: 16) }
            else if digits.hasPrefix("0o") { number = Int64(digits.dropFirst(2), radix: 8) }
            else if digits.hasPrefix("0b") { number = Int64(digits.dropFirst(2), radix: 2) }
            else if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) { number = Int64(digits) }
            else { number = nil }
            guard let number else {
                if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    throw ConfigSyntaxError(line: line, message: "the integer \(text) is too large")
                }
                throw ConfigSyntaxError(
                    line: line, message: text.isEmpty ? "expected a value, found \(describe(scanner.current))" : "unexpected '\(text)'",
                    hint: text.isEmpty ? nil : "strings need quotes, as in \"\(text)\"")
            }
            return ConfigValue(kind: .integer(sign * number), line: line)
        }
    }

    private mutating func string() throws(ConfigSyntaxError) -> String {
        let quote = scanner.current!
        let line = scanner.line
        if scanner.peek() == quote && scanner.peek(2) == quote {
            throw scanner.error("multi-line strings are not supported")
        }
        scanner.advance()
        var result = ""
        while true {
            guard let c = scanner.current, c != "\n" else {
                throw ConfigSyntaxError(line: line, message: "unterminated string")
            }
            scanner.advance()
            if c == quote { return result }
            if c == "\\" && quote == "\"" {
                guard let e = scanner.current else { throw ConfigSyntaxError(line: line, message: "unterminated string") }
                scanner.advance()
                switch e {
                case "\"": result += "\""
                case "\\": result += "\\"
                case "n": result += "\n"
                case "t": result += "\t"
                case "r": result += "\r"
                case "b": result += "\u{8}"
                case "f": result += "\u{c}"
                case "e": result += "\u{1b}"
                case "u": result.unicodeScalars.append(try scanner.unicodeEscape(digits: 4))
                case "U": result.unicodeScalars.append(try scanner.unicodeEscape(digits: 8))
                default: throw scanner.error("invalid escape '\\\(e)' in a string")
                }
                continue
            }
            result.unicodeScalars.append(c)
        }
    }

    private mutating func skipSpaces() {
        while scanner.current == " " || scanner.current == "\t" { scanner.advance() }
    }

    private mutating func skipBlankAndComments() {
        while let c = scanner.current {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                scanner.advance()
            } else if c == "#" {
                while let c = scanner.current, c != "\n" { scanner.advance() }
            } else {
                break
            }
        }
    }

    private mutating func endOfLine() throws(ConfigSyntaxError) {
        skipSpaces()
        if scanner.current == "#" { while let c = scanner.current, c != "\n" { scanner.advance() } }
        if scanner.current == "\r" { scanner.advance() }
        guard scanner.atEnd || scanner.current == "\n" else {
            throw scanner.error("expected the end of the line, found \(describe(scanner.current))")
        }
    }
}

func describe(_ c: Unicode.Scalar?) -> String {
    guard let c else { return "the end of the file" }
    if c == "\n" { return "the end of the line" }
    return "'\(Character(c))'"
}
