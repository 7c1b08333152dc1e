// SPDX-License-Identifier: Apache-2.0
// The POSIX helpers the package's targets share: not API, not a product. Every declaration is
// `package`, so only targets of this package see it.

#if canImport(Glibc)
package import Glibc
#elseif canImport(Musl)
package import Musl
#endif

/// An errno as the supervisor's `Result` failures carry it.
package struct Errno32: Error, Hashable, Sendable {
    package var value: Int32
    package init(_ value: Int32) { self.value = value }
}

/// The calling process's environment.
package enum ProcessEnvironment {
    /// `NAME=value` entries, in order.
    package static var current: [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }

    /// `(NAME, value)` pairs, in order (an entry without `=` gets an empty value).
    package static var pairs: [(String, String)] { current.map(split) }

    /// The `NAME` of `NAME=value` (the whole entry when it has no `=`).
    package static func name(of entry: String) -> Substring {
        entry[..<(entry.firstIndex(of: "=") ?? entry.endIndex)]
    }

    /// Splits `NAME=value`.
    package static func split(_ entry: String) -> (String, String) {
        guard let equals = entry.firstIndex(of: "=") else { return (entry, "") }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }

    /// The last value of `name` in `environment`.
    package static func value(_ name: String, in environment: [String]) -> String? {
        let prefix = name + "="
        return environment.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}

/// `PATH` lookup as `execvp(3)` does it, with one default.
package enum ExecutableSearch {
    /// The search path when `PATH` is unset.
    package static let defaultPath = "/usr/local/bin:/usr/bin:/bin"

    package enum Result: Equatable {
        case found(String)
        /// The errno `execvp` would report: the first problem other than "not there", or ENOENT.
        case notFound(errno: Int32)
    }

    /// The `PATH` of `environment`, or ``defaultPath``.
    package static func path(in environment: [String]) -> String {
        ProcessEnvironment.value("PATH", in: environment) ?? defaultPath
    }

    /// Finds `name` (no slash) in `path`; an empty entry means the working directory.
    package static func find(_ name: String, path: String) -> Result {
        var firstProblem: Int32?
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            guard let problem = problem(executing: candidate) else { return .found(candidate) }
            if problem != ENOENT && problem != ENOTDIR && firstProblem == nil { firstProblem = problem }
        }
        return .notFound(errno: firstProblem ?? ENOENT)
    }

    /// Why `path` cannot be executed (as an errno), or `nil` when it can.
    package static func problem(executing path: String) -> Int32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno }
        if info.st_mode & S_IFMT == S_IFDIR { return EACCES }
        guard access(path, X_OK) == 0 else { return errno }
        return nil
    }
}

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes; stops at the first
/// other failure. Returns whether everything was written.
@discardableResult
package func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return false }
        offset += written
    }
    return true
}

/// Writes `text` as UTF-8 (see ``writeAll(_:_:)-(_,[UInt8])``).
@discardableResult
package func writeAll(_ fd: Int32, _ text: String) -> Bool { writeAll(fd, Array(text.utf8)) }

/// The monotonic clock.
package enum MonotonicClock {
    package static var nanoseconds: UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    package static var milliseconds: Int64 { Int64(nanoseconds / 1_000_000) }
}

/// Loopback socket addresses.
package enum Loopback {
    /// `127.0.0.1:port`.
    package static func ipv4(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    /// `[::1]:port`.
    package static func ipv6(port: UInt16) -> sockaddr_in6 {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        address.sin6_addr = in6addr_loopback
        return address
    }
}

/// Starts a detached thread running `body`. The thread inherits the creator's Landlock domain,
/// no_new_privs and signal mask (all three are per thread on Linux).
@discardableResult
package func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    let result = pthread_create(&thread, &attributes, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    if result != 0 { Unmanaged<Box>.fromOpaque(context).release() }
    return result == 0
}

/// The current contents of a small file (a `/proc` entry), at most `limit` bytes, or `nil`
/// when it cannot be opened or is empty. One reader for the supervisor and the launcher.
package func readSmallFile(_ path: String, limit: Int) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: limit)
    var count = 0
    while count < limit {
        let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, limit - count) }
        if got < 0 && errno == EINTR { continue }
        if got <= 0 { break }
        count += got
    }
    return count > 0 ? Array(bytes[0..<count]) : nil
}
