// SPDX-License-Identifier: Apache-2.0
//
// Which socket file a bind of the sandbox created, for the fs.resolve_unix same-domain
// exception (UnixPathRules). Never by looking the program's path up again after the bind:
// another thread of the program could redirect a directory of that path in between and make
// the supervisor record a socket of another domain as the sandbox's.
//
// - Before the bind, the executor resolves the directory of the path to a descriptor and
//   checks that the name does not exist there yet (`BindPlace`).
// - After it, the file the socket is bound to is asked of the kernel (`sock_diag`, with
//   UNIX_DIAG_VFS: its device and inode) and must be the entry now in that directory. Exact.
// - Where socket diagnostics are missing (a kernel without CONFIG_UNIX_DIAG), the entry must
//   be a socket with a single link, and the path's directory must still be that directory. What
//   remains possible there: a socket of another domain renamed into the directory during the
//   bind, from a directory where the program may remove files.
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

/// Where a bind will create its socket file: the directory (held open) and the name in it.
final class BindPlace {
    let directory: Int32
    let name: [UInt8]
    private let directoryPath: [UInt8]

    /// Resolves the directory of the pathname `address` (in the executor's root and working
    /// directory, as the bind will); `nil` when it cannot, the name is not a plain entry, or
    /// it exists already (the bind will then fail).
    init?(_ address: [UInt8]) {
        guard let path = UnixAddress.path(address)?.dropLast().map({ UInt8(bitPattern: $0) }),
            let slash = path.lastIndex(of: UInt8(ascii: "/")) ?? Optional(-1)
        else { return nil }
        let name = Array(path[(slash + 1)...])
        guard !name.isEmpty, name != Array(".".utf8), name != Array("..".utf8) else { return nil }
        directoryPath = slash < 0 ? Array(".".utf8) : slash == 0 ? Array("/".utf8) : Array(path[..<slash])
        directory = BindPlace.open(directoryPath, from: AT_FDCWD, flags: O_DIRECTORY)
        self.name = name
        guard directory >= 0 else { return nil }
        let existing = BindPlace.open(name, from: directory, flags: O_NOFOLLOW)
        guard existing < 0 else { close(existing); return nil }
    }

    deinit { if directory >= 0 { close(directory) } }

    /// After a successful bind of `socket`: an O_PATH descriptor of the socket file it
    /// created, or `nil` when that cannot be established.
    func boundFile(of socket: Int32) -> Int32? {
        let entry = BindPlace.open(name, from: directory, flags: O_NOFOLLOW)
        guard entry >= 0 else { return nil }
        var info = stat()
        guard fstat(entry, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { close(entry); return nil }
        switch SocketDiagnostics.boundFile(of: socket) {
        case .file(let device, let inode):
            // The kernel's answer: the entry must be the file the socket is bound to.
            guard UInt64(info.st_dev) == device, UInt32(truncatingIfNeeded: info.st_ino) == inode else {
                close(entry)
                return nil
            }
            return entry
        case .unavailable:
            let again = BindPlace.open(directoryPath, from: AT_FDCWD, flags: O_DIRECTORY)
            let unchanged = again >= 0 && FileIdentity(again) == FileIdentity(directory)
            if again >= 0 { close(again) }
            guard unchanged, info.st_nlink == 1 else { close(entry); return nil }
            return entry
        case .unknown:
            close(entry)
            return nil
        }
    }

    private static func open(_ path: [UInt8], from directory: Int32, flags: Int32) -> Int32 {
        (path + [0]).withUnsafeBufferPointer {
            openat(directory, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), oPath | O_CLOEXEC | flags)
        }
    }
}

/// The kernel's socket diagnostics for UNIX sockets (NETLINK_SOCK_DIAG, `unix_diag`).
enum SocketDiagnostics {
    enum BoundFile: Equatable {
        /// The socket is bound to the file with this device (as `stat` gives it) and the low
        /// 32 bits of this inode number.
        case file(device: UInt64, inode: UInt32)
        /// The kernel has no UNIX socket diagnostics.
        case unavailable
        /// It answered, but not with a bound file.
        case unknown
    }

    private static let netlinkSockDiag: Int32 = 4
    private static let sockDiagByFamily: UInt16 = 20
    private static let requestFlag: UInt16 = 1
    private static let showVFS: UInt32 = 0x2
    private static let attributeVFS: UInt16 = 1
    private static let errorMessage: UInt16 = 2

    /// The kernel's internal dev_t (major << 20 | minor) as stat(2) encodes it (glibc's
    /// `makedev`).
    static func userDevice(_ kernel: UInt32) -> UInt64 {
        let major = UInt64(kernel >> 20), minor = UInt64(kernel & 0xfffff)
        return (major & 0xfffff000) << 32 | (major & 0xfff) << 8 | (minor & 0xffffff00) << 12 | (minor & 0xff)
    }

    /// `UNIX_DIAG_VFS` of the socket open as `socket`, looked up exactly by its inode.
    static func boundFile(of socket: Int32) -> BoundFile {
        var own = stat()
        guard fstat(socket, &own) == 0 else { return .unknown }
        let diag = Glibc.socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkSockDiag)
        guard diag >= 0 else { return .unavailable }
        defer { close(diag) }
        // struct nlmsghdr (16 bytes), then struct unix_diag_req (24 bytes).
        var request: [UInt8] = []
        func append<T>(_ value: T) { withUnsafeBytes(of: value) { request += $0 } }
        append(UInt32(40)); append(sockDiagByFamily); append(requestFlag); append(UInt32(1)); append(UInt32(0))
        append(UInt8(AF_UNIX)); append(UInt8(0)); append(UInt16(0))
        append(UInt32.max)  // every state
        append(UInt32(truncatingIfNeeded: own.st_ino)); append(showVFS)
        append(UInt32.max); append(UInt32.max)  // no cookie: look the inode up
        guard send(diag, request, request.count, 0) == request.count else { return .unavailable }
        var answer = [UInt8](repeating: 0, count: 8192)
        let count = recv(diag, &answer, answer.count, 0)
        guard count >= 16 else { return .unavailable }
        func load<T>(_ offset: Int, as type: T.Type) -> T? {
            offset + MemoryLayout<T>.size <= count
                ? answer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) } : nil
        }
        guard let type = load(4, as: UInt16.self) else { return .unavailable }
        // An error: no unix_diag in this kernel (ENOENT), or the socket is not in the
        // supervisor's network namespace (ENOENT too: the socket, held open, exists).
        if type == errorMessage { return .unavailable }
        guard type == sockDiagByFamily, let length = load(0, as: UInt32.self), Int(length) <= count else { return .unknown }
        // struct unix_diag_msg (16 bytes), then attributes (struct rtattr: length, type).
        var offset = 16 + 16
        while let attributeLength = load(offset, as: UInt16.self), let attributeType = load(offset + 2, as: UInt16.self),
            attributeLength >= 4, offset + Int(attributeLength) <= Int(length)
        {
            if attributeType == attributeVFS, attributeLength >= 12, let inode = load(offset + 4, as: UInt32.self),
                let device = load(offset + 8, as: UInt32.self)
            {
                return .file(device: userDevice(device), inode: inode)
            }
            offset += (Int(attributeLength) + 3) & ~3
        }
        return .unknown
    }
}
