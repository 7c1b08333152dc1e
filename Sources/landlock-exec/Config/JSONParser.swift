// SPDX-License-Identifier: Apache-2.0

/// A strict JSON parser (RFC 8259) that records the line of every value and key.
///
/// It uses the limits RFC 8259 allows (§9): nesting deeper than ``ConfigLimits/maxDepth`` and
/// integers beyond 64 bits are refused. Duplicate keys, which RFC 8259 leaves to the
/// implementation, are refused too: a policy must not depend on which one wins. Strings must
/// be valid Unicode: an unpaired surrogate escape is refused. A byte-order mark is skipped.
struct JSONParser {
    private var s: ByteScanner

    private init(_ bytes: [UInt8]) { s = ByteScanner(bytes) }

    static func parse(_ bytes: [UInt8]) throws(ConfigSyntaxError) -> ConfigValue {
        try validateUTF8(bytes)
        var parser = JSONParser(bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.s.index = 3 }
        parser.skipSpaces()
        let value = try parser.value(depth: 1)
        parser.skipSpaces()
        guard parser.s.atEnd else { throw parser.s.error("unexpected \(parser.s.describeCurrent) after the JSON value") }
        return value
    }

    private mutating func value(depth: Int) throws(ConfigSyntaxError) -> ConfigValue {
        if depth > ConfigLimits.maxDepth {
            throw s.error("arrays and objects are nested deeper than \(ConfigLimits.maxDepth) levels")
        }
        let line = s.line
        guard let c = s.current else { throw s.error("expected a value, found the end of the file") }
        switch c {
        case ascii("{"):
            s.advance()
            var table = ConfigTable()
            skipSpaces()
            if s.current == ascii("}") {
                s.advance()
                return ConfigValue(kind: .table(table), line: line)
            }
            while true {
                skipSpaces()
                let keyLine = s.line
                guard s.current == ascii("\"") else { throw s.error("expected a quoted key, found \(s.describeCurrent)") }
                let key = try string()
                skipSpaces()
                guard s.current == ascii(":") else { throw s.error("expected ':' after the key \"\(printable(key))\", found \(s.describeCurrent)") }
                s.advance()
                skipSpaces()
                let item = try value(depth: depth + 1)
                if table.contains(key) {
                    throw ConfigSyntaxError(line: keyLine, message: "the key \"\(printable(key))\" is defined twice in the object")
                }
                table.append(key, line: keyLine, item)
                skipSpaces()
                if s.current == ascii(",") {
                    s.advance()
                    continue
                }
                if s.current == ascii("}") {
                    s.advance()
                    return ConfigValue(kind: .table(table), line: line)
                }
                throw s.error("expected ',' or '}' in the object, found \(s.describeCurrent)")
            }
        case ascii("["):
            s.advance()
            var items: [ConfigValue] = []
            skipSpaces()
            if s.current == ascii("]") {
                s.advance()
                return ConfigValue(kind: .array(items), line: line)
            }
            while true {
                skipSpaces()
                items.append(try value(depth: depth + 1))
                skipSpaces()
                if s.current == ascii(",") {
                    s.advance()
                    continue
                }
                if s.current == ascii("]") {
                    s.advance()
                    return ConfigValue(kind: .array(items), line: line)
                }
                throw s.error("expected ',' or ']' in the array, found \(s.describeCurrent)")
            }
        case ascii("\""):
            return ConfigValue(kind: .string(try string()), line: line)
        case ascii("t"):
            try literal("true")
            return ConfigValue(kind: .bool(true), line: line)
        case ascii("f"):
            try literal("false")
            return ConfigValue(kind: .bool(false), line: line)
        case ascii("n"):
            try literal("null")
            return ConfigValue(kind: .null, line: line)
        case ascii("-"), ascii("0")...ascii("9"):
            return try number()
        default:
            var word: [UInt8] = []
            while let c = s.current, c.isASCIIWordByte, word.count < 40 {
                word.append(c)
                s.advance()
            }
            if word.isEmpty { throw s.error("expected a value, found \(s.describeCurrent)") }
            throw ConfigSyntaxError(
                line: line, message: "unexpected '\(String(decoding: word, as: UTF8.self))'",
                hint: "strings need double quotes; the other values are numbers, true, false and null")
        }
    }

    private mutating func literal(_ word: String) throws(ConfigSyntaxError) {
        let line = s.line
        for expected in word.utf8 {
            guard s.current == expected else {
                throw ConfigSyntaxError(line: line, message: "unexpected \(s.describeCurrent) in '\(word)'", hint: "strings need double quotes")
            }
            s.advance()
        }
        if let c = s.current, c.isASCIIWordByte {
            throw ConfigSyntaxError(line: line, message: "unexpected \(s.describeCurrent) after '\(word)'")
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws(ConfigSyntaxError) -> ConfigValue {
        let line = s.line
        let start = s.index
        if s.current == ascii("-") { s.advance() }
        guard isDigit(s.current) else { throw s.error("expected a digit, found \(s.describeCurrent)") }
        if s.current == ascii("0") {
            s.advance()
            if isDigit(s.current) { throw s.error("a number cannot start with 0", hint: "write it without leading zeros") }
        } else {
            while isDigit(s.current) { s.advance() }
        }
        var isInteger = true
        if s.current == ascii(".") {
            isInteger = false
            s.advance()
            guard isDigit(s.current) else { throw s.error("expected a digit after '.', found \(s.describeCurrent)") }
            while isDigit(s.current) { s.advance() }
        }
        if s.current == ascii("e") || s.current == ascii("E") {
            isInteger = false
            s.advance()
            if s.current == ascii("+") || s.current == ascii("-") { s.advance() }
            guard isDigit(s.current) else { throw s.error("expected a digit in the exponent, found \(s.describeCurrent)") }
            while isDigit(s.current) { s.advance() }
        }
        if let c = s.current, c.isASCIIWordByte || c == ascii(".") || c == ascii("+") || c == ascii("-") {
            throw s.error("unexpected \(s.describeCurrent) after a number")
        }
        let text = String(decoding: s.bytes[start..<s.index], as: UTF8.self)
        if isInteger {
            guard let value = Int64(text) else {
                throw ConfigSyntaxError(line: line, message: "the integer \(text) does not fit in 64 bits")
            }
            return ConfigValue(kind: .integer(value), line: line)
        }
        return ConfigValue(kind: .float(Double(text) ?? .nan), line: line)
    }

    private mutating func string() throws(ConfigSyntaxError) -> String {
        let line = s.line
        s.advance()
        var bytes: [UInt8] = []
        while true {
            guard let c = s.current else { throw ConfigSyntaxError(line: line, message: "unterminated string") }
            if c == ascii("\"") {
                s.advance()
                return String(decoding: bytes, as: UTF8.self)
            }
            if c < 0x20 {
                if c == 0x0A { throw ConfigSyntaxError(line: line, message: "unterminated string", hint: "write a newline in a string as \\n") }
                throw s.error("the control character U+\(hex4(UInt32(c))) must be escaped in a string", hint: "write it as \\u\(hex4(UInt32(c)))")
            }
            s.advance()
            guard c == ascii("\\") else {
                bytes.append(c)
                continue
            }
            guard let e = s.current else { throw ConfigSyntaxError(line: line, message: "unterminated string") }
            s.advance()
            switch e {
            case ascii("\""): bytes.append(ascii("\""))
            case ascii("\\"): bytes.append(ascii("\\"))
            case ascii("/"): bytes.append(ascii("/"))
            case ascii("b"): bytes.append(0x08)
            case ascii("f"): bytes.append(0x0C)
            case ascii("n"): bytes.append(0x0A)
            case ascii("r"): bytes.append(0x0D)
            case ascii("t"): bytes.append(0x09)
            case ascii("u"):
                let unit = try s.hexValue(digits: 4)
                var value = unit
                if (0xD800...0xDBFF).contains(unit) {
                    guard s.current == ascii("\\"), s.peek() == ascii("u") else {
                        throw s.error("the escape \\u\(hex4(unit)) is half of a surrogate pair, without the other half", hint: "write the character itself, or both halves as in \\ud83d\\ude00")
                    }
                    s.advance()
                    s.advance()
                    let low = try s.hexValue(digits: 4)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw s.error("the escape \\u\(hex4(unit)) is not followed by the second half of a surrogate pair", hint: "write the character itself, or both halves as in \\ud83d\\ude00")
                    }
                    value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(unit) {
                    throw s.error("the escape \\u\(hex4(unit)) is the second half of a surrogate pair, without the first", hint: "write the character itself, or both halves as in \\ud83d\\ude00")
                }
                appendUTF8(Unicode.Scalar(value)!, to: &bytes)
            default:
                throw s.error("invalid escape '\\\(describe(byte: e).trimmingQuotes)' in a string", hint: "the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
            }
        }
    }

    private mutating func skipSpaces() {
        while let c = s.current, c == ascii(" ") || c == 0x09 || c == 0x0A || c == 0x0D { s.advance() }
    }
}

extension UInt8 {
    var isASCIIWordByte: Bool {
        (self >= ascii("a") && self <= ascii("z")) || (self >= ascii("A") && self <= ascii("Z")) || isDigit(self) || self == ascii("_")
    }
}
