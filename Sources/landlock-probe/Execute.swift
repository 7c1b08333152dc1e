// SPDX-License-Identifier: Apache-2.0
// The sandboxed side (`--execute-row`): applies the row's inner layers, enters the context
// (main thread, a new thread, a forked child, or a fresh exec), performs the operations and
// writes one line per result to the report descriptor the parent passed.
import Landlock
import LandlockSupervisor
import SandboxSupport

#if canImport(Glibc)
import Glibc
#endif

/// The command line of the sandboxed process.
struct ChildArguments {
    var row = ""
    var mode = ProbeMode.kernel
    var context = ExecutionContext.main
    var reportFD: Int32 = -1
    var ports: [String: Int] = [:]
    var directories: [String: String] = [:]
    var sockets: [String: Int32] = [:]
    /// Inner layers still to apply, outermost first.
    var layers: [String] = []
    var operations: [String] = []

    var encoded: [String] {
        var out = ["--execute-row", row, "--mode", mode.rawValue, "--context", context.rawValue, "--report-fd", "\(reportFD)"]
        for (name, value) in ports.sorted(by: { $0.key < $1.key }) { out += ["--port", "\(name)=\(value)"] }
        for (name, value) in directories.sorted(by: { $0.key < $1.key }) { out += ["--dir", "\(name)=\(value)"] }
        for (name, value) in sockets.sorted(by: { $0.key < $1.key }) { out += ["--fd", "\(name)=\(value)"] }
        for layer in layers { out += ["--layer", layer] }
        for operation in operations { out += ["--op", operation] }
        return out
    }

    init() {}

    init(parsing arguments: [String]) throws(TableError) {
        var index = 0
        func value() throws(TableError) -> String {
            index += 1
            guard index < arguments.count else { throw TableError(description: "missing value after \(arguments[index - 1])") }
            return arguments[index]
        }
        func pair(_ text: String) throws(TableError) -> (String, String) {
            guard let equals = text.firstIndex(of: "=") else { throw TableError(description: "expected NAME=VALUE: \(text)") }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--execute-row": row = try value()
            case "--mode":
                guard let mode = ProbeMode(rawValue: try value()) else { throw TableError(description: "bad mode") }
                self.mode = mode
            case "--context":
                guard let context = ExecutionContext(rawValue: try value()) else { throw TableError(description: "bad context") }
                self.context = context
            case "--report-fd": reportFD = Int32(try value()) ?? -1
            case "--port":
                let (name, number) = try pair(try value())
                ports[name] = Int(number) ?? 0
            case "--dir":
                let (name, path) = try pair(try value())
                directories[name] = path
            case "--fd":
                let (name, fd) = try pair(try value())
                sockets[name] = Int32(fd) ?? -1
            case "--layer": layers.append(try value())
            case "--op": operations.append(try value())
            default: throw TableError(description: "unknown argument \(arguments[index])")
            }
            index += 1
        }
    }
}

/// Writes whole lines to the report descriptor (a pipe: lines under PIPE_BUF are atomic).
func report(_ fd: Int32, _ line: String) {
    writeAll(fd, line + "\n")
}

func ownExecutable() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return CommandLine.arguments[0] }
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

private final class OperationsJob: @unchecked Sendable {
    let arguments: ChildArguments
    init(_ arguments: ChildArguments) { self.arguments = arguments }

    func run() {
        let environment = OperationEnvironment(
            ports: arguments.ports, directories: arguments.directories, sockets: arguments.sockets, tagPrefix: "o")
        for (index, text) in arguments.operations.enumerated() {
            do throws(TableError) {
                let outcome = try perform(words(Substring(text)), index: index, in: environment)
                report(arguments.reportFD, "R \(index) \(outcome)")
            } catch {
                report(arguments.reportFD, "ERROR op \(index): \(error)")
            }
        }
    }
}

func executeRow(_ arguments: ChildArguments) -> Never {
    let fd = arguments.reportFD
    if let next = arguments.layers.first {
        // An inner layer: a nested sandbox, started like the outer one.
        do {
            let layer = try parseLayer(words(Substring(next)))
            let environment = OperationEnvironment(
                ports: arguments.ports, directories: arguments.directories, sockets: arguments.sockets, tagPrefix: "o")
            var inner = arguments
            inner.layers.removeFirst()
            var command = SandboxedCommand(
                executable: ownExecutable(), arguments: inner.encoded, ruleset: try ruleset(for: layer, environment),
                udp: arguments.mode.udp)
            command.inheritedFileDescriptors = [fd] + arguments.sockets.values.sorted()
            command.keepsNetworkCapabilities = true  // The table checks Landlock's own semantics.
            let prepared = try command.prepare()
            report(fd, "STATUS inner layer: \(prepared.status)")
            if let reason = skipReason(prepared.status, layer: layer, mode: arguments.mode) {
                report(fd, "SKIP \(reason)")
                exit(0)
            }
            let process = try prepared.spawn()
            switch process.wait() {
            case .exited(let code): exit(code)
            case .unknown(let reason):
                report(fd, "ERROR the inner layer's process ended with an unknown status: \(reason)")
                exit(1)
            case .signaled(let signal):
                report(fd, "ERROR the inner layer's process was killed by signal \(signal)")
                exit(1)
            }
        } catch {
            report(fd, "ERROR inner layer: \(error)")
            exit(1)
        }
    }
    let job = OperationsJob(arguments)
    switch arguments.context {
    case .main:
        job.run()
    case .thread:
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        let created = pthread_create(&thread, nil, { context in
            Unmanaged<OperationsJob>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        guard created == 0 else {
            report(fd, "ERROR pthread_create: \(errnoName(created))")
            exit(1)
        }
        pthread_join(thread, nil)
    case .fork:
        let pid = fork()
        if pid < 0 {
            report(fd, "ERROR fork: \(errnoName(errno))")
            exit(1)
        }
        if pid == 0 {
            job.run()
            _exit(0)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status != 0 {
            report(fd, "ERROR the forked child ended with status \(status)")
            exit(1)
        }
    case .exec:
        var again = arguments
        again.context = .main
        let path = ownExecutable()
        let argv = ([path] + again.encoded).map { strdup($0) } + [nil]
        execv(path, argv)
        report(fd, "ERROR execv \(path): \(errnoName(errno))")
        exit(1)
    }
    exit(0)
}
