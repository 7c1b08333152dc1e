// SPDX-License-Identifier: Apache-2.0
//
// What CallObserver reads of the observed program: /proc and its memory.
internal import CLandlock
import Landlock
import SandboxSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

extension CallObserver {
    // MARK: Reading the program's state

    static func comm(_ tid: pid_t) -> String {
        guard let bytes = readSmallFile("/proc/\(tid)/comm", limit: 64) else { return "?" }
        return String(decoding: bytes.prefix { $0 != 0x0A }, as: UTF8.self)
    }

    static func readString(_ tid: pid_t, _ pointer: UInt64) -> String? {
        guard pointer != 0 else { return nil }
        let bytes = readRemotePrefix(tid, pointer, 4096)
        guard let end = bytes.firstIndex(of: 0) else { return nil }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    static func resolve(_ tid: pid_t, _ dirfd: Int32, _ pointer: UInt64, followLast: Bool) -> String? {
        guard let text = readString(tid, pointer) else { return nil }
        return resolve(tid, dirfd, text, followLast: followLast)
    }

    /// `text` as an absolute path without symbolic links (the last component followed only
    /// with `followLast`), read from the observed thread's working directory or `dirfd`, with
    /// its `/proc/self` rather than the observer's.
    static func resolve(_ tid: pid_t, _ dirfd: Int32, _ text: String, followLast: Bool) -> String? {
        guard !text.isEmpty else { return nil }
        var path = text
        if !path.hasPrefix("/") {
            guard let base = link(dirfd == AT_FDCWD ? "/proc/\(tid)/cwd" : "/proc/\(tid)/fd/\(dirfd)"), base.hasPrefix("/")
            else { return nil }
            path = base + "/" + path
        }
        let process = threadGroup(tid) ?? tid
        for (alias, real) in [("/proc/self", "/proc/\(process)"), ("/proc/thread-self", "/proc/\(process)/task/\(tid)"), ("/dev/fd", "/proc/\(process)/fd")] {
            if path == alias || path.hasPrefix(alias + "/") { path = real + path.dropFirst(alias.count) }
        }
        if followLast, let real = realPath(path) { return real }
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        if name == "." || name == ".." { return realPath(path) }
        guard let directory = realPath(parent(path)) else { return nil }
        return directory == "/" ? "/" + name : directory + "/" + name
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink(path, &buffer, 4096)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func lexists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func type(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    static func removeRight(_ type: mode_t) -> FileSystemAccess { type == S_IFDIR ? .removeDir : .removeFile }

    static func makeRight(_ type: mode_t) -> FileSystemAccess {
        switch type {
        case S_IFDIR: .makeDir
        case S_IFLNK: .makeSym
        case S_IFIFO: .makeFifo
        case S_IFSOCK: .makeSock
        case S_IFCHR: .makeChar
        case S_IFBLK: .makeBlock
        default: .makeReg
        }
    }

    static func nodeRight(_ mode: UInt32) -> FileSystemAccess {
        let type = mode & UInt32(S_IFMT)
        return type == 0 ? .makeReg : makeRight(mode_t(type))
    }

    static func threadGroup(_ tid: pid_t) -> pid_t? { LandlockSupervisor.threadGroup(of: tid) }
    static func parentProcess(_ pid: pid_t) -> pid_t? { LandlockSupervisor.parentProcess(of: pid) }

    /// The process a pidfd of thread `tid` refers to (`Pid:` of its fdinfo).
    static func pidfdTarget(_ tid: pid_t, _ fd: Int32) -> pid_t? {
        ProcStatus("/proc/\(tid)/fdinfo/\(fd)")?.decimal("Pid")
    }

    /// The type of the program's socket `fd` and whether it is bound, through a duplicate.
    static func socketKind(_ tid: pid_t, _ fd: Int32) -> (udpFamily: UDPSocketFamily?, isTCP: Bool, bound: Bool)? {
        let process = threadGroup(tid) ?? tid
        let pidfd = clandlock_pidfd_open(process, 0)
        guard pidfd >= 0 else { return nil }
        defer { close(pidfd) }
        let duplicate = clandlock_pidfd_getfd(pidfd, fd, 0)
        guard duplicate >= 0 else { return nil }
        let kind = SocketKind(duplicate)
        // The program may close its fd meanwhile: this close may be the last (a lingering
        // socket's may wait), so it is never made on the monitor thread.
        defer { Closer.close(duplicate, mayWait: Closer.mayWait(kind)) }
        guard let kind else { return nil }
        let tcp = kind.isStream && kind.proto == Int32(IPPROTO_TCP) && (kind.domain == AF_INET || kind.domain == AF_INET6)
        return (kind.udpFamily, tcp, SocketKind.localState(of: duplicate).isBound)
    }

    /// The interpreter the kernel opens to run `path`: its `#!` line's, or its ELF loader
    /// (`PT_INTERP`).
    static func interpreter(of path: String) -> String? {
        // The path is the program's: look first (O_PATH opens nothing: no device's open, no
        // FIFO's wait), then read only a regular file, through that very file.
        let file = open(path, oPath | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let fd = open("/proc/self/fd/\(file)", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        func bytes(_ offset: Int, _ count: Int) -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: count)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return got == count ? buffer : nil
        }
        guard let head = bytes(0, 2) else { return nil }
        if head == [0x23, 0x21] {  // #!
            var buffer = [UInt8](repeating: 0, count: 256)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 256, 2) }
            guard got > 0 else { return nil }
            let line = buffer[0..<got].prefix { $0 != 0x0A }.drop { $0 == 0x20 || $0 == 0x09 }
            let word = line.prefix { $0 != 0x20 && $0 != 0x09 && $0 != 0 }
            return word.isEmpty ? nil : String(decoding: word, as: UTF8.self)
        }
        // ELF64, little-endian.
        guard let header = bytes(0, 64), header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1 else {
            return nil
        }
        func word<T: FixedWidthInteger>(_ data: [UInt8], _ offset: Int, _: T.Type) -> T {
            data[offset..<offset + MemoryLayout<T>.size].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        // The file is the program's: every value is bounded before it is used (no trap).
        let limit = UInt64(Int32.max)
        let tableOffset = word(header, 32, UInt64.self)
        let entrySize = UInt64(word(header, 54, UInt16.self))
        let count = min(UInt64(word(header, 56, UInt16.self)), 64)
        guard entrySize >= 56, tableOffset <= limit else { return nil }
        for index in 0..<count {
            guard let entry = bytes(Int(tableOffset + index * entrySize), 56), word(entry, 0, UInt32.self) == 3 else { continue }
            let offset = word(entry, 8, UInt64.self)
            guard offset <= limit else { return nil }
            let size = Int(min(word(entry, 32, UInt64.self), 4096))
            guard let name = bytes(Int(offset), size) else { return nil }
            return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        }
        return nil
    }
}
