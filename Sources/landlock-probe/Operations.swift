// SPDX-License-Identifier: Apache-2.0
// Performing the table's operations: socket addresses built byte by byte (so that truncated
// lengths, AF_UNSPEC and mismatched families can be expressed), and each call's result as
// `0`, a count, or an errno name.

#if canImport(Glibc)
import Glibc
#endif

/// What names in operations stand for, and the sockets created so far.
final class OperationEnvironment {
    var ports: [String: Int]
    var directories: [String: String]
    var sockets: [String: Int32]
    /// `o` for sandboxed operations, `p` for the parent's `pre` operations; datagram payloads
    /// are `<prefix><operation>m<message>`, so the parent knows which call sent what.
    let tagPrefix: String

    init(ports: [String: Int], directories: [String: String], sockets: [String: Int32], tagPrefix: String) {
        self.ports = ports
        self.directories = directories
        self.sockets = sockets
        self.tagPrefix = tagPrefix
    }

    func port(_ token: some StringProtocol) throws(TableError) -> Int {
        if let value = Int(token) { return value }
        guard let value = ports[String(token)] else { throw TableError(description: "unknown port name '\(token)'") }
        return value
    }

    func path(_ token: String) throws(TableError) -> String {
        guard token.hasPrefix("@") else { return token }
        let name = token.dropFirst().prefix { $0 != "/" }
        guard let directory = directories[String(name)] else { throw TableError(description: "unknown directory '@\(name)'") }
        return directory + token.dropFirst(1 + name.count)
    }

    func socket(_ name: String) throws(TableError) -> Int32 {
        guard let fd = sockets[name] else { throw TableError(description: "unknown socket '\(name)'") }
        return fd
    }
}

/// A socket address: up to 128 bytes (`sockaddr_storage`) and the length passed to the kernel.
struct SocketAddress {
    var bytes: [UInt8]
    var length: Int
}

/// Parses `in:HOST:PORT`, `in6:[HOST]:PORT`, `unspec:HOST:PORT`, `unspec6:[HOST]:PORT`,
/// `unspec`, each with an optional `/LEN`; `unix:PATH`, `unix:@NAME` (abstract), `unix-autobind`;
/// `none` is nil.
func parseAddress(_ token: String, _ environment: OperationEnvironment) throws(TableError) -> SocketAddress? {
    if token == "none" { return nil }
    var bytes = [UInt8](repeating: 0, count: 128)
    func setFamily(_ family: Int32) {
        bytes[0] = UInt8(family & 0xff)
        bytes[1] = UInt8(family >> 8)
    }
    func setPort(_ port: Int) {
        bytes[2] = UInt8((port >> 8) & 0xff)
        bytes[3] = UInt8(port & 0xff)
    }
    if token == "unix-autobind" {  // AF_UNIX with no path: the kernel picks an abstract name
        setFamily(AF_UNIX)
        return SocketAddress(bytes: bytes, length: 2)
    }
    if token.hasPrefix("unixpath:") {  // a pathname, with @DIR expanded
        let path = Array(try environment.path(String(token.dropFirst(9))).utf8)
        setFamily(AF_UNIX)
        guard path.count < 108 else { throw TableError(description: "path too long for sockaddr_un: '\(token)'") }
        for (index, byte) in path.enumerated() { bytes[2 + index] = byte }
        return SocketAddress(bytes: bytes, length: 2 + path.count + 1)
    }
    if token.hasPrefix("unix:") {
        let path = Array(token.dropFirst(5).utf8)
        setFamily(AF_UNIX)
        var name = path
        if name.first == UInt8(ascii: "@") { name[0] = 0 }
        for (index, byte) in name.enumerated() { bytes[2 + index] = byte }
        return SocketAddress(bytes: bytes, length: 2 + name.count + (path.first == UInt8(ascii: "@") ? 0 : 1))
    }
    var body = Substring(token)
    var length: Int? = nil
    if let slash = body.lastIndex(of: "/"), let value = Int(body[body.index(after: slash)...]) {
        length = value
        body = body[..<slash]
    }
    func invalid() -> TableError { TableError(description: "bad address '\(token)'") }
    guard let colon = body.firstIndex(of: ":") else {
        guard body == "unspec" else { throw invalid() }
        return SocketAddress(bytes: bytes, length: length ?? 2)
    }
    let scheme = body[..<colon]
    let rest = body[body.index(after: colon)...]
    guard let portColon = rest.lastIndex(of: ":") else { throw invalid() }
    var host = String(rest[..<portColon])
    let port = try environment.port(rest[rest.index(after: portColon)...])
    setPort(port)
    switch scheme {
    case "in", "unspec":
        setFamily(scheme == "in" ? AF_INET : AF_UNSPEC)
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { throw invalid() }
        withUnsafeBytes(of: address) { for i in 0..<4 { bytes[4 + i] = $0[i] } }
        return SocketAddress(bytes: bytes, length: length ?? 16)
    case "in6", "unspec6":
        setFamily(scheme == "in6" ? AF_INET6 : AF_UNSPEC)
        guard host.hasPrefix("["), host.hasSuffix("]") else { throw invalid() }
        host = String(host.dropFirst().dropLast())
        var address = in6_addr()
        guard inet_pton(AF_INET6, host, &address) == 1 else { throw invalid() }
        withUnsafeBytes(of: address) { for i in 0..<16 { bytes[8 + i] = $0[i] } }
        return SocketAddress(bytes: bytes, length: length ?? 28)
    default:
        throw invalid()
    }
}

let socketKinds: [String: (Int32, Int32, Int32)] = [
    "udp4": (AF_INET, Int32(SOCK_DGRAM.rawValue), 0),
    "udp4p": (AF_INET, Int32(SOCK_DGRAM.rawValue), Int32(IPPROTO_UDP)),
    "udp6": (AF_INET6, Int32(SOCK_DGRAM.rawValue), 0),
    "udp6p": (AF_INET6, Int32(SOCK_DGRAM.rawValue), Int32(IPPROTO_UDP)),
    "tcp4": (AF_INET, Int32(SOCK_STREAM.rawValue), 0),
    "tcp4p": (AF_INET, Int32(SOCK_STREAM.rawValue), Int32(IPPROTO_TCP)),
    "tcp6": (AF_INET6, Int32(SOCK_STREAM.rawValue), 0),
    "raw4": (AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_UDP)),
    "raw6": (AF_INET6, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_UDP)),
    "unix-dgram": (AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0),
    "unix-stream": (AF_UNIX, Int32(SOCK_STREAM.rawValue), 0),
    "unix-seqpacket": (AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0),
]

let errnoNames: [Int32: String] = [
    EPERM: "EPERM", ENOENT: "ENOENT", EBADF: "EBADF", EACCES: "EACCES", EFAULT: "EFAULT", EEXIST: "EEXIST",
    EINVAL: "EINVAL", EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE", EADDRNOTAVAIL: "EADDRNOTAVAIL",
    ENETUNREACH: "ENETUNREACH", EHOSTUNREACH: "EHOSTUNREACH", ECONNREFUSED: "ECONNREFUSED",
    EDESTADDRREQ: "EDESTADDRREQ", EISCONN: "EISCONN", ENOTCONN: "ENOTCONN", EMSGSIZE: "EMSGSIZE",
    EOPNOTSUPP: "EOPNOTSUPP", EPROTONOSUPPORT: "EPROTONOSUPPORT", ESOCKTNOSUPPORT: "ESOCKTNOSUPPORT",
    EPROTOTYPE: "EPROTOTYPE", EPIPE: "EPIPE", EAGAIN: "EAGAIN", EINPROGRESS: "EINPROGRESS", EALREADY: "EALREADY",
    ENOSYS: "ENOSYS", ENOTSOCK: "ENOTSOCK", EXDEV: "EXDEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EROFS: "EROFS",
    ECONNRESET: "ECONNRESET", ENOBUFS: "ENOBUFS", EINTR: "EINTR",
]

func errnoName(_ code: Int32) -> String { errnoNames[code] ?? "errno\(code)" }

private typealias SendmmsgFunction = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32

/// `sendmmsg(2)`: declared by glibc only under `_GNU_SOURCE`, which the Swift Glibc module
/// does not define; looked up at run time.
private let sendmmsgFunction: SendmmsgFunction? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sendmmsg") else { return nil }
    return unsafeBitCast(symbol, to: SendmmsgFunction.self)
}()

let msgFastOpen: Int32 = 0x2000_0000

/// Performs one operation and returns its result: `0` for success (sends: any byte count),
/// the message count for sendmmsg, or the errno's name.
func perform(_ words: [String], index: Int, in environment: OperationEnvironment) throws(TableError) -> String {
    func arguments(_ count: Int) throws(TableError) {
        guard words.count >= count + 1 else {
            throw TableError(description: "'\(words.joined(separator: " "))' needs \(count) argument(s)")
        }
    }
    func result(_ value: Int) -> String { value < 0 ? errnoName(errno) : "0" }
    func payload(_ message: Int) -> [UInt8] { Array("\(environment.tagPrefix)\(index)m\(message)".utf8) }
    switch words[0] {
    case "socket":
        try arguments(2)
        guard let (domain, type, proto) = socketKinds[words[2]] else {
            throw TableError(description: "unknown socket kind '\(words[2])'")
        }
        let fd = Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), proto)
        if fd < 0 { return errnoName(errno) }
        environment.sockets[words[1]] = fd
        return "0"
    case "bind", "connect":
        try arguments(2)
        let fd = try environment.socket(words[1])
        guard let address = try parseAddress(words[2], environment) else {
            let value = words[0] == "bind" ? Glibc.bind(fd, nil, 0) : Glibc.connect(fd, nil, 0)
            return result(Int(value))
        }
        let value = address.bytes.withUnsafeBytes { buffer -> Int32 in
            let pointer = buffer.baseAddress!.assumingMemoryBound(to: sockaddr.self)
            return words[0] == "bind"
                ? Glibc.bind(fd, pointer, socklen_t(address.length)) : Glibc.connect(fd, pointer, socklen_t(address.length))
        }
        return result(Int(value))
    case "sendto":
        try arguments(2)
        let fd = try environment.socket(words[1])
        let flags = words.dropFirst(3).contains("fastopen") ? msgFastOpen : 0
        let data = payload(0)
        guard let address = try parseAddress(words[2], environment) else {
            return result(Glibc.sendto(fd, data, data.count, flags, nil, 0))
        }
        let value = address.bytes.withUnsafeBytes { buffer in
            Glibc.sendto(
                fd, data, data.count, flags, buffer.baseAddress!.assumingMemoryBound(to: sockaddr.self),
                socklen_t(address.length))
        }
        return result(value)
    case "send":
        try arguments(1)
        let data = payload(0)
        return result(Glibc.send(try environment.socket(words[1]), data, data.count, 0))
    case "write":
        try arguments(1)
        let data = payload(0)
        return result(Glibc.write(try environment.socket(words[1]), data, data.count))
    case "sendmsg", "sendmmsg":
        try arguments(2)
        let fd = try environment.socket(words[1])
        let destinations = words[0] == "sendmsg" ? [words[2]] : Array(words[2...])
        let addresses = try destinations.map { token throws(TableError) in try parseAddress(token, environment) }
        let payloads = destinations.indices.map(payload)
        // Everything the headers point to lives in one allocation that outlives the call.
        let names = UnsafeMutableRawPointer.allocate(byteCount: 128 * addresses.count, alignment: 8)
        let datas = UnsafeMutableRawPointer.allocate(byteCount: 32 * addresses.count, alignment: 8)
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: addresses.count)
        let headers = UnsafeMutableRawPointer.allocate(byteCount: 64 * addresses.count, alignment: 8)
        defer { names.deallocate(); datas.deallocate(); vectors.deallocate(); headers.deallocate() }
        headers.initializeMemory(as: UInt8.self, repeating: 0, count: 64 * addresses.count)
        for (i, address) in addresses.enumerated() {
            let data = datas + 32 * i
            payloads[i].withUnsafeBytes { data.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            vectors[i] = iovec(iov_base: data, iov_len: payloads[i].count)
            var header = msghdr()
            if let address {
                address.bytes.withUnsafeBytes { (names + 128 * i).copyMemory(from: $0.baseAddress!, byteCount: 128) }
                header.msg_name = names + 128 * i
                header.msg_namelen = socklen_t(address.length)
            }
            header.msg_iov = vectors + i
            header.msg_iovlen = 1
            headers.storeBytes(of: header, toByteOffset: 64 * i, as: msghdr.self)
        }
        if words[0] == "sendmsg" {
            return result(Glibc.sendmsg(fd, headers.assumingMemoryBound(to: msghdr.self), 0))
        }
        guard let sendmmsg = sendmmsgFunction else { return "ENOSYS" }
        let count = sendmmsg(fd, headers, UInt32(addresses.count), 0)
        return count < 0 ? errnoName(errno) : String(count)
    case "listen":
        try arguments(1)
        return result(Int(Glibc.listen(try environment.socket(words[1]), 16)))
    case "symlink":
        try arguments(2)
        return result(Int(Glibc.symlink(try environment.path(words[1]), try environment.path(words[2]))))
    case "chdir":
        try arguments(1)
        return result(Int(Glibc.chdir(try environment.path(words[1]))))
    case "create", "truncate":
        try arguments(1)
        let path = try environment.path(words[1])
        let flags = words[0] == "create" ? O_CREAT | O_WRONLY : O_WRONLY | O_TRUNC
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        if fd < 0 { return errnoName(errno) }
        close(fd)
        return "0"
    default:
        throw TableError(description: "unknown operation '\(words[0])'")
    }
}
