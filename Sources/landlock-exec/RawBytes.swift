// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The original bytes of the command line and the environment, for paths that are not valid
/// UTF-8.
///
/// Swift's `CommandLine.arguments` and the environment as `String`s replace every invalid
/// UTF-8 sequence with U+FFFD, so `--ro $'dir\xff'` would name `dir\u{FFFD}`, which does not
/// exist. Linux paths are bytes: a path whose text holds U+FFFD is looked up among the original
/// arguments (whole, or after `=` in `--ro=PATH`) and the `:`-separated parts of environment
/// values (`LL_FS_RO`), opened by its bytes (`O_PATH`, before the sandbox exists), and handed
/// to the ruleset as `/proc/self/fd/N`, which names the same file. The descriptors are
/// close-on-exec: the command never sees them.
enum RawBytes {
    /// The text of each invalid-UTF-8 argument, value or environment part, and its bytes.
    nonisolated(unsafe) private static var originals: [String: [UInt8]] = [:]
    /// Texts that several different byte strings decode to: left as they are (not found).
    nonisolated(unsafe) private static var ambiguous: Set<String> = []
    nonisolated(unsafe) private static var collected = false
    /// `O_PATH` (a `_GNU_SOURCE` flag Swift's Glibc module leaves out).
    private static let openPath: Int32 = 0o10_000_000

    /// The path to give the library for `path`: `path` itself, or `/proc/self/fd/N` for the
    /// bytes it was decoded from. A path that cannot be opened is returned unchanged, so that
    /// the ruleset reports it (or skips it, with `--ignore-missing`) as any other.
    static func openablePath(_ path: String) -> String {
        guard path.unicodeScalars.contains("\u{FFFD}") else { return path }
        collect()
        guard let bytes = originals[path] else { return path }
        let fd = (bytes + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, openPath | O_CLOEXEC) }
        }
        guard fd >= 0 else { return path }
        return "/proc/self/fd/\(fd)"
    }

    /// The original bytes of a word of the command line (the command and its arguments), or
    /// its UTF-8 when it was valid UTF-8 or its bytes cannot be told apart.
    static func argumentBytes(_ text: String) -> [UInt8] {
        guard text.unicodeScalars.contains("\u{FFFD}") else { return Array(text.utf8) }
        collect()
        return originals[text] ?? Array(text.utf8)
    }

    /// The original bytes of an environment entry `NAME=value` this process was given.
    static func environmentBytes(_ text: String) -> [UInt8] {
        guard text.unicodeScalars.contains("\u{FFFD}") else { return Array(text.utf8) }
        collect()
        return environmentOriginals[text] ?? Array(text.utf8)
    }

    /// Whole environment entries that are not valid UTF-8, by their text.
    nonisolated(unsafe) private static var environmentOriginals: [String: [UInt8]] = [:]

    private static func collect() {
        guard !collected else { return }
        collected = true
        for index in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[index] else { continue }
            let bytes = Self.bytes(argument)
            add(bytes[...])
            if bytes.starts(with: Array("--".utf8)), let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                add(bytes[(equals + 1)...])
            }
        }
        var entry = environ
        while let pointer = entry.pointee {
            let bytes = Self.bytes(pointer)
            if String(validating: bytes, as: UTF8.self) == nil {
                environmentOriginals[String(decoding: bytes, as: UTF8.self)] = bytes
            }
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                for part in bytes[(equals + 1)...].split(separator: UInt8(ascii: ":")) { add(part) }
            }
            entry += 1
        }
    }

    private static func add(_ slice: ArraySlice<UInt8>) {
        let bytes = Array(slice)
        guard String(validating: bytes, as: UTF8.self) == nil else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        guard !ambiguous.contains(text) else { return }
        if let known = originals[text], known != bytes {
            ambiguous.insert(text)
            originals[text] = nil
        } else {
            originals[text] = bytes
        }
    }

    private static func bytes(_ pointer: UnsafePointer<CChar>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: pointer, count: strlen(pointer)).map { UInt8(bitPattern: $0) })
    }
}
