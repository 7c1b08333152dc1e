// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import Landlock
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The result of an emulated call: the syscall's return value or an errno.
enum Outcome: Equatable {
    case value(Int64)
    case error(Int32)
}

/// The kernel's "restart the call if the handler allows it, else EINTR" code. Returned when a
/// signal is pending for a thread whose blocking call the supervisor is performing.
let errnoRestartSys: Int32 = 512

/// One notification, copied out of the kernel's struct.
struct Notification: Sendable {
    var id: UInt64
    var tid: pid_t
    var nr: Int32
    var args: [UInt64]
}

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

/// A message copied once out of the program's memory.
struct CopiedMessage {
    /// `nil` when the call has no address (the kernel's `msg_name == NULL`).
    var address: [UInt8]?
    var data: [UInt8]
    var control: [UInt8]
    /// Where to write `msg_len` back (sendmmsg), or 0.
    var lengthAddress: UInt64 = 0
}

/// The supervisor of one sandboxed process tree: receives its notifications and performs the
/// calls it allows.
final class Supervisor: @unchecked Sendable {
    let listener: Int32
    let policy: UDPPolicy
    let denials: DenialSink?
    /// Runs work in the program's Landlock domain (see `DomainThread`).
    let domain: DomainThread
    /// Serializes UDP decisions and the calls that follow, so that a bound/unbound state read
    /// for the autobind check still holds when the call runs.
    let udpLock = Mutex(())
    let numbers: (connect: Int32, bind: Int32, sendto: Int32, sendmsg: Int32, sendmmsg: Int32)
    let supportsThreadPidfd: Bool
    /// The process the supervisor runs in: where the sandbox's parent chains end.
    let supervisorProcess = getpid()
    /// Nested sandboxes registered with this supervisor (monitor thread only).
    var nested = NestedLayerRegistry()
    /// The sandbox's own context: its policy, its domain thread, its denial log for each
    /// layer. Built once: the fast path uses it for every call.
    let rootContext: CallContext

    init(listener: Int32, policy: UDPPolicy, denials: DenialSink?, domain: DomainThread) {
        self.listener = listener
        self.policy = policy
        self.denials = denials
        self.domain = domain
        rootContext = CallContext(
            policy: policy, domain: domain, denials: Array(repeating: denials, count: policy.layers.count))
        func nr(_ name: String) -> Int32 { Int32(clandlock_syscall_number(name)) }
        numbers = (nr("connect"), nr("bind"), nr("sendto"), nr("sendmsg"), nr("sendmmsg"))
        let probe = clandlock_pidfd_open(getpid(), UInt32(O_EXCL))  // PIDFD_THREAD (6.9)
        supportsThreadPidfd = probe >= 0
        if probe >= 0 { close(probe) }
    }

    // MARK: The notification loop

    /// Receives notifications until every task under the filter is gone (POLLHUP).
    func run() {
        _ = clandlock_block_all_signals()
        while true {
            // RECV blocks in the kernel (where SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP applies); poll
            // only after a failure, to tell "interrupted" from "every task is gone" (POLLHUP).
            var raw = clandlock_seccomp_notif()
            if clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_recv, &raw) != 0 {
                let error = lastErrno
                var pollfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                if poll(&pollfd, 1, 0) >= 0, pollfd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0,
                    pollfd.revents & Int16(POLLIN) == 0
                {
                    break
                }
                if error == EINTR || error == ENOENT { continue }
                break
            }
            if raw.data.nr == numbers.sendto && handleSendtoFast(raw) { continue }
            let args = withUnsafeBytes(of: raw.data.args) { Array($0.bindMemory(to: UInt64.self)) }
            handle(Notification(id: raw.id, tid: pid_t(raw.pid), nr: raw.data.nr, args: args))
        }
        close(listener)
        for fd in threadPidfds.values { close(fd) }
        threadPidfds.removeAll()
        domain.stop()
    }

    // MARK: The fast path: sendto with an address on a UDP socket

    /// Buffers of the monitor thread, reused by every call of the fast path.
    private let payloadBuffer = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 16)
    private let addressBuffer = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 16)

    /// `PIDFD_THREAD` pidfds by thread id; monitor thread only. A cached pidfd names one task
    /// (its `struct pid`): once that task is gone, `pidfd_getfd` on it fails with `ESRCH` and the
    /// entry is replaced. While it succeeds, the task it names is alive and has the thread id,
    /// so it is the notifying task, which the `ID_VALID` check after the copy proves alive.
    private var threadPidfds: [pid_t: Int32] = [:]

    private func threadPidfd(_ tid: pid_t, fresh: Bool) -> Int32 {
        if !fresh, let fd = threadPidfds[tid] { return fd }
        if let old = threadPidfds.removeValue(forKey: tid) { close(old) }
        if threadPidfds.count >= 4096 {  // Threads that exited: start over.
            for fd in threadPidfds.values { close(fd) }
            threadPidfds.removeAll(keepingCapacity: true)
        }
        let fd = clandlock_pidfd_open(tid, UInt32(O_EXCL))  // PIDFD_THREAD
        if fd >= 0 { threadPidfds[tid] = fd }
        return fd
    }

    /// The program's socket, duplicated through the cached thread pidfd, or -1 with errno set.
    private func duplicateSocket(_ tid: pid_t, _ fd: Int32) -> Int32 {
        for fresh in [false, true] {
            let pidfd = threadPidfd(tid, fresh: fresh)
            guard pidfd >= 0 else { return -1 }
            let duplicate = clandlock_pidfd_getfd(pidfd, fd, 0)
            if duplicate >= 0 || errno != ESRCH { return duplicate }
        }
        return -1
    }

    /// `sendto(fd, buf, len, flags, addr, addrlen)` with a non-NULL `addr` on a UDP socket, with
    /// no allocation beyond the address bytes and about ten system calls: `pidfd_getfd`,
    /// `getsockopt(SO_PROTOCOL)` and `getsockopt(SO_TYPE)`, one `process_vm_readv` of address and data, `ID_VALID`,
    /// `getsockname` (family and bound state, under the UDP lock), `sendto` on the duplicate,
    /// `close`, and the reply. Returns `false`, having replied nothing, for anything else
    /// (another socket, large or zero-copy sends, failures to classify): the general path then
    /// handles the notification from scratch.
    private func handleSendtoFast(_ raw: clandlock_seccomp_notif) -> Bool {
        guard supportsThreadPidfd else { return false }
        let tid = pid_t(raw.pid)
        let (a0, a1, a2, a3, a4, a5) = raw.data.args
        let fd = Int32(truncatingIfNeeded: a0)
        let addressLength = Int32(truncatingIfNeeded: a5)
        let flags = Int32(truncatingIfNeeded: a3)
        guard a0 >> 31 == 0, addressLength >= 0, addressLength <= 128, a2 <= 65535, flags & msgZeroCopy == 0,
            a4 != 0
        else { return false }
        let length = Int(a2)
        let duplicate = duplicateSocket(tid, fd)
        guard duplicate >= 0 else { return false }
        var handedOver = false
        defer { if !handedOver { close(duplicate) } }
        var proto: Int32 = 0
        var optionLength = socklen_t(4)
        guard getsockopt(duplicate, SOL_SOCKET, SO_PROTOCOL, &proto, &optionLength) == 0, proto == Int32(IPPROTO_UDP)
        else { return false }
        // sk_is_udp() also needs SOCK_DGRAM: a raw socket may carry IPPROTO_UDP too, and
        // Landlock does not restrict raw sockets.
        var type: Int32 = 0
        guard getsockopt(duplicate, SOL_SOCKET, SO_TYPE, &type, &optionLength) == 0, type == Int32(SOCK_DGRAM.rawValue)
        else { return false }
        // Address and data in one copy. A fault in the data is EFAULT only once the address
        // passed Landlock's check, as in the kernel (security_socket_sendmsg runs first).
        let copied = max(0, clandlock_read_memory2(
            tid, a4, addressBuffer, Int(addressLength), a1, payloadBuffer, length))
        guard copied >= Int(addressLength) else {
            guard isValid(raw.id) else { return true }
            reply(raw.id, .error(EFAULT))
            return true
        }
        let dataFault = copied < Int(addressLength) + length
        guard isValid(raw.id) else { return true }
        let address = [UInt8](UnsafeRawBufferPointer(start: addressBuffer, count: Int(addressLength)))
        guard let context = context(of: tid, notification: raw.id) else {
            guard isValid(raw.id) else { return true }
            reply(raw.id, .error(EACCES))
            return true
        }
        let policy = context.policy
        var socketFamily = UDPSocketFamily.inet
        let outcome = udpLock.withLock { _ -> Outcome? in
            var local = sockaddr_in6()
            var localLength = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let named = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(duplicate, $0, &localLength) }
            }
            guard named == 0 else { return nil }
            let family: UDPSocketFamily
            switch Int32(local.sin6_family) {
            case AF_INET: family = .inet
            case AF_INET6: family = .inet6
            default: return nil
            }
            socketFamily = family
            let decision = UDPDecision.check(
                .send(hasAddress: true), family: family, address: address, isBound: local.sin6_port != 0, policy: policy)
            if let error = decision.errno {
                report(decision, operation: .send(hasAddress: true), context)
                return .error(error)
            }
            if dataFault { return .error(EFAULT) }
            let sent = sendto(
                duplicate, payloadBuffer, length, flags | msgDontWait | msgNoSignal, addressBuffer.assumingMemoryBound(to: sockaddr.self),
                socklen_t(addressLength))
            if sent >= 0 { return .value(Int64(sent)) }
            return .error(lastErrno == EWOULDBLOCK ? EAGAIN : lastErrno)
        }
        guard let outcome else { return false }
        if outcome == .error(EAGAIN), flags & msgDontWait == 0, clandlock_fcntl_getfl(duplicate) & O_NONBLOCK == 0 {
            // A blocking socket that would block: finish on a thread of its own, as the general path.
            let pidfd = clandlock_pidfd_open(tid, UInt32(O_EXCL))
            guard pidfd >= 0 else { reply(raw.id, .error(ESRCH)); return true }
            let args = withUnsafeBytes(of: raw.data.args) { Array($0.bindMemory(to: UInt64.self)) }
            let call = Call(
                Notification(id: raw.id, tid: tid, nr: raw.data.nr, args: args), socket: duplicate, pidfd: pidfd,
                context: context)
            handedOver = true
            call.openStatus()
            let message = CopiedMessage(
                address: address, data: [UInt8](UnsafeRawBufferPointer(start: payloadBuffer, count: length)), control: [])
            let kind = SocketKind(
                domain: socketFamily == .inet ? AF_INET : AF_INET6, type: Int32(SOCK_DGRAM.rawValue), proto: proto)
            startThread { [self] in
                _ = clandlock_block_all_signals()
                transmit([message], from: 0, sent: 0, single: true, call, kind, flags: flags, blocking: true, mayBlock: true)
            }
            return true
        }
        if case .error(EPIPE) = outcome, flags & msgNoSignal == 0, let pidfd = threadPidfds[tid] {
            _ = clandlock_pidfd_send_signal(pidfd, SIGPIPE)  // The kernel signals the sending thread.
        }
        close(duplicate)
        handedOver = true
        reply(raw.id, outcome)
        return true
    }

    func isValid(_ id: UInt64) -> Bool {
        var copy = id
        return clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_id_valid, &copy) == 0
    }

    /// Answers a notification. The kernel-internal restart codes (512...530: ERESTARTSYS,
    /// ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK, ...) are turned into EINTR unless
    /// `restartVerified`: the syscall exit path turns them into a restart or EINTR only when
    /// the thread has TIF_SIGPENDING set; otherwise the program would see errno 512.
    func reply(_ id: UInt64, _ outcome: Outcome, restartVerified: Bool = false) {
        var response = clandlock_seccomp_notif_resp(id: id, val: 0, error: 0, flags: 0)
        switch outcome {
        case .value(let value): response.val = value
        case .error(let error):
            response.error = -((512...530).contains(error) && !(restartVerified && error == errnoRestartSys) ? EINTR : error)
        }
        // ENOENT: the task was interrupted (killed) meanwhile; nothing to do.
        _ = clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_send, &response)
    }

    // MARK: Dispatch

    func handle(_ n: Notification) {
        if isNestCall(n) { return handleNestCall(n) }
        guard let context = context(of: n.tid, notification: n.id) else { return reply(n.id, .error(EACCES)) }
        // A pidfd for the task's process: PIDFD_THREAD where available, else through the Tgid.
        var pidfd = supportsThreadPidfd ? clandlock_pidfd_open(n.tid, UInt32(O_EXCL)) : -1
        if pidfd < 0, let tgid = threadGroup(of: n.tid) { pidfd = clandlock_pidfd_open(tgid, 0) }
        guard pidfd >= 0 else { return reply(n.id, .error(ESRCH)) }
        guard isValid(n.id) else { close(pidfd); return }  // the tid may have been reused: the task is gone
        let duplicate = clandlock_pidfd_getfd(pidfd, Int32(truncatingIfNeeded: n.args[0]), 0)
        guard duplicate >= 0 else {
            let error = lastErrno
            close(pidfd)
            return reply(n.id, .error(error == EBADF ? EBADF : error == ESRCH ? ESRCH : EPERM))
        }
        let call = Call(n, socket: duplicate, pidfd: pidfd, context: context)
        guard let kind = SocketKind(call.socket) else { return reply(n.id, .error(ENOTSOCK)) }

        switch n.nr {
        case numbers.connect, numbers.bind:
            guard let address = copyAddress(n.tid, n.args[1], n.args[2]) else {
                return reply(n.id, .error(Int32(truncatingIfNeeded: n.args[2]) < 0 || n.args[2] & 0xffff_ffff > 128 ? EINVAL : EFAULT))
            }
            guard isValid(n.id) else { return }
            let isConnect = n.nr == numbers.connect
            if let family = kind.udpFamily {
                let outcome = udpLock.withLock { _ -> Outcome in
                    let decision = UDPDecision.check(
                        isConnect ? .connect : .bind, family: family, address: address, isBound: isBound(call.socket),
                        policy: context.policy)
                    if let error = decision.errno {
                        report(decision, operation: isConnect ? .connect : .bind, context)
                        return .error(error)
                    }
                    return perform(isConnect ? .connect : .bind, call.socket, address)
                }
                return reply(n.id, outcome)
            }
            let directory = workingDirectory(of: n.tid, for: address, kind: kind)
            context.domain.run { [self] in
                enter(directory)
                reply(n.id, perform(isConnect ? .connect : .bind, call.socket, address))
            }
        case numbers.sendto:
            let length = Int32(truncatingIfNeeded: n.args[5])
            guard length >= 0, length <= 128 else { return reply(n.id, .error(EINVAL)) }
            guard let address = readRemote(n.tid, n.args[4], Int(length)) else { return reply(n.id, .error(EFAULT)) }
            let cap = kind.udpFamily != nil ? 65536 : 4 << 20
            let size = Int(min(n.args[2], UInt64(cap)))
            guard let data = readRemote(n.tid, n.args[1], size) else { return reply(n.id, .error(EFAULT)) }
            guard isValid(n.id) else { return }
            let message = CopiedMessage(address: address, data: data, control: [])
            send([message], single: true, call, kind, flags: Int32(truncatingIfNeeded: n.args[3]))
        case numbers.sendmsg:
            let result = copyMessage(n.tid, n.args[1], kind)
            guard case .success(let message) = result else {
                if case .failure(let error) = result { reply(n.id, .error(error.value)) }
                return
            }
            guard isValid(n.id) else { return }
            send([message], single: true, call, kind, flags: Int32(truncatingIfNeeded: n.args[2]))
        case numbers.sendmmsg:
            let count = min(Int(n.args[2] & 0xffff_ffff), 1024)  // UIO_MAXIOV, as the kernel caps it
            var messages: [CopiedMessage] = []
            for index in 0..<count {
                let entry = n.args[1] &+ UInt64(index * 64)
                switch copyMessage(n.tid, entry, kind) {
                case .success(var message):
                    message.lengthAddress = entry + 56
                    messages.append(message)
                case .failure(let error):
                    // The kernel stops at the first bad entry; it reports it only if nothing was sent.
                    if messages.isEmpty { return reply(n.id, .error(error.value)) }
                    break
                }
                if messages.count != index + 1 { break }
            }
            guard isValid(n.id) else { return }
            if messages.isEmpty { return reply(n.id, .value(0)) }
            send(messages, single: false, call, kind, flags: Int32(truncatingIfNeeded: n.args[3]))
        default:
            reply(n.id, .error(ENOSYS))
        }
    }

    // MARK: Copying arguments (once)

    /// The address of connect/bind/sendto: `nil` for EINVAL (length < 0 or > 128) or EFAULT.
    func copyAddress(_ tid: pid_t, _ pointer: UInt64, _ rawLength: UInt64) -> [UInt8]? {
        let length = Int32(truncatingIfNeeded: rawLength)
        guard length >= 0, length <= 128 else { return nil }
        return readRemote(tid, pointer, Int(length))
    }

    /// A `struct msghdr` and everything it points to.
    func copyMessage(_ tid: pid_t, _ pointer: UInt64, _ kind: SocketKind) -> Result<CopiedMessage, Errno32> {
        guard let header = readRemote(tid, pointer, 56) else { return .failure(Errno32(EFAULT)) }
        let namePointer = header.load(UInt64.self, at: 0)
        let nameLength = header.load(Int32.self, at: 8)
        let iovPointer = header.load(UInt64.self, at: 16)
        let iovCount = header.load(UInt64.self, at: 24)
        let controlPointer = header.load(UInt64.self, at: 32)
        let controlLength = header.load(UInt64.self, at: 40)
        guard nameLength >= 0 else { return .failure(Errno32(EINVAL)) }
        var address: [UInt8]? = nil
        if namePointer != 0 && nameLength != 0 {
            // The kernel silently caps msg_namelen at sizeof(struct sockaddr_storage).
            guard let bytes = readRemote(tid, namePointer, Int(min(nameLength, 128))) else {
                return .failure(Errno32(EFAULT))
            }
            address = bytes
        }
        guard iovCount <= 1024 else { return .failure(Errno32(EMSGSIZE)) }
        let cap = kind.udpFamily != nil ? 65536 : 4 << 20
        var data: [UInt8] = []
        if iovCount > 0 {
            guard let vector = readRemote(tid, iovPointer, Int(iovCount) * 16) else { return .failure(Errno32(EFAULT)) }
            for index in 0..<Int(iovCount) {
                let base = vector.load(UInt64.self, at: index * 16)
                let length = vector.load(UInt64.self, at: index * 16 + 8)
                guard Int64(bitPattern: length) >= 0 else { return .failure(Errno32(EINVAL)) }
                let take = min(Int(length), cap + 1 - data.count)
                guard take > 0 else { break }
                guard let bytes = readRemote(tid, base, take) else { return .failure(Errno32(EFAULT)) }
                data += bytes
            }
        }
        if data.count > cap && !kind.isStream {
            data.removeLast(data.count - cap)  // Marked oversized below.
            if kind.udpFamily == nil { return .failure(Errno32(EMSGSIZE)) }
            data.append(0)  // > 65535 bytes: udp_sendmsg answers EMSGSIZE after the Landlock check.
        } else if data.count > cap {
            data.removeLast(data.count - cap)  // A stream may take fewer bytes: a short write.
        }
        var control: [UInt8] = []
        if controlPointer != 0 && controlLength > 0 {
            guard controlLength <= 65536 else { return .failure(Errno32(ENOBUFS)) }
            guard let bytes = readRemote(tid, controlPointer, Int(controlLength)) else { return .failure(Errno32(EFAULT)) }
            control = bytes
        }
        return .success(CopiedMessage(address: address, data: data, control: control))
    }

    // MARK: Performing calls on the duplicate

    enum AddressCall { case connect, bind }

    func perform(_ call: AddressCall, _ socket: Int32, _ address: [UInt8]) -> Outcome {
        let result = address.withUnsafeBytes { bytes -> Int32 in
            let pointer = bytes.baseAddress?.assumingMemoryBound(to: sockaddr.self)
            return call == .connect
                ? connect(socket, pointer, socklen_t(address.count)) : bind(socket, pointer, socklen_t(address.count))
        }
        return result == 0 ? .value(0) : .error(lastErrno)
    }

    func isBound(_ socket: Int32) -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) == 0 }
        }
        guard ok else { return true }  // Cannot tell: the kernel would see the socket as it is.
        return withUnsafeBytes(of: storage) { $0[2] != 0 || $0[3] != 0 }
    }

    /// For a relative pathname AF_UNIX address: the program thread's working directory, opened
    /// (`O_PATH`) on the unrestricted monitor thread, whose Landlock domain cannot refuse
    /// `/proc`; -1 otherwise.
    func workingDirectory(of tid: pid_t, for address: [UInt8]?, kind: SocketKind) -> Int32 {
        guard kind.domain == AF_UNIX, let address, address.count > 2, address[2] != 0, address[2] != UInt8(ascii: "/")
        else { return -1 }
        return open("/proc/\(tid)/cwd", oPath | O_DIRECTORY | O_CLOEXEC)
    }

    /// Moves the (unshared) working directory of the calling executor thread to `directory`
    /// and closes it. The monitor opens `/proc/<tid>/cwd` unrestricted, after the notification
    /// was checked valid, so it fails only if the thread is gone, when the reply is dropped.
    func enter(_ directory: Int32) {
        guard directory >= 0 else { return }
        defer { close(directory) }
        guard clandlock_unshare_fs() == 0 else { return }
        _ = fchdir(directory)
    }

    /// Sends the messages in order, as sendto/sendmsg (`single`) or sendmmsg, then replies.
    /// Tries without blocking on the monitor; if a blocking socket would block, the rest runs
    /// on its own thread.
    func send(_ messages: [CopiedMessage], single: Bool, _ call: Call, _ kind: SocketKind, flags: Int32) {
        let n = call.notification
        let socket = call.socket
        let udp = kind.udpFamily
        let blocking = flags & msgDontWait == 0 && clandlock_fcntl_getfl(socket) & O_NONBLOCK == 0
        if blocking {
            call.openStatus()
            guard isValid(n.id) else { return }  // The thread id was the caller's when opened.
        }
        if flags & 0x400_0000 != 0 {  // MSG_ZEROCOPY: completions would concern the supervisor's copy.
            var enabled: Int32 = 0
            var length = socklen_t(4)
            if getsockopt(socket, SOL_SOCKET, 60 /* SO_ZEROCOPY */, &enabled, &length) == 0, enabled != 0 {
                return reply(n.id, .error(EOPNOTSUPP))
            }
        }
        // Calls with an address on other sockets are checked by the kernel against the
        // program's domain: they run on an executor thread in that domain.
        let needsDomain = udp == nil && messages.contains { $0.address != nil }
        let directory = needsDomain ? workingDirectory(of: n.tid, for: messages.first?.address, kind: kind) : -1
        let job: @Sendable (Bool) -> Void = { [self] mayBlock in
            if needsDomain { enter(directory) }
            transmit(messages, from: 0, sent: 0, single: single, call, kind, flags: flags, blocking: blocking, mayBlock: mayBlock)
        }
        if needsDomain {
            call.context.domain.run { job(true) }
        } else {
            job(false)
        }
    }

    private func transmit(
        _ messages: [CopiedMessage], from start: Int, sent: Int, single: Bool, _ call: Call,
        _ kind: SocketKind, flags: Int32, blocking: Bool, mayBlock: Bool
    ) {
        let n = call.notification
        let socket = call.socket
        var sentCount = sent
        var lastValue: Int64 = 0
        for index in start..<messages.count {
            let message = messages[index]
            var deadline: Int64? = nil
            var outcome: Outcome
            var restartVerified = false
            var processSignalSlices = 0
            while true {
                outcome = sendOne(message, call, kind, flags: flags | msgDontWait)
                guard outcome == .error(EAGAIN), blocking else { break }
                guard mayBlock else {
                    // Finish off the notification loop; the monitor goes on with others.
                    let copy = messages
                    let sentSoFar = sentCount
                    startThread { [self] in
                        _ = clandlock_block_all_signals()
                        transmit(copy, from: index, sent: sentSoFar, single: single, call, kind, flags: flags,
                                 blocking: blocking, mayBlock: true)
                    }
                    return
                }
                if deadline == nil { deadline = sendTimeout(socket).map { monotonicMilliseconds() + $0 } }
                var pollfd = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pollfd, 1, 20)
                guard isValid(n.id) else { return }
                switch pendingSignal(call.statusFD) {
                case .thread:
                    // Directed at this thread, unblocked: TIF_SIGPENDING is set and stays set
                    // until the thread returns to user mode, so ERESTARTSYS becomes a restart
                    // (SA_RESTART, or the signal went away) or EINTR, as in the kernel.
                    restartVerified = true
                    outcome = .error(errnoRestartSys)
                case .process:
                    // Process-directed: another thread may take it. After a grace of about
                    // 60 ms still pending: EINTR (ERESTARTSYS could leak as errno 512 if this
                    // thread was not the one woken).
                    processSignalSlices += 1
                    if processSignalSlices >= 3 { outcome = .error(EINTR) }
                case .none:
                    processSignalSlices = 0
                }
                if outcome == .error(errnoRestartSys) || outcome == .error(EINTR) { break }
                if let deadline, monotonicMilliseconds() >= deadline { outcome = .error(EAGAIN); break }
            }
            switch outcome {
            case .value(let value):
                lastValue = value
                sentCount += 1
                if !single, message.lengthAddress != 0 {
                    withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) {
                        _ = writeRemote(n.tid, message.lengthAddress, Array($0))
                    }
                }
            case .error(let error):
                if single || sentCount == 0 { return reply(n.id, .error(error), restartVerified: restartVerified) }
                return reply(n.id, .value(Int64(sentCount)))
            }
        }
        reply(n.id, .value(single ? lastValue : Int64(sentCount)))
    }

    /// One message: the UDP decision (under the lock, with the socket's current bound state),
    /// then the send on the duplicate.
    private func sendOne(_ message: CopiedMessage, _ call: Call, _ kind: SocketKind, flags: Int32) -> Outcome {
        let socket = call.socket
        if let family = kind.udpFamily {
            return udpLock.withLock { _ -> Outcome in
                let decision = UDPDecision.check(
                    .send(hasAddress: message.address != nil), family: family, address: message.address ?? [],
                    isBound: isBound(socket), policy: call.context.policy)
                if let error = decision.errno {
                    report(decision, operation: .send(hasAddress: message.address != nil), call.context)
                    return .error(error)
                }
                if message.data.count > 65535 { return .error(EMSGSIZE) }
                return rawSend(message, call, flags: flags, translateRights: false)
            }
        }
        return rawSend(message, call, flags: flags, translateRights: true)
    }

    private func rawSend(_ message: CopiedMessage, _ call: Call, flags: Int32, translateRights: Bool) -> Outcome {
        let socket = call.socket
        let currentPidfd: Int32? = call.pidfd
        var control = message.control
        var received: [Int32] = []
        defer { for fd in received { close(fd) } }
        if translateRights && !control.isEmpty {
            // SCM_RIGHTS carry the program's fd numbers: replace them with duplicates.
            var offset = 0
            while offset + 16 <= control.count {
                let length = Int(control.load(UInt64.self, at: offset))
                let level = control.load(Int32.self, at: offset + 8)
                let type = control.load(Int32.self, at: offset + 12)
                guard length >= 16, offset + length <= control.count else { break }
                if level == SOL_SOCKET && type == 1 /* SCM_RIGHTS */ {
                    var position = offset + 16
                    while position + 4 <= offset + length {
                        let remote = control.load(Int32.self, at: position)
                        let local = currentPidfd.map { clandlock_pidfd_getfd($0, remote, 0) } ?? -1
                        guard local >= 0 else { return .error(EBADF) }
                        received.append(local)
                        withUnsafeBytes(of: local.littleEndian) { bytes in
                            for i in 0..<4 { control[position + i] = bytes[i] }
                        }
                        position += 4
                    }
                }
                offset += (length + 7) & ~7
            }
        }
        var data = message.data
        var address = message.address ?? []
        let result: Int = data.withUnsafeMutableBytes { dataBytes in
            address.withUnsafeMutableBytes { addressBytes in
                control.withUnsafeMutableBytes { controlBytes in
                    var vector = iovec(iov_base: dataBytes.baseAddress, iov_len: dataBytes.count)
                    return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                        var header = msghdr()
                        if message.address != nil {
                            header.msg_name = addressBytes.baseAddress
                            header.msg_namelen = socklen_t(addressBytes.count)
                        }
                        header.msg_iov = vectorPointer
                        header.msg_iovlen = 1
                        if !controlBytes.isEmpty {
                            header.msg_control = controlBytes.baseAddress
                            header.msg_controllen = controlBytes.count
                        }
                        return sendmsg(socket, &header, flags | msgNoSignal)
                    }
                }
            }
        }
        if result < 0 {
            let error = lastErrno
            if error == EPIPE && flags & msgNoSignal == 0, let pidfd = currentPidfd {
                _ = clandlock_pidfd_send_signal(pidfd, SIGPIPE)  // The kernel signals the sender.
            }
            return .error(error == EWOULDBLOCK ? EAGAIN : error)
        }
        return .value(Int64(result))
    }

    /// Logs a denial where the layer that denied it asked for it (`--log-denials` of the
    /// sandbox or of a nested one).
    private func report(_ decision: UDPDecision, operation: UDPOperation, _ context: CallContext) {
        guard let layer = decision.layer, context.denials.indices.contains(layer) else { return }
        context.denials[layer]?.record(UDPDenial(decision: decision, operation: operation))
    }

    private func sendTimeout(_ socket: Int32) -> Int64? {
        var value = timeval()
        var length = socklen_t(MemoryLayout<timeval>.size)
        guard getsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &value, &length) == 0 else { return nil }
        let milliseconds = Int64(value.tv_sec) * 1000 + Int64(value.tv_usec) / 1000
        return milliseconds == 0 ? nil : milliseconds
    }
}

/// One notified call being handled: owns the duplicate of the program's socket and the pidfd
/// of its process, closed when the last job working on the call is done.
final class Call: @unchecked Sendable {
    let notification: Notification
    let socket: Int32
    let pidfd: Int32
    /// The UDP layers and the executor domain for the calling thread.
    let context: CallContext
    /// `/proc/<tid>/status` of the calling thread, opened on the (unrestricted) monitor thread
    /// before a blocking send leaves it, so that an executor thread whose Landlock domain
    /// cannot open `/proc` still watches the thread's signals; -1 if not opened. The open
    /// file names the task: if it exits, reads fail instead of describing a reused thread id.
    private(set) var statusFD: Int32 = -1

    /// Opens `statusFD` (monitor thread only, before the call is handed to another thread).
    func openStatus() {
        guard statusFD < 0 else { return }
        statusFD = open("/proc/\(notification.tid)/status", O_RDONLY | O_CLOEXEC)
    }

    init(_ notification: Notification, socket: Int32, pidfd: Int32, context: CallContext) {
        self.notification = notification
        self.socket = socket
        self.pidfd = pidfd
        self.context = context
    }

    deinit {
        close(socket)
        close(pidfd)
        if statusFD >= 0 { close(statusFD) }
    }
}

struct Errno32: Error { var value: Int32; init(_ value: Int32) { self.value = value } }

extension Supervisor {
    func reply(_ id: UInt64, _ error: Errno32) { reply(id, .error(error.value)) }
}

let msgDontWait: Int32 = 0x40
let msgNoSignal: Int32 = 0x4000
let msgZeroCopy: Int32 = 0x400_0000
let oPath: Int32 = 0o10000000

func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
