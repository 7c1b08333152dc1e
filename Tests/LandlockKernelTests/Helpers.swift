// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Small POSIX helpers for the enforcement tests. Each returns 0 on success or the errno, so
// that an expectation reads `#expect(openForReading(path) == EACCES)`.

/// A fresh directory with a file `file` (content "x") and a subdirectory `sub` holding `file`.
func makeTree() -> String {
    var template = Array("/tmp/landlock-test-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    mkdir(dir + "/sub", 0o755)
    for path in [dir + "/file", dir + "/sub/file"] {
        let fd = open(path, O_CREAT | O_WRONLY, 0o644)
        _ = write(fd, "x", 1)
        close(fd)
    }
    return dir
}

func result(_ value: Int32) -> Int32 { value < 0 ? errno : 0 }

func openFile(_ path: String, _ flags: Int32) -> Int32 {
    let fd = open(path, flags | O_CLOEXEC, 0o644)
    if fd < 0 { return errno }
    close(fd)
    return 0
}

func listDirectory(_ path: String) -> Int32 {
    guard let dir = opendir(path) else { return errno }
    closedir(dir)
    return 0
}

func truncateFile(_ path: String) -> Int32 { result(truncate(path, 0)) }

/// Runs a program and returns 0 if it could be executed (whatever its exit status), or the
/// errno of the failed exec.
func execute(_ path: String) -> Int32 {
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
    defer { free(argv[0]) }
    let error = posix_spawn(&pid, path, nil, nil, argv, environ)
    guard error == 0 else { return error }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    // posix_spawn reports a failed exec of the child as exit status 127.
    return (status >> 8) & 0xff == 127 ? EACCES : 0
}

let streamType = Int32(SOCK_STREAM.rawValue)
let datagramType = Int32(SOCK_DGRAM.rawValue)
let closeOnExec = Int32(SOCK_CLOEXEC.rawValue)

/// A TCP (`streamType`) or UDP (`datagramType`) IPv4 socket.
func inetSocket(_ type: Int32) -> Int32 { socket(AF_INET, type | closeOnExec, 0) }

func loopback(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    return address
}

func bind(_ fd: Int32, port: UInt16) -> Int32 {
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            result(Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)))
        }
    }
}

func connect(_ fd: Int32, port: UInt16) -> Int32 {
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            result(Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)))
        }
    }
}

/// The local port of a bound socket.
func localPort(_ fd: Int32) -> UInt16 {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}

/// A TCP listener on an ephemeral loopback port, made before any restriction.
func tcpListener() -> (fd: Int32, port: UInt16) {
    let fd = inetSocket(streamType)
    precondition(bind(fd, port: 0) == 0 && listen(fd, 8) == 0)
    return (fd, localPort(fd))
}

/// The running kernel's ABI, capped at `abi`: what a hard requirement can ask here.
func runningABI(atMost abi: LandlockABI) -> LandlockABI {
    min(abi, LandlockABI(kernelVersion: TestKernel.abi) ?? .v1)
}

/// A ruleset for the tests: the filesystem rights of ABI 3 (or of the running kernel, if
/// older) handled as a hard requirement, `rules` allowed.
func filesystemRuleset(_ rules: [PathBeneath]) throws(LandlockError) -> Ruleset {
    var ruleset = Ruleset(compatibility: .hardRequirement).handling(FileSystemAccess.all(in: runningABI(atMost: .v3)))
    for rule in rules { try ruleset.add(rule) }
    return ruleset
}

/// An abstract UNIX stream socket path unique to this process.
func abstractAddress(_ name: String) -> (sockaddr_un, socklen_t) {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array("\0landlock-test-\(getpid())-\(name)".utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in bytes.enumerated() { buffer[index] = byte }
    }
    return (address, socklen_t(MemoryLayout<sa_family_t>.size + bytes.count))
}

func abstractListener(_ name: String) -> Int32 {
    let fd = socket(AF_UNIX, streamType | closeOnExec, 0)
    var (address, length) = abstractAddress(name)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
    }
    precondition(bound == 0 && listen(fd, 4) == 0)
    return fd
}

func abstractConnect(_ name: String) -> Int32 {
    let fd = socket(AF_UNIX, streamType | closeOnExec, 0)
    defer { close(fd) }
    var (address, length) = abstractAddress(name)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { result(Glibc.connect(fd, $0, length)) }
    }
}

/// Inside an exit test: ends the child process with status 1 and a message on stderr when a
/// condition does not hold. The parent's `#expect(processExitsWith: .success)` then fails.
func verify(
    _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line
) {
    guard !condition else { return }
    let text = "\(file):\(line): \(message())\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

/// `verify` for an errno-returning operation.
func verify(_ actual: Int32, is expected: Int32, _ what: String, file: StaticString = #file, line: UInt = #line) {
    verify(
        actual == expected, "\(what): expected \(expected == 0 ? "success" : String(cString: strerror(expected))), got \(actual == 0 ? "success" : String(cString: strerror(actual)))",
        file: file, line: line)
}
