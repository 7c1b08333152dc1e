// SPDX-License-Identifier: Apache-2.0

/// A parsed TOML or JSON value that remembers the line it starts on.
struct ConfigValue {
    enum DateTimeKind: String {
        case offsetDateTime = "datetime", localDateTime = "datetime-local", localDate = "date-local"
        case localTime = "time-local"
    }

    enum Kind {
        case string(String)
        case integer(Int64)
        case float(Double)
        case bool(Bool)
        /// A TOML date or time, as written (with `T` and `Z` upper-cased).
        case dateTime(String, DateTimeKind)
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
        case .float: "a floating-point number"
        case .bool: "a boolean"
        case .dateTime: "a date or time"
        case .array: "an array"
        case .table: "a table"
        case .null: "null"
        }
    }
}

/// A table (TOML) or object (JSON): keys in file order, each with the line it is on.
struct ConfigTable {
    private(set) var entries: [(key: String, line: Int, value: ConfigValue)] = []
    private var index: [String: Int] = [:]

    subscript(key: String) -> ConfigValue? { index[key].map { entries[$0].value } }

    func contains(_ key: String) -> Bool { index[key] != nil }

    /// Adds `key`; the caller has checked that it is new.
    mutating func append(_ key: String, line: Int, _ value: ConfigValue) {
        index[key] = entries.count
        entries.append((key, line, value))
    }
}

/// A syntax error, with the line it is on.
struct ConfigSyntaxError: Error {
    var line: Int
    var message: String
    var hint: String?
}

/// The fixed limits that keep hostile files cheap to refuse.
enum ConfigLimits {
    /// The deepest nesting of arrays and tables (toml-test suggests 128 to 256 as more than
    /// enough for real documents; policies use 3).
    static let maxDepth = 128
    /// The largest policy file read.
    static let maxFileSize = 4 << 20
    /// The most bytes of paths that variable expansion may produce, over all files (twice the
    /// largest file: plain paths never reach it, a multiplying expansion does).
    static let maxExpandedBytes = 8 << 20
    /// The most paths that variable expansion may produce, over all files.
    static let maxExpandedPaths = 1_000_000
    /// The longest path (Linux PATH_MAX, terminating NUL included).
    static let maxPathLength = 4095
}

/// Reads UTF-8 bytes and counts lines. The text has been validated as UTF-8 (see
/// ``validateUTF8(_:)``), so multi-byte sequences can be copied without decoding.
struct ByteScanner {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    var current: UInt8? { index < bytes.count ? bytes[index] : nil }
    func peek(_ offset: Int = 1) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    mutating func advance() {
        if bytes[index] == 0x0A { line += 1 }
        index += 1
    }

    func error(_ message: String, hint: String? = nil) -> ConfigSyntaxError {
        ConfigSyntaxError(line: line, message: message, hint: hint)
    }

    /// How the current byte reads in a message: `'x'`, `U+0000`, or "the end of the file".
    var describeCurrent: String { describe(byte: current) }

    /// Reads the `digits` hex digits of a `\u` or `\U` escape (after the letter).
    mutating func hexValue(digits: Int) throws(ConfigSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let c = current, let digit = hexDigit(c) else {
                throw error("expected \(digits) hexadecimal digits in a unicode escape, found \(describeCurrent)")
            }
            value = value << 4 | digit
            advance()
        }
        return value
    }
}

func hexDigit(_ c: UInt8) -> UInt32? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
    default: nil
    }
}

func isDigit(_ c: UInt8?) -> Bool {
    guard let c else { return false }
    return c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
}

/// How a byte reads in a message.
func describe(byte c: UInt8?) -> String {
    guard let c else { return "the end of the file" }
    if c == 0x0A { return "the end of the line" }
    if c < 0x20 || c == 0x7F { return "the control character U+\(hex4(UInt32(c)))" }
    if c >= 0x80 { return "a non-ASCII character" }
    return "'\(Character(Unicode.Scalar(c)))'"
}

/// `text` as it may appear in a message: control characters escaped (`\u{0}`), and cut to a
/// length that fits on a line.
func printable(_ text: String) -> String {
    var result = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == 60 && text.unicodeScalars.count > 80 { return result + "…" }
        count += 1
        if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
            result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        } else {
            result.unicodeScalars.append(scalar)
        }
    }
    return result
}

func hex4(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// Appends the UTF-8 encoding of `scalar` to `bytes`.
func appendUTF8(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
    bytes.append(contentsOf: UTF8.encode(scalar)!)
}

/// Checks that `bytes` are well-formed UTF-8 (no overlong forms, no surrogates, nothing above
/// U+10FFFF); throws with the line of the first bad byte.
func validateUTF8(_ bytes: [UInt8]) throws(ConfigSyntaxError) {
    var line = 1
    var i = 0
    let count = bytes.count
    while i < count {
        let b = bytes[i]
        if b < 0x80 {
            if b == 0x0A { line += 1 }
            i += 1
            continue
        }
        var need = 0
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch b {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; high = 0x9F
        case 0xF0: need = 3; low = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; high = 0x8F
        default: need = -1
        }
        var ok = need > 0 && i + need < count
        if ok {
            for k in 1...need {
                let c = bytes[i + k]
                let (lo, hi) = k == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                if c < lo || c > hi { ok = false; break }
            }
        }
        guard ok else {
            throw ConfigSyntaxError(
                line: line, message: "the file is not valid UTF-8 (byte 0x\(String(b, radix: 16, uppercase: true)) at offset \(i))",
                hint: "save the policy file as UTF-8")
        }
        i += need + 1
    }
}
