// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
public import Glibc
#endif

/// A listening pathname UNIX stream socket, non-blocking, created by the test process (outside
/// any sandbox), that records who connected.
public final class UnixListener {
    public let fd: Int32
    public let path: String

    public init(_ path: String, mode: mode_t = 0o600) {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < 108)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                precondition(bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0)
            }
        }
        precondition(listen(fd, 16) == 0)
        chmod(path, mode)
    }

    /// The `SO_PEERCRED` uid of each connection received so far.
    public func acceptedUIDs() -> [uid_t] {
        var uids: [uid_t] = []
        while true {
            let connection = accept(fd, nil, nil)
            if connection < 0 { break }
            var credentials: (pid: Int32, uid: uid_t, gid: gid_t) = (0, 0, 0)  // struct ucred
            var length = socklen_t(12)
            _ = getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials, &length)
            uids.append(credentials.uid)
            close(connection)
        }
        return uids
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
