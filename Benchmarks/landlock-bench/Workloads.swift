// SPDX-License-Identifier: Apache-2.0
import LandlockSupervisor
import SandboxSupport

#if canImport(Glibc)
    import Glibc
#endif

/// What a workload needs from the driver: how long to run and the loopback ports and
/// directory its policy allows.
struct WorkloadOptions {
    var seconds = 0.3
    var udpPort: UInt16 = 0
    var tcpPort: UInt16 = 0
    var directory = "/tmp"
    var resultFD: Int32 = 1
    /// Install a one-instruction allow-all seccomp filter first (the floor of any filter).
    var allowAllFilter = false
    /// Trap every sendto to a thread of the workload that answers CONTINUE, with no checks
    /// (unsafe as a policy; the floor of any trap).
    var trapFloor = false
}

/// The floor of any supervisor: a filter that notifies every `sendto` on this thread, and a
/// thread that answers each notification with `SECCOMP_USER_NOTIF_FLAG_CONTINUE`, with
/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`. No checks: only a calibration.
func installTrapFloor() {
    // The supervisor's own filter, every notified call let through (CONTINUE) by a thread that
    // checks nothing: what any supervisor with this filter pays before its first check. Only
    // this thread is filtered (no TSYNC); the answering thread, started after, inherits the
    // filter but makes no notified call.
    let listener = SeccompTools.installSupervisorFilter()
    guard listener >= 0 else { fail("seccomp(SET_MODE_FILTER, NEW_LISTENER)", errno: errno) }
    guard SeccompTools.continueEverything(listener) else { fail("pthread_create", errno: errno) }
}

/// A timed loop: the body performs `opsPerBatch` operations and is timed; `between` (not
/// timed) drains receivers. Stops after `seconds` of wall time (at least 8 batches), after two
/// untimed warm-up batches.
struct TimedLoop {
    var seconds: Double
    var opsPerBatch: Int

    func run(_ body: () -> Void, between: () -> Void = {}) -> (ops: Int, nanoseconds: UInt64) {
        for _ in 0..<2 {
            body()
            between()
        }
        let budget = UInt64(seconds * 1e9)
        let start = MonotonicClock.nanoseconds
        var timed: UInt64 = 0
        var batches = 0
        while batches < 8 || MonotonicClock.nanoseconds - start < budget {
            let before = MonotonicClock.nanoseconds
            body()
            timed += MonotonicClock.nanoseconds - before
            batches += 1
            between()
        }
        return (batches * opsPerBatch, timed)
    }
}

/// One result line: `NAME ops=N ns_per_op=X [extra]`, parsed by the driver.
func report(_ name: String, _ result: (ops: Int, nanoseconds: UInt64), _ options: WorkloadOptions, extra: String = "") {
    let perOp = Double(result.nanoseconds) / Double(max(result.ops, 1))
    writeAll(
        options.resultFD, "\(name) ops=\(result.ops) ns_per_op=\(format(perOp, 1))\(extra.isEmpty ? "" : " " + extra)\n"
    )
}

enum Workload: String, CaseIterable {
    case udpSendto = "udp-sendto"
    case udpSendConnected = "udp-send-connected"
    case udpSendmsgAddress = "udp-sendmsg-addr"
    case udpSendmsgConnected = "udp-sendmsg-connected"
    case udpSendmmsg = "udp-sendmmsg"
    case udpConnectCycle = "udp-connect-cycle"
    case udpBind = "udp-bind"
    case tcpStream = "tcp-stream"
    case tcpStreamSendmsg = "tcp-stream-sendmsg"
    case tcpSendmsgSmall = "tcp-sendmsg-4k"
    case tcpConnect = "tcp-connect"
    case unixStream = "unix-stream"
    case unixConnect = "unix-connect"
    case getppid = "getppid"

    var summary: String {
        switch self {
        case .udpSendto: "sendto with an address, 64-byte datagrams"
        case .udpSendConnected: "send on a connected UDP socket (sendto, NULL address)"
        case .udpSendmsgAddress: "sendmsg with msg_name"
        case .udpSendmsgConnected: "sendmsg without msg_name on a connected socket"
        case .udpSendmmsg: "sendmmsg, 32 datagrams with addresses per call (per datagram)"
        case .udpConnectCycle: "socket, connect, send, close (a DNS client's shape)"
        case .udpBind: "socket, bind 127.0.0.1:0, close"
        case .tcpStream: "TCP stream, 64 KiB send() calls (per call)"
        case .tcpStreamSendmsg: "TCP stream, 64 KiB sendmsg() calls (per call)"
        case .tcpSendmsgSmall: "TCP stream, 4 KiB sendmsg() calls (per call)"
        case .tcpConnect: "TCP socket, connect, close (RST)"
        case .unixStream: "pathname AF_UNIX stream, 64 KiB send() calls"
        case .unixConnect: "pathname AF_UNIX socket, connect, close"
        case .getppid: "reference: getppid(), a syscall the filter allows (its per-syscall cost)"
        }
    }

    var isUDP: Bool { rawValue.hasPrefix("udp-") }

    func run(_ options: WorkloadOptions) {
        alarm(120)  // A stuck workload dies instead of hanging the driver.
        signal(SIGPIPE, SIG_IGN)
        if options.allowAllFilter {
            guard SeccompTools.install(.allow) == 0 else { fail("seccomp(SET_MODE_FILTER)", errno: errno) }
        }
        if options.trapFloor { installTrapFloor() }
        switch self {
        case .udpSendto, .udpSendConnected, .udpSendmsgAddress, .udpSendmsgConnected, .udpSendmmsg:
            udpSend(options)
        case .udpConnectCycle: udpConnectCycle(options)
        case .udpBind: udpBind(options)
        case .tcpStream, .tcpStreamSendmsg, .tcpSendmsgSmall, .unixStream: stream(options)
        case .tcpConnect, .unixConnect: connectRate(options)
        case .getppid:
            let batch = 64
            var sink: pid_t = 0
            let result = TimedLoop(seconds: options.seconds, opsPerBatch: batch).run {
                for _ in 0..<batch { sink &+= Glibc.getppid() }
            }
            report(rawValue, result, options, extra: "sink=\(sink & 1)")
        }
    }

    // MARK: UDP

    private func udpSend(_ options: WorkloadOptions) {
        let receiver = udpReceiver(port: options.udpPort)
        let sender = makeSocket(AF_INET, udpType)  // Unbound: the first send autobinds (BIND_UDP port 0).
        var destination = Loopback.ipv4(port: options.udpPort)
        let addressLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        if self == .udpSendConnected || self == .udpSendmsgConnected {
            if withSockaddr(&destination, { connect(sender, $0, $1) }) != 0 { fail("connect UDP", errno: errno) }
        }
        var payload = [UInt8](repeating: 0x5a, count: 64)
        var buffer = [UInt8](repeating: 0, count: 2048)
        var received = 0
        let batch = 32
        let loop = TimedLoop(seconds: options.seconds, opsPerBatch: batch)
        let result: (ops: Int, nanoseconds: UInt64)
        let between = { received += drain(receiver, buffer: &buffer) }
        switch self {
        case .udpSendto:
            result = payload.withUnsafeMutableBytes { data in
                withUnsafePointer(to: &destination) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                        loop.run(
                            {
                                for _ in 0..<batch
                                where sendto(sender, data.baseAddress, 64, 0, address, addressLength) != 64 {
                                    fail("sendto", errno: errno)
                                }
                            }, between: between)
                    }
                }
            }
        case .udpSendConnected:
            result = payload.withUnsafeMutableBytes { data in
                loop.run(
                    {
                        for _ in 0..<batch where send(sender, data.baseAddress, 64, 0) != 64 {
                            fail("send", errno: errno)
                        }
                    }, between: between)
            }
        case .udpSendmsgAddress, .udpSendmsgConnected:
            let withAddress = self == .udpSendmsgAddress
            result = payload.withUnsafeMutableBytes { data in
                withUnsafeMutablePointer(to: &destination) { address in
                    var vector = iovec(iov_base: data.baseAddress, iov_len: 64)
                    return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                        var header = msghdr()
                        if withAddress {
                            header.msg_name = UnsafeMutableRawPointer(address)
                            header.msg_namelen = addressLength
                        }
                        header.msg_iov = vectorPointer
                        header.msg_iovlen = 1
                        return loop.run(
                            {
                                for _ in 0..<batch where sendmsg(sender, &header, 0) != 64 {
                                    fail("sendmsg", errno: errno)
                                }
                            }, between: between)
                    }
                }
            }
        default:  // .udpSendmmsg
            result = payload.withUnsafeMutableBytes { data in
                withUnsafeMutablePointer(to: &destination) { address in
                    var vectors = [iovec](repeating: iovec(iov_base: data.baseAddress, iov_len: 64), count: batch)
                    return vectors.withUnsafeMutableBufferPointer { vectorPointers in
                        var messages = (0..<batch).map { index in
                            var message = MultipleMessageHeader()
                            message.msg_hdr.msg_name = UnsafeMutableRawPointer(address)
                            message.msg_hdr.msg_namelen = addressLength
                            message.msg_hdr.msg_iov = vectorPointers.baseAddress! + index
                            message.msg_hdr.msg_iovlen = 1
                            return message
                        }
                        return messages.withUnsafeMutableBufferPointer { pointer in
                            loop.run(
                                {
                                    let sent = sendMultiple(sender, pointer.baseAddress!, batch, 0)
                                    if sent != Int32(batch) { fail("sendmmsg sent \(sent)", errno: errno) }
                                }, between: between)
                        }
                    }
                }
            }
        }
        received += drain(receiver, buffer: &buffer)
        report(rawValue, result, options, extra: "received=\(received)")
    }

    private func udpConnectCycle(_ options: WorkloadOptions) {
        let receiver = udpReceiver(port: options.udpPort)
        var destination = Loopback.ipv4(port: options.udpPort)
        var payload = [UInt8](repeating: 0x5a, count: 64)
        var buffer = [UInt8](repeating: 0, count: 2048)
        var received = 0
        let batch = 16
        let result = payload.withUnsafeMutableBytes { data in
            TimedLoop(seconds: options.seconds, opsPerBatch: batch).run(
                {
                    for _ in 0..<batch {
                        let fd = makeSocket(AF_INET, udpType)
                        if withSockaddr(&destination, { connect(fd, $0, $1) }) != 0 {
                            fail("connect UDP", errno: errno)
                        }
                        if send(fd, data.baseAddress, 64, 0) != 64 { fail("send", errno: errno) }
                        close(fd)
                    }
                }, between: { received += drain(receiver, buffer: &buffer) })
        }
        received += drain(receiver, buffer: &buffer)
        report(rawValue, result, options, extra: "received=\(received)")
    }

    private func udpBind(_ options: WorkloadOptions) {
        var address = Loopback.ipv4(port: 0)
        let batch = 16
        let result = TimedLoop(seconds: options.seconds, opsPerBatch: batch).run {
            for _ in 0..<batch {
                let fd = makeSocket(AF_INET, udpType)
                if withSockaddr(&address, { bind(fd, $0, $1) }) != 0 { fail("bind UDP 127.0.0.1:0", errno: errno) }
                close(fd)
            }
        }
        report(rawValue, result, options)
    }

    // MARK: Streams and connection rates

    /// A listener: TCP on 127.0.0.1:tcpPort, or AF_UNIX at DIR/bench-PID.sock.
    private func listener(_ options: WorkloadOptions) -> (fd: Int32, connect: (Int32) -> Int32, domain: Int32) {
        if self == .unixStream || self == .unixConnect {
            let path = "\(options.directory)/bench-\(getpid()).sock"
            unlink(path)
            var (address, length) = unixAddress(path: path)
            let fd = makeSocket(AF_UNIX, streamType)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            if bound != 0 { fail("bind \(path)", errno: errno) }
            if listen(fd, 4096) != 0 { fail("listen", errno: errno) }
            let connectTo: (Int32) -> Int32 = { client in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
                }
            }
            return (fd, connectTo, AF_UNIX)
        }
        let fd = makeSocket(AF_INET, streamType)
        _ = setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        var address = Loopback.ipv4(port: options.tcpPort)
        if withSockaddr(&address, { bind(fd, $0, $1) }) != 0 {
            fail("bind TCP 127.0.0.1:\(options.tcpPort)", errno: errno)
        }
        if listen(fd, 4096) != 0 { fail("listen", errno: errno) }
        let connectTo: (Int32) -> Int32 = { client in withSockaddr(&address) { connect(client, $0, $1) } }
        return (fd, connectTo, AF_INET)
    }

    private func stream(_ options: WorkloadOptions) {
        let (server, connectTo, domain) = listener(options)
        let client = makeSocket(domain, streamType)
        if connectTo(client) != 0 { fail("connect", errno: errno) }
        let peer = accept(server, nil, nil)
        if peer < 0 { fail("accept", errno: errno) }
        let reader = spawnThread {
            var buffer = [UInt8](repeating: 0, count: 256 << 10)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(peer, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
            }
        }
        let chunk = self == .tcpSendmsgSmall ? 4 << 10 : 64 << 10
        let batch = self == .tcpSendmsgSmall ? 256 : 16
        var payload = [UInt8](repeating: 0x5a, count: chunk)
        let useSendmsg = self == .tcpStreamSendmsg || self == .tcpSendmsgSmall
        let result = payload.withUnsafeMutableBytes { data in
            TimedLoop(seconds: options.seconds, opsPerBatch: batch).run {
                for _ in 0..<batch {
                    if useSendmsg {
                        sendmsgAll(client, data.baseAddress!, chunk)
                    } else {
                        sendAll(client, data.baseAddress!, chunk)
                    }
                }
            }
        }
        shutdown(client, Int32(SHUT_WR))
        joinThread(reader)
        if domain == AF_UNIX { unlink("\(options.directory)/bench-\(getpid()).sock") }
        report(rawValue, result, options, extra: "bytes_per_op=\(chunk)")
    }

    private func connectRate(_ options: WorkloadOptions) {
        let (server, connectTo, domain) = listener(options)
        let accepted = SharedCounter()
        let acceptor = spawnThread {
            while true {
                let fd = accept(server, nil, nil)
                if fd < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return  // shutdown() below
                }
                close(fd)
                accepted.increment()
            }
        }
        let batch = 16
        var connected = 0
        let result = TimedLoop(seconds: options.seconds, opsPerBatch: batch).run(
            {
                for _ in 0..<batch {
                    let fd = makeSocket(domain, streamType)
                    if domain == AF_INET {
                        // Reset on close: no TIME_WAIT, so the ephemeral ports never run out.
                        var lingering = linger(l_onoff: 1, l_linger: 0)
                        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lingering, socklen_t(MemoryLayout<linger>.size))
                    }
                    if connectTo(fd) != 0 { fail("connect", errno: errno) }
                    close(fd)
                    connected += 1
                }
            },
            between: {
                // Keep the backlog short: wait (untimed, bounded) for the acceptor.
                let deadline = MonotonicClock.nanoseconds + 1_000_000_000
                while accepted.value < connected && MonotonicClock.nanoseconds < deadline { sched_yield() }
            })
        shutdown(server, Int32(SHUT_RDWR))
        joinThread(acceptor)
        if domain == AF_UNIX { unlink("\(options.directory)/bench-\(getpid()).sock") }
        report(rawValue, result, options, extra: "accepted=\(accepted.value)")
    }
}
