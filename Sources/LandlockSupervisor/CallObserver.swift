// SPDX-License-Identifier: Apache-2.0
//
// The observed calls, turned into what a Landlock policy must allow (Observer.swift): for
// `landlock-exec learn` and for the denial log. Reads only; the caller lets each call run.
internal import CLandlock
import Landlock
import SandboxSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Turns observed calls into ``Observation``s: for ``Observer`` (learning) and for the
/// supervisor's denial log (`--log-denials`). It only reads the program's memory and `/proc`;
/// the caller lets the call run. Used from one thread at a time.
final class CallObserver: @unchecked Sendable {
    let record: @Sendable (Observation) -> Void
    let ownPid = getpid()
    /// Abstract UNIX socket names bound by observed processes.
    var abstractNames: Set<[UInt8]> = []
    static let abstractNameLimit = 4096

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
                    // Bounded: the program may bind without end (past the bound, the names
                    // seen before are forgotten: a later connect to one counts as crossing).
                    if abstractNames.count >= Self.abstractNameLimit { abstractNames.removeAll() }
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
}
