// SPDX-License-Identifier: Apache-2.0
// The parent side: for each row and context, sets up receivers, listeners, free ports,
// directories and the pre-sandbox sockets, starts itself in the sandbox through
// SandboxedCommand, and compares the reported results and the datagrams that arrived.
import Landlock
import LandlockSupervisor
import SandboxSupport

#if canImport(Glibc)
import Glibc
#endif

enum Verdict {
    case pass
    case fail(String)
    case skip(String)
    /// A failure in supervisor mode of a row marked `divergence supervisor`.
    case knownDivergence(String)
}

/// Resources of one case, released by `close()`.
final class CaseResources {
    var receivers: [(name: String, fd: Int32)] = []
    var fds: [Int32] = []
    var directories: [String] = []

    func close() {
        for fd in fds { _ = Glibc.close(fd) }
        for receiver in receivers { _ = Glibc.close(receiver.fd) }
        for directory in directories { removeTree(directory) }
        fds = []
        receivers = []
        directories = []
    }
}

func removeTree(_ path: String) {
    if let directory = opendir(path) {
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            if unlink(child) != 0 { removeTree(child) }
        }
        closedir(directory)
    }
    rmdir(path)
}

/// A loopback socket bound to `port` (0: ephemeral); returns the fd and the bound port.
func boundSocket(kind: String, port: Int) -> (Int32, Int)? {
    let inet6 = kind.hasSuffix("6")
    let type = kind.hasPrefix("udp") ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
    let fd = socket(inet6 ? AF_INET6 : AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    var one: Int32 = 1
    if type == Int32(SOCK_STREAM.rawValue) { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4) }
    let environment = OperationEnvironment(ports: [:], directories: [:], sockets: [:], tagPrefix: "")
    let address = try? parseAddress(inet6 ? "in6:[::1]:\(port)" : "in:127.0.0.1:\(port)", environment)
    let bound = address!.bytes.withUnsafeBytes {
        bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address!.length))
    }
    guard bound == 0, type == Int32(SOCK_DGRAM.rawValue) || listen(fd, 64) == 0 else {
        close(fd)
        return nil
    }
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let actual = withUnsafeBytes(of: storage) { Int($0[2]) << 8 | Int($0[3]) }
    return (fd, actual)
}

/// A port free for TCP and UDP on both loopback families, held open (by the returned fds)
/// until the case's own sockets are bound.
func freePort(avoiding taken: Set<Int>) -> (Int, [HeldPort])? {
    for _ in 0..<50 {
        guard let (first, port) = boundSocket(kind: "tcp4", port: 0) else { return nil }
        var held = [HeldPort(fd: first, kind: "tcp4", port: port)]
        var ok = !taken.contains(port)
        for kind in ["udp4", "tcp6", "udp6"] where ok {
            if let (fd, _) = boundSocket(kind: kind, port: port) {
                held.append(HeldPort(fd: fd, kind: kind, port: port))
            } else {
                ok = false
            }
        }
        if ok { return (port, held) }
        for reservation in held { close(reservation.fd) }
    }
    return nil
}

/// One protocol and family's reservation of a port, released just before the case's own
/// socket of that kind binds it, so that no other process takes the port in between.
struct HeldPort {
    var fd: Int32
    var kind: String
    var port: Int
}

struct CaseOutcome {
    var name: String
    var verdict: Verdict
    var detail: [String] = []
}

final class Runner {
    let mode: ProbeMode
    let verbose: Bool
    let executable: String
    let landlock = LandlockStatus.current
    var timeout: Int32 = 60_000

    init(mode: ProbeMode, verbose: Bool) {
        self.mode = mode
        self.verbose = verbose
        executable = ownExecutable()
    }

    func run(_ row: RowSpec, context: ExecutionContext) -> CaseOutcome {
        let name = "\(row.name)[\(context.rawValue)]"
        let resources = CaseResources()
        defer { resources.close() }
        do {
            var outcome = try runCase(row, context: context, resources: resources)
            outcome.name = name
            if case .fail(let why) = outcome.verdict, mode == .supervisor, let divergence = row.divergence {
                outcome.verdict = .knownDivergence("\(divergence); \(why)")
            } else if case .pass = outcome.verdict, mode == .supervisor, let divergence = row.divergence {
                outcome.verdict = .fail("marked 'divergence supervisor' but gives the expected results: remove the mark (\(divergence))")
            }
            return outcome
        } catch {
            return CaseOutcome(name: name, verdict: .fail("setup: \(error)"))
        }
    }

    private func runCase(_ row: RowSpec, context: ExecutionContext, resources: CaseResources) throws -> CaseOutcome {
        // Free ports, receivers and listeners.
        var ports: [String: Int] = [:]
        var held: [HeldPort] = []
        func reserve(_ name: String) throws(TableError) -> Int {
            guard let (number, reservations) = freePort(avoiding: Set(ports.values)) else {
                throw TableError(description: "no free port for \(name)")
            }
            held += reservations
            return number
        }
        for port in row.ports { ports[port] = try reserve(port) }
        defer { for reservation in held { close(reservation.fd) } }  // on errors before the reservations end
        func release(_ port: Int, kind: String) {
            // A receiver or listener about to bind a reserved port: drop that kind's reservation.
            held.removeAll { reservation in
                guard reservation.port == port, reservation.kind == kind else { return false }
                close(reservation.fd)
                return true
            }
        }
        // A listener may share a receiver's port number ("listen T tcp4 on=A"): such a
        // receiver takes a port free for every protocol, not an ephemeral UDP port whose
        // TCP twin another process may hold.
        let sharedReceivers = Set(row.listeners.compactMap(\.on))
        for receiver in row.receivers {
            var wanted = try receiver.on.map { token throws(TableError) in
                try OperationEnvironment(ports: ports, directories: [:], sockets: [:], tagPrefix: "").port(token)
            } ?? 0
            if wanted == 0, sharedReceivers.contains(receiver.name) { wanted = try reserve(receiver.name) }
            if wanted != 0 { release(wanted, kind: receiver.kind) }
            guard let (fd, port) = boundSocket(kind: receiver.kind, port: wanted) else {
                throw TableError(description: "cannot bind receiver \(receiver.name): \(errnoName(errno))")
            }
            resources.receivers.append((receiver.name, fd))
            ports[receiver.name] = port
        }
        for listener in row.listeners {
            let wanted = try listener.on.map { token throws(TableError) in
                try OperationEnvironment(ports: ports, directories: [:], sockets: [:], tagPrefix: "").port(token)
            } ?? 0
            if wanted != 0 { release(wanted, kind: listener.kind) }
            guard let (fd, port) = boundSocket(kind: listener.kind, port: wanted) else {
                throw TableError(description: "cannot listen for \(listener.name): \(errnoName(errno))")
            }
            resources.fds.append(fd)
            ports[listener.name] = port
        }
        for reservation in held { close(reservation.fd) }  // the reserved ports are free for the row's operations
        held = []
        var directories: [String: String] = [:]
        let temporary = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        for directory in row.directories {
            var template = Array("\(temporary)/landlock-probe.XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw TableError(description: "mkdtemp: \(errnoName(errno))") }
            let path = String(cString: made)
            resources.directories.append(path)
            directories[directory] = path
        }

        // The pre-sandbox operations, in this (unrestricted) process.
        let environment = OperationEnvironment(ports: ports, directories: directories, sockets: [:], tagPrefix: "p")
        for (index, operation) in row.pre.enumerated() {
            let result = try perform(operation.words, index: index, in: environment)
            if let fd = environment.sockets.values.first(where: { !resources.fds.contains($0) }) { resources.fds.append(fd) }
            if result != operation.expected {
                return CaseOutcome(
                    name: "", verdict: .fail("pre \(index + 1) '\(operation.text)': expected \(operation.expected), got \(result)"))
            }
        }

        // The sandboxed process.
        var pipeFDs: [Int32] = [0, 0]
        guard let pipe = closeOnExecPipe() else { throw TableError(description: "pipe2: \(errnoName(errno))") }
        pipeFDs = pipe
        resources.fds.append(pipeFDs[0])
        var arguments = ChildArguments()
        arguments.row = row.name
        arguments.mode = mode
        arguments.context = context
        arguments.reportFD = pipeFDs[1]
        arguments.ports = ports
        arguments.directories = directories
        arguments.sockets = environment.sockets
        arguments.layers = row.layers.dropFirst().map(\.text)
        arguments.operations = row.operations.map(\.text)
        var command = SandboxedCommand(
            executable: executable, arguments: arguments.encoded, ruleset: try ruleset(for: row.layers[0], environment),
            udp: mode.udp)
        command.inheritedFileDescriptors = [pipeFDs[1]] + environment.sockets.values.sorted()
        // The table checks Landlock's semantics (raw sockets are not covered): the capability
        // drop of SandboxedCommand, beyond Landlock, is tested on its own.
        command.keepsNetworkCapabilities = true
        let prepared: PreparedSandbox
        do {
            prepared = try command.prepare()
        } catch {
            close(pipeFDs[1])
            throw error
        }
        var detail = ["status: \(prepared.status)"]
        let kernelABI = landlock.abi?.rawValue ?? 0
        var skip = skipReason(prepared.status, layer: row.layers[0], mode: mode)
        // Inner layers: their status as this kernel gives it (the sandboxed process checks
        // again, where a nested supervisor may be unavailable).
        for layer in row.layers.dropFirst() where skip == nil {
            let inner = try SandboxedCommand(
                executable: executable, ruleset: ruleset(for: layer, environment), udp: mode.udp
            ).prepare()
            detail.append("inner layer status (prepared outside the sandbox): \(inner.status)")
            skip = skipReason(inner.status, layer: layer, mode: mode)
        }
        if let reason = skip {
            close(pipeFDs[1])
            if mode == .kernel && kernelABI >= row.abi {
                return CaseOutcome(
                    name: "", verdict: .fail("the row declares abi \(row.abi) but on ABI \(kernelABI) the status says: \(reason)"),
                    detail: detail)
            }
            return CaseOutcome(name: "", verdict: .skip(reason), detail: detail)
        }
        let required = mode == .kernel ? row.abi : row.effectiveSupervisorABI
        if kernelABI < required {
            close(pipeFDs[1])
            let what = mode == .kernel ? "its results natively" : "the kernel's part of its results"
            return CaseOutcome(
                name: "",
                verdict: .skip("the row declares that \(what) need ABI \(required); this kernel provides ABI \(kernelABI)"),
                detail: detail)
        }
        let process = try prepared.spawn()
        close(pipeFDs[1])
        let (output, timedOut) = readAll(pipeFDs[0], pid: process.pid)
        let termination = process.wait()

        // Results.
        var results: [Int: String] = [:]
        var errors: [String] = []
        var childSkip: String? = nil
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            switch parts.first {
            case "R" where parts.count == 3: results[Int(parts[1]) ?? -1] = parts[2]
            case "SKIP": childSkip = String(line.dropFirst(5))
            case "STATUS": detail.append(String(line.dropFirst(7)))
            default: errors.append(String(line))
            }
        }
        if timedOut { errors.append("timed out after \(timeout / 1000) s") }
        if termination != .exited(0) { errors.append("the sandboxed probe \(termination)") }
        if let childSkip, errors.isEmpty { return CaseOutcome(name: "", verdict: .skip(childSkip), detail: detail) }

        // Datagrams that arrived: payload "<o|p><operation>m<message>".
        var arrived: [String: [String]] = [:]
        for receiver in resources.receivers {
            var buffer = [UInt8](repeating: 0, count: 512)
            while true {
                let count = recv(receiver.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if count < 0 { break }
                arrived[String(decoding: buffer[..<count], as: UTF8.self), default: []].append(receiver.name)
            }
        }
        var failures = errors
        for (index, operation) in row.operations.enumerated() {
            let got = results[index] ?? "(no result)"
            if got != operation.expected {
                failures.append("op \(index + 1) '\(operation.text)': expected \(operation.expected), got \(got)")
            }
        }
        let operationSets: [(String, [OperationSpec])] = [("p", row.pre), ("o", row.operations)]
        for (prefix, operations) in operationSets {
            for (index, operation) in operations.enumerated() {
                let messages = operation.words[0] == "sendmmsg" ? operation.words.count - 2 : 1
                for message in 0..<messages {
                    let tag = "\(prefix)\(index)m\(message)"
                    let expected = operation.arrivals.flatMap { message < $0.count ? $0[message] : nil } ?? "-"
                    let actual = arrived.removeValue(forKey: tag) ?? []
                    if actual != (expected == "-" ? [] : [expected]) {
                        let place = actual.isEmpty ? "nowhere" : actual.joined(separator: ",")
                        let wanted = expected == "-" ? "nowhere" : "at \(expected)"
                        failures.append(
                            "\(prefix == "p" ? "pre" : "op") \(index + 1) '\(operation.text)': datagram \(message) expected \(wanted), arrived \(place == "nowhere" ? "nowhere" : "at " + place)")
                    }
                }
            }
        }
        for (tag, receivers) in arrived.sorted(by: { $0.key < $1.key }) {
            failures.append("unexpected datagram '\(tag)' at \(receivers.joined(separator: ","))")
        }
        if failures.isEmpty { return CaseOutcome(name: "", verdict: .pass, detail: detail) }
        return CaseOutcome(name: "", verdict: .fail(failures.joined(separator: "; ")), detail: detail)
    }

    /// Reads the report pipe to its end, killing the sandboxed process after the timeout.
    private func readAll(_ fd: Int32, pid: Int32) -> (String, Bool) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var remaining = timeout
        while true {
            var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let start = MonotonicClock.milliseconds
            let ready = poll(&pollfd, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 {
                kill(pid, SIGKILL)
                return (String(decoding: data, as: UTF8.self), true)
            }
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            data += buffer[..<count]
            remaining = max(1, remaining - Int32(MonotonicClock.milliseconds - start))
        }
        return (String(decoding: data, as: UTF8.self), false)
    }
}
