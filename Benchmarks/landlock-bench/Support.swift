// SPDX-License-Identifier: Apache-2.0
import SandboxSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

// MARK: Errors and output

/// Prints `landlock-bench: MESSAGE` (with errno when asked) on standard error and exits 1.
func fail(_ message: String, errno error: Int32? = nil) -> Never {
    var text = "landlock-bench: \(message)"
    if let error { text += ": \(String(cString: strerror(error))) (errno \(error))" }
    _ = writeAll(2, text + "\n")
    exit(1)
}


func printLine(_ text: String) {
    writeAll(1, text + "\n")
}

// MARK: Threads

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts a joinable POSIX thread (no Foundation: the guest binary stays small).
func spawnThread(_ body: @escaping () -> Void) -> pthread_t {
    var thread = pthread_t()
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let result = pthread_create(
        &thread, nil,
        { raw in
            let box = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
    if result != 0 { fail("pthread_create", errno: result) }
    return thread
}

func joinThread(_ thread: pthread_t) {
    _ = pthread_join(thread, nil)
}

/// A counter shared between a workload's threads.
final class SharedCounter: Sendable {
    private let storage = Atomic<Int>(0)
    func increment() { storage.add(1, ordering: .relaxed) }
    var value: Int { storage.load(ordering: .relaxed) }
}

// MARK: Sockets (loopback only)

/// A pathname AF_UNIX address.
func unixAddress(path: String) -> (sockaddr_un, socklen_t) {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { fail("socket path too long: \(path)") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in bytes.enumerated() { raw[index] = byte }
        raw[bytes.count] = 0
    }
    return (address, socklen_t(2 + bytes.count + 1))
}

func withSockaddr<T, R>(_ address: inout T, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    let length = socklen_t(MemoryLayout<T>.size)
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
}

func makeSocket(_ domain: Int32, _ type: Int32) -> Int32 {
    let fd = socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { fail("socket(\(domain), \(type))", errno: errno) }
    return fd
}

func setIntOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
    var copy = value
    return setsockopt(fd, level, name, &copy, socklen_t(4)) == 0
}

let udpType = Int32(SOCK_DGRAM.rawValue)
let streamType = Int32(SOCK_STREAM.rawValue)

/// A UDP socket bound to 127.0.0.1:port that receives the workload's datagrams.
func udpReceiver(port: UInt16) -> Int32 {
    let fd = makeSocket(AF_INET, udpType)
    // Room for a few batches of 64-byte datagrams; SO_RCVBUFFORCE needs CAP_NET_ADMIN.
    if !setIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20) {
        _ = setIntOption(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20)
    }
    var address = Loopback.ipv4(port: port)
    if withSockaddr(&address, { bind(fd, $0, $1) }) != 0 { fail("bind UDP 127.0.0.1:\(port)", errno: errno) }
    return fd
}

/// Reads every datagram waiting on `fd` without blocking; returns how many.
func drain(_ fd: Int32, buffer: inout [UInt8]) -> Int {
    var count = 0
    while true {
        let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if received < 0 {
            if errno == EINTR { continue }
            return count
        }
        count += 1
    }
}

/// Sends all of `length` bytes on a stream socket with `send` (a `sendto` with no address).
func sendAll(_ fd: Int32, _ pointer: UnsafeRawPointer, _ length: Int) {
    var offset = 0
    while offset < length {
        let sent = send(fd, pointer + offset, length - offset, Int32(MSG_NOSIGNAL))
        if sent < 0 {
            if errno == EINTR { continue }
            fail("send", errno: errno)
        }
        offset += sent
    }
}

/// Same with `sendmsg` and no address (what runtimes that gather buffers do).
func sendmsgAll(_ fd: Int32, _ pointer: UnsafeMutableRawPointer, _ length: Int) {
    var offset = 0
    while offset < length {
        var vector = iovec(iov_base: pointer + offset, iov_len: length - offset)
        let sent = withUnsafeMutablePointer(to: &vector) { vectorPointer -> Int in
            var header = msghdr()
            header.msg_iov = vectorPointer
            header.msg_iovlen = 1
            return sendmsg(fd, &header, Int32(MSG_NOSIGNAL))
        }
        if sent < 0 {
            if errno == EINTR { continue }
            fail("sendmsg", errno: errno)
        }
        offset += sent
    }
}

// MARK: Processes

/// `argv`/`envp` as C strings (leaked: the caller is about to spawn or exit).
func cStringArray(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
    strings.map { strdup($0) } + [nil]
}

/// The path of this executable.
func selfExecutable() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { fail("readlink /proc/self/exe", errno: errno) }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func directoryName(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

func readTextFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return readAll(fd)
}

/// `Name:  value kB` lines of /proc/PID/status, in KiB (or plain numbers).
func procStatus(_ pid: String = "self", _ key: String) -> Int? {
    guard let text = readTextFile("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        let fields = line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" })
        return fields.first.flatMap { Int($0) }
    }
    return nil
}

// MARK: Statistics

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// `value` with `digits` digits after the point.
func format(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    var text = (value < 0 && rounded != 0 ? "-" : "") + String(whole)
    if digits > 0 {
        let fraction = String(Int(rounded) - whole * Int(scale))
        text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return text
}

// MARK: GNU extensions Glibc does not import

/// `struct mmsghdr`.
struct MultipleMessageHeader {
    var msg_hdr = msghdr()
    var msg_len: UInt32 = 0
    var padding: UInt32 = 0
}

private typealias SendmmsgFunction = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32

/// `sendmmsg(2)` from the C library.
func sendMultiple(_ fd: Int32, _ messages: UnsafeMutablePointer<MultipleMessageHeader>, _ count: Int, _ flags: Int32)
    -> Int32
{
    nonisolated(unsafe) let function = sendmmsgFunction
    return function(fd, UnsafeMutableRawPointer(messages), UInt32(count), flags)
}

private let sendmmsgFunction: SendmmsgFunction = {
    precondition(MemoryLayout<MultipleMessageHeader>.stride == 64, "struct mmsghdr is 64 bytes")
    guard let symbol = dlsym(nil, "sendmmsg") else { fail("sendmmsg not found in the C library") }
    return unsafeBitCast(symbol, to: SendmmsgFunction.self)
}()
