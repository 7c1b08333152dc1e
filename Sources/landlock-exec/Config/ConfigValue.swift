// SPDX-License-Identifier: Apache-2.0

/// A parsed TOML or JSON value that remembers the line it starts on.
struct ConfigValue {
    enum Kind {
        case string(String)
        case integer(Int64)
        case bool(Bool)
        case array([ConfigValue])
        case table(ConfigTable)
        case null
    }
    var kind: Kind
    var line: Int

    var typeName: String {
        switch kind {
        case .string: "a string"
        case .integer: "an integer"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .null: "null"
        }
    }
}

/// A table (TOML) or object (JSON): keys in file order, each with the line it is on.
struct ConfigTable {
    var entries: [(key: String, line: Int, value: ConfigValue)] = []

    subscript(key: String) -> ConfigValue? { entries.first { $0.key == key }?.value }

    func contains(_ key: String) -> Bool { entries.contains { $0.key == key } }
}

/// A syntax error, with the line it is on.
struct ConfigSyntaxError: Error {
    var line: Int
    var message: String
    var hint: String?
}

/// Scans Unicode scalars and counts lines.
struct Scanner {
    let scalars: [Unicode.Scalar]
    var index = 0
    var line = 1

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    var atEnd: Bool { index >= scalars.count }
    var current: Unicode.Scalar? { atEnd ? nil : scalars[index] }
    func peek(_ offset: Int = 1) -> Unicode.Scalar? { index + offset < scalars.count ? scalars[index + offset] : nil }

    mutating func advance() {
        if current == "\n" { line += 1 }
        index += 1
    }

    func error(_ message: String, hint: String? = nil) -> ConfigSyntaxError {
        ConfigSyntaxError(line: line, message: message, hint: hint)
    }

    /// Reads `\uXXXX` (or `\UXXXXXXXX` with `digits: 8`) after the `u`.
    mutating func unicodeEscape(digits: Int) throws(ConfigSyntaxError) -> Unicode.Scalar {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let c = current, let digit = UInt32(String(c), radix: 16)
            else { throw error("invalid unicode escape") }
            value = value * 16 + digit
            advance()
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("invalid unicode escape") }
        return scalar
    }
}
