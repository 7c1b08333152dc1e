// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
public import Glibc
#elseif canImport(Musl)
public import Musl
#endif

/// The outcome of a process run by ``CLIProcess``.
public struct CLIProcessResult: Sendable, CustomStringConvertible {
    /// The exit status, or 128 + the signal number when it was killed by a signal.
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
    /// The process id it had (already reaped).
    public var pid: pid_t
    /// Whether the timeout killed it.
    public var timedOut: Bool

    public var description: String {
        "status \(status)\(timedOut ? " (timed out)" : "")\n--- stdout\n\(standardOutput)--- stderr\n\(standardError)"
    }
}

/// Runs built executables in tests without Foundation: `posix_spawn`, captured output, extra
/// inherited file descriptors, and a timeout after which the process group is killed.
public enum CLIProcess {
    /// The directory of the running test bundle, where `swift build` put the products.
    public static var productsDirectory: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "." }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    /// The path of a built product: `$<NAME>_PATH` (for example `LANDLOCK_EXEC_PATH`) when set,
    /// otherwise the file next to the test bundle.
    public static func product(_ name: String) -> String {
        let variable = String(name.uppercased().map { $0 == "-" ? "_" : $0 }) + "_PATH"
        if let value = getenv(variable) { return String(cString: value) }
        return productsDirectory + "/" + name
    }

    /// Runs `executable` with `arguments` and waits for it, in its own process group.
    ///
    /// - Parameters:
    ///   - environment: the complete environment as `KEY=VALUE`; `nil` inherits the test's.
    ///   - inheritedFiles: files to open read-only as the given descriptor numbers (≥ 3).
    ///   - timeout: seconds before the process group is killed with `SIGKILL`.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String]? = nil,
        inheritedFiles: [Int32: String] = [:], timeout: Double = 30
    ) -> CLIProcessResult {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        precondition(pipe(&outPipe) == 0 && pipe(&errPipe) == 0)
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for (fd, path) in inheritedFiles {
            posix_spawn_file_actions_addopen(&actions, fd, path, O_RDONLY, 0)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var env: [UnsafeMutablePointer<CChar>?] = []
        if let environment {
            env = environment.map { strdup($0) }
        } else {
            var pointer = environ
            while let entry = pointer.pointee {
                env.append(strdup(entry))
                pointer += 1
            }
        }
        env.append(nil)
        defer { for pointer in env { free(pointer) } }

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            return CLIProcessResult(
                status: -1, standardOutput: "", standardError: "posix_spawn failed: \(spawned)", pid: 0, timedOut: false)
        }

        var output: [[UInt8]] = [[], []]
        var isOpen = [true, true]
        let fds = [outPipe[0], errPipe[0]]
        let deadline = now() + timeout
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while isOpen[0] || isOpen[1] {
            let remaining = deadline - now()
            if remaining <= 0 {
                timedOut = true
                kill(-pid, SIGKILL)
                break
            }
            var polls = (0..<2).filter { isOpen[$0] }.map { pollfd(fd: fds[$0], events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polls, nfds_t(polls.count), Int32(min(remaining, 1) * 1000))
            if ready < 0 && errno != EINTR { break }
            for entry in polls where entry.revents != 0 {
                let index = fds.firstIndex(of: entry.fd)!
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    output[index] += buffer[0..<count]
                } else if count == 0 || errno != EINTR {
                    isOpen[index] = false
                }
            }
        }
        close(fds[0])
        close(fds[1])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return CLIProcessResult(
            status: exitStatus, standardOutput: String(decoding: output[0], as: UTF8.self),
            standardError: String(decoding: output[1], as: UTF8.self), pid: pid, timedOut: timedOut)
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Whether any process is left in the process group `pgid` (the group ``run(_:_:environment:inheritedFiles:timeout:)``
    /// created, whose id is the pid it returns).
    public static func processGroupExists(_ pgid: pid_t) -> Bool {
        kill(-pgid, 0) == 0 || errno == EPERM
    }
}
