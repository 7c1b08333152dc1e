// SPDX-License-Identifier: Apache-2.0
//
// Runs landlock-exec's TOML and JSON parsers over files and prints, for each, one JSON line:
// {"file": ..., "ok": true, "value": <toml-test tagged JSON>} or {"file": ..., "ok": false,
// "error": "LINE: message"}. Built by Scripts/toml-test.sh together with
// Sources/landlock-exec/Config/{ConfigValue,TOMLParser,JSONParser}.swift (no SwiftPM).

#if canImport(Glibc)
import Glibc
#endif

@main
struct Driver {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var json = false
        if arguments.first == "--json" {
            json = true
            arguments.removeFirst()
        }
        var output = ""
        for path in arguments {
            output += "{\"file\": \(quoted(path)), "
            guard let bytes = readBytes(path) else {
                output += "\"ok\": false, \"error\": \"cannot read\"}\n"
                continue
            }
            do throws(ConfigSyntaxError) {
                let value: ConfigValue
                if json {
                    value = try JSONParser.parse(bytes)
                } else {
                    value = ConfigValue(kind: .table(try TOMLParser.parse(bytes)), line: 1)
                }
                output += "\"ok\": true, \"value\": \(tagged(value))}\n"
            } catch {
                output += "\"ok\": false, \"error\": \(quoted("\(error.line): \(error.message)"))}\n"
            }
            if output.utf8.count > 1 << 16 {
                print(output, terminator: "")
                output = ""
            }
        }
        print(output, terminator: "")
    }

    static func tagged(_ value: ConfigValue) -> String {
        func leaf(_ type: String, _ text: String) -> String { "{\"type\": \"\(type)\", \"value\": \(quoted(text))}" }
        switch value.kind {
        case .string(let text): return leaf("string", text)
        case .integer(let number): return leaf("integer", String(number))
        case .float(let number):
            let text = number.isNaN ? "nan" : number == .infinity ? "inf" : number == -.infinity ? "-inf" : "\(number)"
            return leaf("float", text)
        case .bool(let flag): return leaf("bool", flag ? "true" : "false")
        case .dateTime(let text, let kind): return leaf(kind.rawValue, text)
        case .null: return "null"
        case .array(let items): return "[" + items.map(tagged).joined(separator: ", ") + "]"
        case .table(let table):
            return "{" + table.entries.map { "\(quoted($0.key)): \(tagged($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u" + hex4(scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }
}
