// SPDX-License-Identifier: Apache-2.0

internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

/// What the supervisor knows about a socket (`getsockopt` on the duplicate).
struct SocketKind {
    var domain: Int32
    var type: Int32
    var proto: Int32

    init(domain: Int32, type: Int32, proto: Int32) {
        self.domain = domain
        self.type = type
        self.proto = proto
    }

    init?(_ fd: Int32) {
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(4)
            return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        guard let domain = option(SO_DOMAIN), let type = option(SO_TYPE), let proto = option(SO_PROTOCOL) else {
            return nil
        }
        self.domain = domain
        self.type = type
        self.proto = proto
    }

    /// `sk_is_udp()`: inet family, SOCK_DGRAM, IPPROTO_UDP.
    var udpFamily: UDPSocketFamily? {
        guard type == Int32(SOCK_DGRAM.rawValue), proto == Int32(IPPROTO_UDP) else { return nil }
        return domain == AF_INET ? .inet : domain == AF_INET6 ? .inet6 : nil
    }

    var isStream: Bool { type == Int32(SOCK_STREAM.rawValue) }

    /// Whether `fd` is a UDP socket, `sk_is_udp()`, with two system calls (protocol, then
    /// type: a raw socket may carry IPPROTO_UDP). Its family comes with its local address
    /// (`localState`), read where the decision needs its bound state.
    static func isUDP(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(4)
        return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &value, &length) == 0 && value == Int32(IPPROTO_UDP)
            && getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &length) == 0 && value == Int32(SOCK_DGRAM.rawValue)
    }

    /// The family and bound state of a socket (`getsockname`): `nil` family when it cannot be
    /// read; unreadable counts as bound (the kernel would see the socket as it is).
    static func localState(of fd: Int32) -> (family: UDPSocketFamily?, isBound: Bool) {
        var storage = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard named else { return (nil, true) }
        let family: UDPSocketFamily? = switch Int32(storage.sin6_family) {
        case AF_INET: .inet
        case AF_INET6: .inet6
        default: nil
        }
        return (family, storage.sin6_port != 0)
    }
}
