// SPDX-License-Identifier: Apache-2.0
//
// Watching what a program and its descendants do, for `landlock-exec learn`. Learning is not a
// security boundary: the program is trusted to behave as it will under the policy. So every
// observed call is answered with SECCOMP_USER_NOTIF_FLAG_CONTINUE (the kernel runs it as made),
// after its arguments have been read out of the program's memory while it waits. This needs no
// privilege (no_new_privs and a filter, as for the supervisor) and works on every kernel with
// seccomp user notification (5.6; CONTINUE is 5.5); ptrace would also work, but stops the
// program twice per call and conflicts with debuggers and with programs that trace.
//
// What is read can differ from what the kernel then uses (another thread may rewrite the path
// in between): acceptable for learning, never for enforcing.
internal import CLandlock
package import Landlock
import SandboxSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// One thing the observed program did that a Landlock policy must allow.
package struct Observation: Sendable, Hashable {
    package enum Subject: Sendable, Hashable {
        /// Filesystem rights on a path (absolute, symbolic links resolved).
        case path(String, FileSystemAccess)
        /// Network rights on a port.
        case port(Int, NetworkAccess)
        /// An IPC scope the program crossed (a signal to, or an abstract UNIX socket of, a
        /// process outside the observed tree).
        case crossed(Scope)
    }

    package var subject: Subject
    /// The path was created during the run (it will not exist, or be another file, next time).
    package var created: Bool
    /// The program that did it (`/proc/<pid>/comm`).
    package var program: String

    package init(_ subject: Subject, created: Bool = false, program: String) {
        self.subject = subject
        self.created = created
        self.program = program
    }
}

/// Runs a program under an observing seccomp filter (see the file comment).
package enum Observer {
    /// Starts `path` with `argv` and `envp` and reports what it and its descendants do to
    /// `record` (on the observer's thread, one call at a time) until the program ends. Returns
    /// its status once every observed process has ended (the listener hangs up). `started`
    /// receives the program's pid once it runs (to forward signals to it).
    package static func run(
        path: String, argv: [[UInt8]], envp: [[UInt8]], started: (Int32) -> Void = { _ in },
        record: @escaping @Sendable (Observation) -> Void
    ) throws(SeccompError) -> TerminationStatus {
        guard let program = SeccompFilter.observerProgram() else {
            throw SeccompError(.internalInconsistency, "Failed to build the observing seccomp filter for this architecture")
        }
        var plan = SpawnPlan(path: path, argv: argv, envp: envp)
        plan.filter = program
        plan.filterFlags = CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER
        let done = ListenerHandoff()
        let result = try spawn(plan) { listener in
            startDetachedThread {
                _ = clandlock_block_all_signals()
                ObserverLoop(listener: listener, observer: CallObserver(record: record)).run()
                done.cancel()
            }
        }
        started(result.pid)
        var status: Int32 = 0
        while waitpid(result.pid, &status, 0) < 0 {
            if errno != EINTR { return .unknown(reason: "waitpid failed: \(Errno(rawValue: errno).sentence)") }
        }
        // Descendants that outlive the program are still observed; the loop ends when the
        // last one does.
        _ = done.wait()
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }
}

/// The loop of ``Observer`` and of the denial log without supervisor: every notification
/// observed, then let run. Ends when every observed process has (the listener hangs up).
struct ObserverLoop {
    let listener: Int32
    let observer: CallObserver

    func run() {
        while true {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, -1)
            if ready < 0 { if errno == EINTR { continue } else { break } }
            if poller.revents & Int16(POLLIN) == 0 && poller.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { break }
            var notification = clandlock_seccomp_notif()
            if clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_recv, &notification) != 0 {
                if errno == EINTR || errno == ENOENT { continue }
                break
            }
            let args = withUnsafeBytes(of: notification.data.args) { Array($0.bindMemory(to: UInt64.self)) }
            observer.observe(number: notification.data.nr, tid: pid_t(notification.pid), args)
            var response = clandlock_seccomp_notif_resp(
                id: notification.id, val: 0, error: 0, flags: UInt32(CLANDLOCK_SECCOMP_USER_NOTIF_FLAG_CONTINUE))
            _ = clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_send, &response)
        }
        close(listener)
    }
}

/// Turns observed calls into ``Observation``s: for ``Observer`` (learning) and for the
/// supervisor's denial log (`--log-denials`). It only reads the program's memory and `/proc`;
/// the caller lets the call run. Used from one thread at a time.
final class CallObserver: @unchecked Sendable {
    let record: @Sendable (Observation) -> Void
    let ownPid = getpid()
    /// Abstract UNIX socket names bound by observed processes.
    var abstractNames: Set<[UInt8]> = []

    init(record: @escaping @Sendable (Observation) -> Void) {
        self.record = record
    }

    static let numbers: [Int: String] = {
        var table: [Int: String] = [:]
        for name in SeccompFilter.observedCalls {
            let number = clandlock_syscall_number(name)
            if number >= 0 { table[number] = name }
        }
        return table
    }()

    /// The observed calls that only the observer asks for (the supervisor handles the others).
    static let observerOnlyNumbers: Set<Int32> = Set(
        SeccompFilter.observedOnlyCalls.map { Int32(truncatingIfNeeded: clandlock_syscall_number($0)) })

    func observe(number: Int32, tid: pid_t, _ args: [UInt64]) {
        if let name = Self.numbers[Int(number)] { observe(name, tid: tid, args) }
    }

    // MARK: Calls

    func observe(_ name: String, tid: pid_t, _ a: [UInt64]) {
        let program = Self.comm(tid)
        let record = self.record
        let emit: Emit = { subject, created in record(Observation(subject, created: created, program: program)) }
        func fd(_ value: UInt64) -> Int32 { Int32(truncatingIfNeeded: value) }
        switch name {
        case "open": openCall(tid, AT_FDCWD, a[0], Int32(truncatingIfNeeded: a[1]), emit)
        case "openat": openCall(tid, fd(a[0]), a[1], Int32(truncatingIfNeeded: a[2]), emit)
        case "openat2":
            guard let flags = readRemote(tid, a[2], as: UInt64.self) else { return }
            openCall(tid, fd(a[0]), a[1], Int32(truncatingIfNeeded: flags), emit)
        case "creat": openCall(tid, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, emit)
        case "execve": execCall(tid, AT_FDCWD, a[0], emptyPath: false)
        case "execveat": execCall(tid, fd(a[0]), a[1], emptyPath: a[4] & 0x1000 != 0  /* AT_EMPTY_PATH */)
        case "mkdir": make(tid, AT_FDCWD, a[0], .makeDir, emit)
        case "mkdirat": make(tid, fd(a[0]), a[1], .makeDir, emit)
        case "mknod": make(tid, AT_FDCWD, a[0], Self.nodeRight(UInt32(truncatingIfNeeded: a[1])), emit)
        case "mknodat": make(tid, fd(a[0]), a[1], Self.nodeRight(UInt32(truncatingIfNeeded: a[2])), emit)
        case "symlink": make(tid, AT_FDCWD, a[1], .makeSym, emit)
        case "symlinkat": make(tid, fd(a[1]), a[2], .makeSym, emit)
        case "unlink": remove(tid, AT_FDCWD, a[0], directory: false, emit)
        case "unlinkat": remove(tid, fd(a[0]), a[1], directory: a[2] & 0x200 != 0  /* AT_REMOVEDIR */, emit)
        case "rmdir": remove(tid, AT_FDCWD, a[0], directory: true, emit)
        case "rename": rename(tid, AT_FDCWD, a[0], AT_FDCWD, a[1], exchange: false, emit)
        case "renameat": rename(tid, fd(a[0]), a[1], fd(a[2]), a[3], exchange: false, emit)
        case "renameat2": rename(tid, fd(a[0]), a[1], fd(a[2]), a[3], exchange: a[4] & 2 != 0, emit)  // RENAME_EXCHANGE
        case "link": link(tid, AT_FDCWD, a[0], AT_FDCWD, a[1], emit)
        case "linkat": link(tid, fd(a[0]), a[1], fd(a[2]), a[3], emit)
        case "truncate":
            guard let path = Self.resolve(tid, AT_FDCWD, a[0], followLast: true), Self.exists(path) else { return }
            emit(.path(path, .truncate), false)
        case "ftruncate":
            guard let path = Self.link("/proc/\(tid)/fd/\(fd(a[0]))"), path.hasPrefix("/") else { return }
            emit(.path(path, .truncate), false)
        case "kill", "rt_sigqueueinfo", "tgkill", "rt_tgsigqueueinfo":
            signal(to: pid_t(truncatingIfNeeded: Int64(bitPattern: a[0])), emit)
        case "tkill":
            signal(to: Self.threadGroup(pid_t(truncatingIfNeeded: Int64(bitPattern: a[0]))) ?? 0, emit)
        case "pidfd_send_signal":
            signal(to: Self.pidfdTarget(tid, fd(a[0])) ?? 0, emit)
        case "connect": socketCall(tid, fd(a[0]), a[1], a[2], binding: false, emit)
        case "bind": socketCall(tid, fd(a[0]), a[1], a[2], binding: true, emit)
        case "sendto": if a[4] != 0 { socketCall(tid, fd(a[0]), a[4], a[5], binding: false, emit) }
        case "sendmsg": sendMessage(tid, fd(a[0]), a[1], emit)
        case "sendmmsg":
            let stride = UInt64(MemoryLayout<clandlock_mmsghdr>.stride)
            for index in 0..<min(a[2] & 0xffff_ffff, 64) { sendMessage(tid, fd(a[0]), a[1] &+ index &* stride, emit) }
        default: break
        }
    }

    typealias Emit = (Observation.Subject, Bool) -> Void

    func openCall(_ tid: pid_t, _ dirfd: Int32, _ pointer: UInt64, _ flags: Int32, _ emit: Emit) {
        if flags & oPath != 0 { return }  // Landlock checks nothing on O_PATH opens
        guard let path = Self.resolve(tid, dirfd, pointer, followLast: true) else { return }
        let mode = flags & O_ACCMODE
        var rights: FileSystemAccess = []
        var info = stat()
        if stat(path, &info) != 0 {
            // Absent: only a creating open does anything (the others fail with ENOENT).
            guard flags & O_CREAT != 0 else { return }
            emit(.path(Self.parent(path), .makeReg), false)
            if mode != O_WRONLY { rights.insert(.readFile) }
            if mode != O_RDONLY { rights.insert(.writeFile) }
            emit(.path(path, rights), true)
            return
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR {
            emit(.path(path, .readDir), false)
            return
        }
        if mode != O_WRONLY { rights.insert(.readFile) }
        if mode != O_RDONLY { rights.insert(.writeFile) }
        if flags & O_TRUNC != 0 && mode != O_RDONLY { rights.insert(.truncate) }
        if type == S_IFCHR || type == S_IFBLK { rights.insert(.ioctlDev) }
        emit(.path(path, rights), false)
    }

    /// The program executed and its interpreters, used by the program that starts (its name
    /// is the executed file's: the thread's `comm` is still the caller's).
    func execCall(_ tid: pid_t, _ dirfd: Int32, _ pointer: UInt64, emptyPath: Bool) {
        let path: String?
        if emptyPath {
            path = Self.link("/proc/\(tid)/fd/\(dirfd)")
        } else {
            path = Self.resolve(tid, dirfd, pointer, followLast: true)
        }
        guard var current = path, Self.exists(current) else { return }
        let program = String(current.split(separator: "/").last ?? "?").prefix(15)
        let record = self.record
        let emit: Emit = { subject, created in record(Observation(subject, created: created, program: String(program))) }
        // The kernel also opens the #! interpreter and the ELF loader for execution.
        for _ in 0..<5 {
            emit(.path(current, [.execute, .readFile]), false)
            guard let next = Self.interpreter(of: current), let resolved = Self.realPath(next), resolved != current else { return }
            current = resolved
        }
    }

    func make(_ tid: pid_t, _ dirfd: Int32, _ pointer: UInt64, _ right: FileSystemAccess, _ emit: Emit) {
        guard let path = Self.resolve(tid, dirfd, pointer, followLast: false) else { return }
        if Self.lexists(path) { return }  // EEXIST: nothing is made
        emit(.path(Self.parent(path), right), false)
        emit(.path(path, []), true)
    }

    func remove(_ tid: pid_t, _ dirfd: Int32, _ pointer: UInt64, directory: Bool, _ emit: Emit) {
        guard let path = Self.resolve(tid, dirfd, pointer, followLast: false), Self.lexists(path) else { return }
        emit(.path(Self.parent(path), directory ? .removeDir : .removeFile), false)
    }

    func rename(_ tid: pid_t, _ oldfd: Int32, _ old: UInt64, _ newfd: Int32, _ new: UInt64, exchange: Bool, _ emit: Emit) {
        guard let source = Self.resolve(tid, oldfd, old, followLast: false),
            let target = Self.resolve(tid, newfd, new, followLast: false), let sourceType = Self.type(source)
        else { return }
        let targetType = Self.type(target)
        let (from, to) = (Self.parent(source), Self.parent(target))
        emit(.path(from, Self.removeRight(sourceType)), false)
        emit(.path(to, Self.makeRight(sourceType)), false)
        if let targetType {
            emit(.path(to, Self.removeRight(targetType)), false)
            if exchange { emit(.path(from, Self.makeRight(targetType)), false) }
        }
        if from != to {
            emit(.path(from, .refer), false)
            emit(.path(to, .refer), false)
        }
        emit(.path(target, []), true)
    }

    func link(_ tid: pid_t, _ oldfd: Int32, _ old: UInt64, _ newfd: Int32, _ new: UInt64, _ emit: Emit) {
        guard let source = Self.resolve(tid, oldfd, old, followLast: false),
            let target = Self.resolve(tid, newfd, new, followLast: false), let type = Self.type(source)
        else { return }
        emit(.path(Self.parent(target), Self.makeRight(type)), false)
        if Self.parent(source) != Self.parent(target) {
            emit(.path(Self.parent(source), .refer), false)
            emit(.path(Self.parent(target), .refer), false)
        }
        emit(.path(target, []), true)
    }

    func signal(to target: pid_t, _ emit: Emit) {
        // kill(0) and kill(-pgrp) reach a group: not judged (the group is usually the
        // program's own).
        guard target > 0, !isObserved(target), Self.exists("/proc/\(target)") else { return }
        emit(.crossed(.signal), false)
    }

    func sendMessage(_ tid: pid_t, _ fd: Int32, _ pointer: UInt64, _ emit: Emit) {
        guard let header = readRemote(tid, pointer, as: msghdr.self), header.msg_name != nil else { return }
        socketCall(
            tid, fd, UInt64(UInt(bitPattern: header.msg_name)), UInt64(header.msg_namelen), binding: false, emit)
    }

    func socketCall(_ tid: pid_t, _ fd: Int32, _ pointer: UInt64, _ length: UInt64, binding: Bool, _ emit: Emit) {
        guard case .success(let address) = copyAddress(tid, pointer, length), address.count >= 2 else { return }
        let family = Int32(UInt16(address[0]) | UInt16(address[1]) << 8)
        if family == AF_UNIX {
            let name = Array(address.dropFirst(2))
            guard let first = name.first else { return }
            if first == 0 {
                if binding {
                    abstractNames.insert(name)
                } else if !abstractNames.contains(name) {
                    emit(.crossed(.abstractUnixSocket), false)
                }
                return
            }
            let text = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
            guard let path = Self.resolve(tid, AT_FDCWD, text, followLast: !binding) else { return }
            if binding {
                if !Self.lexists(path) {
                    emit(.path(Self.parent(path), .makeSock), false)
                    emit(.path(path, []), true)
                }
            } else if Self.exists(path) {
                emit(.path(path, .resolveUnix), false)
            }
            return
        }
        guard family == AF_INET || family == AF_INET6, address.count >= 4 else { return }
        let port = Int(address[2]) << 8 | Int(address[3])
        guard let kind = Self.socketKind(tid, fd) else { return }
        if kind.udpFamily != nil {
            if binding {
                emit(.port(port, .bindUDP), false)
            } else {
                emit(.port(port, .connectSendUDP), false)
                if !kind.bound { emit(.port(0, .bindUDP), false) }  // the automatic bind
            }
        } else if kind.isTCP {
            emit(.port(port, binding ? .bindTCP : .connectTCP), false)
        }
    }

    /// Whether `pid` is one of the observed processes: a descendant of this one.
    func isObserved(_ pid: pid_t) -> Bool {
        var current = pid
        for _ in 0..<128 {
            guard current > 1, current != ownPid, let parent = Self.parentProcess(current) else { return false }
            if parent == ownPid { return true }
            current = parent
        }
        return false
    }

    // MARK: Reading the program's state

    static func comm(_ tid: pid_t) -> String {
        guard let bytes = readProcFile("/proc/\(tid)/comm", limit: 64) else { return "?" }
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

    /// A field of `/proc/<pid>/status`.
    static func statusField(_ pid: pid_t, _ field: String) -> pid_t? {
        guard let text = readProcFile("/proc/\(pid)/status", limit: 16384) else { return nil }
        let prefix = Array((field + ":").utf8)
        for line in text.split(separator: 0x0A) where line.starts(with: prefix) {
            return pid_t(decimal: line.dropFirst(prefix.count).filter { $0 != 0x20 && $0 != 0x09 })
        }
        return nil
    }

    static func threadGroup(_ tid: pid_t) -> pid_t? { statusField(tid, "Tgid") }
    static func parentProcess(_ pid: pid_t) -> pid_t? { statusField(pid, "PPid") }

    /// The process a pidfd of thread `tid` refers to (`Pid:` of its fdinfo).
    static func pidfdTarget(_ tid: pid_t, _ fd: Int32) -> pid_t? {
        guard let text = readProcFile("/proc/\(tid)/fdinfo/\(fd)", limit: 4096) else { return nil }
        for line in text.split(separator: 0x0A) where line.starts(with: Array("Pid:".utf8)) {
            return pid_t(decimal: line.dropFirst(4).filter { $0 != 0x20 && $0 != 0x09 })
        }
        return nil
    }

    /// The type of the program's socket `fd` and whether it is bound, through a duplicate.
    static func socketKind(_ tid: pid_t, _ fd: Int32) -> (udpFamily: UDPSocketFamily?, isTCP: Bool, bound: Bool)? {
        let process = threadGroup(tid) ?? tid
        let pidfd = clandlock_pidfd_open(process, 0)
        guard pidfd >= 0 else { return nil }
        defer { close(pidfd) }
        let duplicate = clandlock_pidfd_getfd(pidfd, fd, 0)
        guard duplicate >= 0 else { return nil }
        defer { close(duplicate) }
        guard let kind = SocketKind(duplicate) else { return nil }
        let tcp = kind.isStream && kind.proto == Int32(IPPROTO_TCP) && (kind.domain == AF_INET || kind.domain == AF_INET6)
        return (kind.udpFamily, tcp, SocketKind.localState(of: duplicate).isBound)
    }

    /// The interpreter the kernel opens to run `path`: its `#!` line's, or its ELF loader
    /// (`PT_INTERP`).
    static func interpreter(of path: String) -> String? {
        // Non-blocking: a FIFO must not hold the observer up (execve refuses it anyway).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
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
        let tableOffset = Int(word(header, 32, UInt64.self))
        let entrySize = Int(word(header, 54, UInt16.self))
        let count = min(Int(word(header, 56, UInt16.self)), 64)
        guard entrySize >= 56 else { return nil }
        for index in 0..<count {
            guard let entry = bytes(tableOffset + index * entrySize, 56), word(entry, 0, UInt32.self) == 3 else { continue }
            let offset = Int(word(entry, 8, UInt64.self))
            let size = min(Int(word(entry, 32, UInt64.self)), 4096)
            guard let name = bytes(offset, size) else { return nil }
            return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        }
        return nil
    }
}
