// SPDX-License-Identifier: Apache-2.0

/// A TOML 1.0 parser (https://toml.io/en/v1.0.0) that records the line of every key, table and
/// value. It passes the valid and invalid documents of the TOML 1.0 conformance suite
/// (toml-test; see `Scripts/toml-test.sh`).
///
/// It works on UTF-8 bytes in one pass, without backtracking; tables are looked up by hash, so
/// the time is linear in the size of the document. Nesting (arrays, inline tables, dotted keys
/// and table headers) is limited to ``ConfigLimits/maxDepth`` levels and the result is built
/// without deep recursion, so no document can exhaust the stack.
struct TOMLParser {
    private var s: ByteScanner
    private let root: TableNode
    /// Tables created by dotted keys in the current section: they become closed to table
    /// headers and to dotted keys of other sections when the next header starts.
    private var pending: [TableNode] = []

    private init(_ bytes: [UInt8]) {
        s = ByteScanner(bytes)
        root = TableNode(line: 1, depth: 0)
    }

    static func parse(_ bytes: [UInt8]) throws(ConfigSyntaxError) -> ConfigTable {
        try validateUTF8(bytes)
        var parser = TOMLParser(bytes)
        try parser.document()
        guard case .table(let table) = parser.root.value().kind else { fatalError("the root is a table") }
        return table
    }

    // MARK: The document tree while it is built

    /// A table that headers and dotted keys may still add to.
    private final class TableNode {
        enum Item {
            case value(ConfigValue)
            case table(TableNode)
            case arrayOfTables(ArrayNode)
        }
        var entries: [(key: String, line: Int, item: Item)] = []
        var index: [String: Int] = [:]
        var line: Int
        let depth: Int
        /// Defined by a `[header]` or `[[header]]`, or by dotted keys of a finished section.
        var closed = false
        var isPending = false

        init(line: Int, depth: Int) {
            self.line = line
            self.depth = depth
        }

        func add(_ key: String, line: Int, _ item: Item) {
            index[key] = entries.count
            entries.append((key, line, item))
        }

        func item(_ key: String) -> (line: Int, item: Item)? {
            index[key].map { (entries[$0].line, entries[$0].item) }
        }

        /// The finished value (recursion bounded by the depth limit).
        func value() -> ConfigValue {
            var table = ConfigTable()
            for entry in entries {
                switch entry.item {
                case .value(let value): table.append(entry.key, line: entry.line, value)
                case .table(let node): table.append(entry.key, line: node.line, node.value())
                case .arrayOfTables(let array):
                    table.append(entry.key, line: entry.line, ConfigValue(kind: .array(array.tables.map { $0.value() }), line: array.line))
                }
            }
            return ConfigValue(kind: .table(table), line: line)
        }
    }

    /// An array of tables (`[[name]]`).
    private final class ArrayNode {
        var tables: [TableNode]
        let line: Int
        init(_ first: TableNode) {
            tables = [first]
            line = first.line
        }
    }

    // MARK: Document

    private mutating func document() throws(ConfigSyntaxError) {
        if s.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { s.index = 3 }
        var current = root
        while true {
            skipWhitespace()
            guard let c = s.current else { break }
            if c == ascii("#") || c == 0x0A || c == 0x0D {
                try endOfLine(after: nil)
                continue
            }
            if c == ascii("[") {
                for node in pending {
                    node.closed = true
                    node.isPending = false
                }
                pending.removeAll()
                let line = s.line
                s.advance()
                let isArray = s.current == ascii("[")
                if isArray { s.advance() }
                skipWhitespace()
                let key = try self.key()
                skipWhitespace()
                guard s.current == ascii("]") else {
                    throw s.error("expected '\(isArray ? "]]" : "]")' after the table name '\(dotted(key))', found \(s.describeCurrent)")
                }
                s.advance()
                if isArray {
                    guard s.current == ascii("]") else {
                        throw s.error("expected ']]' after the table name '\(dotted(key))', found \(s.describeCurrent)")
                    }
                    s.advance()
                }
                current = try isArray ? appendTable(key, line: line) : defineTable(key, line: line)
                try endOfLine(after: isArray ? "[[\(dotted(key))]]" : "[\(dotted(key))]")
                continue
            }
            let (line, key, value) = try keyValue(depth: current.depth)
            try insert(key, value, line: line, into: current, trackPending: true)
            try endOfLine(after: "the value of '\(dotted(key))'")
        }
    }

    /// `[key]`: the table it names, created or (if only implied so far) defined.
    private func defineTable(_ key: [String], line: Int) throws(ConfigSyntaxError) -> TableNode {
        let parent = try walk(key.dropLast(), line: line, for: "[\(dotted(key))]")
        let last = key[key.count - 1]
        guard let (firstLine, item) = parent.item(last) else {
            let node = try newTable(in: parent, key, line: line)
            node.closed = true
            return node
        }
        switch item {
        case .table(let node):
            if node.closed {
                throw ConfigSyntaxError(
                    line: line, message: "the table '\(dotted(key))' is already defined (line \(node.line))",
                    hint: "a table is defined once; put its keys under one [\(dotted(key))] header")
            }
            node.closed = true
            node.line = line
            return node
        case .arrayOfTables:
            throw ConfigSyntaxError(
                line: line, message: "'\(dotted(key))' is already an array of tables (line \(firstLine))",
                hint: "write [[\(dotted(key))]] to add a table to it")
        case .value(let value):
            throw ConfigSyntaxError(line: line, message: "'\(dotted(key))' is already defined as \(value.typeName) (line \(firstLine))")
        }
    }

    /// `[[key]]`: a new table at the end of the array of tables it names.
    private func appendTable(_ key: [String], line: Int) throws(ConfigSyntaxError) -> TableNode {
        let parent = try walk(key.dropLast(), line: line, for: "[[\(dotted(key))]]")
        let last = key[key.count - 1]
        let node = TableNode(line: line, depth: parent.depth + 1)
        node.closed = true
        guard let (firstLine, item) = parent.item(last) else {
            try checkDepth(node.depth, line: line)
            parent.add(last, line: line, .arrayOfTables(ArrayNode(node)))
            return node
        }
        switch item {
        case .arrayOfTables(let array):
            array.tables.append(node)
            return node
        case .table:
            throw ConfigSyntaxError(
                line: line, message: "'\(dotted(key))' is already a table (line \(firstLine)), not an array of tables",
                hint: "use one form: [\(dotted(key))] or [[\(dotted(key))]]")
        case .value(let value):
            throw ConfigSyntaxError(
                line: line, message: "'\(dotted(key))' is already defined as \(value.typeName) (line \(firstLine)); [[\(dotted(key))]] cannot add to it")
        }
    }

    /// The table a header's leading keys lead to, creating the missing ones.
    private func walk(_ keys: ArraySlice<String>, line: Int, for header: String) throws(ConfigSyntaxError) -> TableNode {
        var table = root
        var path: [String] = []
        for part in keys {
            path.append(part)
            if let (firstLine, item) = table.item(part) {
                switch item {
                case .table(let node): table = node
                case .arrayOfTables(let array): table = array.tables[array.tables.count - 1]
                case .value(let value):
                    throw ConfigSyntaxError(
                        line: line, message: "'\(dotted(path))' is already defined as \(value.typeName) (line \(firstLine)); \(header) cannot add to it")
                }
            } else {
                table = try newTable(in: table, path, line: line)
            }
        }
        return table
    }

    private func newTable(in parent: TableNode, _ path: [String], line: Int) throws(ConfigSyntaxError) -> TableNode {
        let node = TableNode(line: line, depth: parent.depth + 1)
        try checkDepth(node.depth, line: line)
        parent.add(path[path.count - 1], line: line, .table(node))
        return node
    }

    /// `a.b.c = value` in `table`.
    private mutating func insert(
        _ key: [String], _ value: ConfigValue, line: Int, into table: TableNode, trackPending: Bool
    ) throws(ConfigSyntaxError) {
        var table = table
        var path: [String] = []
        for part in key.dropLast() {
            path.append(part)
            if let (firstLine, item) = table.item(part) {
                switch item {
                case .table(let node):
                    if node.closed {
                        throw ConfigSyntaxError(
                            line: line, message: "the table '\(dotted(path))' is defined elsewhere (line \(node.line)); a dotted key cannot add to it",
                            hint: "put the key under the [\(dotted(path))] header")
                    }
                    table = node
                case .arrayOfTables:
                    throw ConfigSyntaxError(
                        line: line, message: "'\(dotted(path))' is an array of tables (line \(firstLine)); a dotted key cannot add to it")
                case .value(let value):
                    throw ConfigSyntaxError(
                        line: line, message: "'\(dotted(path))' is already defined as \(value.typeName) (line \(firstLine)); a dotted key cannot add to it")
                }
            } else {
                table = try newTable(in: table, path, line: line)
            }
            if trackPending && !table.isPending {
                table.isPending = true
                pending.append(table)
            }
        }
        let last = key[key.count - 1]
        if let (firstLine, _) = table.item(last) {
            throw ConfigSyntaxError(line: line, message: "the key '\(dotted(key))' is defined twice (first on line \(firstLine))")
        }
        table.add(last, line: line, .value(value))
    }

    private func checkDepth(_ depth: Int, line: Int) throws(ConfigSyntaxError) {
        if depth > ConfigLimits.maxDepth {
            throw ConfigSyntaxError(line: line, message: "tables and arrays are nested deeper than \(ConfigLimits.maxDepth) levels")
        }
    }

    // MARK: Keys

    /// `key = value` (in a table or an inline table), the value nested `depth` levels down
    /// plus one per dotted part of the key.
    private mutating func keyValue(depth: Int) throws(ConfigSyntaxError) -> (line: Int, key: [String], value: ConfigValue) {
        let line = s.line
        let key = try self.key()
        skipWhitespace()
        guard s.current == ascii("=") else {
            throw s.error("expected '=' after the key '\(dotted(key))', found \(s.describeCurrent)")
        }
        s.advance()
        skipWhitespace()
        return (line, key, try value(depth: depth + key.count))
    }

    private mutating func key() throws(ConfigSyntaxError) -> [String] {
        var parts = [try simpleKey()]
        while true {
            let save = s.index
            skipWhitespace()
            guard s.current == ascii(".") else {
                s.index = save
                return parts
            }
            s.advance()
            skipWhitespace()
            parts.append(try simpleKey())
            try checkDepth(parts.count, line: s.line)
        }
    }

    private mutating func simpleKey() throws(ConfigSyntaxError) -> String {
        if s.current == ascii("\"") { return try basicString() }
        if s.current == ascii("'") { return try literalString() }
        let start = s.index
        while let c = s.current, isBareKeyByte(c) { s.advance() }
        guard s.index > start else { throw s.error("expected a key, found \(s.describeCurrent)") }
        return String(decoding: s.bytes[start..<s.index], as: UTF8.self)
    }

    private func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= ascii("a") && c <= ascii("z")) || (c >= ascii("A") && c <= ascii("Z")) || isDigit(c) || c == ascii("_")
            || c == ascii("-")
    }

    // MARK: Values

    private mutating func value(depth: Int) throws(ConfigSyntaxError) -> ConfigValue {
        try checkDepth(depth, line: s.line)
        let line = s.line
        guard let c = s.current else { throw s.error("expected a value, found the end of the file") }
        switch c {
        case ascii("\""):
            let text = s.peek() == ascii("\"") && s.peek(2) == ascii("\"") ? try multilineString(literal: false) : try basicString()
            return ConfigValue(kind: .string(text), line: line)
        case ascii("'"):
            let text = s.peek() == ascii("'") && s.peek(2) == ascii("'") ? try multilineString(literal: true) : try literalString()
            return ConfigValue(kind: .string(text), line: line)
        case ascii("["):
            return ConfigValue(kind: .array(try array(depth: depth)), line: line)
        case ascii("{"):
            return try inlineTable(depth: depth)
        default:
            return try scalar()
        }
    }

    private mutating func array(depth: Int) throws(ConfigSyntaxError) -> [ConfigValue] {
        s.advance()
        var items: [ConfigValue] = []
        while true {
            try skipBlankLines()
            if s.current == ascii("]") {
                s.advance()
                return items
            }
            items.append(try value(depth: depth + 1))
            try skipBlankLines()
            if s.current == ascii(",") {
                s.advance()
                continue
            }
            if s.current == ascii("]") {
                s.advance()
                return items
            }
            throw s.error("expected ',' or ']' in the array, found \(s.describeCurrent)")
        }
    }

    private mutating func inlineTable(depth: Int) throws(ConfigSyntaxError) -> ConfigValue {
        let node = TableNode(line: s.line, depth: depth)
        s.advance()
        skipWhitespace()
        if s.current == ascii("}") {
            s.advance()
            return node.value()
        }
        while true {
            skipWhitespace()
            let (line, key, value) = try keyValue(depth: depth)
            try insert(key, value, line: line, into: node, trackPending: false)
            skipWhitespace()
            if s.current == ascii(",") {
                s.advance()
                skipWhitespace()
                if s.current == ascii("}") { throw s.error("a trailing comma is not allowed in an inline table") }
                continue
            }
            if s.current == ascii("}") {
                s.advance()
                return node.value()
            }
            let newline = s.current == 0x0A || s.current == 0x0D || s.current == ascii("#")
            throw s.error(
                "expected ',' or '}' in the inline table, found \(s.describeCurrent)",
                hint: newline ? "an inline table stays on one line; use a [table] header for longer tables" : nil)
        }
    }

    /// A boolean, number, date or time.
    private mutating func scalar() throws(ConfigSyntaxError) -> ConfigValue {
        let line = s.line
        let start = s.index
        while let c = s.current, isScalarByte(c) { s.advance() }
        var token = Array(s.bytes[start..<s.index])
        // A date and a time may be separated by a space.
        if token.count == 10, token[4] == ascii("-"), s.current == ascii(" "), isDigit(s.peek(1)), isDigit(s.peek(2)),
            s.peek(3) == ascii(":")
        {
            s.advance()
            token.append(ascii("T"))
            while let c = s.current, isScalarByte(c) {
                token.append(c)
                s.advance()
            }
        }
        let text = String(decoding: token, as: UTF8.self)
        if token.isEmpty { throw s.error("expected a value, found \(s.describeCurrent)") }
        switch text {
        case "true": return ConfigValue(kind: .bool(true), line: line)
        case "false": return ConfigValue(kind: .bool(false), line: line)
        case "inf", "+inf": return ConfigValue(kind: .float(.infinity), line: line)
        case "-inf": return ConfigValue(kind: .float(-.infinity), line: line)
        case "nan", "+nan", "-nan": return ConfigValue(kind: .float(.nan), line: line)
        default: break
        }
        let looksLikeTime = token.count >= 3 && isDigit(token[0]) && isDigit(token[1]) && token[2] == ascii(":")
        let looksLikeDate = token.count >= 5 && token[0..<4].allSatisfy { isDigit($0) } && token[4] == ascii("-")
        if looksLikeTime || looksLikeDate {
            guard let (value, kind) = TOMLDateTime.parse(token) else {
                throw ConfigSyntaxError(line: line, message: "'\(text)' is not a valid date or time")
            }
            return ConfigValue(kind: .dateTime(value, kind), line: line)
        }
        if let number = TOMLNumber.integer(token) {
            guard let value = number else {
                throw ConfigSyntaxError(line: line, message: "the integer \(text) does not fit in 64 bits")
            }
            return ConfigValue(kind: .integer(value), line: line)
        }
        if let value = TOMLNumber.float(token) { return ConfigValue(kind: .float(value), line: line) }
        throw ConfigSyntaxError(
            line: line, message: "unexpected '\(text)'",
            hint: "strings need quotes, as in \"\(text)\"; booleans are true and false")
    }

    private func isScalarByte(_ c: UInt8) -> Bool {
        (c >= ascii("a") && c <= ascii("z")) || (c >= ascii("A") && c <= ascii("Z")) || isDigit(c) || c == ascii("_")
            || c == ascii("-") || c == ascii("+") || c == ascii(".") || c == ascii(":")
    }

    // MARK: Strings

    /// `"..."`, starting at the quote.
    private mutating func basicString() throws(ConfigSyntaxError) -> String {
        let line = s.line
        s.advance()
        var bytes: [UInt8] = []
        while true {
            guard let c = s.current, c != 0x0A, c != 0x0D else {
                throw ConfigSyntaxError(line: line, message: "unterminated string", hint: "close it with \" on the same line, or use \"\"\" for several lines")
            }
            if c == ascii("\"") {
                s.advance()
                return String(decoding: bytes, as: UTF8.self)
            }
            if c == ascii("\\") {
                try escape(into: &bytes)
                continue
            }
            try checkStringByte(c)
            bytes.append(c)
            s.advance()
        }
    }

    /// `'...'`, starting at the quote.
    private mutating func literalString() throws(ConfigSyntaxError) -> String {
        let line = s.line
        // (Taken before advancing: swiftc 6.3.1 -O without -wmo read a stale index when it was
        // taken after the call; -Onone and whole-module -O were right.)
        let start = s.index + 1
        s.advance()
        while true {
            guard let c = s.current, c != 0x0A, c != 0x0D else {
                throw ConfigSyntaxError(line: line, message: "unterminated string", hint: "close it with ' on the same line, or use ''' for several lines")
            }
            if c == ascii("'") {
                let text = String(decoding: s.bytes[start..<s.index], as: UTF8.self)
                s.advance()
                return text
            }
            try checkStringByte(c)
            s.advance()
        }
    }

    /// `"""..."""` or `'''...'''`, starting at the first quote.
    private mutating func multilineString(literal: Bool) throws(ConfigSyntaxError) -> String {
        let line = s.line
        let quote = s.current!
        s.advance()
        s.advance()
        s.advance()
        // A newline right after the opening quotes is trimmed.
        if s.current == 0x0A {
            s.advance()
        } else if s.current == 0x0D && s.peek() == 0x0A {
            s.advance()
            s.advance()
        }
        var bytes: [UInt8] = []
        while true {
            guard let c = s.current else {
                throw ConfigSyntaxError(line: line, message: "unterminated multi-line string")
            }
            if c == quote {
                var count = 0
                while s.current == quote && count < 5 {
                    s.advance()
                    count += 1
                }
                if count >= 3 {
                    bytes.append(contentsOf: repeatElement(quote, count: count - 3))
                    return String(decoding: bytes, as: UTF8.self)
                }
                bytes.append(contentsOf: repeatElement(quote, count: count))
                continue
            }
            if c == ascii("\\") && !literal {
                // A backslash at the end of a line trims the newline and the whitespace after it.
                var probe = s.index + 1
                while probe < s.bytes.count, s.bytes[probe] == ascii(" ") || s.bytes[probe] == 0x09 { probe += 1 }
                let atLineEnd = probe < s.bytes.count
                    && (s.bytes[probe] == 0x0A || (s.bytes[probe] == 0x0D && probe + 1 < s.bytes.count && s.bytes[probe + 1] == 0x0A))
                if atLineEnd {
                    s.advance()
                    while let c = s.current {
                        if c == ascii(" ") || c == 0x09 || c == 0x0A {
                            s.advance()
                        } else if c == 0x0D {
                            guard s.peek() == 0x0A else { throw s.error("a carriage return must be followed by a line feed") }
                            s.advance()
                        } else {
                            break
                        }
                    }
                    continue
                }
                try escape(into: &bytes)
                continue
            }
            if c == 0x0A {
                bytes.append(c)
                s.advance()
                continue
            }
            if c == 0x0D {
                guard s.peek() == 0x0A else { throw s.error("a carriage return must be followed by a line feed") }
                s.advance()
                continue
            }
            try checkStringByte(c)
            bytes.append(c)
            s.advance()
        }
    }

    /// Control characters other than tab must be escaped.
    private func checkStringByte(_ c: UInt8) throws(ConfigSyntaxError) {
        if (c < 0x20 && c != 0x09) || c == 0x7F {
            throw s.error("the control character U+\(hex4(UInt32(c))) must be escaped in a string", hint: "write it as \\u\(hex4(UInt32(c)))")
        }
    }

    /// A backslash escape in a basic string, starting at the backslash.
    private mutating func escape(into bytes: inout [UInt8]) throws(ConfigSyntaxError) {
        s.advance()
        guard let e = s.current else { throw s.error("unterminated string") }
        s.advance()
        switch e {
        case ascii("\""): bytes.append(ascii("\""))
        case ascii("\\"): bytes.append(ascii("\\"))
        case ascii("b"): bytes.append(0x08)
        case ascii("t"): bytes.append(0x09)
        case ascii("n"): bytes.append(0x0A)
        case ascii("f"): bytes.append(0x0C)
        case ascii("r"): bytes.append(0x0D)
        case ascii("u"), ascii("U"):
            let value = try s.hexValue(digits: e == ascii("u") ? 4 : 8)
            guard let scalar = Unicode.Scalar(value) else {
                throw s.error("\\\(Character(Unicode.Scalar(e)))\(String(value, radix: 16, uppercase: true)) is not a Unicode scalar value")
            }
            appendUTF8(scalar, to: &bytes)
        default:
            throw s.error("invalid escape '\\\(describe(byte: e).trimmingQuotes)' in a string", hint: "the escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX")
        }
    }

    // MARK: Whitespace, comments, line ends

    private mutating func skipWhitespace() {
        while s.current == ascii(" ") || s.current == 0x09 { s.index += 1 }
    }

    /// Whitespace, comments and newlines (inside arrays).
    private mutating func skipBlankLines() throws(ConfigSyntaxError) {
        while let c = s.current {
            if c == ascii(" ") || c == 0x09 || c == 0x0A {
                s.advance()
            } else if c == 0x0D {
                guard s.peek() == 0x0A else { throw s.error("a carriage return must be followed by a line feed") }
                s.advance()
            } else if c == ascii("#") {
                try comment()
            } else {
                return
            }
        }
    }

    private mutating func comment() throws(ConfigSyntaxError) {
        s.advance()
        while let c = s.current, c != 0x0A {
            if c == 0x0D && s.peek() == 0x0A { return }
            if (c < 0x20 && c != 0x09) || c == 0x7F {
                throw s.error("the control character U+\(hex4(UInt32(c))) is not allowed in a comment")
            }
            s.advance()
        }
    }

    /// The rest of a line: whitespace, an optional comment, and the newline (or the end).
    private mutating func endOfLine(after what: String?) throws(ConfigSyntaxError) {
        skipWhitespace()
        if s.current == ascii("#") { try comment() }
        if s.current == 0x0D {
            guard s.peek() == 0x0A else { throw s.error("a carriage return must be followed by a line feed") }
            s.advance()
        }
        if s.current == 0x0A {
            s.advance()
            return
        }
        guard s.atEnd else {
            throw s.error("expected the end of the line\(what.map { " after \($0)" } ?? ""), found \(s.describeCurrent)")
        }
    }
}

/// TOML integers and floats.
enum TOMLNumber {
    /// `nil` if `token` is not an integer; `.some(nil)` if it is one that does not fit.
    static func integer(_ token: [UInt8]) -> Int64?? {
        var t = token[...]
        if t.count > 2 && t.first == ascii("0") && (t[t.startIndex + 1] == ascii("x") || t[t.startIndex + 1] == ascii("o") || t[t.startIndex + 1] == ascii("b")) {
            let radix: UInt32 = t[t.startIndex + 1] == ascii("x") ? 16 : t[t.startIndex + 1] == ascii("o") ? 8 : 2
            t = t.dropFirst(2)
            guard let digits = digitsWithUnderscores(t, radix: radix) else { return nil }
            var value: Int64 = 0
            for d in digits {
                let (m, o1) = value.multipliedReportingOverflow(by: Int64(radix))
                let (a, o2) = m.addingReportingOverflow(Int64(d))
                if o1 || o2 { return .some(nil) }
                value = a
            }
            return value
        }
        var negative = false
        if t.first == ascii("+") || t.first == ascii("-") {
            negative = t.first == ascii("-")
            t = t.dropFirst()
        }
        guard let digits = digitsWithUnderscores(t, radix: 10) else { return nil }
        if digits.count > 1 && digits[0] == 0 { return nil }
        var value: Int64 = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return .some(nil) }
            value = a
        }
        return value
    }

    /// The digit values of `digits (_? digits)*`, or nil.
    static func digitsWithUnderscores(_ t: ArraySlice<UInt8>, radix: UInt32) -> [UInt32]? {
        var result: [UInt32] = []
        var afterDigit = false
        for c in t {
            if c == ascii("_") {
                guard afterDigit else { return nil }
                afterDigit = false
                continue
            }
            guard let d = hexDigit(c), d < radix else { return nil }
            result.append(d)
            afterDigit = true
        }
        guard afterDigit else { return nil }
        return result
    }

    static func float(_ token: [UInt8]) -> Double? {
        var t = token[...]
        if t.first == ascii("+") || t.first == ascii("-") { t = t.dropFirst() }
        let exponentStart = t.firstIndex { $0 == ascii("e") || $0 == ascii("E") }
        let mantissa = t[..<(exponentStart ?? t.endIndex)]
        let point = mantissa.firstIndex(of: ascii("."))
        let integerPart = mantissa[..<(point ?? mantissa.endIndex)]
        guard let integerDigits = digitsWithUnderscores(integerPart, radix: 10) else { return nil }
        if integerDigits.count > 1 && integerDigits[0] == 0 { return nil }
        if let point {
            guard digitsWithUnderscores(mantissa[(point + 1)...], radix: 10) != nil else { return nil }
        }
        if let exponentStart {
            var exponent = t[(exponentStart + 1)...]
            if exponent.first == ascii("+") || exponent.first == ascii("-") { exponent = exponent.dropFirst() }
            guard digitsWithUnderscores(exponent, radix: 10) != nil else { return nil }
        }
        guard point != nil || exponentStart != nil else { return nil }
        return Double(String(decoding: token.filter { $0 != ascii("_") }, as: UTF8.self))
    }
}

/// TOML dates and times (RFC 3339 with the TOML relaxations).
enum TOMLDateTime {
    /// The normalized text (upper-case `T` and `Z`) and its kind, or nil if invalid.
    static func parse(_ token: [UInt8]) -> (String, ConfigValue.DateTimeKind)? {
        var i = 0
        func number(_ count: Int) -> Int? {
            guard i + count <= token.count else { return nil }
            var value = 0
            for k in 0..<count {
                guard isDigit(token[i + k]) else { return nil }
                value = value * 10 + Int(token[i + k] - ascii("0"))
            }
            i += count
            return value
        }
        func take(_ c: UInt8) -> Bool {
            guard i < token.count, token[i] == c else { return false }
            i += 1
            return true
        }
        func time() -> Bool {
            guard let hour = number(2), take(ascii(":")), let minute = number(2), take(ascii(":")), let second = number(2)
            else { return false }
            guard hour < 24, minute < 60, second <= 60 else { return false }
            if take(ascii(".")) {
                let start = i
                while i < token.count, isDigit(token[i]) { i += 1 }
                if i == start { return false }
            }
            return true
        }
        let normalized = token.map { $0 == ascii("t") ? ascii("T") : $0 == ascii("z") ? ascii("Z") : $0 }
        if token.count > 2 && token[2] == ascii(":") {
            guard time(), i == token.count else { return nil }
            return (String(decoding: normalized, as: UTF8.self), .localTime)
        }
        guard let year = number(4), take(ascii("-")), let month = number(2), take(ascii("-")), let day = number(2) else { return nil }
        guard (1...12).contains(month), day >= 1 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= days else { return nil }
        if i == token.count { return (String(decoding: normalized, as: UTF8.self), .localDate) }
        guard take(ascii("T")) || take(ascii("t")), time() else { return nil }
        if i == token.count { return (String(decoding: normalized, as: UTF8.self), .localDateTime) }
        if take(ascii("Z")) || take(ascii("z")) {
            guard i == token.count else { return nil }
        } else {
            guard take(ascii("+")) || take(ascii("-")), let hour = number(2), take(ascii(":")), let minute = number(2),
                hour < 24, minute < 60, i == token.count
            else { return nil }
        }
        return (String(decoding: normalized, as: UTF8.self), .offsetDateTime)
    }
}

@inline(__always) func ascii(_ c: Unicode.Scalar) -> UInt8 { UInt8(c.value) }

func dotted(_ key: [String]) -> String {
    printable(key.map { part in
        part.utf8.allSatisfy { c in
            (c >= ascii("a") && c <= ascii("z")) || (c >= ascii("A") && c <= ascii("Z")) || isDigit(c) || c == ascii("_") || c == ascii("-")
        } && !part.isEmpty ? part : "\"\(part)\""
    }.joined(separator: "."))
}

extension String {
    /// `'x'` without its quotes.
    var trimmingQuotes: String { hasPrefix("'") && hasSuffix("'") && count >= 3 ? String(dropFirst().dropLast()) : self }
}
