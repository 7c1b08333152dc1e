// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor

#if canImport(Glibc)
    import Glibc
#endif

/// How a measured process is started.
enum Variant: String, CaseIterable {
    /// `posix_spawn`, no sandbox.
    case native
    /// `SandboxedCommand` with `udp: .kernelOnly`: Landlock alone (on ABI 10 it enforces the UDP
    /// rights; on older kernels they are dropped, best effort).
    case kernel
    /// `SandboxedCommand` with `udp: .supervisor`: the seccomp supervisor enforces the UDP rights.
    case supervisor
    /// `posix_spawn`; the workload installs a one-instruction allow-all seccomp filter itself:
    /// the floor any seccomp filter costs.
    case allowAllFilter = "allow-all-filter"
    /// `posix_spawn`; the workload installs the supervisor's filter on itself and a thread
    /// answers every notified call CONTINUE, checking nothing: the floor of any trap.
    case trapFloor = "trap-floor"
    /// The supervisor variant whose program is `landlock-bench nest`: it starts the workload in a
    /// nested sandbox (`SandboxedCommand` inside the supervised one), which registers its layer
    /// with the supervisor. Measures what a registered layer adds.
    case nested
    /// `landlock-exec --udp-supervisor always` with the workload policy as options: what users
    /// run (the supervisor in landlock-exec's process, started by its command line).
    case landlockExec = "landlock-exec"

    var udp: UDPEnforcement? {
        switch self {
        case .native, .allowAllFilter, .trapFloor, .landlockExec: nil
        case .kernel: .kernelOnly
        case .supervisor, .nested: .supervisor
        }
    }
}

enum Policies {
    static let abi = LandlockABI.v10
    static let readExecute = FileSystemAccess.read(in: abi)
    static let readOnly: FileSystemAccess = [.readFile, .readDir]

    /// Handles every right and scope this library knows (best effort drops what the kernel
    /// lacks) and allows exactly what the workload uses: its executable's directory and the
    /// system libraries (read, execute), /etc and /proc (read), its scratch directory (all),
    /// the UDP port (bind, connect/send), the automatic bind (UDP port 0) and the TCP port
    /// (bind, connect). The measured calls all take the allowed path.
    static func workload(executable: String, udpPort: UInt16, tcpPort: UInt16, directory: String) -> Ruleset {
        do {
            return try workloadRules(executable: executable, udpPort: udpPort, tcpPort: tcpPort, directory: directory)
        } catch {
            fail("failed to build the workload policy: \(error)")
        }
    }

    private static func workloadRules(executable: String, udpPort: UInt16, tcpPort: UInt16, directory: String) throws
        -> Ruleset
    {
        var ruleset = Ruleset()
            .handling(FileSystemAccess.all(in: abi))
            .handling(NetworkAccess.all(in: abi))
            .scoping(Scope.all(in: abi))
        for path in [directoryName(executable), "/usr", "/bin", "/lib", "/lib64"] + loadedLibraryDirectories() {
            ruleset = try ruleset.adding(PathBeneath(path, readExecute, ignoreIfMissing: true))
        }
        for path in ["/etc", "/proc"] {
            ruleset = try ruleset.adding(PathBeneath(path, readOnly, ignoreIfMissing: true))
        }
        ruleset = try ruleset.adding(PathBeneath(directory, FileSystemAccess.all(in: abi).subtracting(.execute)))
        ruleset = try ruleset.adding(NetPort([.bindUDP], port: 0))
        ruleset = try ruleset.adding(NetPort([.bindUDP, .connectSendUDP], port: Int(udpPort)))
        ruleset = try ruleset.adding(NetPort([.bindTCP, .connectTCP], port: Int(tcpPort)))
        return ruleset
    }

    /// `workload(...)` as landlock-exec options, then `--`.
    static func landlockExecArguments(executable: String, udpPort: UInt16, tcpPort: UInt16, directory: String) -> [String] {
        var arguments = ["--quiet", "--udp-supervisor", "always", "--ignore-missing"]
        for path in [directoryName(executable), "/usr", "/bin", "/lib", "/lib64"] + loadedLibraryDirectories() {
            arguments += ["--rox", path]
        }
        arguments += ["--ro", "/etc", "--ro", "/proc", "--rw", directory]
        arguments += ["--bind-udp", "0", "--bind-udp", "\(udpPort)", "--connect-udp", "\(udpPort)"]
        arguments += ["--bind-tcp", "\(tcpPort)", "--connect-tcp", "\(tcpPort)"]
        return arguments + ["--"]
    }

    /// The nested layer of the `nested` variant: every network right and scope handled, the
    /// workload's ports and the automatic bind allowed (the filesystem is the outer layer's).
    static func nestedLayer(udpPort: UInt16, tcpPort: UInt16) -> Ruleset {
        do {
            return try Ruleset()
                .handling(NetworkAccess.all(in: abi))
                .scoping(Scope.all(in: abi))
                .adding(NetPort([.bindUDP], port: 0))
                .adding(NetPort([.bindUDP, .connectSendUDP], port: Int(udpPort)))
                .adding(NetPort([.bindTCP, .connectTCP], port: Int(tcpPort)))
        } catch {
            fail("failed to build the nested policy: \(error)")
        }
    }

    /// What `landlock-exec --rox /usr --ro /etc -- /bin/true` enforces: every filesystem right
    /// handled, /usr read and execute, /etc read; every network right handled, nothing allowed;
    /// both scopes.
    static func typical() -> Ruleset {
        do { return try typicalRules() } catch { fail("failed to build the typical policy: \(error)") }
    }

    private static func typicalRules() throws -> Ruleset {
        try Ruleset()
            .handling(FileSystemAccess.all(in: abi))
            .handling(NetworkAccess.all(in: abi))
            .scoping(Scope.all(in: abi))
            .adding(PathBeneath("/usr", readExecute))
            .adding(PathBeneath("/etc", readOnly))
            .adding(PathBeneath("/bin", readExecute, ignoreIfMissing: true))  // busybox in the guest
    }
}

/// The directories of the shared libraries this process has mapped (the Swift runtime of a
/// toolchain installed outside /usr, for instance): the workload, this same executable, needs them.
func loadedLibraryDirectories() -> [String] {
    guard let maps = readTextFile("/proc/self/maps") else { return [] }
    var directories: [String] = []
    for line in maps.split(separator: "\n") {
        guard let slash = line.firstIndex(of: "/") else { continue }
        let path = String(line[slash...])
        guard path.contains(".so"), !path.hasSuffix(" (deleted)") else { continue }
        let directory = directoryName(path)
        if !directories.contains(directory) { directories.append(directory) }
    }
    return directories
}

/// Starts `path` with `arguments` as `variant`; `inherit` lists close-on-exec descriptors the
/// program gets anyway. Returns the pid; the caller waits.
func start(
    _ variant: Variant, path: String, arguments: [String], ruleset: @autoclosure () -> Ruleset,
    inherit: [Int32] = [], expectStatus: ((SandboxStatus) -> String?)? = nil, quiet: Bool = false,
    addingEnvironment: [String] = []
) -> pid_t {
    guard let udp = variant.udp else {
        for fd in inherit { _ = fcntl(fd, F_SETFD, 0) }
        defer { for fd in inherit { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) } }
        var pid: pid_t = 0
        let argv = cStringArray([path] + arguments)
        defer { for pointer in argv { free(pointer) } }
        // quiet: standard output and error to /dev/null (`landlock-exec --version` prints, and
        // `sandboxer` announces the command).
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if quiet {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let result: Int32
        if addingEnvironment.isEmpty {
            result = posix_spawn(&pid, path, &actions, nil, argv, environ)
        } else {
            var inherited: [UnsafeMutablePointer<CChar>?] = []
            var index = 0
            while let entry = environ[index] {
                inherited.append(entry)
                index += 1
            }
            let added = cStringArray(addingEnvironment)
            defer { for pointer in added { free(pointer) } }
            var envp = inherited + added.dropLast()
            envp.append(nil)
            result = posix_spawn(&pid, path, &actions, nil, argv, envp)
        }
        if result != 0 { fail("posix_spawn \(path)", errno: result) }
        return pid
    }
    do {
        var command = SandboxedCommand(executable: path, arguments: arguments, ruleset: ruleset(), udp: udp)
        command.inheritedFileDescriptors = inherit
        let prepared = try command.prepare()
        if let expectStatus, let problem = expectStatus(prepared.status) {
            fail(
                "the \(variant.rawValue) sandbox is not what this row measures: \(problem) (status: \(prepared.status))"
            )
        }
        return try prepared.spawn().pid
    } catch {
        fail("failed to start \(path) in the \(variant.rawValue) sandbox: \(error)")
    }
}

/// Waits for `pid`; returns the exit status or -signal.
@discardableResult
func waitFor(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return -1000 }
    }
    return status & 0x7f == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
}

/// Checks that a status matches the variant a row claims to measure.
func statusCheck(_ variant: Variant, kernelUDP: Bool) -> ((SandboxStatus) -> String?)? {
    switch variant {
    case .native, .allowAllFilter, .trapFloor, .landlockExec: return nil
    case .supervisor, .nested:
        return { $0.usesSupervisor ? nil : "the supervisor is not in use" }
    case .kernel:
        return { status in
            if status.usesSupervisor { return "the supervisor is in use" }
            if kernelUDP && (status.bindUDP != .kernel || status.connectSendUDP != .kernel) {
                return "the kernel does not enforce the UDP rights"
            }
            return nil
        }
    }
}

/// Runs a program to completion with its standard output captured (standard error passes).
func capture(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
    var fds: [Int32] = [0, 0]
    guard let pipe = closeOnExecPipe() else { fail("pipe2", errno: errno) }
    fds = pipe
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    var pid: pid_t = 0
    let argv = cStringArray([path] + arguments)
    let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
    posix_spawn_file_actions_destroy(&actions)
    for pointer in argv { free(pointer) }
    close(fds[1])
    guard result == 0 else {
        close(fds[0])
        return (-1, "")
    }
    let output = readAll(fds[0])
    close(fds[0])
    return (waitFor(pid), output)
}

func readAll(_ fd: Int32) -> String {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        result += buffer[0..<count]
    }
    return String(decoding: result, as: UTF8.self)
}

/// Runs `path` in a sandbox nested in the current (supervised) one and returns its exit
/// status; fails unless the nested layer is registered with the enclosing supervisor.
func nest(path: String, arguments: [String], udpPort: UInt16, tcpPort: UInt16) -> Int32 {
    do {
        let command = SandboxedCommand(
            executable: path, arguments: arguments, ruleset: Policies.nestedLayer(udpPort: udpPort, tcpPort: tcpPort))
        let prepared = try command.prepare()
        guard prepared.status.registeredWithOuterSupervisor else {
            fail("the nested sandbox is not registered with the enclosing supervisor (status: \(prepared.status))")
        }
        switch try prepared.spawn().wait() {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        case .unknown(let reason): fail("the nested workload ended with an unknown status: \(reason)")
        }
    } catch {
        fail("failed to start \(path) in the nested sandbox: \(error)")
    }
}
