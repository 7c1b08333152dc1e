// SPDX-License-Identifier: Apache-2.0

/// A strict JSON parser (RFC 8259) that records the line of every value and key. Numbers must
/// be integers: policy files have no use for fractions.
struct JSONParser {
    private var scanner: Scanner

    init(_ text: String) { scanner = Scanner(text) }

    static func parse(_ text: String) throws(ConfigSyntaxError) -> ConfigValue {
        var parser = JSONParser(text)
        parser.skipSpaces()
        let value = try parser.value()
        parser.skipSpaces()
        guard parser.scanner.atEnd else { throw parser.scanner.error("unexpected \(describe(parser.scanner.current)) after the JSON value") }
        return value
    }

    private mutating func value() throws(ConfigSyntaxError) -> ConfigValue {
        let line = scanner.line
        guard let c = scanner.current else { throw scanner.error("expected a value at the end of the file") }
        switch c {
        case "{":
            scanner.advance()
            var table = ConfigTable()
            skipSpaces()
            if scanner.current == "}" { scanner.advance(); return ConfigValue(kind: .table(table), line: line) }
            while true {
                skipSpaces()
                let keyLine = scanner.line
                guard scanner.current == "\"" else { throw scanner.error("expected a quoted key, found \(describe(scanner.current))") }
                let key = try string()
                skipSpaces()
                guard scanner.current == ":" else { throw scanner.error("expected ':' after the key \"\(key)\"") }
                scanner.advance()
                skipSpaces()
                let item = try value()
                if table.contains(key) { throw ConfigSyntaxError(line: keyLine, message: "key '\(key)' is defined twice") }
                table.entries.append((key, keyLine, item))
                skipSpaces()
                if scanner.current == "," { scanner.advance(); continue }
                if scanner.current == "}" { scanner.advance(); break }
                throw scanner.error("expected ',' or '}' in the object, found \(describe(scanner.current))")
            }
            return ConfigValue(kind: .table(table), line: line)
        case "[":
            scanner.advance()
            var items: [ConfigValue] = []
            skipSpaces()
            if scanner.current == "]" { scanner.advance(); return ConfigValue(kind: .array(items), line: line) }
            while true {
                skipSpaces()
                items.append(try value())
                skipSpaces()
                if scanner.current == "," { scanner.advance(); continue }
                if scanner.current == "]" { scanner.advance(); break }
                throw scanner.error("expected ',' or ']' in the array, found \(describe(scanner.current))")
            }
            return ConfigValue(kind: .array(items), line: line)
        case "\"":
            return ConfigValue(kind: .string(try string()), line: line)
        default:
            var word = ""
            while let c = scanner.current, c == "-" || c == "+" || c == "." || ("0"..."9").contains(c) || ("a"..."z").contains(c)
                || ("A"..."Z").contains(c)
            {
                word.unicodeScalars.append(c)
                scanner.advance()
            }
            switch word {
            case "true": return ConfigValue(kind: .bool(true), line: line)
            case "false": return ConfigValue(kind: .bool(false), line: line)
            case "null": return ConfigValue(kind: .null, line: line)
            default:
                let digits = word.hasPrefix("-") ? word.dropFirst() : Substring(word)
                if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), !(digits.count > 1 && digits.first == "0") {
                    guard let number = Int64(word) else { throw ConfigSyntaxError(line: line, message: "the integer \(word) is too large") }
                    return ConfigValue(kind: .integer(number), line: line)
                }
                if word.isEmpty { throw scanner.error("expected a value, found \(describe(scanner.current))") }
                throw ConfigSyntaxError(line: line, message: "unexpected '\(word)'", hint: "strings need double quotes, and numbers must be integers")
            }
        }
    }

    private mutating func string() throws(ConfigSyntaxError) -> String {
        let line = scanner.line
        scanner.advance()
        var result = ""
        while true {
            guard let c = scanner.current, c != "\n" else { throw ConfigSyntaxError(line: line, message: "unterminated string") }
            scanner.advance()
            if c == "\"" { return result }
            if c == "\\" {
                guard let e = scanner.current else { throw ConfigSyntaxError(line: line, message: "unterminated string") }
                scanner.advance()
                switch e {
                case "\"": result += "\""
                case "\\": result += "\\"
                case "/": result += "/"
                case "n": result += "\n"
                case "t": result += "\t"
                case "r": result += "\r"
                case "b": result += "\u{8}"
                case "f": result += "\u{c}"
                case "u": result.unicodeScalars.append(try scanner.unicodeEscape(digits: 4))
                default: throw scanner.error("invalid escape '\\\(e)' in a string")
                }
                continue
            }
            result.unicodeScalars.append(c)
        }
    }

    private mutating func skipSpaces() {
        while let c = scanner.current, c == " " || c == "\t" || c == "\n" || c == "\r" { scanner.advance() }
    }
}
