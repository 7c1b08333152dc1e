// SPDX-License-Identifier: Apache-2.0

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
}
