// SPDX-License-Identifier: Apache-2.0
import LandlockTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The built `landlock-exec` (next to the test bundle, or `$LANDLOCK_EXEC_PATH`).
let landlockExec = CLIProcess.product("landlock-exec")

/// The environment of the sandboxed commands: the system's programs only (a PATH entry in a
/// home directory would be denied by the default policy).
let defaultEnvironment = ["PATH=/usr/bin:/bin", "LC_ALL=C"]

/// Runs `landlock-exec` with `arguments`.
func exec(
    _ arguments: [String], environment: [String]? = nil, inheritedFiles: [Int32: String] = [:]
) -> CLIProcessResult {
    CLIProcess.run(landlockExec, arguments, environment: environment ?? defaultEnvironment, inheritedFiles: inheritedFiles)
}

/// A fresh directory under /tmp with some files, removed when the value is dropped.
final class Scratch {
    let path: String

    init() {
        var template = Array("/tmp/landlock-exec-test.XXXXXX".utf8CString)
        let made = mkdtemp(&template)!
        path = String(cString: made)
    }

    deinit { _ = CLIProcess.run("/usr/bin/rm", ["-rf", path]) }

    /// Creates `name` (and its directories) with `contents`; returns its path.
    @discardableResult
    func file(_ name: String, _ contents: String = "") -> String {
        let full = path + "/" + name
        var directory = full
        directory = String(directory[..<directory.lastIndex(of: "/")!])
        _ = CLIProcess.run("/usr/bin/mkdir", ["-p", directory])
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        precondition(fd >= 0)
        _ = contents.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        return full
    }

    func directory(_ name: String) -> String {
        _ = CLIProcess.run("/usr/bin/mkdir", ["-p", path + "/" + name])
        return path + "/" + name
    }

    func exists(_ name: String) -> Bool { access(path + "/" + name, F_OK) == 0 }
}

/// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
final class Listener {
    let fd: Int32
    let port: Int

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                precondition(bind(fd, pointer, length) == 0)
                precondition(listen(fd, 16) == 0)
                precondition(getsockname(fd, pointer, &length) == 0)
            }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// A UDP socket on 127.0.0.1 with a kernel-chosen port that counts the datagrams it received.
final class UDPReceiver {
    let fd: Int32
    let port: Int

    init() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                precondition(bind(fd, pointer, length) == 0)
                precondition(getsockname(fd, pointer, &length) == 0)
            }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// The datagrams received so far (and not counted before).
    func count() -> Int {
        var total = 0
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) >= 0 { total += 1 }
        return total
    }

    deinit { close(fd) }
}

/// A command that sends one UDP datagram to each of `udp` (127.0.0.1) and connects to `tcp`,
/// printing `ok` or the errno of each on one line.
func socketProbe(udp: [Int], tcp: Int?) -> [String] {
    let code = socketProbeFunctions + """
        print(" ".join([udp(p) for p in \(udp)] + [tcp(p) for p in \(tcp.map { [$0] } ?? [])]))
        """
    return ["python3", "-c", code]
}

/// Python functions `udp(port)` and `tcp(port)`: one datagram to, or one connection to,
/// 127.0.0.1:port; each returns "ok" or the errno.
let socketProbeFunctions = """
    import socket
    def udp(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(b"x", ("127.0.0.1", port)); return "ok"
        except OSError as e:
            return str(e.errno)
    def tcp(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5); return "ok"
        except OSError as e:
            return str(e.errno)

    """

/// A supervised sandbox allowing UDP to two receivers and a nested landlock-exec inside it
/// allowing only the first, with a scratch directory both may write: the setup of the tests of
/// nested sandboxes' process trees.
struct NestedUDPSandboxes {
    let both = UDPReceiver(), outerOnly = UDPReceiver(), scratch = Scratch()

    /// The outer landlock-exec's arguments, up to and including `--`.
    var outer: [String] {
        [
            "--quiet", "--rox", "/", "--rw", scratch.path, "--udp-supervisor", "always", "--bind-udp", "0",
            "--connect-udp", "\(both.port)", "--connect-udp", "\(outerOnly.port)", "--",
        ]
    }

    /// The nested landlock-exec command, up to and including `--`, quoted for sh.
    var inner: String {
        [landlockExec, "--quiet", "--rox", "/", "--rw", scratch.path, "--bind-udp", "0", "--connect-udp", "\(both.port)", "--"]
            .map(shellQuoted).joined(separator: " ")
    }

    /// Sends to both receivers and prints the two outcomes, quoted for sh.
    var probe: String {
        socketProbe(udp: [both.port, outerOnly.port], tcp: nil).map(shellQuoted).joined(separator: " ")
    }
}

/// `text` as one word for sh.
func shellQuoted(_ text: String) -> String {
    "'" + text.replacingQuotes + "'"
}

extension String {
    /// Single quotes escaped for use inside a single-quoted sh word.
    var replacingQuotes: String {
        split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''")
    }
}

/// A TCP port that nothing listens on (bound and released).
func freePort() -> Int {
    Listener().port
}

/// Python one-liners for socket operations; they exit 0 on success and 13 on EACCES/EPERM.
func python(_ code: String) -> [String] {
    [
        "python3", "-c",
        "import socket, sys\ntry:\n" + code.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
            + "\nexcept PermissionError as e:\n    print(e, file=sys.stderr); sys.exit(13)\n",
    ]
}

/// The repository root (for the man page), found above the build directory.
var repositoryRoot: String {
    var directory = CLIProcess.productsDirectory
    while directory.count > 1 {
        if access(directory + "/Package.swift", F_OK) == 0 { return directory }
        directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
    }
    return "."
}

/// A listening UNIX stream socket bound to the abstract name `name` (no file).
final class AbstractListener {
    let fd: Int32
    let name: String

    init(_ name: String) {
        self.name = name
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { precondition(bind(fd, $0, length) == 0) }
        }
        precondition(listen(fd, 4) == 0)
    }

    deinit { close(fd) }
}
